// Stores tell the runtime when work may be claimable, so latency is not a poll interval.
import { expect, it } from 'vitest';
import type { WorkKind } from '@ironflow/core/store';
import { claimArgs, commitOf, effect, freshType, timer, T0, type ConformanceContext } from './context.js';

async function waitFor(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`no wake-up within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function wakeUpCases(ctx: ConformanceContext): void {
  it('subscribers are woken when effects or timers are committed, and stop hearing after unsubscribing', async () => {
    expect(ctx.store.subscribe, 'the store implements subscribe()').toBeTypeOf('function');
    const heard: WorkKind[] = [];
    const unsubscribe = ctx.store.subscribe!((kind) => heard.push(kind));
    try {
      // Give a listening connection time to be established before the first notification.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const ref = { type: freshType(), id: 'wake' };
      await ctx.store.commit(commitOf(ref, 0, { effects: [effect()] }));
      await waitFor(() => heard.includes('effect'));
      await ctx.store.commit(commitOf(ref, 1, { timers: [timer(T0 + 10)] }));
      await waitFor(() => heard.includes('timer'));
    } finally {
      unsubscribe();
    }
    const count = heard.length;
    await ctx.store.commit(commitOf({ type: freshType(), id: 'quiet' }, 0, { effects: [effect()] }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(heard.length).toBe(count);
  });

  it('a redriven dead letter wakes subscribers', async () => {
    const ref = { type: freshType(), id: 'wake-redrive' };
    const fx = effect();
    await ctx.store.commit(commitOf(ref, 0, { effects: [fx] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0));
    await ctx.store.deadLetter(claimed!.lease, T0, 'x');
    const heard: WorkKind[] = [];
    const unsubscribe = ctx.store.subscribe!((kind) => heard.push(kind));
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await ctx.store.redrive('effect', fx.id, T0 + 1)).toBe(true);
      await waitFor(() => heard.includes('effect'));
    } finally {
      unsubscribe();
    }
  });
}
