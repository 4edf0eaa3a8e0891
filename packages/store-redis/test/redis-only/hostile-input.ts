// Hostile ids and types never leave the store's hash tags (the shared suite proves they
// round-trip); options that would break the layout are refused; an effect id that exists already
// is refused by the commit script.
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { uniqueName } from '@ironflow/testing';
import { createKeyLayout, createRedisStore } from '../../src/index.js';
import { scanKeys } from '../helpers.js';
import { claimArgs, codeOf, commitOf, T0, type RedisFixture } from './fixture.js';

/** Redis-only cases: hostile input. */
export function hostileInputCases(fx: RedisFixture): void {
  const { url, open } = fx;
  describe('hostile ids and types', () => {
    const nasty = ['{', '}', '}{', '*', '?', '[a-z]', 'a:b:c', '#1}', 'with space', 'new\nline', '\\', '"\'', '𝄞 ü', '{ironflow#0}:i:1:x:y', '{ironflow}:meta'];

    it.each([1, 4])('every key they produce starts with one of the store’s partition tags and matches its SCAN pattern; purge empties their indexes (%i partitions)', async (partitions) => {
      const s = await open({ partitions });
      const marker = uniqueName('mark');
      const types = [`t{${marker}}*:`, `ty pe\n${marker}{x}#0`];
      for (const type of types) {
        for (const id of nasty) {
          await s.store.commit(
            commitOf({ type, id }, 0, {
              effects: [{ id: `${id}|fx|${type}`, payload: { id } }],
              timers: [{ id: `${id}|tm|${type}`, key: `key ${id}`, fireAt: T0, input: { id } }],
              uniqueKey: `u:${id}`,
              idempotencyKey: `idem ${id}`,
              observation: { workflowType: type, workflowId: id, inputType: 'x', input: { id }, outcome: 'accepted', observedAt: T0 },
            }),
          );
        }
        const claimed = [...(await s.store.claimEffects(claimArgs([type], T0, 30_000, 100))), ...(await s.store.claimTimers(claimArgs([type], T0, 30_000, 100)))];
        expect(claimed).toHaveLength(2 * nasty.length);
        for (const c of claimed) await s.store.complete(c.lease, T0 + 1);
      }
      const ours = (await scanKeys(s.client, ['*'])).filter((key) => key.includes(marker));
      expect(ours.length).toBeGreaterThan(0);
      const layout = createKeyLayout(s.keyPrefix, partitions);
      const tags = Array.from({ length: partitions }, (_, p) => layout.partition(p).tag);
      for (const key of ours) expect(tags.some((tag) => key.startsWith(`${tag}:`))).toBe(true);
      const underPrefix = new Set(await scanKeys(s.client, layout.patterns()));
      for (const key of ours) expect(underPrefix.has(key)).toBe(true);

      expect(await s.store.purge(T0 + 2)).toEqual({ effects: 2 * nasty.length, timers: 2 * nasty.length });
      for (const type of types) {
        for (const id of nasty) {
          const keys = layout.partition(layout.partitionOf(type, id));
          expect(await s.client.zcard(keys.owned('e', type, id))).toBe(0);
          expect(await s.client.zcard(keys.owned('t', type, id))).toBe(0);
        }
      }
    });
  });

  describe('options and ids the layout cannot take', () => {
    it.each(['{tag}', 'a*', '', 'has space', 'a#1', 'x}'])('refuses the key prefix %j', (keyPrefix) => {
      const client = new Redis(url, { lazyConnect: true });
      expect(() => createRedisStore({ client, keyPrefix })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      client.disconnect();
    });

    it.each([0, 1.5, 1025, '2'])('refuses the partition count %j', (partitions) => {
      const client = new Redis(url, { lazyConnect: true });
      expect(() => createRedisStore({ client, partitions: partitions as number })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      client.disconnect();
    });

    it('refuses a non-boolean allowEviction and something that is not a client', () => {
      const client = new Redis(url, { lazyConnect: true });
      expect(() => createRedisStore({ client, allowEviction: 'yes' as unknown as boolean })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(() => createRedisStore({ client: {} as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      client.disconnect();
    });

    it('refuses a client with its own keyPrefix, which would break the keys Lua derives', () => {
      const client = new Redis(url, { lazyConnect: true, keyPrefix: 'app:' });
      expect(() => createRedisStore({ client })).toThrow(expect.objectContaining({ code: 'STORE_FAILURE', reason: 'configuration' }));
      client.disconnect();
    });

    it('a new effect id that already exists in the partition is refused with INVALID_ARGUMENT, and the commit writes nothing', async () => {
      const s = await open();
      const ref = { type: 'dup', id: 'd-1' };
      expect(await codeOf(s.store.commit(commitOf(ref, 0, { effects: [{ id: 'dup', payload: 1 }] })))).toBe('resolved');
      const before = await scanKeys(s.client, createKeyLayout(s.keyPrefix, 1).patterns());
      expect(await codeOf(s.store.commit(commitOf(ref, 1, { effects: [{ id: 'dup', payload: 2 }] })))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(s.store.commit(commitOf({ type: 'dup', id: 'd-2' }, 0, { effects: [{ id: 'dup', payload: 3 }] })))).toBe('INVALID_ARGUMENT');
      expect((await scanKeys(s.client, createKeyLayout(s.keyPrefix, 1).patterns())).sort()).toEqual(before.sort());
      expect((await s.store.load(ref)).version).toBe(1);
      expect((await s.store.listEffects(ref)).map((e) => e.payload)).toEqual([1]);
    });
  });
}
