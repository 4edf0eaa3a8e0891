// Store-wide operations and what child workflows and waiting rest on: parent links, effects
// written with a cancellation, terminal notifications, idempotency retention, and cursor pages.
import { expect, it } from 'vitest';
import type { EffectRecord, InstanceEnded, TimerRecord } from '@ironflow/core/store';
import { claimArgs, commitOf, effect, expectCode, freshType, timer, T0, type ConformanceContext } from './context.js';

const payloadOf = (r: EffectRecord | TimerRecord): unknown => (r.kind === 'effect' ? r.payload : r.input);

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not heard within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function parentCases(ctx: ConformanceContext): void {
  it('a creating commit records the parent; load, listings and pages return it', async () => {
    const type = freshType('child');
    const parent = { type: freshType('parent'), id: 'p1' };
    const child = { type, id: 'c1' };
    await ctx.store.commit(commitOf(child, 0, { parent }));
    await ctx.store.commit(commitOf(child, 1));
    await ctx.store.commit(commitOf({ type, id: 'orphan' }, 0));
    expect((await ctx.store.load(child)).parent).toEqual(parent);
    expect((await ctx.store.load({ type, id: 'orphan' })).parent).toBeUndefined();
    const listed = await ctx.store.listInstances({ workflowType: type });
    expect(listed.find((i) => i.workflowId === 'c1')).toMatchObject({ parent });
    expect(listed.find((i) => i.workflowId === 'orphan')!.parent).toBeUndefined();
    const page = await ctx.store.pageInstances({ parent });
    expect(page.items.map((i) => [i.workflowType, i.workflowId])).toEqual([[type, 'c1']]);
  });

  it('a parent after creation is refused as bad input', async () => {
    const ref = { type: freshType('child'), id: 'late' };
    await ctx.store.commit(commitOf(ref, 0));
    await expectCode(ctx.store.commit(commitOf(ref, 1, { parent: { type: 'p', id: 'p' } })), 'INVALID_ARGUMENT');
    await expectCode(ctx.store.commit(commitOf({ type: ref.type, id: 'bad' }, 0, { parent: { type: '', id: 'p' } })), 'INVALID_ARGUMENT');
    expect((await ctx.store.load(ref)).version).toBe(1);
  });
}

export function cancellationEffectCases(ctx: ConformanceContext): void {
  it('cancelInstance writes the effects it is given, pending, in the same write', async () => {
    const ref = { type: freshType('cancel-fx'), id: 'a' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect({ n: 'old' })] }));
    const notify = { ...effect({ type: 'tell-parent' }), priority: 5 };
    expect(await ctx.store.cancelInstance({ ref, now: T0 + 1, reason: 'r', effects: [notify] })).toEqual({ cancelled: true, effects: 1, timers: 0 });
    const effects = await ctx.store.listEffects(ref);
    expect(effects.map((e) => [e.payload, e.status])).toEqual([
      [{ n: 'old' }, 'cancelled'],
      [{ type: 'tell-parent' }, 'pending'],
    ]);
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 1));
    expect(claimed).toMatchObject({ id: notify.id, priority: 5 });
  });

  it('nothing is written for a terminal instance, and a taken effect id is refused', async () => {
    const ref = { type: freshType('cancel-fx'), id: 'b' };
    const old = effect();
    await ctx.store.commit(commitOf(ref, 0, { effects: [old] }));
    await expectCode(ctx.store.cancelInstance({ ref, now: T0, reason: 'r', effects: [{ id: old.id, payload: {} }] }), 'INVALID_ARGUMENT');
    expect(await ctx.store.load(ref)).toMatchObject({ status: 'active' });
    expect((await ctx.store.listEffects(ref)).map((e) => e.status)).toEqual(['pending']);
    await ctx.store.cancelInstance({ ref, now: T0, reason: 'r' });
    const late = effect();
    expect((await ctx.store.cancelInstance({ ref, now: T0, reason: 'r', effects: [late] })).cancelled).toBe(false);
    expect((await ctx.store.listEffects(ref)).map((e) => e.id)).toEqual([old.id]);
  });
}

export function endedCases(ctx: ConformanceContext): void {
  it('subscribers hear instances that a commit completes or a cancellation ends, and nothing else', async () => {
    expect(ctx.store.subscribeEnded, 'the store implements subscribeEnded()').toBeTypeOf('function');
    const type = freshType('ended');
    const heard: InstanceEnded[] = [];
    const unsubscribe = ctx.store.subscribeEnded!((ended) => {
      if (ended.type === type) heard.push(ended);
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await ctx.store.commit(commitOf({ type, id: 'busy' }, 0));
      await ctx.store.commit(commitOf({ type, id: 'done' }, 0, { completed: true }));
      await ctx.store.commit(commitOf({ type, id: 'stopped' }, 0));
      await ctx.store.cancelInstance({ ref: { type, id: 'stopped' }, now: T0, reason: 'r' });
      const [result] = await ctx.store.commitMany([commitOf({ type, id: 'batched' }, 0, { completed: true })]);
      expect(result!.ok).toBe(true);
      await until(() => heard.length >= 3);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(heard.map((h) => `${h.id}:${h.status}`).sort()).toEqual(['batched:completed', 'done:completed', 'stopped:cancelled']);
    } finally {
      unsubscribe();
    }
  });
}

export function idempotencyRetentionCases(ctx: ConformanceContext): void {
  it('purgeIdempotencyKeys forgets records committed before the cut-off and keeps the rest', async () => {
    const ref = { type: freshType('idem'), id: 'a' };
    await ctx.store.commit(commitOf(ref, 0, { now: T0, idempotencyKey: 'old' }));
    await ctx.store.commit(commitOf(ref, 1, { now: T0 + 1000, idempotencyKey: 'new' }));
    const purged = await ctx.store.purgeIdempotencyKeys(T0 + 1);
    expect(purged).toBeGreaterThanOrEqual(1);
    expect((await ctx.store.load(ref, { idempotencyKey: 'old' })).idempotent).toBeUndefined();
    expect((await ctx.store.load(ref, { idempotencyKey: 'new' })).idempotent).toMatchObject({ key: 'new', version: 2, eventCount: 1, committedAt: T0 + 1000 });
    // The events stay: only the record of the key goes.
    expect(await ctx.store.readEvents(ref)).toHaveLength(2);
    await expectCode(ctx.store.purgeIdempotencyKeys(-1), 'INVALID_ARGUMENT');
  });
}

export function pageCases(ctx: ConformanceContext): void {
  it('listWork pages through effects in id order with filters, and the pages cover each row once', async () => {
    const type = freshType('pages');
    const ids: string[] = [];
    for (let i = 0; i < 7; i += 1) {
      const fx = { ...effect({ i }), tag: i % 2 === 0 ? 'even' : 'odd' };
      ids.push(fx.id);
      await ctx.store.commit(commitOf({ type, id: `i${i}` }, 0, { now: T0 + i, effects: [fx], timers: [timer(T0 + 100)] }));
    }
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await ctx.store.listWork({ kind: 'effect', workflowType: type, limit: 3, after });
      seen.push(...page.items.map((r) => r.id));
      after = page.next;
      pages += 1;
    } while (after !== undefined);
    expect(seen).toEqual([...ids].sort());
    expect(pages).toBe(3);

    const even = await ctx.store.listWork({ kind: 'effect', workflowType: type, tag: 'even' });
    expect(even.items.map(payloadOf)).toEqual([{ i: 0 }, { i: 2 }, { i: 4 }, { i: 6 }]);
    expect(even.next).toBeUndefined();
    const window = await ctx.store.listWork({ kind: 'effect', workflowType: type, createdFrom: T0 + 2, createdBefore: T0 + 4 });
    expect(window.items.map(payloadOf)).toEqual([{ i: 2 }, { i: 3 }]);
    const [claimed] = await ctx.store.claimEffects(claimArgs([type], T0 + 10, { limit: 1 }));
    const leased = await ctx.store.listWork({ kind: 'effect', workflowType: type, status: 'leased' });
    expect(leased.items.map((r) => r.id)).toEqual([claimed!.id]);
    const one = await ctx.store.listWork({ kind: 'effect', workflowType: type, workflowId: 'i3' });
    expect(one.items.map(payloadOf)).toEqual([{ i: 3 }]);
    const timers = await ctx.store.listWork({ kind: 'timer', workflowType: type, status: 'pending', limit: 1000 });
    expect(timers.items).toHaveLength(7);
    expect(timers.items.every((t) => t.kind === 'timer')).toBe(true);
  });

  it('pageInstances pages in type and id order with filters', async () => {
    const type = freshType('pages');
    for (const id of ['b', 'a', 'd', 'c', 'e']) await ctx.store.commit(commitOf({ type, id }, 0, { now: T0 + id.charCodeAt(0), completed: id === 'd' }));
    await ctx.store.cancelInstance({ ref: { type, id: 'e' }, now: T0 + 500, reason: 'r' });
    const first = await ctx.store.pageInstances({ workflowType: type, limit: 2 });
    expect(first.items.map((i) => i.workflowId)).toEqual(['a', 'b']);
    const second = await ctx.store.pageInstances({ workflowType: type, limit: 2, after: first.next });
    expect(second.items.map((i) => i.workflowId)).toEqual(['c', 'd']);
    const last = await ctx.store.pageInstances({ workflowType: type, limit: 2, after: second.next });
    expect(last.items.map((i) => i.workflowId)).toEqual(['e']);
    expect(last.next).toBeUndefined();
    expect((await ctx.store.pageInstances({ workflowType: type, status: 'active' })).items.map((i) => i.workflowId)).toEqual(['a', 'b', 'c']);
    expect((await ctx.store.pageInstances({ workflowType: type, status: 'cancelled' })).items.map((i) => [i.workflowId, i.cancelReason])).toEqual([['e', 'r']]);
    const recent = await ctx.store.pageInstances({ workflowType: type, updatedFrom: T0 + 'c'.charCodeAt(0), updatedBefore: T0 + 'e'.charCodeAt(0) });
    expect(recent.items.map((i) => i.workflowId)).toEqual(['c', 'd']);
  });

  it('bad cursors and limits are refused', async () => {
    await expectCode(ctx.store.listWork({ kind: 'effect', after: 'not a cursor' }), 'INVALID_ARGUMENT');
    await expectCode(ctx.store.listWork({ kind: 'effect', after: '["a","b"]' }), 'INVALID_ARGUMENT');
    await expectCode(ctx.store.listWork({ kind: 'effect', limit: 1001 }), 'INVALID_ARGUMENT');
    await expectCode(ctx.store.listWork({ kind: 'effect', status: 'finished' as never }), 'INVALID_ARGUMENT');
    await expectCode(ctx.store.pageInstances({ after: '["only-one"]' }), 'INVALID_ARGUMENT');
    await expectCode(ctx.store.pageInstances({ status: 'done' as never }), 'INVALID_ARGUMENT');
    expect(await ctx.store.listWork({ kind: 'timer', limit: 0 })).toEqual({ items: [] });
  });
}
