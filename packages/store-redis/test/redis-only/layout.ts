// The key layout on a real server: stores whose prefixes overlap as strings (`X` and `X:p0`, with
// 1 or 4 partitions each) share no key, and destroy() deletes exactly one store's keys.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { uniqueName } from '@ironflow/testing';
import { createKeyLayout, type RedisStore } from '../../src/index.js';
import { scanKeys } from '../helpers.js';
import { claimArgs, commitOf, T0, type RedisFixture } from './fixture.js';

/** Writes the same instances into a store: events, effects in several states, a keyed timer, unique and idempotency keys. */
async function writeData(store: RedisStore, tenant: string): Promise<void> {
  for (const id of ['a', 'b', 'c', 'd']) {
    const ref = { type: 'layout', id };
    await store.commit(
      commitOf(ref, 0, {
        effects: [{ id: `${id}-fx`, payload: { tenant } }],
        timers: [{ id: `${id}-tm`, key: 'reminder', fireAt: T0 + 60_000, input: { tenant } }],
        uniqueKey: `u-${id}`,
        idempotencyKey: `i-${id}`,
        snapshot: { version: 1, revision: 'r', state: { tenant } },
        observation: { workflowType: 'layout', workflowId: id, inputType: 'x', input: { tenant }, outcome: 'accepted', observedAt: T0 },
      }),
    );
  }
  const claimed = await store.claimEffects(claimArgs(['layout'], T0, 30_000, 3));
  await store.complete(claimed[0]!.lease, T0 + 1);
  await store.deadLetter(claimed[1]!.lease, T0 + 1, `dead in ${tenant}`);
}

/** Everything the store reads back of that data. */
async function readData(store: RedisStore) {
  const refs = ['a', 'b', 'c', 'd'].map((id) => ({ type: 'layout', id }));
  return {
    instances: await store.listInstances(),
    loaded: await Promise.all(refs.map((ref) => store.load(ref, { idempotencyKey: `i-${ref.id}` }))),
    effects: await Promise.all(refs.map((ref) => store.listEffects(ref))),
    timers: await Promise.all(refs.map((ref) => store.listTimers(ref))),
    observations: await Promise.all(refs.map((ref) => store.listObservations(ref))),
    dead: await store.listDeadLetters({ kind: 'effect' }),
    nextTimerAt: await store.nextTimerAt(['layout']),
  };
}

const keysOf = (client: Redis, prefix: string) => scanKeys(client, createKeyLayout(prefix, 1).patterns());
const sorted = (keys: readonly string[]) => [...keys].sort();

/** Redis-only cases: the key layout and destroy(). */
export function layoutCases(fx: RedisFixture): void {
  const { open } = fx;

  describe.each([
    [1, 1],
    [1, 4],
    [4, 1],
    [4, 4],
  ])('stores on X (%i partitions) and X:p0 (%i partitions)', (partitionsX, partitionsP0) => {
    it('share no key, and destroy() on either deletes all of its keys and none of the other’s', async () => {
      const x = uniqueName('ironflow_x');
      const p0 = `${x}:p0`;
      const storeX = await open({ keyPrefix: x, partitions: partitionsX });
      const storeP0 = await open({ keyPrefix: p0, partitions: partitionsP0 });
      const { client } = storeX;
      await writeData(storeX.store, 'X');
      await writeData(storeP0.store, 'X:p0');
      const everyKey = async () => (await scanKeys(client, [`*${x}*`])).length;

      const keysX = await keysOf(client, x);
      const keysP0 = await keysOf(client, p0);
      expect(keysX.length).toBeGreaterThan(20);
      expect(keysP0.length).toBeGreaterThan(20);
      expect(keysX.filter((key) => keysP0.includes(key))).toEqual([]);
      expect(await everyKey()).toBe(keysX.length + keysP0.length);

      const readX = await readData(storeX.store);
      const readP0 = await readData(storeP0.store);
      expect(JSON.stringify(readX)).not.toContain('X:p0');
      expect(readP0.dead.map((d) => d.lastError)).toEqual(['dead in X:p0']);

      expect(await storeX.store.destroy()).toBe(keysX.length);
      expect(await keysOf(client, x)).toEqual([]);
      expect(sorted(await keysOf(client, p0))).toEqual(sorted(keysP0));
      expect(await everyKey()).toBe(keysP0.length);
      expect(await readData(storeP0.store)).toEqual(readP0);

      // X is empty for everyone, works again, and destroying X:p0 leaves the new X whole.
      expect(await storeX.store.listInstances()).toEqual([]);
      await writeData(storeX.store, 'X');
      const rewrittenX = await readData(storeX.store);
      const keysX2 = await keysOf(client, x);
      expect(await storeP0.store.destroy()).toBe(keysP0.length);
      expect(await keysOf(client, p0)).toEqual([]);
      expect(sorted(await keysOf(client, x))).toEqual(sorted(keysX2));
      expect(await readData(storeX.store)).toEqual(rewrittenX);
    });
  });

  it('destroy() counts and deletes every key a store made, settings included, and nothing of a prefix that merely starts alike', async () => {
    const base = uniqueName('ironflow_p');
    const p = await open({ keyPrefix: base });
    const p0 = await open({ keyPrefix: `${base}0` });
    await p.store.commit(commitOf({ type: 't', id: randomUUID() }, 0));
    await p0.store.commit(commitOf({ type: 't', id: randomUUID() }, 0));
    const before = await keysOf(p.client, `${base}0`);
    const own = await keysOf(p.client, base);
    expect(own).toContain(`{${base}}:meta`);
    // meta, the instance, its events, their feed entry ids, its two listing indexes, the (type, id)
    // index of its status and the partition's feed
    expect(own).toContain(`{${base}#0}:feed`);
    expect(own.length).toBe(8);
    expect(await p.store.destroy()).toBe(own.length);
    expect(await keysOf(p.client, base)).toEqual([]);
    expect(sorted(await keysOf(p.client, `${base}0`))).toEqual(sorted(before));
  });
}
