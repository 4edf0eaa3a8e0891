// Optimistic concurrency under real parallelism: one winner per version, no gaps, nothing lost,
// also across several stores opened on one namespace (several processes on one database).
import { beforeAll, expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { claimArgs, commitOf, concurrently, effect, eventsFor, freshType, T0, type ConformanceContext } from './context.js';

/** Stores on the suite's namespace, like processes sharing one schema or key prefix. */
const PEERS = 5;

export function concurrencyCases(ctx: ConformanceContext): void {
  let peers: WorkflowStore[] = [];
  beforeAll(async () => {
    peers = [ctx.store];
    // One at a time: opening may migrate, and migrations of one namespace need not race.
    for (let i = 1; i < PEERS; i++) peers.push(await ctx.open(ctx.namespace));
  });

  it('of many concurrent commits at the same version exactly one wins and the others write nothing', async () => {
    const ref = { type: freshType(), id: 'race' };
    await ctx.store.commit(commitOf(ref, 0));
    const results = await concurrently(20, (i) =>
      peers[i % PEERS]!.commit(commitOf(ref, 1, { events: eventsFor(ref, 1, 2).map((e) => ({ ...e, payload: { writer: i } })), effects: [effect({ writer: i })] })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(isIronflowError(r.reason, 'VERSION_CONFLICT')).toBe(true);
    const events = await ctx.store.readEvents(ref);
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3]);
    const winner = (events[1]!.payload as { writer: number }).writer;
    expect((events[2]!.payload as { writer: number }).writer).toBe(winner);
    expect((await ctx.store.listEffects(ref)).map((e) => e.payload)).toEqual([{ writer: winner }]);
  });

  it('50 concurrent writers on one instance, spread over five stores on one namespace and retrying on VERSION_CONFLICT, leave sequences 1 to 50 with every writer’s event once', async () => {
    const ref = { type: freshType(), id: 'fifty' };
    const writers = 50;
    const results = await concurrently(writers, async (i) => {
      const store = peers[i % PEERS]!;
      for (;;) {
        const { version } = await store.load(ref);
        try {
          await store.commit(commitOf(ref, version, { now: T0 + i, events: eventsFor(ref, version, 1, T0 + i).map((e) => ({ ...e, payload: { writer: i } })) }));
          return;
        } catch (error) {
          if (!isIronflowError(error, 'VERSION_CONFLICT')) throw error;
        }
      }
    });
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    for (const store of peers) {
      const events = await store.readEvents(ref);
      expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: writers }, (_, i) => i + 1));
      expect(events.map((e) => (e.payload as { writer: number }).writer).sort((a, b) => a - b)).toEqual(Array.from({ length: writers }, (_, i) => i));
    }
    expect((await peers[PEERS - 1]!.load(ref)).version).toBe(writers);
  });

  it('concurrent commits to different instances all succeed', async () => {
    const type = freshType();
    const results = await concurrently(30, (i) => peers[i % PEERS]!.commit(commitOf({ type, id: `i-${i}` }, 0, { eventCount: 2 })));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(await ctx.store.listInstances({ workflowType: type, limit: 100 })).toHaveLength(30);
  });

  it('two stores on one namespace see each other’s commits, claims, settlements and dead letters at once', async () => {
    const [a, b] = [peers[0]!, peers[1]!];
    const ref = { type: freshType(), id: 'shared' };
    const fx = effect({ n: 1 });
    await a.commit(commitOf(ref, 0, { effects: [fx], idempotencyKey: 'k' }));
    expect(await b.load(ref, { idempotencyKey: 'k' })).toMatchObject({ version: 1, idempotent: { key: 'k', version: 1 } });
    await b.commit(commitOf(ref, 1, { now: T0 + 1 }));
    expect((await a.readEvents(ref)).map((e) => e.sequence)).toEqual([1, 2]);
    const [claimed] = await b.claimEffects(claimArgs([ref.type], T0 + 1));
    expect(claimed!.id).toBe(fx.id);
    expect(await a.claimEffects(claimArgs([ref.type], T0 + 1))).toEqual([]);
    expect((await a.listEffects(ref))[0]).toMatchObject({ status: 'leased', attempts: 1 });
    await a.deadLetter(claimed!.lease, T0 + 2, 'settled by the other store');
    expect(await b.countDeadLetters({ kind: 'effect', workflowType: ref.type })).toBe(1);
    expect(await b.redrive('effect', fx.id, T0 + 3)).toBe(true);
    expect((await a.listEffects(ref))[0]).toMatchObject({ status: 'pending', attempts: 0 });
    expect((await a.listInstances({ workflowType: ref.type })).map((i) => i.version)).toEqual([2]);
  });

  it('claimers on two stores of one namespace never receive the same effect', async () => {
    const [a, b] = [peers[0]!, peers[1]!];
    const type = freshType();
    const total = 40;
    for (let i = 0; i < total; i += 10) await a.commit(commitOf({ type, id: `m-${i}` }, 0, { effects: Array.from({ length: 10 }, () => effect()) }));
    const seen: string[] = [];
    const results = await concurrently(8, async (w) => {
      const store = w % 2 === 0 ? a : b;
      for (;;) {
        const batch = await store.claimEffects(claimArgs([type], T0, { limit: 3, owner: `w${w}` }));
        if (batch.length === 0) return;
        seen.push(...batch.map((c) => c.id));
      }
    });
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });
}
