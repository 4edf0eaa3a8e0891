// Tests of this package that hold on PostgreSQL and PGlite alike, added to each conformance run:
// one round trip per operation, and poison isolation done inside the one claim statement.
import { describe, expect, it } from 'vitest';
import { compareIds } from '@ironflow/core/store';
import { uniqueName, type ConformanceContext } from '@ironflow/testing';
import type { PostgresStore } from '../src/index.js';
import { commit, T0 } from './support.js';

/** A store of this package over a client that counts what reaches the database. */
export interface CountedStore {
  readonly store: PostgresStore;
  /** Round trips so far: statements, plus pool check-outs or transactions. */
  trips(): number;
  /** Closes the store and whatever the opener created for it. */
  close(): Promise<void>;
}

/** Declares the shared cases; `counted` opens a counting store on a migrated namespace. */
export function sqlStoreCases(ctx: ConformanceContext, counted: (namespace: string) => Promise<CountedStore>): void {
  /** Runs `test` against a fresh counting store on the suite's namespace, closing it afterwards. */
  async function withCounted(test: (counted: CountedStore) => Promise<void>): Promise<void> {
    const opened = await counted(ctx.namespace);
    try {
      await test(opened);
    } finally {
      await opened.close();
    }
  }

  /** Round trips `run` cost. */
  async function tripsOf(opened: CountedStore, run: () => Promise<unknown>): Promise<number> {
    const before = opened.trips();
    await run();
    return opened.trips() - before;
  }

  describe('round trips', () => {
    it('a commit, a load, a claim and each lease operation cost one round trip; a malformed request costs none', async () => {
      await withCounted(async (opened) => {
        const { store } = opened;
        const type = uniqueName('trips');
        const ref = { type, id: 'counted' };
        const full = commit(ref, 0, {
          effects: [{ id: uniqueName('e'), payload: { a: 1 } }, { id: uniqueName('e'), payload: { a: 2 } }],
          timers: [{ id: uniqueName('t'), key: 'k', fireAt: T0, input: { t: 1 } }],
          cancelTimers: ['k0'],
          uniqueKey: 'u',
          idempotencyKey: 'i',
          snapshot: { version: 1, revision: '1', state: { s: 1 } },
          observation: { workflowType: type, workflowId: 'counted', inputType: 'Book', input: {}, outcome: 'accepted', observedAt: T0 },
        });
        expect(await tripsOf(opened, () => store.commit({ ...full, now: 1.5 }).catch(() => undefined))).toBe(0);
        expect(await tripsOf(opened, () => store.commit(full))).toBe(1);
        expect(await tripsOf(opened, () => store.load(ref, { idempotencyKey: 'i' }))).toBe(1);
        let claimed: Awaited<ReturnType<PostgresStore['claimEffects']>> = [];
        expect(await tripsOf(opened, async () => (claimed = await store.claimEffects({ now: T0, limit: 10, types: [type], leaseMs: 60_000, owner: 'w' })))).toBe(1);
        expect(claimed).toHaveLength(2);
        expect(await tripsOf(opened, () => store.claimTimers({ now: T0, limit: 10, types: [type], leaseMs: 60_000, owner: 'w' }))).toBe(1);
        expect(await tripsOf(opened, () => store.renewLease(claimed[0]!.lease, T0, 60_000))).toBe(1);
        expect(await tripsOf(opened, () => store.complete(claimed[0]!.lease, T0))).toBe(1);
        const ack = { ...claimed[1]!.lease, outcome: 'done' as const };
        expect(await tripsOf(opened, () => store.commit(commit(ref, 1, { ack, effects: [{ id: uniqueName('e'), payload: null }] })))).toBe(1);
        expect(await tripsOf(opened, () => store.commit(commit(ref, 1)).catch(() => undefined))).toBe(1);
      });
    });
  });

  describe('poison isolation in the claim statement', () => {
    it('an expired lease is claimed alone as recovered, and a batch of fresh effects stops before it, one statement per claim', async () => {
      await withCounted(async (opened) => {
        const { store } = opened;
        const fresh = uniqueName('fresh');
        const poison = uniqueName('poison');
        const [p1, p2, r, p3] = [uniqueName('p1'), uniqueName('p2'), uniqueName('r'), uniqueName('p3')];
        // Claim order: p1 and p2 (available at T0), r (T0 + 1), p3 (T0 + 2).
        await store.commit(commit({ type: fresh, id: 'a' }, 0, { now: T0, effects: [{ id: p1, payload: 1 }, { id: p2, payload: 2 }] }));
        await store.commit(commit({ type: poison, id: 'r' }, 0, { now: T0 + 1, effects: [{ id: r, payload: 'poison' }] }));
        await store.commit(commit({ type: fresh, id: 'b' }, 0, { now: T0 + 2, effects: [{ id: p3, payload: 3 }] }));
        // r's worker claims it and dies: its lease expires unsettled at T0 + 1001.
        expect((await store.claimEffects({ now: T0 + 1, limit: 10, types: [poison], leaseMs: 1000, owner: 'doomed' })).map((c) => c.id)).toEqual([r]);

        const later = T0 + 10_000;
        const claim = () => store.claimEffects({ now: later, limit: 10, types: [fresh, poison], leaseMs: 60_000, owner: 'survivor' });
        let batch: Awaited<ReturnType<typeof claim>> = [];
        expect(await tripsOf(opened, async () => (batch = await claim()))).toBe(1);
        expect(batch.map((c) => [c.id, c.recovered, c.attempts])).toEqual([p1, p2].sort(compareIds).map((id) => [id, false, 1]));

        expect(await tripsOf(opened, async () => (batch = await claim()))).toBe(1);
        expect(batch.map((c) => [c.id, c.recovered, c.attempts])).toEqual([[r, true, 2]]);
        expect(batch[0]).toMatchObject({ status: 'leased', leaseOwner: 'survivor', leaseExpiresAt: later + 60_000 });

        expect(await tripsOf(opened, async () => (batch = await claim()))).toBe(1);
        expect(batch.map((c) => [c.id, c.recovered])).toEqual([[p3, false]]);
      });
    });

    it('a timer whose lease expired unsettled is claimed alone as recovered, before the due timers after it', async () => {
      const type = uniqueName('timers');
      const ref = { type, id: 'poisoned' };
      const [first, second] = [uniqueName('t1'), uniqueName('t2')];
      await ctx.store.commit(commit(ref, 0, { timers: [{ id: first, fireAt: T0, input: 1 }, { id: second, fireAt: T0 + 1, input: 2 }] }));
      const claim = (now: number, limit: number) => ctx.store.claimTimers({ now, limit, types: [type], leaseMs: 1000, owner: 'w' });
      expect((await claim(T0 + 1, 1)).map((c) => [c.id, c.recovered])).toEqual([[first, false]]);
      expect((await claim(T0 + 5000, 10)).map((c) => [c.id, c.recovered, c.attempts])).toEqual([[first, true, 2]]);
      expect((await claim(T0 + 5000, 10)).map((c) => [c.id, c.recovered, c.attempts])).toEqual([[second, false, 1]]);
    });
  });
}
