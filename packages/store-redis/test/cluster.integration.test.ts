// The shared store contract on a real Redis Cluster through an ioredis Cluster client, with 8
// partitions spread over the nodes: proves every script stays inside one slot (no CROSSSLOT).
// Needs IRONFLOW_TEST_REDIS_CLUSTER_URL, a comma-separated list of node URLs; skipped without it,
// failing instead when IRONFLOW_TEST_REQUIRE names redis-cluster.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { describeStoreConformance, testServerUrl } from '@ironflow/testing';
import { createKeyLayout, createRedisStore } from '../src/index.js';
import { clusterPrefixKeys, countScriptCalls, openClusterForSuite, openClusterStore, OVERLAPPING_PREFIXES } from './helpers.js';
import { waitFor } from './redis-only/fixture.js';
import { groupCommitCases } from './redis-only/group-commit.js';

const nodes = (testServerUrl('redis-cluster') ?? '')
  .split(',')
  .map((node) => node.trim())
  .filter(Boolean);

describe.skipIf(nodes.length === 0)('redis cluster (8 partitions)', () => {
  describeStoreConformance({
    name: 'redis cluster, 8 partitions',
    feedOrder: 'per-partition',
    open: (prefix) => openClusterForSuite(nodes, prefix, { partitions: 8 }),
    overlappingNamespaces: OVERLAPPING_PREFIXES,
    additionalTests: clusterOnlyTests,
  });
});

/** What only a cluster can show: scripts reloaded on every node, tags spread over nodes, destroy() on every primary, batches per slot. */
function clusterOnlyTests(): void {
  describe('batches on the cluster', () => {
    const teardowns: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const teardown of teardowns) await teardown();
    });
    groupCommitCases(async (partitions) => {
      const opened = await openClusterStore(nodes, { partitions });
      teardowns.push(opened.teardown);
      const { client, calls } = countScriptCalls(opened.cluster);
      const store = createRedisStore({ client, keyPrefix: opened.store.keyPrefix, partitions });
      await store.setup();
      return { store, calls };
    }, 8);

    it('a batch over 8 partitions publishes one wake-up per kind per partition call, not one per commit', async () => {
      const opened = await openClusterStore(nodes, { partitions: 8 });
      teardowns.push(opened.teardown);
      const { store, cluster } = opened;
      const layout = createKeyLayout(store.keyPrefix, 8);
      const T0 = Date.UTC(2026, 0, 1);
      const refs = Array.from({ length: 40 }, (_, i) => ({ type: 'wakes', id: `w${i}` }));
      const subscriber = cluster.duplicate();
      const heard: string[] = [];
      subscriber.on('message', (from: string, message: string) => {
        if (from === store.channel) heard.push(message);
      });
      try {
        await subscriber.subscribe(store.channel);
        const results = await store.commitMany(
          refs.map((ref, i) => ({
            ref, expectedVersion: 0, now: T0, completed: false, cancelTimers: [],
            events: [{ workflowType: ref.type, workflowId: ref.id, sequence: 1, type: 'E', payload: {}, metadata: { decidedAt: T0 }, recordedAt: T0 }],
            effects: [{ id: `fx${i}`, payload: {} }],
            timers: i < 5 ? [{ id: `tm${i}`, fireAt: T0, input: {} }] : [],
          })),
        );
        expect(results.every((r) => r.ok)).toBe(true);
        // A node forwards what it publishes in order, so a sentinel from every primary comes after
        // every wake-up the batch published there.
        const sentinels = cluster.nodes('master').map((_, i) => `sentinel-${i}-${randomUUID()}`);
        await Promise.all(cluster.nodes('master').map((node, i) => node.publish(store.channel, sentinels[i]!)));
        for (const sentinel of sentinels) await waitFor(() => heard.includes(sentinel));
      } finally {
        await subscriber.quit();
      }
      const touched = (list: typeof refs) => new Set(list.map((r) => layout.partitionOf(r.type, r.id))).size;
      expect(heard.filter((m) => m === 'effect')).toHaveLength(touched(refs));
      expect(heard.filter((m) => m === 'timer')).toHaveLength(touched(refs.slice(0, 5)));
    });
  });

  it('commits, claims and cross-partition acknowledgements keep working after SCRIPT FLUSH on every node', async () => {
    const { store, cluster, teardown } = await openClusterStore(nodes, { partitions: 8 });
    try {
      const T0 = Date.UTC(2026, 0, 1);
      const source = { type: 'src', id: 's-1' };
      const event = (ref: { type: string; id: string }, sequence: number) => ({
        workflowType: ref.type, workflowId: ref.id, sequence, type: 'E', payload: {}, metadata: { decidedAt: T0 }, recordedAt: T0,
      });
      await store.commit({ ref: source, expectedVersion: 0, now: T0, events: [event(source, 1)], effects: [{ id: randomUUID(), payload: {} }], cancelTimers: [], timers: [], completed: false });
      await Promise.all(cluster.nodes('master').map((node) => node.script('FLUSH')));
      const [claimed] = await store.claimEffects({ now: T0, types: ['src'], limit: 1, leaseMs: 1000, owner: 'w' });
      await Promise.all(cluster.nodes('master').map((node) => node.script('FLUSH')));
      for (let i = 0; i < 8; i++) {
        const target = { type: 'dst', id: `t-${i}` };
        const ack = i === 0 ? { ...claimed!.lease, outcome: 'done' as const } : undefined;
        await store.commit({ ref: target, expectedVersion: 0, now: T0, events: [event(target, 1)], effects: [], cancelTimers: [], timers: [], completed: false, ack, uniqueKey: `u-${i}` });
      }
      expect((await store.listEffects(source))[0]!.status).toBe('done');
      expect(await store.listInstances({ workflowType: 'dst' })).toHaveLength(8);
    } finally {
      await teardown();
    }
  });

  it('the partitions’ hash tags spread over more than one cluster node', async () => {
    const cluster = new Cluster([{ host: new URL(nodes[0] ?? '').hostname, port: Number(new URL(nodes[0] ?? '').port) }]);
    try {
      const layout = createKeyLayout('ironflow', 8);
      const slots = await Promise.all(
        Array.from({ length: 8 }, (_, p) => cluster.call('CLUSTER', 'KEYSLOT', layout.partition(p).instance('t', 'x')) as Promise<number>),
      );
      const owners = new Set<string>();
      for (const slot of slots) {
        const node = (cluster.slots[slot] ?? [])[0];
        if (node !== undefined) owners.add(node);
      }
      expect(owners.size).toBeGreaterThan(1);
    } finally {
      await cluster.quit();
    }
  });

  it('a projection whose name holds { } and : keeps its record, dead letters and indexes in one slot; projections spread over nodes and destroy() removes them', async () => {
    const { store, cluster, teardown } = await openClusterStore(nodes, { partitions: 8 });
    try {
      const T0 = Date.UTC(2026, 0, 1);
      const ref = { type: 'fed', id: 'f-1' };
      await store.commit({
        ref, expectedVersion: 0, now: T0, completed: false, cancelTimers: [], timers: [], effects: [],
        events: [{ workflowType: ref.type, workflowId: ref.id, sequence: 1, type: 'E', payload: {}, metadata: { decidedAt: T0 }, recordedAt: T0 }],
      });
      const position = (await store.feedHead())!;
      const names = ['{orders}:by-status', '}{', `{${store.keyPrefix}#0}:pj:x`, ...Array.from({ length: 12 }, (_, i) => `{p${i}}`)];
      for (const name of names) {
        const claimed = await store.claimProjection({ name, owner: 'runner', now: T0, leaseMs: 30_000 });
        const parked = ['{a}', 'b}'].map((id, i) => ({ id, workflowType: 'fed', workflowId: 'f-1', sequence: 1, eventType: 'E', position, error: `e${i}`, attempts: 1 }));
        await store.saveProjection(claimed!.lease, { now: T0 + 1, position, parked });
        await store.redriveProjectionDeadLetter(name, '{a}', T0 + 2);
      }
      expect((await store.listProjections()).map((p) => [p.name, p.deadLetters])).toEqual([...names].sort().map((name) => [name, 2]));

      const layout = createKeyLayout(store.keyPrefix, 8);
      const slotOf = (key: string) => cluster.call('CLUSTER', 'KEYSLOT', key) as Promise<number>;
      const owners = new Set<string>();
      for (const name of names) {
        const home = layout.partition(layout.projectionPartitionOf(name));
        const own = [home.projection(name), home.projectionLetter(name, '{a}'), home.projectionLetter(name, 'b}'), home.projectionLetters(name), home.projectionLetters(name, 'parked'), home.projectionLetters(name, 'redriven'), home.projections()];
        for (const key of own) expect(await cluster.exists(key)).toBe(1);
        const slots = new Set(await Promise.all(own.map(slotOf)));
        expect(slots.size).toBe(1);
        const node = (cluster.slots[[...slots][0]!] ?? [])[0];
        if (node !== undefined) owners.add(node);
      }
      expect(owners.size).toBeGreaterThan(1);

      await store.destroy();
      expect(await clusterPrefixKeys(cluster, store.keyPrefix)).toEqual([]);
      expect(await store.listProjections()).toEqual([]);
    } finally {
      await teardown();
    }
  });

  it('destroy() deletes a prefix’s keys on every primary and leaves an overlapping prefix whole', async () => {
    const x = await openClusterStore(nodes, { partitions: 8 });
    const p0 = await openClusterStore(nodes, { partitions: 8, keyPrefix: `${x.store.keyPrefix}:p0` });
    try {
      const T0 = Date.UTC(2026, 0, 1);
      for (const opened of [x, p0]) {
        for (let i = 0; i < 16; i++) {
          const ref = { type: 'spread', id: `i-${i}` };
          await opened.store.commit({
            ref, expectedVersion: 0, now: T0, completed: false, cancelTimers: [], timers: [],
            events: [{ workflowType: ref.type, workflowId: ref.id, sequence: 1, type: 'E', payload: {}, metadata: { decidedAt: T0 }, recordedAt: T0 }],
            effects: [{ id: `${opened.store.keyPrefix}-${i}`, payload: {} }],
          });
        }
      }
      const keysX = await clusterPrefixKeys(x.cluster, x.store.keyPrefix);
      const keysP0 = await clusterPrefixKeys(x.cluster, p0.store.keyPrefix);
      const nodesWithKeys = await Promise.all(x.cluster.nodes('master').map(async (node) => (await node.dbsize()) > 0));
      expect(nodesWithKeys.filter(Boolean).length).toBeGreaterThan(1);
      expect(await x.store.destroy()).toBe(keysX.length);
      expect(await clusterPrefixKeys(x.cluster, x.store.keyPrefix)).toEqual([]);
      expect((await clusterPrefixKeys(x.cluster, p0.store.keyPrefix)).sort()).toEqual([...keysP0].sort());
      expect(await p0.store.listInstances({ workflowType: 'spread' })).toHaveLength(16);
    } finally {
      await x.teardown();
      await p0.teardown();
    }
  });
}
