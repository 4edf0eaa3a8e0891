// Batch scripts on one server: the generic wrapper (slices, order, nil replies, halts, held
// wake-ups, runtime errors) on small scripts of its own, then group commit and batched
// settlement through the store: calls per partition, wake-ups per batch, HANDOFF fallbacks.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createKeyLayout, createRedisStore } from '../../src/index.js';
import { createRedisContext, type RedisContext } from '../../src/context.js';
import type { Reply } from '../../src/reply.js';
import { defineBatchScript, defineScript } from '../../src/script.js';
import { countScriptCalls, instrument } from '../helpers.js';
import { claimArgs, codeOf, commitOf, idIn, T0, waitFor, type RedisFixture } from './fixture.js';
import { codes, groupCommitCases } from './group-commit.js';

/**
 * Adds 1 to a counter if it holds `expected`; the tail says how (`ok`, `silent` answers nil,
 * `stop` answers STOP before writing, `boom` fails after a write), then names wake-ups to send.
 */
const TALLY = defineScript({
  name: 'test-tally',
  keys: ['counter'],
  args: ['expected', 'channel'],
  variadic: 'args',
  decode: (reply) => (reply.isNil() ? ['nil'] : reply.list().map((r) => r.text())),
  body: String.raw`
local v = tonumber(redis.call('GET', K_counter) or '0')
if v ~= tonumber(A_expected) then return {'CONFLICT', tostring(v)} end
local how = ARGV[ARGV_FROM]
if how == 'stop' then return {'STOP', tostring(v)} end
redis.call('INCR', K_counter)
if how == 'boom' then redis.call('HGET', K_counter, 'field') end
for i = ARGV_FROM + 1, #ARGV do wake(A_channel, ARGV[i]) end
if how == 'silent' then return nil end
return {'OK', tostring(v + 1)}
`,
});
const TALLY_BATCH = defineBatchScript(TALLY, { haltOn: 'STOP' });

/** Adds 1 to its first key and to each key of its tail; answers how many tail keys it saw. */
const SPREAD = defineScript({
  name: 'test-spread',
  keys: ['first'],
  args: [],
  variadic: 'keys',
  decode: (reply) => reply.integer(),
  body: String.raw`
redis.call('INCR', K_first)
for i = KEYS_FROM, #KEYS do redis.call('INCR', KEYS[i]) end
return #KEYS - KEYS_FROM + 1
`,
});
const SPREAD_BATCH = defineBatchScript(SPREAD);

/** The messages published on `channel` while `run` runs, read up to a sentinel published after it. */
async function published(client: Redis, channel: string, run: () => Promise<unknown>): Promise<string[]> {
  const subscriber = client.duplicate();
  const heard: string[] = [];
  subscriber.on('message', (from: string, message: string) => {
    if (from === channel) heard.push(message);
  });
  try {
    await subscriber.subscribe(channel);
    await run();
    // One server delivers a channel's messages in the order it ran the PUBLISHes.
    const sentinel = `sentinel-${randomUUID()}`;
    await client.publish(channel, sentinel);
    await waitFor(() => heard.includes(sentinel));
    return heard.filter((m) => m !== sentinel);
  } finally {
    await subscriber.quit();
  }
}

/** Redis-only cases: batch scripts, group commit and batched settlement. */
export function batchCases(fx: RedisFixture): void {
  const { open } = fx;

  describe('batch scripts', () => {
    const context = async (): Promise<{ ctx: RedisContext; client: Redis; key: (name: string) => string; channel: string }> => {
      const s = await open();
      const layout = createKeyLayout(s.keyPrefix, 1);
      const ctx = createRedisContext({ client: s.client, layout, logger: undefined, allowEviction: false });
      return { ctx, client: s.client, key: (name) => `${layout.partition(0).tag}:test:${name}`, channel: `${s.keyPrefix}:test` };
    };
    const tally = (counter: string, channel: string, expected: number, how = 'ok', ...wakes: string[]) => ({
      keys: { counter },
      args: { expected, channel },
      tail: [how, ...wakes],
    });

    it('run each item on its own slice of KEYS and ARGV, in order, each seeing the writes of the ones before', async () => {
      const { ctx, client, key, channel } = await context();
      const replies = await ctx.callBatch(TALLY_BATCH, '{t}', [
        tally(key('a'), channel, 0),
        tally(key('a'), channel, 1, 'ok', 'effect', 'timer'),
        tally(key('a'), channel, 1),
        tally(key('b'), channel, 0),
        tally(key('a'), channel, 2),
      ]);
      expect(replies).toEqual([['OK', '1'], ['OK', '2'], ['CONFLICT', '2'], ['OK', '1'], ['OK', '3']]);
      expect(await client.mget(key('a'), key('b'))).toEqual(['3', '1']);

      const spread = await ctx.callBatch(SPREAD_BATCH, '{t}', [
        { keys: { first: key('x') }, args: {}, tail: [key('y'), key('z')] },
        { keys: { first: key('y') }, args: {}, tail: [] },
        { keys: { first: key('z') }, args: {}, tail: [key('x'), key('x'), key('x')] },
      ]);
      expect(spread).toEqual([2, 0, 3]);
      expect(await client.mget(key('x'), key('y'), key('z'))).toEqual(['4', '2', '2']);
    });

    it('keep a nil reply in its place, and stop after an item whose reply is the halt mark', async () => {
      const { ctx, client, key, channel } = await context();
      const replies = await ctx.callBatch(TALLY_BATCH, '{t}', [
        tally(key('c'), channel, 0, 'silent'),
        tally(key('c'), channel, 1),
        tally(key('c'), channel, 2, 'stop'),
        tally(key('c'), channel, 2),
      ]);
      expect(replies).toEqual([['nil'], ['OK', '2'], ['STOP', '2']]);
      expect(await client.get(key('c'))).toBe('2');
    });

    it('publish each wake-up message once, after the last item, where the single script publishes every time', async () => {
      const { ctx, client, key, channel } = await context();
      const batch = await published(client, channel, () =>
        ctx.callBatch(TALLY_BATCH, '{t}', [
          tally(key('w'), channel, 0, 'ok', 'effect'),
          tally(key('w'), channel, 1, 'ok', 'timer', 'effect'),
          tally(key('w'), channel, 2, 'ok', 'effect', 'effect'),
          tally(key('w'), channel, 9, 'ok', 'never'),
        ]),
      );
      expect(batch).toEqual(['effect', 'timer']);
      const single = await published(client, channel, () => ctx.callScript(TALLY, '{t}', { counter: key('w') }, { expected: 3, channel }, ['ok', 'effect', 'effect']));
      expect(single).toEqual(['effect', 'effect']);
    });

    it('end the whole call at a Lua runtime error: the items before it stay applied, the ones after never run', async () => {
      const { ctx, client, key, channel } = await context();
      await client.set(key('d'), '0');
      let caught: unknown;
      try {
        await ctx.callBatch(TALLY_BATCH, '{t}', [tally(key('d'), channel, 0), tally(key('e'), channel, 0, 'boom'), tally(key('d'), channel, 1)]);
      } catch (error) {
        caught = error;
      }
      expect(String(caught)).toMatch(/WRONGTYPE/);
      expect(await client.mget(key('d'), key('e'))).toEqual(['1', '1']);
    });

    it('refuse a reply with more items than were sent, or fewer without the halt mark', async () => {
      const { ctx, key, channel } = await context();
      const lying = defineBatchScript(defineScript({ ...TALLY, name: 'test-lying', body: String.raw`return {'OK', tostring(#ARGV), A_expected, A_channel, K_counter, ARGV[ARGV_FROM]}` }));
      const trimmed = { ...lying, decode: (reply: Reply) => lying.decode(reply, 2) };
      await expect(ctx.callBatch(trimmed, '{t}', [tally(key('f'), channel, 0), tally(key('f'), channel, 0), tally(key('f'), channel, 0)])).rejects.toMatchObject({
        reason: 'integrity',
      });
      const halting = { ...TALLY_BATCH, decode: (reply: Reply) => TALLY_BATCH.decode(reply, 4) };
      await expect(ctx.callBatch(halting, '{t}', [tally(key('g'), channel, 0), tally(key('g'), channel, 1)])).rejects.toMatchObject({ reason: 'integrity' });
    });
  });

  describe('group commit and batched settlement', () => {
    const counted = async (partitions: number) => {
      const s = await open({ partitions });
      const { client, calls } = countScriptCalls(s.client);
      const store = createRedisStore({ client, keyPrefix: s.keyPrefix, partitions });
      await store.setup();
      return { store, calls };
    };
    groupCommitCases(counted, 1);
    groupCommitCases(counted, 4);

    it.each([1, 4])('a batch publishes at most one wake-up per kind per partition call (%i partitions)', async (partitions) => {
      const s = await open({ partitions });
      const layout = createKeyLayout(s.keyPrefix, partitions);
      const type = 'wakes';
      const refs = Array.from({ length: 20 }, (_, i) => ({ type, id: `w${i}` }));
      const touched = (filter: (i: number) => boolean) => new Set(refs.filter((_, i) => filter(i)).map((r) => layout.partitionOf(r.type, r.id))).size;
      const commits = await published(s.client, s.store.channel, () =>
        s.store.commitMany(refs.map((ref, i) => commitOf(ref, 0, { effects: [{ id: `fx${i}`, payload: {} }], timers: i % 2 === 0 ? [{ id: `tm${i}`, fireAt: T0, input: {} }] : [] }))),
      );
      expect(commits.filter((m) => m === 'effect')).toHaveLength(touched(() => true));
      expect(commits.filter((m) => m === 'timer')).toHaveLength(touched((i) => i % 2 === 0));
      expect(commits.length).toBeLessThanOrEqual(2 * partitions);
      const claimed = await s.store.claimEffects(claimArgs([type], T0, 30_000, 100));
      expect(claimed).toHaveLength(20);
      const released = await published(s.client, s.store.channel, () => s.store.settleMany(claimed.map((c) => ({ op: 'release' as const, lease: c.lease, now: T0 + 1 }))));
      expect(released).toEqual(Array.from({ length: touched(() => true) }, () => 'effect'));
    });

    describe('an item that meets a cross-partition acknowledgement in progress', () => {
      // An effect of `source` (partition 0) claimed, and a commit routing its result to partition
      // 1 lost after the handoff was prepared: the row is marked as handing off until resolved.
      const stalledHandoff = async () => {
        const s = await open({ partitions: 4 });
        const layout = createKeyLayout(s.keyPrefix, 4);
        const probe = instrument(s.client);
        const store = createRedisStore({ client: probe.client, keyPrefix: s.keyPrefix, partitions: 4 });
        const source = { type: 'src', id: idIn(layout, 'src', 0, 's') };
        await store.commit(commitOf(source, 0, { effects: [{ id: 'handed', payload: {} }, { id: 'other', payload: {} }] }));
        const claimed = await store.claimEffects(claimArgs(['src'], T0, 1000));
        const lease = (id: string) => claimed.find((c) => c.id === id)!.lease;
        probe.fault = (name) => (name === 'commit' ? 'fail-before' : 'run');
        const target = { type: 'dst', id: idIn(layout, 'dst', 1, 't') };
        expect(await codeOf(store.commit(commitOf(target, 0, { now: T0 + 5, ack: { ...lease('handed'), outcome: 'done' } })))).toBe('STORE_FAILURE');
        probe.fault = () => 'run';
        probe.calls.length = 0;
        return { store, probe, source, target, lease };
      };

      it('in commitMany goes through the single commit, which resolves the handoff, and the batch goes on after it in order', async () => {
        const { store, probe, source, target, lease } = await stalledHandoff();
        const results = await store.commitMany([
          commitOf(source, 1, { now: T0 + 10, ack: { ...lease('handed'), outcome: 'done' } }),
          commitOf(source, 2, { now: T0 + 10, ack: { ...lease('other'), outcome: 'done' } }),
        ]);
        expect(codes(results)).toEqual(['ok', 'ok']);
        expect(probe.calls).toEqual(['commit-batch', 'commit', 'resolve-handoff', 'clear-handoff', 'commit', 'commit-batch']);
        expect((await store.load(source)).version).toBe(3);
        expect((await store.listEffects(source)).map((e) => e.status)).toEqual(['done', 'done']);
        expect((await store.load(target)).version).toBe(0);
      });

      it('in settleMany goes through the single settle, and the batch goes on after it in order', async () => {
        const { store, probe, source, lease } = await stalledHandoff();
        const results = await store.settleMany([
          { op: 'complete', lease: lease('handed'), now: T0 + 10 },
          { op: 'retry', lease: lease('other'), now: T0 + 10, retryAt: T0 + 20, error: 'again' },
        ]);
        expect(codes(results)).toEqual(['ok', 'ok']);
        expect(probe.calls).toEqual(['settle-batch', 'settle', 'resolve-handoff', 'clear-handoff', 'settle', 'settle-batch']);
        expect((await store.listEffects(source)).map((e) => [e.id, e.status])).toEqual([
          ['handed', 'done'],
          ['other', 'pending'],
        ]);
      });
    });

    it('a Lua runtime error in one commit makes commitMany throw; the commits before it stay applied, the ones after never run', async () => {
      const s = await open();
      const layout = createKeyLayout(s.keyPrefix, 1);
      const refs = ['before', 'broken', 'after'].map((id) => ({ type: 'abort', id }));
      // A key of the wrong type where the broken commit appends its events: RPUSH fails mid-script.
      await s.client.hset(layout.partition(0).events('abort', 'broken'), 'not', 'a list');
      expect(await codeOf(s.store.commitMany(refs.map((ref) => commitOf(ref, 0, { effects: [{ id: `fx-${ref.id}`, payload: {} }] }))))).toBe('STORE_FAILURE');
      expect((await s.store.load(refs[0]!)).version).toBe(1);
      expect((await s.store.load(refs[2]!)).version).toBe(0);
      expect(await s.store.listEffects(refs[2]!)).toEqual([]);
    });
  });
}
