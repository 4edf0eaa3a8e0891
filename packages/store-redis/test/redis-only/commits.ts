// Commits and claims on one server: 50 writers through separate connections, a re-sent commit,
// type-filtered queues, and scripts that survive SCRIPT FLUSH mid-run.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { accept, defineWorkflow } from '@ironflow/core';
import { executeInput, systemClock } from '@ironflow/core/engine';
import { uniqueName } from '@ironflow/testing';
import { createRedisStore, type RedisStore } from '../../src/index.js';
import { instrument } from '../helpers.js';
import { claimArgs, commitOf, T0, type RedisFixture } from './fixture.js';

const counter = defineWorkflow({
  type: 'counter',
  initialState: () => ({ total: 0 }),
  evolve: (state: { total: number }, event: { type: 'Added'; by: number }) => ({ total: state.total + event.by }),
  decide: (input: { id: string; by: number }) => accept({ type: 'Added' as const, by: input.by }),
  workflowId: (input) => input.id,
});

/** Redis-only cases: commits. */
export function commitCases(fx: RedisFixture): void {
  const { open } = fx;
  describe('atomic commits', () => {
    it('50 concurrent inputs to one instance through separate connections give gapless versions 1..50', async () => {
      const first = await open();
      const others = await Promise.all(Array.from({ length: 4 }, () => open({ keyPrefix: first.keyPrefix })));
      const stores = [first, ...others].map((s) => s.store);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          executeInput(
            { store: stores[i % stores.length]!, clock: systemClock, newId: () => randomUUID(), sleep: (ms) => sleep(ms), maxConflictRetries: 500 },
            counter,
            { id: 'c-1', by: i + 1 },
          ),
        ),
      );
      expect(results.every((r) => r.status === 'accepted')).toBe(true);
      expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      const stored = await first.store.readEvents({ type: 'counter', id: 'c-1' });
      expect(stored.map((e) => e.sequence)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(stored.reduce((sum, e) => sum + (e.payload as { by: number }).by, 0)).toBe((50 * 51) / 2);
      expect((await others[3]!.store.load({ type: 'counter', id: 'c-1' })).version).toBe(50);
    });

    it('a commit the server ran but whose reply was lost and re-sent answers OK, not VERSION_CONFLICT', async () => {
      const s = await open();
      const probe = instrument(s.client);
      const store = createRedisStore({ client: probe.client, keyPrefix: s.keyPrefix });
      probe.fault = (name) => (name === 'commit' ? 'run-twice' : 'run');
      const ref = { type: 'resend', id: 'r-1' };
      await store.commit(commitOf(ref, 0, { effects: [{ id: randomUUID(), payload: { n: 1 } }] }));
      expect((await store.load(ref)).version).toBe(1);
      expect(await store.listEffects(ref)).toHaveLength(1);
      expect(probe.calls.filter((c) => c === 'commit')).toHaveLength(1);
    });
  });

  describe('type-filtered queues', () => {
    it('two stores with disjoint claim types never claim each other’s effects', async () => {
      const a = await open();
      const b = await open({ keyPrefix: a.keyPrefix });
      const typeA = uniqueName('svc_a');
      const typeB = uniqueName('svc_b');
      for (let i = 0; i < 20; i++) {
        await a.store.commit(commitOf({ type: typeA, id: `a-${i}` }, 0, { effects: [{ id: randomUUID(), payload: { i } }] }));
        await b.store.commit(commitOf({ type: typeB, id: `b-${i}` }, 0, { effects: [{ id: randomUUID(), payload: { i } }] }));
      }
      const drain = async (store: RedisStore, type: string) => {
        const seen: string[] = [];
        for (;;) {
          const batch = await store.claimEffects(claimArgs([type], T0, 30_000, 3));
          if (batch.length === 0) return seen;
          seen.push(...batch.map((c) => c.workflowType));
        }
      };
      const [seenA, seenB] = await Promise.all([drain(a.store, typeA), drain(b.store, typeB)]);
      expect(seenA).toEqual(Array.from({ length: 20 }, () => typeA));
      expect(seenB).toEqual(Array.from({ length: 20 }, () => typeB));
    });

    it('a claim for one type leaves other types’ due rows untouched (no attempt, no lease)', async () => {
      const s = await open();
      const mine = uniqueName('mine');
      const theirs = uniqueName('theirs');
      await s.store.commit(commitOf({ type: theirs, id: 'x' }, 0, { effects: [{ id: randomUUID(), payload: {} }] }));
      expect(await s.store.claimEffects(claimArgs([mine]))).toEqual([]);
      expect((await s.store.listEffects({ type: theirs, id: 'x' }))[0]).toMatchObject({ status: 'pending', attempts: 0 });
    });
  });

  describe('script cache', () => {
    it('commits and claims keep working after SCRIPT FLUSH, including one in the middle of a run', async () => {
      const s = await open();
      const ref = { type: 'flush', id: 'f-1' };
      await s.store.commit(commitOf(ref, 0, { effects: [{ id: randomUUID(), payload: {} }] }));
      await s.client.script('FLUSH');
      const [claimed] = await s.store.claimEffects(claimArgs(['flush']));
      await s.client.script('FLUSH');
      await s.store.commit(commitOf(ref, 1, { ack: { ...claimed!.lease, outcome: 'done' } }));
      expect((await s.store.listEffects(ref))[0]!.status).toBe('done');

      const run = Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          const r = { type: 'flush', id: `run-${i}` };
          await s.store.commit(commitOf(r, 0, { effects: [{ id: randomUUID(), payload: { i } }] }));
          await s.store.commit(commitOf(r, 1));
        }),
      );
      await s.client.script('FLUSH');
      await run;
      const claims = await s.store.claimEffects(claimArgs(['flush'], T0, 30_000, 100));
      expect(claims).toHaveLength(30);
      expect((await s.store.load({ type: 'flush', id: 'run-29' })).version).toBe(2);
    });
  });
}
