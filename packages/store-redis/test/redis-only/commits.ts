// Commits and claims on one server: a commit whose reply was lost and re-sent, and scripts that
// survive SCRIPT FLUSH mid-run (the shared suite covers concurrent writers and type filters).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRedisStore } from '../../src/index.js';
import { instrument } from '../helpers.js';
import { claimArgs, commitOf, T0, type RedisFixture } from './fixture.js';

/** Redis-only cases: commits. */
export function commitCases(fx: RedisFixture): void {
  const { open } = fx;
  describe('atomic commits', () => {
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
