// Partitions on one server: claims merged across partitions in the contract's order and under
// poison isolation, dead letters across partitions, the recorded partition count, and the
// cross-partition protocols (handoffs, unique-key reservations) with a connection lost at each step.
import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { createKeyLayout, createRedisStore } from '../../src/index.js';
import { COMMIT } from '../../src/scripts/commit.js';
import { instrument } from '../helpers.js';
import { claimArgs, codeOf, commitOf, idIn, T0, type RedisFixture } from './fixture.js';

/** Redis-only cases: partitions. */
export function partitionCases(fx: RedisFixture): void {
  const { open } = fx;
  describe('partitions', () => {
    it('a partitioned claim takes the oldest rows across all partitions, in (availableAt, id) order', async () => {
      const s = await open({ partitions: 4 });
      const layout = createKeyLayout(s.keyPrefix, 4);
      const type = 'spread';
      const refs = [3, 1, 0, 2].map((p) => ({ type, id: idIn(layout, type, p, `p${p}`) }));
      for (const [i, ref] of refs.entries()) {
        await s.store.commit(commitOf(ref, 0, { now: T0 + 10 * i, effects: [{ id: `fx-${i}`, payload: { i } }] }));
      }
      const claimed = await s.store.claimEffects(claimArgs([type], T0 + 100, 30_000, 3));
      expect(claimed.map((c) => c.id)).toEqual(['fx-0', 'fx-1', 'fx-2']);
      expect(new Set(refs.map((r) => layout.partitionOf(r.type, r.id))).size).toBe(4);
      const listed = await s.store.listInstances({ workflowType: type });
      expect(listed.map((i) => i.workflowId)).toEqual([...refs].reverse().map((r) => r.id));
    });

    it('poison isolation holds on the merged order: fresh rows of any partition stop before a recovered row, which is then claimed alone', async () => {
      const s = await open({ partitions: 4 });
      const layout = createKeyLayout(s.keyPrefix, 4);
      const type = 'poison';
      const at = (partition: number, base: string) => ({ type, id: idIn(layout, type, partition, base) });
      await s.store.commit(commitOf(at(2, 'poison'), 0, { now: T0 + 10, effects: [{ id: 'fx-poison', payload: {} }] }));
      expect(await s.store.claimEffects(claimArgs([type], T0 + 10, 100))).toMatchObject([{ id: 'fx-poison', recovered: false }]);
      await s.store.commit(commitOf(at(0, 'old'), 0, { now: T0, effects: [{ id: 'fx-old-0', payload: {} }] }));
      await s.store.commit(commitOf(at(1, 'old'), 0, { now: T0 + 5, effects: [{ id: 'fx-old-1', payload: {} }] }));
      await s.store.commit(commitOf(at(3, 'new'), 0, { now: T0 + 50, effects: [{ id: 'fx-new-3', payload: {} }] }));
      await s.store.commit(commitOf(at(2, 'new'), 0, { now: T0 + 60, effects: [{ id: 'fx-new-2', payload: {} }] }));
      const batches: unknown[][] = [];
      for (let i = 0; i < 4; i++) {
        batches.push((await s.store.claimEffects(claimArgs([type], T0 + 110, 30_000, 10))).map((c) => [c.id, c.recovered, c.attempts]));
      }
      expect(batches).toEqual([
        [
          ['fx-old-0', false, 1],
          ['fx-old-1', false, 1],
        ],
        [['fx-poison', true, 2]],
        [
          ['fx-new-3', false, 1],
          ['fx-new-2', false, 1],
        ],
        [],
      ]);
    });

    it('dead letters filtered by workflow id alone are found across partitions, newest first', async () => {
      const s = await open({ partitions: 4 });
      const layout = createKeyLayout(s.keyPrefix, 4);
      const types = ['dl.a', 'dl.b', 'dl.c'];
      const id = 'shared-id';
      expect(new Set(types.map((t) => layout.partitionOf(t, id))).size).toBeGreaterThan(1);
      for (const [i, type] of types.entries()) {
        await s.store.commit(commitOf({ type, id }, 0, { effects: [{ id: `dl-${i}`, payload: { i } }] }));
        await s.store.commit(commitOf({ type, id: 'other' }, 0, { effects: [{ id: `other-${i}`, payload: { i } }] }));
      }
      const claimed = await s.store.claimEffects(claimArgs(types, T0, 30_000, 10));
      for (const c of claimed) await s.store.deadLetter(c.lease, T0 + Number(c.id.split('-')[1]), 'x');
      const dead = await s.store.listDeadLetters({ kind: 'effect', workflowId: id });
      expect(dead.map((d) => d.id)).toEqual(['dl-2', 'dl-1', 'dl-0']);
      expect(await s.store.countDeadLetters({ kind: 'effect', workflowId: id })).toBe(3);
      expect(await s.store.countDeadLetters({ kind: 'effect' })).toBe(6);
      expect((await s.store.listDeadLetters({ kind: 'effect', limit: 2, offset: 1 })).map((d) => d.id)).toEqual(['other-2', 'dl-1']);
    });

    it('a partitioned claim orders by rank across partitions: a higher priority elsewhere goes before an older row, a tag pool sees only its tag', async () => {
      const s = await open({ partitions: 4 });
      const layout = createKeyLayout(s.keyPrefix, 4);
      const type = 'ranked';
      const at = (partition: number, base: string) => ({ type, id: idIn(layout, type, partition, base) });
      await s.store.commit(commitOf(at(0, 'old'), 0, { now: T0, effects: [{ id: 'fx-old', payload: {} }] }));
      await s.store.commit(commitOf(at(1, 'urgent'), 0, { now: T0 + 5000, effects: [{ id: 'fx-urgent', payload: {}, priority: 10 }] }));
      await s.store.commit(commitOf(at(2, 'gpu'), 0, { now: T0 + 10, effects: [{ id: 'fx-gpu', payload: {}, tag: 'gpu', priority: -1 }] }));
      await s.store.commit(commitOf(at(3, 'gpu'), 0, { now: T0 + 20, effects: [{ id: 'fx-gpu-high', payload: {}, tag: 'gpu', priority: 1 }] }));
      expect((await s.store.claimEffects({ ...claimArgs([type], T0 + 6000, 30_000, 1), tags: ['gpu'] })).map((c) => c.id)).toEqual(['fx-gpu-high']);
      expect((await s.store.claimEffects(claimArgs([type], T0 + 6000, 30_000, 10))).map((c) => c.id)).toEqual(['fx-urgent', 'fx-old', 'fx-gpu']);
    });

    it('a type paused through one store is skipped by claims in every partition, an instance only in its own', async () => {
      const s = await open({ partitions: 4 });
      const layout = createKeyLayout(s.keyPrefix, 4);
      const type = 'held';
      const refs = [0, 1, 2, 3].map((p) => ({ type, id: idIn(layout, type, p, `h${p}`) }));
      for (const ref of refs) await s.store.commit(commitOf(ref, 0, { effects: [{ id: `fx-${ref.id}`, payload: {} }] }));
      const other = createRedisStore({ client: s.client, keyPrefix: s.keyPrefix, partitions: 4 });
      expect(await other.setPaused({ type }, true, T0)).toBe(true);
      expect(await other.setPaused({ type, id: refs[2]!.id }, true, T0)).toBe(true);
      expect(await s.store.claimEffects(claimArgs([type], T0))).toEqual([]);
      expect(await other.setPaused({ type }, false, T0 + 1)).toBe(true);
      expect((await s.store.claimEffects(claimArgs([type], T0 + 1))).map((c) => c.workflowId).sort()).toEqual([refs[0]!.id, refs[1]!.id, refs[3]!.id].sort());
      expect(await s.store.listPaused()).toEqual([{ type, id: refs[2]!.id, since: T0 }]);
      expect((await s.store.backlog(T0 + 1)).map((b) => [b.kind, b.pending, b.leased, b.paused])).toEqual([['effect', 0, 3, 1]]);
    });

    it('refuses to open a prefix with another partition count than it was set up with', async () => {
      const s = await open({ partitions: 2 });
      const other = createRedisStore({ client: s.client, keyPrefix: s.keyPrefix, partitions: 3 });
      let caught: unknown;
      try {
        await other.setup();
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: 'STORE_FAILURE', reason: 'configuration' });
      expect(String(caught)).toMatch(/strands existing data/);
    });

    describe('an acknowledgement routed to an instance in another partition', () => {
      const setupRoute = async () => {
        const s = await open({ partitions: 4 });
        const layout = createKeyLayout(s.keyPrefix, 4);
        const probe = instrument(s.client);
        const warn = vi.fn();
        const store = createRedisStore({ client: probe.client, keyPrefix: s.keyPrefix, partitions: 4, logger: { warn } });
        const source = { type: 'src', id: idIn(layout, 'src', 0, 's') };
        const target = { type: 'dst', id: idIn(layout, 'dst', 1, 't') };
        const effectId = randomUUID();
        await store.commit(commitOf(source, 0, { effects: [{ id: effectId, payload: { ask: 1 } }] }));
        const [claimed] = await store.claimEffects(claimArgs(['src'], T0, 1000));
        return { s, probe, store, source, target, effectId, claimed: claimed!, warn };
      };

      it('lands atomically with the routed events and settles the effect', async () => {
        const { store, source, target, claimed, probe } = await setupRoute();
        probe.calls.length = 0;
        await store.commit(commitOf(target, 0, { now: T0 + 10, ack: { ...claimed.lease, outcome: 'dead', error: 'no' } }));
        expect(probe.calls).toEqual(['prepare-handoff', 'commit', 'finalize-handoff']);
        expect((await store.listEffects(source))[0]).toMatchObject({ status: 'dead', lastError: 'no', updatedAt: T0 + 10 });
        expect(await store.countDeadLetters({ kind: 'effect', workflowType: 'src' })).toBe(1);
        expect(await codeOf(store.commit(commitOf({ type: 'dst', id: 'again' }, 0, { ack: { ...claimed.lease, outcome: 'done' } })))).toBe('LEASE_LOST');
      });

      it('lost before it reached the target: the next claimer revokes it, re-leases the effect, and the late commit is refused', async () => {
        const { s, probe, store, target, effectId, claimed } = await setupRoute();
        let stalled: string[] = [];
        probe.fault = (name, args) => {
          if (name !== 'commit') return 'run';
          stalled = [...args];
          return 'fail-before';
        };
        expect(await codeOf(store.commit(commitOf(target, 0, { now: T0 + 10, ack: { ...claimed.lease, outcome: 'done' } })))).toBe('STORE_FAILURE');
        probe.fault = () => 'run';
        expect(await store.claimEffects(claimArgs(['src'], T0 + 999))).toEqual([]);
        const [again] = await store.claimEffects(claimArgs(['src'], T0 + 1000));
        expect(again).toMatchObject({ id: effectId, attempts: 2, status: 'leased' });
        const late = (await s.client.evalsha(COMMIT.sha, COMMIT.keys.length, stalled)) as string[];
        expect(late[0]).toBe('LEASE_LOST');
        expect((await store.load(target)).version).toBe(0);
        await store.complete(again!.lease, T0 + 1001);
      });

      it('lost after it landed: the effect is settled as acknowledged, never re-run, and the old worker is fenced out', async () => {
        const { probe, store, source, target, claimed, warn } = await setupRoute();
        probe.fault = (name) => (name === 'finalize-handoff' ? 'fail-before' : 'run');
        await store.commit(commitOf(target, 0, { now: T0 + 10, ack: { ...claimed.lease, outcome: 'done' } }));
        expect(warn).toHaveBeenCalled();
        probe.fault = () => 'run';
        expect((await store.listEffects(source))[0]!.status).toBe('leased');
        expect(await codeOf(store.complete(claimed.lease, T0 + 20))).toBe('LEASE_LOST');
        expect((await store.listEffects(source))[0]).toMatchObject({ status: 'done', attempts: 1 });
        expect(await store.claimEffects(claimArgs(['src'], T0 + 5000))).toEqual([]);
        expect((await store.load(target)).version).toBe(1);
      });

      it('lost after it landed and the lease expired: the next claim settles it instead of re-leasing it', async () => {
        const { probe, store, source, target, claimed } = await setupRoute();
        probe.fault = (name) => (name === 'finalize-handoff' ? 'fail-before' : 'run');
        await store.commit(commitOf(target, 0, { now: T0 + 10, ack: { ...claimed.lease, outcome: 'done' } }));
        probe.fault = () => 'run';
        expect(await store.claimEffects(claimArgs(['src'], T0 + 5000))).toEqual([]);
        expect((await store.listEffects(source))[0]).toMatchObject({ status: 'done', attempts: 1 });
        expect((await store.readEvents(target)).length).toBe(1);
      });

      it('cancelling the source while the result is on its way revokes the handoff first: the effect is cancelled and the late commit refused', async () => {
        const { s, probe, store, source, target, effectId, claimed } = await setupRoute();
        let stalled: string[] = [];
        probe.fault = (name, args) => {
          if (name !== 'commit') return 'run';
          stalled = [...args];
          return 'fail-before';
        };
        expect(await codeOf(store.commit(commitOf(target, 0, { now: T0 + 10, ack: { ...claimed.lease, outcome: 'done' } })))).toBe('STORE_FAILURE');
        probe.fault = () => 'run';
        probe.calls.length = 0;
        expect(await store.cancelInstance({ ref: source, now: T0 + 20, reason: 'stop' })).toEqual({ cancelled: true, effects: 1, timers: 0 });
        expect(probe.calls).toEqual(['cancel-instance', 'resolve-handoff', 'clear-handoff', 'cancel-instance']);
        expect((await store.listEffects(source))[0]).toMatchObject({ id: effectId, status: 'cancelled', lastError: 'stop' });
        const late = (await s.client.evalsha(COMMIT.sha, COMMIT.keys.length, stalled)) as string[];
        expect(late[0]).toBe('LEASE_LOST');
        expect((await store.load(target)).version).toBe(0);
      });

      it('a completing commit of the source with cancelWork, while the result is on its way, revokes the handoff before it cancels', async () => {
        const { s, probe, store, source, target, claimed } = await setupRoute();
        let stalled: string[] = [];
        probe.fault = (name, args) => {
          if (name !== 'commit') return 'run';
          stalled = [...args];
          return 'fail-before';
        };
        expect(await codeOf(store.commit(commitOf(target, 0, { now: T0 + 10, ack: { ...claimed.lease, outcome: 'done' } })))).toBe('STORE_FAILURE');
        probe.fault = () => 'run';
        await store.commit(commitOf(source, 1, { now: T0 + 20, completed: true, cancelWork: true }));
        expect((await store.listEffects(source))[0]).toMatchObject({ status: 'cancelled' });
        expect(await codeOf(store.complete(claimed.lease, T0 + 21))).toBe('LEASE_LOST');
        const late = (await s.client.evalsha(COMMIT.sha, COMMIT.keys.length, stalled)) as string[];
        expect(late[0]).toBe('LEASE_LOST');
      });

      it('cancelling the source after the result landed settles the effect as acknowledged, and cancels nothing', async () => {
        const { probe, store, source, target, claimed } = await setupRoute();
        probe.fault = (name) => (name === 'finalize-handoff' ? 'fail-before' : 'run');
        await store.commit(commitOf(target, 0, { now: T0 + 10, ack: { ...claimed.lease, outcome: 'done' } }));
        probe.fault = () => 'run';
        expect(await store.cancelInstance({ ref: source, now: T0 + 20, reason: 'stop' })).toEqual({ cancelled: true, effects: 0, timers: 0 });
        expect((await store.listEffects(source))[0]).toMatchObject({ status: 'done', attempts: 1 });
        expect((await store.load(target)).version).toBe(1);
      });
    });

    it('a unique key reserved by an instance whose commit never landed is taken over, and that late commit is refused', async () => {
      const s = await open({ partitions: 4 });
      const layout = createKeyLayout(s.keyPrefix, 4);
      const probe = instrument(s.client);
      const store = createRedisStore({ client: probe.client, keyPrefix: s.keyPrefix, partitions: 4 });
      const type = 'uniq';
      const keyPartition = layout.uniquePartitionOf(type, 'k');
      const ghost = idIn(layout, type, (keyPartition + 1) % 4, 'ghost');
      const winner = idIn(layout, type, (keyPartition + 2) % 4, 'winner');
      let stalled: string[] = [];
      probe.fault = (name, args) => {
        if (name !== 'commit') return 'run';
        stalled = [...args];
        return 'fail-before';
      };
      expect(await codeOf(store.commit(commitOf({ type, id: ghost }, 0, { uniqueKey: 'k' })))).toBe('STORE_FAILURE');
      probe.fault = () => 'run';
      await store.commit(commitOf({ type, id: winner }, 0, { uniqueKey: 'k' }));
      const late = (await s.client.evalsha(COMMIT.sha, COMMIT.keys.length, stalled)) as string[];
      expect(late[0]).toBe('UNIQUE_KEY_CONFLICT');
      expect((await store.load({ type, id: ghost })).version).toBe(0);
      let caught: unknown;
      try {
        await store.commit(commitOf({ type, id: 'third' }, 0, { uniqueKey: 'k' }));
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: 'UNIQUE_KEY_CONFLICT', holderId: winner });
      await store.commit(commitOf({ type, id: winner }, 1, { completed: true }));
      await store.commit(commitOf({ type, id: 'third' }, 0, { uniqueKey: 'k' }));
    });
  });
}
