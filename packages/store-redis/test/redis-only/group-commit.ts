// Group commit and batched settlement as Redis runs them: one batched script call per partition,
// each item with its own outcome, in the caller's order. Shared by the single-server families
// (1 and 4 partitions) and the Cluster tests (8 partitions), with script calls counted.
import { describe, expect, it } from 'vitest';
import type { BatchResult, CommitRequest, LeaseChange } from '@ironflow/core/store';
import { createKeyLayout, type RedisStore } from '../../src/index.js';
import { claimArgs, commitOf, idIn, T0 } from './fixture.js';

/** A store on a fresh prefix whose script calls (by script name) are recorded in `calls`. */
export interface CountedStore {
  readonly store: RedisStore;
  readonly calls: string[];
}

/** Opens a counted store with `partitions` partitions; the caller tears it down. */
export type OpenCounted = (partitions: number) => Promise<CountedStore>;

/** The code of each result, or 'ok'. */
export function codes(results: readonly BatchResult[]): string[] {
  return results.map((r) => (r.ok ? 'ok' : r.error.code));
}

/** `n` copies of a script name, for comparing call lists. */
function times(n: number, name: string): string[] {
  return Array.from({ length: n }, () => name);
}

/** Group commit and batched settlement on `partitions` partitions. */
export function groupCommitCases(open: OpenCounted, partitions: number): void {
  describe(`group commit, ${partitions} partition${partitions === 1 ? '' : 's'}`, () => {
    it('one batch holds ok, version conflict, lease lost, unique-key conflict, duplicate id and commits at n and n + 1, each with its own outcome', async () => {
      const { store, calls } = await open(partitions);
      const layout = createKeyLayout(store.keyPrefix, partitions);
      const type = 'mixed';
      const at = (partition: number, base: string) => ({ type, id: idIn(layout, type, partition % partitions, base) });
      const fresh = at(0, 'fresh');
      const existing = at(1, 'existing');
      const source = at(2, 'source');
      const chain = at(3, 'chain');
      await store.commit(commitOf(existing, 0));
      await store.commit(commitOf(at(1, 'holder'), 0, { uniqueKey: 'k' }));
      await store.commit(commitOf(source, 0, { effects: [{ id: 'e1', payload: {} }, { id: 'e2', payload: {} }] }));
      const [stale] = await store.claimEffects(claimArgs([type], T0, 100, 1));
      await store.claimEffects(claimArgs([type], T0 + 100, 100, 1)); // takes e1's lease over
      const [held] = await store.claimEffects(claimArgs([type], T0 + 100, 30_000, 1));
      expect([stale?.id, held?.id]).toEqual(['e1', 'e2']);

      calls.length = 0;
      const now = T0 + 101;
      const requests: CommitRequest[] = [
        commitOf(fresh, 0, { now, effects: [{ id: 'f1', payload: {} }], timers: [{ id: 't1', fireAt: now + 50, input: {} }] }),
        commitOf(existing, 0, { now }),
        commitOf(source, 1, { now, ack: { ...stale!.lease, outcome: 'done' } }),
        commitOf(source, 1, { now, ack: { ...held!.lease, outcome: 'done' } }),
        commitOf(at(2, 'rival'), 0, { now, uniqueKey: 'k' }),
        commitOf(chain, 0, { now, effects: [{ id: 'x1', payload: 1 }] }),
        commitOf(chain, 1, { now, effects: [{ id: 'x1', payload: 2 }] }),
        commitOf(chain, 1, { now }),
        commitOf(chain, 2, { now, completed: true }),
        commitOf(at(0, 'forged'), 0, { now, ack: { kind: 'effect', id: 'e2', token: 'not-a-token', outcome: 'done' } }),
      ];
      const results = await store.commitMany(requests);
      const made = [...calls];
      expect(codes(results)).toEqual(['ok', 'VERSION_CONFLICT', 'LEASE_LOST', 'ok', 'UNIQUE_KEY_CONFLICT', 'ok', 'INVALID_ARGUMENT', 'ok', 'ok', 'LEASE_LOST']);
      expect(results[4]!.ok === false && results[4]!.error).toMatchObject({ holderId: at(1, 'holder').id });
      expect(results[1]!.ok === false && results[1]!.error).toMatchObject({ details: { actualVersion: 1 } });

      expect(await store.load(fresh)).toMatchObject({ version: 1 });
      expect(await store.listEffects(fresh)).toHaveLength(1);
      expect(await store.listTimers(fresh)).toHaveLength(1);
      expect((await store.load(existing)).version).toBe(1);
      expect((await store.load(source)).version).toBe(2);
      expect((await store.listEffects(source)).map((e) => [e.id, e.status, e.attempts])).toEqual([
        ['e1', 'leased', 2],
        ['e2', 'done', 1],
      ]);
      expect((await store.load(at(2, 'rival'))).version).toBe(0);
      const chained = await store.load(chain);
      expect(chained).toMatchObject({ version: 3, completed: true });
      expect(chained.events.map((e) => e.sequence)).toEqual([1, 2, 3]);
      expect((await store.listEffects(chain)).map((e) => e.payload)).toEqual([1]);
      expect((await store.load(at(0, 'forged'))).version).toBe(0);

      // The unique key needs a reservation in its own partition when there are several, so that
      // commit goes alone and splits the batch in two; the forged token costs no call at all.
      if (partitions === 1) {
        expect(made).toEqual(['commit-batch']);
      } else {
        const before = new Set(requests.slice(0, 4).map((r) => layout.partitionOf(r.ref.type, r.ref.id))).size;
        expect(made.filter((c) => c === 'commit-batch')).toHaveLength(before + 1);
        expect(made.filter((c) => c === 'commit')).toEqual(['commit']);
      }
    });

    it('forty commits across the partitions cost one script call per partition, and come back in the caller order', async () => {
      const { store, calls } = await open(partitions);
      const layout = createKeyLayout(store.keyPrefix, partitions);
      const type = 'order';
      const refs = Array.from({ length: 40 }, (_, i) => ({ type, id: `i${String(39 - i).padStart(2, '0')}` }));
      await store.commitMany(refs.filter((_, i) => i % 3 === 0).map((ref) => commitOf(ref, 0)));
      calls.length = 0;
      const results = await store.commitMany(refs.map((ref) => commitOf(ref, 0, { effects: [{ id: `fx-${ref.id}`, payload: {} }] })));
      expect(codes(results)).toEqual(refs.map((_, i) => (i % 3 === 0 ? 'VERSION_CONFLICT' : 'ok')));
      const touched = new Set(refs.map((ref) => layout.partitionOf(ref.type, ref.id))).size;
      expect(touched).toBe(partitions);
      expect(calls).toEqual(times(touched, 'commit-batch'));
      const claimed = await store.claimEffects(claimArgs([type], T0, 30_000, 100));
      expect(claimed.map((c) => c.workflowId).sort()).toEqual(refs.filter((_, i) => i % 3 !== 0).map((r) => r.id).sort());
    });

    it('routed results acknowledging leases of other instances land in order, each commit to a target after the one that acknowledged', async () => {
      const { store, calls } = await open(partitions);
      const layout = createKeyLayout(store.keyPrefix, partitions);
      const source = { type: 'routes', id: idIn(layout, 'routes', 0, 'source') };
      await store.commit(commitOf(source, 0, { effects: Array.from({ length: 8 }, (_, i) => ({ id: `ask${i}`, payload: { i } })) }));
      const claimed = await store.claimEffects(claimArgs(['routes'], T0, 30_000, 8));
      expect(claimed).toHaveLength(8);
      const targets = claimed.map((c, i) => ({ type: 'answers', id: idIn(layout, 'answers', i % partitions, `t${i}`), lease: c.lease }));
      const remote = targets.filter((t) => layout.partitionOf(t.type, t.id) !== 0).length;
      calls.length = 0;
      const results = await store.commitMany([
        ...targets.map((t) => commitOf(t, 0, { now: T0 + 1, ack: { ...t.lease, outcome: 'done' as const } })),
        ...targets.map((t) => commitOf(t, 1, { now: T0 + 1 })),
        commitOf({ type: 'answers', id: 'late' }, 0, { now: T0 + 1, ack: { ...targets[0]!.lease, outcome: 'done' } }),
      ]);
      const made = [...calls];
      expect(codes(results)).toEqual([...targets.map(() => 'ok'), ...targets.map(() => 'ok'), 'LEASE_LOST']);
      for (const t of targets) expect((await store.load(t)).version, t.id).toBe(2);
      expect((await store.listEffects(source)).map((e) => e.status)).toEqual(targets.map(() => 'done'));
      // A remote acknowledgement goes alone (prepare, commit, finalize); the late one is refused at its prepare.
      const count = (name: string) => made.filter((c) => c === name).length;
      const lateIsRemote = layout.partitionOf('answers', 'late') === 0 ? 0 : 1;
      expect([count('prepare-handoff'), count('commit'), count('finalize-handoff')]).toEqual([remote + lateIsRemote, remote, remote]);
      if (partitions === 1) expect(made).toEqual(['commit-batch']);
    });

    it('settleMany applies ok and lease-lost changes, effects and timers, in one script call per partition', async () => {
      const { store, calls } = await open(partitions);
      const layout = createKeyLayout(store.keyPrefix, partitions);
      const type = 'settle';
      const refs = Array.from({ length: 6 }, (_, i) => ({ type, id: idIn(layout, type, i % partitions, `s${i}`) }));
      for (const [i, ref] of refs.entries()) await store.commit(commitOf(ref, 0, { effects: [{ id: `fx${i}`, payload: {} }] }));
      await store.commit(commitOf(refs[0]!, 1, { timers: [{ id: 'tm', fireAt: T0, input: {} }] }));
      const claimed = await store.claimEffects(claimArgs([type], T0, 1_000, 10));
      const [timer] = await store.claimTimers(claimArgs([type], T0, 1_000, 10));
      const lease = (i: number) => claimed.find((c) => c.id === `fx${i}`)!.lease;
      const now = T0 + 10;
      const forged = { ...lease(5), token: lease(5).token.replace(/\.\d+$/, '.999') };
      calls.length = 0;
      const changes: LeaseChange[] = [
        { op: 'complete', lease: lease(0), now },
        { op: 'retry', lease: lease(1), now, retryAt: now + 500, error: 'flaky' },
        { op: 'deadLetter', lease: lease(2), now, error: 'hopeless' },
        { op: 'renew', lease: lease(3), now, leaseMs: 60_000 },
        { op: 'release', lease: lease(4), now },
        { op: 'complete', lease: forged, now },
        { op: 'complete', lease: { ...lease(5), token: 'unparseable' }, now },
        { op: 'complete', lease: lease(0), now },
        { op: 'complete', lease: timer!.lease, now },
      ];
      expect(codes(await store.settleMany(changes))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'LEASE_LOST', 'LEASE_LOST', 'LEASE_LOST', 'ok']);
      expect([...calls]).toEqual(times(Math.min(partitions, 6), 'settle-batch'));
      const row = async (i: number) => (await store.listEffects(refs[i]!))[0]!;
      expect(await row(0)).toMatchObject({ status: 'done' });
      expect(await row(1)).toMatchObject({ status: 'pending', availableAt: now + 500, lastError: 'flaky' });
      expect(await row(2)).toMatchObject({ status: 'dead', lastError: 'hopeless' });
      expect(await row(3)).toMatchObject({ status: 'leased', leaseExpiresAt: now + 60_000 });
      expect(await row(4)).toMatchObject({ status: 'pending', attempts: 0 });
      expect(await row(5)).toMatchObject({ status: 'leased', attempts: 1 });
      expect((await store.listTimers(refs[0]!))[0]).toMatchObject({ status: 'fired' });
    });
  });
}
