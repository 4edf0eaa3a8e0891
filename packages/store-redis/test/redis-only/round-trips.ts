// What each operation costs in calls to Redis, counted by wrapping the client.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../src/index.js';
import { instrument } from '../helpers.js';
import { claimArgs, commitOf, T0, type RedisFixture } from './fixture.js';

/** Redis-only cases: round trips. */
export function roundTripCases(fx: RedisFixture): void {
  const { open } = fx;
  describe('calls per operation', () => {
    it('one call per commit, load, claim (tagged or not), lease change, instance pause and cancellation on one partition; a partitioned claim peeks every partition, a type pause and the backlog visit each', async () => {
      const s = await open();
      const probe = instrument(s.client);
      const store = createRedisStore({ client: probe.client, keyPrefix: s.keyPrefix });
      await store.setup();
      const ref = { type: 'count', id: 'c' };
      const measure = async (fn: () => Promise<unknown>) => {
        probe.calls.length = 0;
        await fn();
        return [...probe.calls];
      };
      const fx = Array.from({ length: 5 }, () => ({ id: randomUUID(), payload: {} }));
      expect(await measure(() => store.commit(commitOf(ref, 0, { effects: fx, timers: [{ id: randomUUID(), key: 'k', fireAt: T0, input: {} }], uniqueKey: 'u', idempotencyKey: 'i' })))).toEqual(['commit']);
      expect(await measure(() => store.load(ref, { idempotencyKey: 'i' }))).toEqual(['load']);
      let claimed: Awaited<ReturnType<RedisStore['claimEffects']>> = [];
      expect(await measure(async () => (claimed = await store.claimEffects(claimArgs(['count'], T0, 30_000, 5))))).toEqual(['claim']);
      expect(claimed).toHaveLength(5);
      expect(await measure(() => store.commit(commitOf(ref, 1, { ack: { ...claimed[0]!.lease, outcome: 'done' } })))).toEqual(['commit']);
      expect(await measure(() => store.complete(claimed[1]!.lease, T0))).toEqual(['settle']);
      expect(await measure(() => store.renewLease(claimed[2]!.lease, T0, 1000))).toEqual(['settle']);
      expect(await measure(() => store.claimEffects({ ...claimArgs(['count'], T0, 30_000, 5), tags: ['gpu', 'mail'] }))).toEqual(['claim']);
      expect(await measure(() => store.setPaused({ type: 'count', id: 'c' }, true, T0))).toEqual(['set-pause']);
      expect(await measure(() => store.claimTimers(claimArgs(['count'], T0, 30_000, 5)))).toEqual(['claim']);
      expect(await measure(() => store.cancelInstance({ ref, now: T0, reason: 'r', effects: [{ id: randomUUID(), payload: {} }] }))).toEqual(['cancel-instance']);

      const p = await open({ partitions: 4 });
      const probe4 = instrument(p.client);
      const store4 = createRedisStore({ client: probe4.client, keyPrefix: p.keyPrefix, partitions: 4 });
      await store4.setup();
      probe4.calls.length = 0;
      await store4.commit(commitOf(ref, 0, { effects: fx }));
      expect(probe4.calls).toEqual(['commit']);
      probe4.calls.length = 0;
      await store4.claimEffects(claimArgs(['count'], T0, 30_000, 5));
      expect(probe4.calls).toEqual(['peek', 'peek', 'peek', 'peek', 'claim']);
      probe4.calls.length = 0;
      await store4.commit(commitOf({ type: 'count', id: 'unique' }, 0, { uniqueKey: 'u' }));
      expect(probe4.calls).toEqual(['reserve-unique', 'commit']);
      probe4.calls.length = 0;
      await store4.setPaused({ type: 'count' }, true, T0);
      expect(probe4.calls).toEqual(['set-pause', 'set-pause', 'set-pause', 'set-pause']);
      probe4.calls.length = 0;
      await store4.backlog(T0);
      expect(probe4.calls).toEqual(['backlog', 'backlog', 'backlog', 'backlog']);
    });
  });
}
