// The server around the store: the eviction policy check, a disabled CONFIG, and the wake-up
// connection (reconnect, re-subscribe, close only what the store opened).
import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import type { WorkKind } from '@ironflow/core/store';
import { uniqueName } from '@ironflow/testing';
import { createRedisStore } from '../../src/index.js';
import { instrument } from '../helpers.js';
import { commitOf, T0, waitFor, type RedisFixture } from './fixture.js';

/** Redis-only cases: server. */
export function serverCases(fx: RedisFixture): void {
  const { url, open } = fx;
  describe('server configuration', () => {
    it('setup refuses a maxmemory-policy other than noeviction unless allowed, and then warns', async () => {
      const admin = new Redis(url);
      const [, original] = (await admin.config('GET', 'maxmemory-policy')) as [string, string];
      const keyPrefix = uniqueName('ironflow_t');
      try {
        await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
        let caught: unknown;
        try {
          await createRedisStore({ client: admin, keyPrefix }).setup();
        } catch (error) {
          caught = error;
        }
        expect(caught).toMatchObject({ code: 'STORE_FAILURE', reason: 'configuration', details: { maxmemoryPolicy: 'allkeys-lru' } });
        expect(String(caught)).toMatch(/noeviction/);
        const warn = vi.fn();
        await createRedisStore({ client: admin, keyPrefix, allowEviction: true, logger: { warn } }).setup();
        expect(warn).toHaveBeenCalledWith({ maxmemoryPolicy: 'allkeys-lru' }, expect.stringMatching(/allkeys-lru/));
      } finally {
        await admin.config('SET', 'maxmemory-policy', original);
        await createRedisStore({ client: admin, keyPrefix }).destroy();
        await admin.quit();
      }
    });

    it('when CONFIG is disabled, setup warns through the logger and carries on', async () => {
      const s = await open();
      const probe = instrument(s.client);
      const disabled = Object.assign(new Error("ERR unknown command 'CONFIG', with args beginning with: 'GET'"), { name: 'ReplyError' });
      const warn = vi.fn();
      const store = createRedisStore({
        client: { ...probe.client, config: () => Promise.reject(disabled) },
        keyPrefix: s.keyPrefix,
        logger: { warn },
      });
      await store.setup();
      expect(warn).toHaveBeenCalledWith(expect.objectContaining({ err: expect.objectContaining({ reason: 'configuration' }) }), expect.stringMatching(/noeviction/));
      await store.commit(commitOf({ type: 'cfg', id: '1' }, 0));
    });
  });

  describe('wake-ups', () => {
    it('the subscriber connection reconnects, re-subscribes and wakes everyone once after the server drops it', async () => {
      const s = await open();
      const subscribers = async () => Number(((await s.client.call('PUBSUB', 'NUMSUB', s.store.channel)) as [string, number])[1]);
      const heard: WorkKind[] = [];
      const unsubscribe = s.store.subscribe((kind) => heard.push(kind));
      await waitFor(async () => (await subscribers()) === 1);
      await s.client.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await waitFor(async () => (await subscribers()) === 1 && heard.includes('effect') && heard.includes('timer'));
      heard.length = 0;
      await s.store.commit(commitOf({ type: 'wake', id: 'w' }, 0, { timers: [{ id: randomUUID(), fireAt: T0, input: {} }] }));
      await waitFor(() => heard.includes('timer'));
      expect(heard).not.toContain('effect');
      unsubscribe();
      await waitFor(async () => (await subscribers()) === 0);
      expect(await s.client.ping()).toBe('PONG');
    });

    it('another store on the prefix hears the instances one completes or cancels, and the writer hears its own once', async () => {
      const a = await open();
      const b = createRedisStore({ client: a.client, keyPrefix: a.keyPrefix });
      const byA: string[] = [];
      const byB: string[] = [];
      const offA = a.store.subscribeEnded((ended) => byA.push(`${ended.id}:${ended.status}`));
      const offB = b.subscribeEnded((ended) => byB.push(`${ended.id}:${ended.status}`));
      try {
        await waitFor(async () => Number(((await a.client.call('PUBSUB', 'NUMSUB', a.store.channel)) as [string, number])[1]) === 2);
        await a.store.commit(commitOf({ type: 'end', id: 'done' }, 0, { completed: true }));
        await a.store.commit(commitOf({ type: 'end', id: 'stopped' }, 0));
        await a.store.cancelInstance({ ref: { type: 'end', id: 'stopped' }, now: T0, reason: 'operator' });
        await a.store.commitMany([commitOf({ type: 'end', id: 'batched' }, 0, { completed: true })]);
        await waitFor(() => byB.length === 3);
        expect(byB).toEqual(['done:completed', 'stopped:cancelled', 'batched:completed']);
        // B's end reaches A on the same connection after A's own messages: once A hears it, an echo
        // of its own would have arrived before.
        await b.commit(commitOf({ type: 'end', id: 'sentinel' }, 0, { completed: true }));
        await waitFor(() => byA.includes('sentinel:completed'));
        expect(byA).toEqual(['done:completed', 'stopped:cancelled', 'batched:completed', 'sentinel:completed']);
      } finally {
        offA();
        offB();
        await b.close();
      }
    });

    it('close() ends only the connection the store opened', async () => {
      const s = await open();
      s.store.subscribe(() => undefined);
      await waitFor(async () => Number(((await s.client.call('PUBSUB', 'NUMSUB', s.store.channel)) as [string, number])[1]) === 1);
      await s.store.close();
      expect(Number(((await s.client.call('PUBSUB', 'NUMSUB', s.store.channel)) as [string, number])[1])).toBe(0);
      expect(await s.client.ping()).toBe('PONG');
      await s.store.commit(commitOf({ type: 'wake', id: 'after-close' }, 0));
    });
  });
}
