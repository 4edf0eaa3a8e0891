// Hostile ids and types cannot leave the store's hash tags and round-trip verbatim; bad input is
// refused before anything is written; prefixes and clients that would break the layout are refused.
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { WorkKind } from '@ironflow/core/store';
import { uniqueName } from '@ironflow/testing';
import { createKeyLayout, createRedisStore } from '../../src/index.js';
import { scanKeys } from '../helpers.js';
import { claimArgs, codeOf, commitOf, events, T0, type RedisFixture } from './fixture.js';

/** Redis-only cases: hostile input. */
export function hostileInputCases(fx: RedisFixture): void {
  const { url, open } = fx;
  describe('hostile ids and types', () => {
    const nasty = ['{', '}', '}{', '*', '?', '[a-z]', 'a:b:c', 'with space', 'new\nline', '\\', '"\'', '𝄞 ü', '{ironflow:p0}:i:1:x:y'];

    it.each([1, 4])('cannot escape the key prefix and round-trip verbatim (%i partitions)', async (partitions) => {
      const s = await open({ partitions });
      const marker = uniqueName('mark');
      const types = [`t{${marker}}*:`, `ty pe\n${marker}{x}`];
      for (const type of types) {
        for (const id of nasty) {
          const ref = { type, id };
          await s.store.commit(
            commitOf(ref, 0, {
              effects: [{ id: `${id}|fx|${type}`, payload: { id } }],
              timers: [{ id: `${id}|tm|${type}`, key: `key ${id}`, fireAt: T0, input: { id } }],
              uniqueKey: `u:${id}`,
              idempotencyKey: `idem ${id}`,
              observation: { workflowType: type, workflowId: id, inputType: 'x', input: { id }, outcome: 'accepted', observedAt: T0 },
            }),
          );
        }
      }
      for (const type of types) {
        const listed = await s.store.listInstances({ workflowType: type, limit: 100 });
        expect(listed.map((i) => i.workflowId).sort()).toEqual([...nasty].sort());
        for (const id of nasty) {
          const ref = { type, id };
          expect((await s.store.load(ref, { idempotencyKey: `idem ${id}` })).idempotent?.version).toBe(1);
          expect((await s.store.listEffects(ref)).map((e) => [e.id, e.workflowType, e.workflowId, e.payload])).toEqual([[`${id}|fx|${type}`, type, id, { id }]]);
          expect((await s.store.listTimers(ref)).map((t) => t.key)).toEqual([`key ${id}`]);
          expect((await s.store.listObservations(ref))[0]).toMatchObject({ workflowType: type, workflowId: id });
        }
        const effects = await s.store.claimEffects(claimArgs([type], T0, 30_000, 100));
        const timers = await s.store.claimTimers(claimArgs([type], T0, 30_000, 100));
        expect(effects).toHaveLength(nasty.length);
        expect(timers).toHaveLength(nasty.length);
        for (const c of [...effects, ...timers]) await s.store.complete(c.lease, T0 + 1);
      }
      const everything = await scanKeys(s.client, ['*']);
      const ours = everything.filter((key) => key.includes(marker));
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

    it.each(['{tag}', 'a*', '', 'has space'])('refuses the key prefix %j', (keyPrefix) => {
      const client = new Redis(url, { lazyConnect: true });
      expect(() => createRedisStore({ client, keyPrefix })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      client.disconnect();
    });
  });

  describe('bad input', () => {
    it('every bad input gets INVALID_ARGUMENT and writes nothing', async () => {
      const s = await open();
      const before = await scanKeys(s.client, createKeyLayout(s.keyPrefix, 1).patterns());
      const ref = { type: 'bad', id: 'b-1' };
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const cases: Promise<unknown>[] = [
        s.store.commit(commitOf({ type: 'bad', id: 'lone \ud800 surrogate' }, 0)),
        s.store.commit(commitOf({ type: 'bad', id: '' }, 0)),
        s.store.commit(commitOf(ref, 0, { events: events(ref, 1) })),
        s.store.commit(commitOf(ref, 0, { events: [] })),
        s.store.commit(commitOf(ref, 0, { effects: [{ id: 'e', payload: { n: 1n } }] })),
        s.store.commit(commitOf(ref, 0, { effects: [{ id: 'e', payload: cyclic }] })),
        s.store.commit(commitOf(ref, 0, { effects: [{ id: 'same', payload: 1 }, { id: 'same', payload: 2 }] })),
        s.store.commit(commitOf(ref, 0, { timers: [{ id: 't', fireAt: T0 + 0.5, input: {} }] })),
        s.store.commit(commitOf(ref, 0, { timers: [{ id: 't1', key: 'k', fireAt: T0, input: {} }, { id: 't2', key: 'k', fireAt: T0, input: {} }] })),
        s.store.commit(commitOf(ref, 1, { uniqueKey: 'late' })),
        s.store.commit(commitOf(ref, 0, { now: -1 })),
        s.store.commit(commitOf(ref, 0, { snapshot: { version: 5, revision: '1', state: {} } })),
        s.store.commit(commitOf(ref, 0, { ack: { kind: 'effect', id: 'x', token: 't', outcome: 'gone' as 'done' } })),
        s.store.claimEffects({ ...claimArgs(['bad']), limit: -1 }),
        s.store.claimTimers({ ...claimArgs(['bad']), now: Number.NaN }),
        s.store.claimEffects(claimArgs(['bad \ud800'])),
        s.store.listInstances({ limit: 1.5 }),
        s.store.readEvents(ref, { fromSequence: -2 }),
        s.store.redrive('job' as WorkKind, 'x', T0),
        s.store.purge(Number.POSITIVE_INFINITY),
        s.store.recordObservation({ workflowType: 'bad', workflowId: 'b-1', inputType: 'x', input: {}, outcome: 'maybe' as 'accepted', observedAt: T0 }),
      ];
      for (const attempt of cases) expect(await codeOf(attempt)).toBe('INVALID_ARGUMENT');
      expect(await codeOf(s.store.retry({ kind: 'effect', id: 'x', token: '0.a.1' }, T0, T0 + 0.25, 'e'))).toBe('INVALID_ARGUMENT');
      expect(await scanKeys(s.client, createKeyLayout(s.keyPrefix, 1).patterns())).toEqual(before);
      expect(await codeOf(s.store.commit(commitOf(ref, 0, { effects: [{ id: 'dup', payload: 1 }] })))).toBe('resolved');
      expect(await codeOf(s.store.commit(commitOf(ref, 1, { effects: [{ id: 'dup', payload: 2 }] })))).toBe('INVALID_ARGUMENT');
      expect((await s.store.load(ref)).version).toBe(1);
    });

    it('refuses a client with its own keyPrefix, which would break the keys Lua derives', () => {
      const client = new Redis(url, { lazyConnect: true, keyPrefix: 'app:' });
      expect(() => createRedisStore({ client })).toThrow(expect.objectContaining({ code: 'STORE_FAILURE', reason: 'configuration' }));
      client.disconnect();
    });
  });
}
