// Decision caching: warm instances skip the load; a stale entry costs one conflict and a reload;
// inputs to one instance from one process take turns instead of conflicting.
import { describe, expect, it } from 'vitest';
import { createManualClock, isIronflowError } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, silentLogger } from '../src/index.js';
import { createLruCache, KeyedQueue } from '../src/instance-cache.js';
import { payWorkflow } from './fixtures.js';

/** Counts loads, commits (single or in group-commit batches) and version conflicts. */
function counted(inner: WorkflowStore) {
  const counts = { load: 0, commit: 0, conflicts: 0 };
  const store: WorkflowStore = {
    ...inner,
    load: (ref, options) => {
      counts.load += 1;
      return inner.load(ref, options);
    },
    commit: async (request) => {
      counts.commit += 1;
      try {
        await inner.commit(request);
      } catch (error) {
        if (isIronflowError(error, 'VERSION_CONFLICT')) counts.conflicts += 1;
        throw error;
      }
    },
    commitMany: async (requests) => {
      const results = await inner.commitMany(requests);
      counts.commit += requests.length;
      counts.conflicts += results.filter((r) => !r.ok && isIronflowError(r.error, 'VERSION_CONFLICT')).length;
      return results;
    },
  };
  return { store, counts };
}

describe('instance cache', () => {
  it('a decision on a warm instance commits without loading it again', async () => {
    const { store, counts } = counted(createMemoryStore());
    const pay = payWorkflow();
    const engine = createEngine({ store, clock: createManualClock(), logger: silentLogger, workflows: [pay] });
    await engine.execute(pay, { type: 'Start', id: 'w', amount: 1 });
    for (let n = 1; n <= 5; n++) await engine.execute(pay, { type: 'Remind', id: 'w', n });
    // The instance was new, so even its first input needed no load.
    expect(counts).toEqual({ load: 0, commit: 6, conflicts: 0 });
    expect((await engine.getState(pay, 'w')).state.reminders).toBe(5);
  });

  it('a stale entry (another process wrote meanwhile) costs one conflict and a reload, and loses nothing', async () => {
    const shared = createMemoryStore();
    const a = counted(shared);
    const pay = payWorkflow();
    const engineA = createEngine({ store: a.store, logger: silentLogger, workflows: [pay] });
    const engineB = createEngine({ store: shared, logger: silentLogger, workflows: [pay] });
    await engineA.execute(pay, { type: 'Start', id: 's', amount: 1 });
    await engineB.execute(pay, { type: 'Remind', id: 's', n: 1 });
    const result = await engineA.execute(pay, { type: 'Remind', id: 's', n: 2 });
    expect(result).toMatchObject({ status: 'accepted', version: 3 });
    expect(a.counts.conflicts).toBe(1);
    expect((await shared.readEvents({ type: 'payment', id: 's' })).map((e) => e.type)).toEqual(['Started', 'Reminded', 'Reminded']);
  });

  it('a completed instance stays completed in the cache without a load', async () => {
    const { store, counts } = counted(createMemoryStore());
    const pay = payWorkflow();
    const engine = createEngine({ store, logger: silentLogger, workflows: [pay] });
    await engine.execute(pay, { type: 'Start', id: 'c', amount: 1 });
    await engine.execute(pay, { type: 'Finish', id: 'c' });
    expect((await engine.execute(pay, { type: 'Remind', id: 'c', n: 1 })).status).toBe('already-completed');
    expect(counts.load).toBe(0);
  });

  it('inputs with an idempotency key always ask the store', async () => {
    const { store, counts } = counted(createMemoryStore());
    const pay = payWorkflow();
    const engine = createEngine({ store, logger: silentLogger, workflows: [pay] });
    await engine.execute(pay, { type: 'Start', id: 'k', amount: 1 });
    await engine.execute(pay, { type: 'Remind', id: 'k', n: 1 }, { idempotencyKey: 'once' });
    expect((await engine.execute(pay, { type: 'Remind', id: 'k', n: 1 }, { idempotencyKey: 'once' })).status).toBe('duplicate');
    expect(counts.load).toBe(2);
  });

  it('concurrent inputs to one instance from one process take turns: no conflicts, no gaps', async () => {
    const { store, counts } = counted(createMemoryStore());
    const pay = payWorkflow();
    const engine = createEngine({ store, logger: silentLogger, workflows: [pay] });
    await engine.execute(pay, { type: 'Start', id: 'hot', amount: 1 });
    await Promise.all(Array.from({ length: 50 }, (_, n) => engine.execute(pay, { type: 'Remind', id: 'hot', n })));
    expect(counts.conflicts).toBe(0);
    expect(counts.load).toBe(0);
    expect((await store.readEvents({ type: 'payment', id: 'hot' })).map((e) => e.sequence)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
  });

  it('cacheSize 0 turns the cache off', async () => {
    const { store, counts } = counted(createMemoryStore());
    const pay = payWorkflow();
    const engine = createEngine({ store, logger: silentLogger, workflows: [pay], cacheSize: 0 });
    await engine.execute(pay, { type: 'Start', id: 'off', amount: 1 });
    await engine.execute(pay, { type: 'Remind', id: 'off', n: 1 });
    expect(counts.load).toBe(2);
    expect(() => createEngine({ store, logger: silentLogger, workflows: [], cacheSize: -1 })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('inputs to instances this process has not seen', () => {
  it('a new instance is committed without a load', async () => {
    const { store, counts } = counted(createMemoryStore());
    const pay = payWorkflow();
    const engine = createEngine({ store, logger: silentLogger, workflows: [pay] });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => engine.execute(pay, { type: 'Start', id: `n${i}`, amount: 1 })));
    expect(results.every((r) => r.status === 'accepted' && r.version === 1)).toBe(true);
    expect(counts).toEqual({ load: 0, commit: 20, conflicts: 0 });
  });

  it('an existing instance costs one conflicted commit that writes nothing, then is decided on its real state', async () => {
    const shared = createMemoryStore();
    const pay = payWorkflow();
    await createEngine({ store: shared, logger: silentLogger, workflows: [pay] }).execute(pay, { type: 'Start', id: 'old', amount: 5 });
    const { store, counts } = counted(shared);
    const engine = createEngine({ store, logger: silentLogger, workflows: [pay] });
    // Accepted on the initial state, rejected on the real one: the rejection is the real answer.
    expect(await engine.execute(pay, { type: 'Start', id: 'old', amount: 9 })).toMatchObject({ status: 'rejected', reason: { code: 'ALREADY_STARTED' } });
    expect(counts).toEqual({ load: 1, commit: 1, conflicts: 1 });
    expect(await shared.readEvents({ type: 'payment', id: 'old' })).toHaveLength(1);
    expect(await shared.listEffects({ type: 'payment', id: 'old' })).toHaveLength(1);
    // Now cached: the next input goes straight to its commit.
    expect(await engine.execute(pay, { type: 'Remind', id: 'old', n: 1 })).toMatchObject({ status: 'accepted', version: 2 });
    expect(counts).toEqual({ load: 1, commit: 2, conflicts: 1 });
  });

  it('an input rejected on the initial state is decided again on the loaded state, without a commit', async () => {
    const shared = createMemoryStore();
    const pay = payWorkflow();
    const other = createEngine({ store: shared, logger: silentLogger, workflows: [pay] });
    await other.execute(pay, { type: 'Start', id: 'r', amount: 5 });
    await other.execute(pay, { type: 'Finish', id: 'r' });
    const { store, counts } = counted(shared);
    const engine = createEngine({ store, logger: silentLogger, workflows: [pay] });
    expect(await engine.execute(pay, { type: 'Remind', id: 'r', n: 1 })).toMatchObject({ status: 'already-completed', version: 2 });
    expect(counts.load).toBe(1);
  });

  it('a repeated idempotency key from another process is still a duplicate', async () => {
    const shared = createMemoryStore();
    const pay = payWorkflow();
    const first = await createEngine({ store: shared, logger: silentLogger, workflows: [pay] }).execute(pay, { type: 'Start', id: 'i', amount: 1 }, { idempotencyKey: 'req-1' });
    expect(first.status).toBe('accepted');
    const engine = createEngine({ store: shared, logger: silentLogger, workflows: [pay] });
    expect(await engine.execute(pay, { type: 'Start', id: 'i', amount: 1 }, { idempotencyKey: 'req-1' })).toMatchObject({ status: 'duplicate', workflowId: 'i', version: 1, eventCount: 1, events: [{ sequence: 1 }] });
    expect(await shared.readEvents({ type: 'payment', id: 'i' })).toHaveLength(1);
  });
});

describe('building blocks', () => {
  it('the LRU cache evicts the least recently used entry', () => {
    const cache = createLruCache(2);
    const entry = (version: number) => ({ version, completed: false, state: {} });
    cache.set('a', entry(1));
    cache.set('b', entry(2));
    cache.get('a');
    cache.set('c', entry(3));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.version).toBe(1);
    expect(cache.get('c')?.version).toBe(3);
  });

  it('the keyed queue runs one key in order and survives a failing task', async () => {
    const queue = new KeyedQueue();
    const order: string[] = [];
    const task = (name: string, fail = false) => async () => {
      order.push(`start ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([queue.run('k', task('1')), queue.run('k', task('2', true)), queue.run('k', task('3'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });
});
