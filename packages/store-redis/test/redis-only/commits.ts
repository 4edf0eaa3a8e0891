// Commits and claims on one server: a commit whose reply was lost and re-sent, scripts that
// survive SCRIPT FLUSH mid-run, and the row a trace carrier leaves (the shared suite covers
// concurrent writers, type filters and what reads return).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyLayout, createRedisStore } from '../../src/index.js';
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

  describe('trace carriers', () => {
    it('are one tr field of the row, only when given, and a keyed timer re-armed without one loses it', async () => {
      const s = await open();
      const row = (k: 'e' | 't', id: string) => s.client.hgetall(createKeyLayout(s.keyPrefix, 1).partition(0).item(k, id));
      const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
      const ref = { type: 'trace-row', id: 't-1' };
      await s.store.commit(
        commitOf(ref, 0, {
          effects: [
            { id: 'plain', payload: {} },
            { id: 'traced', payload: {}, trace },
            { id: 'keyed', payload: {}, key: 'k', trace },
          ],
          timers: [{ id: 'tm', key: 'remind', fireAt: T0 + 100, input: {}, trace }],
        }),
      );
      expect(await row('e', 'plain')).not.toHaveProperty('tr');
      for (const id of ['traced', 'keyed']) expect(JSON.parse((await row('e', id)).tr!)).toEqual(trace);
      expect(JSON.parse((await row('t', 'tm')).tr!)).toEqual(trace);

      await s.store.commit(commitOf(ref, 1, { timers: [{ id: 'tm-again', key: 'remind', fireAt: T0 + 200, input: {} }] }));
      const rearmed = await row('t', 'tm');
      expect(rearmed).toMatchObject({ aa: String(T0 + 200) });
      expect(rearmed).not.toHaveProperty('tr');
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
