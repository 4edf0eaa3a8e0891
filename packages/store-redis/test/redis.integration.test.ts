// What only the Redis store can prove, against a real server: atomicity under many connections,
// type-filtered queues, surviving SCRIPT FLUSH, partitions and their cross-slot protocols,
// hostile ids, server-config checks, wake-up reconnects, and the calls each operation costs.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { accept, defineWorkflow, isIronflowError, type IronflowErrorCode, type StoredEvent, type WorkflowRef } from '@ironflow/core';
import { executeInput, systemClock } from '@ironflow/core/engine';
import type { CommitRequest, WorkKind } from '@ironflow/core/store';
import { testServerUrl, uniqueName } from '@ironflow/testing';
import { createKeyLayout, createRedisStore, type KeyLayout, type RedisStore } from '../src/index.js';
import { COMMIT } from '../src/scripts/commit.js';
import { instrument, openStore, scanKeys, type TestStore } from './helpers.js';

const url = testServerUrl('redis');
const T0 = Date.UTC(2026, 0, 1, 12);

function events(ref: WorkflowRef, from: number, count = 1, now = T0): StoredEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    workflowType: ref.type,
    workflowId: ref.id,
    sequence: from + i + 1,
    type: 'Happened',
    payload: { n: from + i + 1 },
    metadata: { decidedAt: now },
    recordedAt: now,
  }));
}

function commitOf(ref: WorkflowRef, expectedVersion: number, fields: Partial<Omit<CommitRequest, 'ref' | 'expectedVersion'>> = {}): CommitRequest {
  const now = fields.now ?? T0;
  return { ref, expectedVersion, now, events: events(ref, expectedVersion, 1, now), effects: [], cancelTimers: [], timers: [], completed: false, ...fields };
}

function claimArgs(types: string[], now = T0, leaseMs = 30_000, limit = 10) {
  return { now, types, limit, leaseMs, owner: 'test' };
}

async function codeOf(promise: Promise<unknown>): Promise<IronflowErrorCode | 'resolved' | 'other'> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return isIronflowError(error) ? error.code : 'other';
  }
}

/** An id of `type` that lands in `partition`. */
function idIn(layout: KeyLayout, type: string, partition: number, base: string): string {
  for (let i = 0; ; i++) {
    const id = `${base}-${i}`;
    if (layout.partitionOf(type, id) === partition) return id;
  }
}

/** Bounded polling for something asynchronous (a wake-up, a re-subscription). */
async function waitFor(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(10);
  }
}

const counter = defineWorkflow({
  type: 'counter',
  initialState: () => ({ total: 0 }),
  evolve: (state: { total: number }, event: { type: 'Added'; by: number }) => ({ total: state.total + event.by }),
  decide: (input: { id: string; by: number }) => accept({ type: 'Added' as const, by: input.by }),
  workflowId: (input) => input.id,
});

describe.skipIf(!url)('redis store on a real server', () => {
  const opened: TestStore[] = [];
  const open = async (options: Parameters<typeof openStore>[1] = {}) => {
    const store = await openStore(url ?? '', options);
    opened.push(store);
    return store;
  };
  afterAll(async () => {
    for (const store of opened) await store.teardown();
  });

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

  describe('partitions', () => {
    it('a partitioned claim takes the oldest rows across all partitions, in (availableAt, id) order', async () => {
      const s = await open({ partitions: 4 });
      const layout = createKeyLayout(s.keyPrefix, 4);
      const type = 'spread';
      const refs = [3, 1, 0, 2].map((p) => ({ type, id: idIn(layout, type, p, `p${p}`) }));
      for (const [i, ref] of refs.entries()) {
        await s.store.commit(commitOf(ref, 0, { now: T0 + 10 * i, effects: [{ id: `fx-${i}`, payload: { i } }] }));
      }
      const claimed = await s.store.claimEffects(claimArgs([type], T0 + 100, 30_000, 3));
      expect(claimed.map((c) => c.id)).toEqual(['fx-0', 'fx-1', 'fx-2']);
      expect(new Set(refs.map((r) => layout.partitionOf(r.type, r.id))).size).toBe(4);
      const listed = await s.store.listInstances({ workflowType: type });
      expect(listed.map((i) => i.workflowId)).toEqual([...refs].reverse().map((r) => r.id));
    });

    it('dead letters filtered by workflow id alone are found across partitions, newest first', async () => {
      const s = await open({ partitions: 4 });
      const layout = createKeyLayout(s.keyPrefix, 4);
      const types = ['dl.a', 'dl.b', 'dl.c'];
      const id = 'shared-id';
      expect(new Set(types.map((t) => layout.partitionOf(t, id))).size).toBeGreaterThan(1);
      for (const [i, type] of types.entries()) {
        await s.store.commit(commitOf({ type, id }, 0, { effects: [{ id: `dl-${i}`, payload: { i } }] }));
        await s.store.commit(commitOf({ type, id: 'other' }, 0, { effects: [{ id: `other-${i}`, payload: { i } }] }));
      }
      const claimed = await s.store.claimEffects(claimArgs(types, T0, 30_000, 10));
      for (const c of claimed) await s.store.deadLetter(c.lease, T0 + Number(c.id.split('-')[1]), 'x');
      const dead = await s.store.listDeadLetters({ kind: 'effect', workflowId: id });
      expect(dead.map((d) => d.id)).toEqual(['dl-2', 'dl-1', 'dl-0']);
      expect(await s.store.countDeadLetters({ kind: 'effect', workflowId: id })).toBe(3);
      expect(await s.store.countDeadLetters({ kind: 'effect' })).toBe(6);
      expect((await s.store.listDeadLetters({ kind: 'effect', limit: 2, offset: 1 })).map((d) => d.id)).toEqual(['other-2', 'dl-1']);
    });

    it('refuses to open a prefix with another partition count than it was set up with', async () => {
      const s = await open({ partitions: 2 });
      const other = createRedisStore({ client: s.client, keyPrefix: s.keyPrefix, partitions: 3 });
      let caught: unknown;
      try {
        await other.setup();
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: 'STORE_FAILURE', reason: 'configuration' });
      expect(String(caught)).toMatch(/strands existing data/);
    });

    describe('an acknowledgement routed to an instance in another partition', () => {
      const setupRoute = async () => {
        const s = await open({ partitions: 4 });
        const layout = createKeyLayout(s.keyPrefix, 4);
        const probe = instrument(s.client);
        const warn = vi.fn();
        const store = createRedisStore({ client: probe.client, keyPrefix: s.keyPrefix, partitions: 4, logger: { warn } });
        const source = { type: 'src', id: idIn(layout, 'src', 0, 's') };
        const target = { type: 'dst', id: idIn(layout, 'dst', 1, 't') };
        const effectId = randomUUID();
        await store.commit(commitOf(source, 0, { effects: [{ id: effectId, payload: { ask: 1 } }] }));
        const [claimed] = await store.claimEffects(claimArgs(['src'], T0, 1000));
        return { s, probe, store, source, target, effectId, claimed: claimed!, warn };
      };

      it('lands atomically with the routed events and settles the effect', async () => {
        const { store, source, target, claimed, probe } = await setupRoute();
        probe.calls.length = 0;
        await store.commit(commitOf(target, 0, { now: T0 + 10, ack: { ...claimed.lease, outcome: 'dead', error: 'no' } }));
        expect(probe.calls).toEqual(['prepare-handoff', 'commit', 'finalize-handoff']);
        expect((await store.listEffects(source))[0]).toMatchObject({ status: 'dead', lastError: 'no', updatedAt: T0 + 10 });
        expect(await store.countDeadLetters({ kind: 'effect', workflowType: 'src' })).toBe(1);
        expect(await codeOf(store.commit(commitOf({ type: 'dst', id: 'again' }, 0, { ack: { ...claimed.lease, outcome: 'done' } })))).toBe('LEASE_LOST');
      });

      it('lost before it reached the target: the next claimer revokes it, re-leases the effect, and the late commit is refused', async () => {
        const { s, probe, store, target, effectId, claimed } = await setupRoute();
        let stalled: (string | number)[] = [];
        probe.fault = (name, args) => {
          if (name !== 'commit') return 'run';
          stalled = [...args];
          return 'fail-before';
        };
        expect(await codeOf(store.commit(commitOf(target, 0, { now: T0 + 10, ack: { ...claimed.lease, outcome: 'done' } })))).toBe('STORE_FAILURE');
        probe.fault = () => 'run';
        expect(await store.claimEffects(claimArgs(['src'], T0 + 999))).toEqual([]);
        const [again] = await store.claimEffects(claimArgs(['src'], T0 + 1000));
        expect(again).toMatchObject({ id: effectId, attempts: 2, status: 'leased' });
        const late = (await s.client.evalsha(COMMIT.sha, COMMIT.keys.length, ...stalled)) as string[];
        expect(late[0]).toBe('LEASE_LOST');
        expect((await store.load(target)).version).toBe(0);
        await store.complete(again!.lease, T0 + 1001);
      });

      it('lost after it landed: the effect is settled as acknowledged, never re-run, and the old worker is fenced out', async () => {
        const { probe, store, source, target, claimed, warn } = await setupRoute();
        probe.fault = (name) => (name === 'finalize-handoff' ? 'fail-before' : 'run');
        await store.commit(commitOf(target, 0, { now: T0 + 10, ack: { ...claimed.lease, outcome: 'done' } }));
        expect(warn).toHaveBeenCalled();
        probe.fault = () => 'run';
        expect((await store.listEffects(source))[0]!.status).toBe('leased');
        expect(await codeOf(store.complete(claimed.lease, T0 + 20))).toBe('LEASE_LOST');
        expect((await store.listEffects(source))[0]).toMatchObject({ status: 'done', attempts: 1 });
        expect(await store.claimEffects(claimArgs(['src'], T0 + 5000))).toEqual([]);
        expect((await store.load(target)).version).toBe(1);
      });

      it('lost after it landed and the lease expired: the next claim settles it instead of re-leasing it', async () => {
        const { probe, store, source, target, claimed } = await setupRoute();
        probe.fault = (name) => (name === 'finalize-handoff' ? 'fail-before' : 'run');
        await store.commit(commitOf(target, 0, { now: T0 + 10, ack: { ...claimed.lease, outcome: 'done' } }));
        probe.fault = () => 'run';
        expect(await store.claimEffects(claimArgs(['src'], T0 + 5000))).toEqual([]);
        expect((await store.listEffects(source))[0]).toMatchObject({ status: 'done', attempts: 1 });
        expect((await store.readEvents(target)).length).toBe(1);
      });
    });

    it('a unique key reserved by an instance whose commit never landed is taken over, and that late commit is refused', async () => {
      const s = await open({ partitions: 4 });
      const layout = createKeyLayout(s.keyPrefix, 4);
      const probe = instrument(s.client);
      const store = createRedisStore({ client: probe.client, keyPrefix: s.keyPrefix, partitions: 4 });
      const type = 'uniq';
      const keyPartition = layout.uniquePartitionOf(type, 'k');
      const ghost = idIn(layout, type, (keyPartition + 1) % 4, 'ghost');
      const winner = idIn(layout, type, (keyPartition + 2) % 4, 'winner');
      let stalled: (string | number)[] = [];
      probe.fault = (name, args) => {
        if (name !== 'commit') return 'run';
        stalled = [...args];
        return 'fail-before';
      };
      expect(await codeOf(store.commit(commitOf({ type, id: ghost }, 0, { uniqueKey: 'k' })))).toBe('STORE_FAILURE');
      probe.fault = () => 'run';
      await store.commit(commitOf({ type, id: winner }, 0, { uniqueKey: 'k' }));
      const late = (await s.client.evalsha(COMMIT.sha, COMMIT.keys.length, ...stalled)) as string[];
      expect(late[0]).toBe('UNIQUE_KEY_CONFLICT');
      expect((await store.load({ type, id: ghost })).version).toBe(0);
      let caught: unknown;
      try {
        await store.commit(commitOf({ type, id: 'third' }, 0, { uniqueKey: 'k' }));
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: 'UNIQUE_KEY_CONFLICT', holderId: winner });
      await store.commit(commitOf({ type, id: winner }, 1, { completed: true }));
      await store.commit(commitOf({ type, id: 'third' }, 0, { uniqueKey: 'k' }));
    });
  });

  describe('calls per operation', () => {
    it('one call per commit, load, claim and lease change on one partition; a partitioned claim peeks every partition', async () => {
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
    });
  });

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
      const client = new Redis(url ?? '', { lazyConnect: true });
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
      const client = new Redis(url ?? '', { lazyConnect: true, keyPrefix: 'app:' });
      expect(() => createRedisStore({ client })).toThrow(expect.objectContaining({ code: 'STORE_FAILURE', reason: 'configuration' }));
      client.disconnect();
    });
  });

  describe('server configuration', () => {
    it('setup refuses a maxmemory-policy other than noeviction unless allowed, and then warns', async () => {
      const admin = new Redis(url ?? '');
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
});
