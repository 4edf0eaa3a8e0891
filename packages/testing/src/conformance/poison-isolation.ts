// Poison isolation: a row whose lease expired unsettled may have crashed its worker, so it is
// claimed alone, and fresh rows never share a batch (and so a lease expiry) with it.
import { expect, it } from 'vitest';
import type { Claimed, ClaimRequest, EffectRecord, TimerRecord, WorkflowRef, WorkKind } from '@ironflow/core/store';
import { claimArgs, commitOf, effect, freshType, timer, T0, type ConformanceContext } from './context.js';

type ClaimedWork = Claimed<EffectRecord> | Claimed<TimerRecord>;

/** Schedules and claims one kind of work the same way for effects and timers. */
function workOf(ctx: ConformanceContext, kind: WorkKind) {
  const versions = new Map<string, number>();
  return {
    /** Commits one row of `kind` for `ref`, claimable from `at` (an effect committed at `at`, a timer firing at `at`). */
    async schedule(ref: WorkflowRef, at: number, label: string): Promise<void> {
      const version = versions.get(`${ref.type}/${ref.id}`) ?? 0;
      versions.set(`${ref.type}/${ref.id}`, version + 1);
      const rows = kind === 'effect' ? { effects: [effect({ label })] } : { timers: [timer(at, { label })] };
      await ctx.store.commit(commitOf(ref, version, { now: at, ...rows }));
    },
    claim(request: ClaimRequest): Promise<ClaimedWork[]> {
      return kind === 'effect' ? ctx.store.claimEffects(request) : ctx.store.claimTimers(request);
    },
    label: (row: ClaimedWork): unknown => ((row.kind === 'effect' ? row.payload : row.input) as { label: unknown }).label,
  };
}

const LEASE = 100;

export function poisonIsolationCases(ctx: ConformanceContext): void {
  for (const kind of ['effect', 'timer'] as const) {
    const an = kind === 'effect' ? 'an effect' : 'a timer';
    const rows = kind === 'effect' ? 'effects' : 'timers';

    it(`${an} whose lease expired unsettled is claimed alone with recovered: true, even with a larger limit and fresh ${rows} behind it`, async () => {
      const work = workOf(ctx, kind);
      const type = freshType('poison');
      await work.schedule({ type, id: 'poison' }, T0, 'poison');
      const [first] = await work.claim(claimArgs([type], T0, { leaseMs: LEASE }));
      expect(first).toMatchObject({ recovered: false, attempts: 1 });
      await work.schedule({ type, id: 'fresh-1' }, T0 + 1, 'fresh-1');
      await work.schedule({ type, id: 'fresh-2' }, T0 + 2, 'fresh-2');
      const recovered = await work.claim(claimArgs([type], T0 + LEASE, { limit: 10 }));
      expect(recovered.map((r) => [work.label(r), r.recovered, r.attempts])).toEqual([['poison', true, 2]]);
      expect(recovered[0]!.lease.token).not.toBe(first!.lease.token);
      const fresh = await work.claim(claimArgs([type], T0 + LEASE, { limit: 10 }));
      expect(fresh.map((r) => [work.label(r), r.recovered, r.attempts])).toEqual([
        ['fresh-1', false, 1],
        ['fresh-2', false, 1],
      ]);
    });

    it(`a batch of fresh ${rows} stops before the first expired lease in claim order, even when older fresh ${rows} come first`, async () => {
      const work = workOf(ctx, kind);
      const type = freshType('poison');
      await work.schedule({ type, id: 'poison' }, T0 + 10, 'poison');
      await work.claim(claimArgs([type], T0 + 10, { leaseMs: LEASE }));
      // Claimable before the poison (older), and after it (newer), once its lease has expired.
      await work.schedule({ type, id: 'older-1' }, T0, 'older-1');
      await work.schedule({ type, id: 'older-2' }, T0 + 5, 'older-2');
      await work.schedule({ type, id: 'newer' }, T0 + 50, 'newer');
      const now = T0 + 10 + LEASE;
      const batches: unknown[][] = [];
      for (let i = 0; i < 4; i++) batches.push((await work.claim(claimArgs([type], now, { limit: 10 }))).map((r) => [work.label(r), r.recovered]));
      expect(batches).toEqual([[['older-1', false], ['older-2', false]], [['poison', true]], [['newer', false]], []]);
    });

    it(`every ${kind} whose lease expired is recovered in a claim of its own`, async () => {
      const work = workOf(ctx, kind);
      const type = freshType('poison');
      for (const label of ['p1', 'p2', 'p3']) await work.schedule({ type, id: label }, T0, label);
      expect(await work.claim(claimArgs([type], T0, { leaseMs: LEASE, limit: 10 }))).toHaveLength(3);
      const claims: unknown[][] = [];
      for (let i = 0; i < 4; i++) claims.push((await work.claim(claimArgs([type], T0 + LEASE, { limit: 10 }))).map((r) => [r.recovered, r.attempts]));
      expect(claims).toEqual([[[true, 2]], [[true, 2]], [[true, 2]], []]);
    });

    it(`an expired ${kind} lease of a workflow type not asked for neither comes back nor stops the batch`, async () => {
      const work = workOf(ctx, kind);
      const mine = freshType('mine');
      const other = freshType('other');
      await work.schedule({ type: other, id: 'poison' }, T0, 'poison');
      await work.claim(claimArgs([other], T0, { leaseMs: LEASE }));
      await work.schedule({ type: mine, id: 'a' }, T0 + 1, 'a');
      await work.schedule({ type: mine, id: 'b' }, T0 + 2, 'b');
      const claimed = await work.claim(claimArgs([mine], T0 + LEASE, { limit: 10 }));
      expect(claimed.map((r) => [work.label(r), r.recovered])).toEqual([
        ['a', false],
        ['b', false],
      ]);
    });

    it(`released and retried ${rows} come back with recovered: false, and attempts count on every claim`, async () => {
      const work = workOf(ctx, kind);
      const type = freshType('poison');
      await work.schedule({ type, id: 'w' }, T0, 'w');
      const [first] = await work.claim(claimArgs([type], T0, { leaseMs: LEASE }));
      await ctx.store.release(first!.lease, T0 + 1);
      const [afterRelease] = await work.claim(claimArgs([type], T0 + 1, { leaseMs: LEASE }));
      expect(afterRelease).toMatchObject({ recovered: false, attempts: 1 });
      await ctx.store.retry(afterRelease!.lease, T0 + 2, T0 + 3, 'try again');
      const [afterRetry] = await work.claim(claimArgs([type], T0 + 3, { leaseMs: LEASE }));
      expect(afterRetry).toMatchObject({ recovered: false, attempts: 2 });
      const [recovered] = await work.claim(claimArgs([type], T0 + 3 + LEASE, { leaseMs: LEASE }));
      expect(recovered).toMatchObject({ recovered: true, attempts: 3, status: 'leased', leaseExpiresAt: T0 + 3 + 2 * LEASE });
      const [again] = await work.claim(claimArgs([type], T0 + 3 + 2 * LEASE, { leaseMs: LEASE }));
      expect(again).toMatchObject({ recovered: true, attempts: 4 });
      await ctx.store.complete(again!.lease, T0 + 3 + 2 * LEASE);
      expect(await work.claim(claimArgs([type], T0 + 1_000_000))).toEqual([]);
    });
  }
}
