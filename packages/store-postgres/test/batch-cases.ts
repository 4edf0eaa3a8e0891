// Group commit and batched settlement as this package does them, on PostgreSQL and PGlite alike:
// one statement per batch, lock order mapped back to the caller's order, one NOTIFY per kind.
import { describe, expect, it } from 'vitest';
import type { BatchResult, CommitRequest, Lease } from '@ironflow/core/store';
import { uniqueName, type ConformanceContext } from '@ironflow/testing';
import { parseSchemaName } from '../src/schema-name.js';
import type { CountedStore } from './sql-store-cases.js';
import { commit, T0 } from './support.js';

/** A second connection on the store's database: hears its NOTIFYs and reads the catalog. */
export interface ChannelProbe {
  /** Payloads heard on the channel so far, in order (flush markers left out). */
  readonly heard: readonly string[];
  /** Resolves once every notification committed before the call has been heard. */
  flush(): Promise<void>;
  /** One statement on the probe's connection. */
  query(text: string, values?: unknown[]): Promise<readonly Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** How the batch cases reach the database: counting stores and a probe on a channel. */
export interface BatchCaseSettings {
  counted(namespace: string): Promise<CountedStore>;
  probe(channel: string): Promise<ChannelProbe>;
}

const LEASE_MS = 600_000;

/** The code of each result, or 'ok'. */
function codes(results: readonly BatchResult[]): string[] {
  return results.map((r) => (r.ok ? 'ok' : r.error.code));
}

/** Declares the cases on the suite's namespace. */
export function batchStoreCases(ctx: ConformanceContext, settings: BatchCaseSettings): void {
  async function withCounted(test: (opened: CountedStore) => Promise<void>): Promise<void> {
    const opened = await settings.counted(ctx.namespace);
    try {
      await test(opened);
    } finally {
      await opened.close();
    }
  }

  async function withProbe(channel: string, test: (probe: ChannelProbe) => Promise<void>): Promise<void> {
    const probe = await settings.probe(channel);
    try {
      await test(probe);
    } finally {
      await probe.close();
    }
  }

  /** Round trips `run` cost, and what it returned. */
  async function counting<T>(opened: CountedStore, run: () => Promise<T>): Promise<[T, number]> {
    const before = opened.trips();
    const value = await run();
    return [value, opened.trips() - before];
  }

  /** A fresh effect lease, taken at `now`, of a new instance of `type`. */
  async function leased(type: string, id: string, now = T0): Promise<Lease> {
    await ctx.store.commit(commit({ type, id }, 0, { effects: [{ id: uniqueName('e'), payload: id }] }));
    const claimed = await ctx.store.claimEffects({ now, limit: 1, types: [type], leaseMs: LEASE_MS, owner: 'w' });
    expect(claimed).toHaveLength(1);
    return claimed[0]!.lease;
  }

  describe('group commit', () => {
    it('a batch of mixed outcomes is one round trip, and each commit gets the outcome its single call would', async () => {
      await withCounted(async (opened) => {
        const type = uniqueName('mixed');
        await ctx.store.commit(commit({ type, id: 'held' }, 0, { uniqueKey: 'k' }));
        const source = uniqueName('source');
        const stale = await leased(source, 'src');
        // Another worker takes the expired lease over: `stale` is lost.
        await ctx.store.claimEffects({ now: T0 + LEASE_MS, limit: 1, types: [source], leaseMs: LEASE_MS, owner: 'w2' });
        const fresh = await leased(uniqueName('source'), 'src2', T0 + LEASE_MS);
        const now = T0 + LEASE_MS + 1;
        const requests: CommitRequest[] = [
          commit({ type, id: 'new' }, 0, { now, effects: [{ id: uniqueName('e'), payload: 1 }], timers: [{ id: uniqueName('t'), fireAt: now, input: 1 }] }),
          commit({ type, id: 'held' }, 0, { now }),
          commit({ type, id: 'rival' }, 0, { now, uniqueKey: 'k' }),
          commit({ type, id: 'late' }, 0, { now, ack: { ...stale, outcome: 'done' } }),
          commit({ type, id: 'chain' }, 0, { now }),
          commit({ type, id: 'chain' }, 1, { now, ack: { ...fresh, outcome: 'done' } }),
          commit({ type, id: 'held' }, 1, { now, completed: true }),
        ];
        const [results, trips] = await counting(opened, () => opened.store.commitMany(requests));
        expect(trips).toBe(1);
        expect(codes(results)).toEqual(['ok', 'VERSION_CONFLICT', 'UNIQUE_KEY_CONFLICT', 'LEASE_LOST', 'ok', 'ok', 'ok']);
        expect(results[1]).toMatchObject({ error: { details: { actualVersion: 1 } } });
        expect(results[2]).toMatchObject({ error: { holderId: 'held' } });
        expect((await ctx.store.load({ type, id: 'chain' })).events.map((e) => e.sequence)).toEqual([1, 2]);
        expect(await ctx.store.load({ type, id: 'held' })).toMatchObject({ version: 2, completed: true });
        for (const id of ['rival', 'late']) expect((await ctx.store.load({ type, id })).version, id).toBe(0);
        expect((await ctx.store.listEffects({ type: source, id: 'src' }))[0]).toMatchObject({ status: 'leased', leaseOwner: 'w2' });
      });
    });

    it('a commit reusing an effect or timer id fails alone: the batch is sent again one commit at a time', async () => {
      await withCounted(async (opened) => {
        const type = uniqueName('dup');
        const stored = uniqueName('e');
        const storedTimer = uniqueName('t');
        await ctx.store.commit(commit({ type, id: 'owner' }, 0, { effects: [{ id: stored, payload: 0 }], timers: [{ id: storedTimer, fireAt: T0, input: 0 }] }));
        const shared = uniqueName('e');
        const requests: CommitRequest[] = [
          commit({ type, id: 'a' }, 0, { effects: [{ id: shared, payload: 'first' }] }),
          commit({ type, id: 'b' }, 0, { effects: [{ id: uniqueName('e'), payload: 1 }, { id: stored, payload: 'again' }] }),
          commit({ type, id: 'c' }, 0, { timers: [{ id: storedTimer, fireAt: T0, input: 'again' }] }),
          commit({ type, id: 'd' }, 0, { effects: [{ id: shared, payload: 'second' }] }),
          commit({ type, id: 'e' }, 0),
        ];
        const [results, trips] = await counting(opened, () => opened.store.commitMany(requests));
        expect(codes(results)).toEqual(['ok', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'ok']);
        expect(results.map((r) => (r.ok ? undefined : r.error.details))).toEqual([
          undefined,
          { kind: 'effect', id: stored },
          { kind: 'timer', id: storedTimer },
          { kind: 'effect', id: shared },
          undefined,
        ]);
        // The batch, then each commit on its own.
        expect(trips).toBe(1 + requests.length);
        expect((await ctx.store.listEffects({ type, id: 'a' })).map((e) => e.payload)).toEqual(['first']);
        for (const id of ['b', 'c', 'd']) expect((await ctx.store.load({ type, id })).version, id).toBe(0);
        expect((await ctx.store.load({ type, id: 'e' })).version).toBe(1);
      });
    });

    it('outcomes come back in the caller order after the batch is sorted into lock order', async () => {
      const types = [uniqueName('order_b'), uniqueName('order_a')];
      // Descending ids over two types: lock order reverses the batch.
      const refs = types.flatMap((type) => Array.from({ length: 12 }, (_, i) => ({ type, id: `i${String(11 - i).padStart(2, '0')}` })));
      // Every third instance exists at its own version, so each conflict carries a different actual version.
      const existing = refs.flatMap((ref, i) => (i % 3 === 0 ? [{ ref, version: i + 1 }] : []));
      for (const { ref, version } of existing) {
        await ctx.store.commit({ ...commit(ref, 0), events: Array.from({ length: version }, (_, n) => commit(ref, n).events[0]!) });
      }
      const results = await ctx.store.commitMany(refs.map((ref) => commit(ref, 0, { effects: [{ id: uniqueName('e'), payload: ref.id }] })));
      expect(results.map((r) => (r.ok ? 'ok' : `${r.error.code}@${String(r.error.details.actualVersion)}`))).toEqual(
        refs.map((_, i) => (i % 3 === 0 ? `VERSION_CONFLICT@${i + 1}` : 'ok')),
      );
      for (const [i, ref] of refs.entries()) expect((await ctx.store.listEffects(ref)).map((e) => e.payload), ref.id).toEqual(i % 3 === 0 ? [] : [ref.id]);
    });

    it('commits that meet through a unique key or a lease keep the caller order where lock order would swap them', async () => {
      const type = uniqueName('meet');
      await ctx.store.commit(commit({ type, id: 'zz-holder' }, 0, { uniqueKey: 'released' }));
      const lease = await leased(type, 'zz-source');
      // A keyed timer of instance 'aa-owner', claimed; a commit on another instance acknowledges it.
      const owner = { type, id: 'aa-owner' };
      await ctx.store.commit(commit(owner, 0, { timers: [{ id: uniqueName('t'), key: 'deadline', fireAt: T0, input: 1 }] }));
      const [tick] = await ctx.store.claimTimers({ now: T0, limit: 1, types: [type], leaseMs: LEASE_MS, owner: 'w' });
      const results = await ctx.store.commitMany([
        commit({ type, id: 'zz-first' }, 0, { uniqueKey: 'new' }),
        commit({ type, id: 'aa-second' }, 0, { uniqueKey: 'new' }),
        commit({ type, id: 'ab-early' }, 0, { uniqueKey: 'released' }),
        commit({ type, id: 'zz-holder' }, 1, { completed: true }),
        commit({ type, id: 'ac-after' }, 0, { uniqueKey: 'released' }),
        commit({ type, id: 'zz-ack' }, 0, { ack: { ...lease, outcome: 'done' } }),
        commit({ type, id: 'aa-ack' }, 0, { ack: { ...lease, outcome: 'dead', error: 'late' } }),
        commit({ type, id: 'zz-timer' }, 0, { ack: { ...tick!.lease, outcome: 'done' } }),
        commit(owner, 1, { cancelTimers: ['deadline'] }),
      ]);
      expect(codes(results)).toEqual(['ok', 'UNIQUE_KEY_CONFLICT', 'UNIQUE_KEY_CONFLICT', 'ok', 'ok', 'ok', 'LEASE_LOST', 'ok', 'ok']);
      expect(results[1]).toMatchObject({ error: { holderId: 'zz-first' } });
      expect((await ctx.store.listEffects({ type, id: 'zz-source' }))[0]!.status).toBe('done');
      expect((await ctx.store.listTimers(owner))[0]!.status).toBe('fired');
    });

    it('routed results that complete their instance with cancelWork, in one batch: each cancels the live work it leaves, keeps the acknowledged row and its own new effects, and fails alone', async () => {
      const type = uniqueName('completing');
      const [a, b, c, d, e] = [{ type, id: 'a' }, { type, id: 'b' }, { type, id: 'c' }, { type, id: 'd' }, { type, id: 'e' }] as const;
      const claimOne = async (now = T0, owner = 'w') => {
        const [claimed] = await ctx.store.claimEffects({ now, limit: 1, types: [type], leaseMs: LEASE_MS, owner });
        return claimed!;
      };
      // Each instance's first effect is claimed before its other work exists, so claims take it.
      const first = async (ref: { type: string; id: string }, key?: string) => {
        await ctx.store.commit(commit(ref, 0, { effects: [{ id: `${ref.id}-1`, payload: 1, ...(key ? { key } : {}) }] }));
        return (await claimOne()).lease;
      };
      const leases = { a: await first(a), b: await first(b), c: await first(c), d: await first(d), e: await first(e, 'ship') };
      await ctx.store.commit(commit(a, 1, { effects: [{ id: 'a-2', payload: 2 }, { id: 'a-3', payload: 3, key: 'ship' }], timers: [{ id: 'a-t', key: 'remind', fireAt: T0 + 60_000, input: 1 }] }));
      expect((await claimOne(T0, 'w2')).id).toBe('a-2');
      await ctx.store.commit(commit(c, 1, { effects: [{ id: 'c-2', payload: 2 }] }));
      await ctx.store.commit(commit(d, 1, { effects: [{ id: 'd-2', payload: 2 }] }));
      await ctx.store.commit(commit(e, 1, { effects: [{ id: 'e-2', payload: 2, key: 'gift' }] }));

      const now = T0 + 1;
      const done = (lease: Lease) => ({ ...lease, outcome: 'done' as const });
      const results = await ctx.store.commitMany([
        commit(a, 2, { now, ack: done(leases.a), completed: true, cancelWork: true, effects: [{ id: 'a-receipt', payload: 'r' }] }),
        commit(b, 1, { now, ack: { ...leases.b, outcome: 'dead', error: 'boom' }, completed: true, cancelWork: true }),
        commit(c, 2, { now, ack: done(leases.c), effects: [{ id: 'c-3', payload: 3 }] }),
        // Its lease expired: fails alone, its work untouched.
        commit(d, 2, { now: T0 + LEASE_MS + 1, ack: done(leases.d), completed: true, cancelWork: true }),
        // A new effect under a key a live effect holds, and under the acknowledged effect's key.
        commit(e, 2, { now, ack: done(leases.e), completed: true, cancelWork: true, effects: [{ id: 'e-3', payload: 3, key: 'gift' }, { id: 'e-4', payload: 4, key: 'ship' }] }),
      ]);
      expect(codes(results)).toEqual(['ok', 'ok', 'ok', 'LEASE_LOST', 'ok']);

      const effects = async (ref: { type: string; id: string }) => Object.fromEntries((await ctx.store.listEffects(ref)).map((w) => [w.id, w.status]));
      expect(await effects(a)).toEqual({ 'a-1': 'done', 'a-2': 'cancelled', 'a-3': 'cancelled', 'a-receipt': 'pending' });
      expect((await ctx.store.listEffects(a)).find((w) => w.id === 'a-2')).not.toHaveProperty('leaseOwner');
      expect((await ctx.store.listTimers(a)).map((t) => [t.id, t.status])).toEqual([['a-t', 'cancelled']]);
      expect(await effects(b)).toEqual({ 'b-1': 'dead' });
      expect((await ctx.store.listEffects(b))[0]).toMatchObject({ lastError: 'boom' });
      expect(await effects(c)).toEqual({ 'c-1': 'done', 'c-2': 'pending', 'c-3': 'pending' });
      expect(await effects(d)).toEqual({ 'd-1': 'leased', 'd-2': 'pending' });
      expect(await effects(e)).toEqual({ 'e-1': 'done', 'e-2': 'cancelled', 'e-3': 'pending', 'e-4': 'pending' });
      for (const [ref, version, status] of [[a, 3, 'completed'], [b, 2, 'completed'], [c, 3, 'active'], [d, 2, 'active'], [e, 3, 'completed']] as const) {
        expect(await ctx.store.load(ref), ref.id).toMatchObject({ version, status });
      }
      // Only the new effects are claimable: the cancelled ones and the completed instances' old work are gone.
      const claimable = await ctx.store.claimEffects({ now, limit: 20, types: [type], leaseMs: LEASE_MS, owner: 'w3' });
      expect(claimable.map((w) => w.id).sort()).toEqual(['a-receipt', 'c-2', 'c-3', 'd-2', 'e-3', 'e-4']);
    });
  });

  describe('wake-ups of a batch', () => {
    it('a batch sends one NOTIFY per kind it wrote, none when it wrote no work, and the per-commit function sends none', async () => {
      await withProbe(parseSchemaName(ctx.namespace).channel, async (probe) => {
        const type = uniqueName('notify');
        const taken = await ctx.store.commitMany([commit({ type, id: 'taken' }, 0)]);
        expect(codes(taken)).toEqual(['ok']);
        await probe.flush();
        expect(probe.heard).toEqual([]);

        const work = (i: number) => commit({ type, id: `w${i}` }, 0, i % 2 === 0 ? { effects: [{ id: uniqueName('e'), payload: i }] } : { timers: [{ id: uniqueName('t'), fireAt: T0, input: i }] });
        expect(codes(await ctx.store.commitMany(Array.from({ length: 8 }, (_, i) => work(i))))).toEqual(Array.from({ length: 8 }, () => 'ok'));
        await probe.flush();
        expect(probe.heard).toEqual(['effect', 'timer']);

        // Commits that would write work but fail write none, and so wake nobody.
        const failed = await ctx.store.commitMany([commit({ type, id: 'taken' }, 0, { effects: [{ id: uniqueName('e'), payload: 'no' }] })]);
        expect(codes(failed)).toEqual(['VERSION_CONFLICT']);
        await probe.flush();
        expect(probe.heard).toEqual(['effect', 'timer']);

        // A single commit is a batch of one, and still notifies at once.
        await ctx.store.commit(commit({ type, id: 'single' }, 0, { effects: [{ id: uniqueName('e'), payload: 's' }] }));
        await probe.flush();
        expect(probe.heard).toEqual(['effect', 'timer', 'effect']);

        // PostgreSQL folds identical NOTIFYs of one transaction, so the count above cannot show
        // how many were sent; the function's text can: only commit_decisions notifies.
        const [row] = await probe.query('SELECT prosrc FROM pg_proc WHERE oid = to_regprocedure($1)', [`"${ctx.namespace}".commit_one(jsonb)`]);
        expect(String(row?.prosrc)).toMatch(/INSERT INTO/);
        expect(String(row?.prosrc)).not.toMatch(/pg_notify/);
      });
    });
  });

  describe('batched settlement', () => {
    it('settleMany applies mixed changes in one round trip, each fenced by its token, and wakes each kind once for releases', async () => {
      await withCounted(async (opened) => {
        await withProbe(parseSchemaName(ctx.namespace).channel, async (probe) => {
          const type = uniqueName('settle');
          const refs = Array.from({ length: 6 }, (_, i) => ({ type, id: `s${i}` }));
          await ctx.store.commitMany(refs.map((ref) => commit(ref, 0, { effects: [{ id: `${ref.id}-${uniqueName('e')}`, payload: ref.id }], timers: [{ id: `${ref.id}-${uniqueName('t')}`, fireAt: T0, input: ref.id }] })));
          const effects = await ctx.store.claimEffects({ now: T0, limit: 10, types: [type], leaseMs: LEASE_MS, owner: 'w' });
          const timers = await ctx.store.claimTimers({ now: T0, limit: 10, types: [type], leaseMs: LEASE_MS, owner: 'w' });
          const e = (i: number) => effects.find((c) => c.workflowId === `s${i}`)!.lease;
          const t = (i: number) => timers.find((c) => c.workflowId === `s${i}`)!.lease;
          await probe.flush();
          const before = probe.heard.length;
          const now = T0 + 10;
          const [results, trips] = await counting(opened, () =>
            opened.store.settleMany([
              { op: 'release', lease: t(5), now },
              { op: 'complete', lease: e(5), now },
              { op: 'renew', lease: e(4), now, leaseMs: LEASE_MS },
              { op: 'release', lease: e(3), now },
              { op: 'release', lease: e(2), now },
              { op: 'retry', lease: t(1), now, retryAt: now + 5, error: 'again' },
              { op: 'deadLetter', lease: e(1), now, error: 'gone' },
              { op: 'complete', lease: { ...e(0), token: 'forged' }, now },
              { op: 'complete', lease: e(3), now }, // released just before
              { op: 'complete', lease: t(0), now: T0 + LEASE_MS }, // expired
              { op: 'complete', lease: t(4), now },
            ]),
          );
          expect(trips).toBe(1);
          expect(codes(results)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'LEASE_LOST', 'LEASE_LOST', 'LEASE_LOST', 'ok']);
          const effect = async (i: number) => (await ctx.store.listEffects(refs[i]!))[0]!;
          const timer = async (i: number) => (await ctx.store.listTimers(refs[i]!))[0]!;
          expect(await effect(5)).toMatchObject({ status: 'done' });
          expect(await timer(5)).toMatchObject({ status: 'pending', attempts: 0 });
          expect(await effect(4)).toMatchObject({ status: 'leased', leaseExpiresAt: now + LEASE_MS });
          expect(await effect(3)).toMatchObject({ status: 'pending', attempts: 0 });
          expect(await timer(1)).toMatchObject({ status: 'pending', availableAt: now + 5, lastError: 'again' });
          expect(await effect(1)).toMatchObject({ status: 'dead', lastError: 'gone' });
          expect(await effect(0)).toMatchObject({ status: 'leased' });
          expect(await timer(4)).toMatchObject({ status: 'fired' });
          await probe.flush();
          expect(probe.heard.slice(before)).toEqual(['effect', 'timer']);
        });
      });
    });
  });

  describe('round trips of a batch', () => {
    it('a commitMany of 200 commits and a settleMany of 200 changes each cost one statement', async () => {
      await withCounted(async (opened) => {
        const type = uniqueName('trips');
        const refs = Array.from({ length: 200 }, (_, i) => ({ type, id: `r${i}` }));
        const [results, commitTrips] = await counting(opened, () =>
          opened.store.commitMany(refs.map((ref) => commit(ref, 0, { effects: [{ id: `${ref.id}-${uniqueName('e')}`, payload: ref.id }] }))),
        );
        expect(commitTrips).toBe(1);
        expect(results.every((r) => r.ok)).toBe(true);
        const claimed = await ctx.store.claimEffects({ now: T0, limit: 200, types: [type], leaseMs: LEASE_MS, owner: 'w' });
        expect(claimed).toHaveLength(200);
        const [settled, settleTrips] = await counting(opened, () => opened.store.settleMany(claimed.map((c) => ({ op: 'complete' as const, lease: c.lease, now: T0 + 1 }))));
        expect(settleTrips).toBe(1);
        expect(settled.every((r) => r.ok)).toBe(true);
      });
    });
  });
}
