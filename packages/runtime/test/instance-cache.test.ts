// Decision caching: warm instances skip the load; a stale entry costs one conflict and a reload;
// inputs to one instance from one process take turns instead of conflicting.
import { describe, expect, it } from 'vitest';
import { createManualClock, isIronflowError } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, silentLogger } from '../src/index.js';
import { createLruCache, KeyedQueue } from '../src/instance-cache.js';
import { payWorkflow } from './fixtures.js';

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
    expect(counts).toEqual({ load: 1, commit: 6, conflicts: 0 });
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
    expect(counts.load).toBe(1);
  });

  it('inputs with an idempotency key always ask the store', async () => {
    const { store, counts } = counted(createMemoryStore());
    const pay = payWorkflow();
    const engine = createEngine({ store, logger: silentLogger, workflows: [pay] });
    await engine.execute(pay, { type: 'Start', id: 'k', amount: 1 });
    await engine.execute(pay, { type: 'Remind', id: 'k', n: 1 }, { idempotencyKey: 'once' });
    expect((await engine.execute(pay, { type: 'Remind', id: 'k', n: 1 }, { idempotencyKey: 'once' })).status).toBe('duplicate');
    expect(counts.load).toBe(3);
  });

  it('concurrent inputs to one instance from one process take turns: no conflicts, no gaps', async () => {
    const { store, counts } = counted(createMemoryStore());
    const pay = payWorkflow();
    const engine = createEngine({ store, logger: silentLogger, workflows: [pay] });
    await engine.execute(pay, { type: 'Start', id: 'hot', amount: 1 });
    await Promise.all(Array.from({ length: 50 }, (_, n) => engine.execute(pay, { type: 'Remind', id: 'hot', n })));
    expect(counts.conflicts).toBe(0);
    expect(counts.load).toBe(1);
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
