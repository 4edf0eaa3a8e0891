// The claim loop on its own, with scripted claims: when it claims again at once and when it sleeps.
// Every stub settles in microtasks, so one macrotask turn lets the loop reach its (long) sleep.
import { describe, expect, it } from 'vitest';
import type { Claimed, EffectRecord } from '@ironflow/core/store';
import { LifecycleEmitter, silentLogger } from '../src/lifecycle.js';
import { WorkerPool } from '../src/worker-pool.js';

function effect(id: string, recovered = false): Claimed<EffectRecord> {
  return {
    kind: 'effect', id, workflowType: 'payment', workflowId: id, status: 'leased', attempts: recovered ? 2 : 1,
    createdAt: 0, updatedAt: 0, availableAt: 0, payload: null, priority: 0, lease: { kind: 'effect', id, token: `t-${id}` }, recovered,
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function scriptedPool(script: Claimed<EffectRecord>[][], settings: { concurrency?: number; prefetch?: number } = {}) {
  const claims: { limit: number; got: string[] }[] = [];
  const released: string[] = [];
  const finish = new Map<string, () => void>();
  const started: string[] = [];
  const pool = new WorkerPool<EffectRecord>({
    kind: 'effect',
    settings: { concurrency: settings.concurrency ?? 4, batchSize: 4, prefetch: settings.prefetch ?? 0, pollIntervalMs: 600_000, leaseMs: 600_000 },
    claim: async (limit) => {
      const batch = script.shift() ?? [];
      claims.push({ limit, got: batch.map((item) => item.id) });
      return batch;
    },
    process: (item) => {
      started.push(item.id);
      return new Promise<void>((resolve) => finish.set(item.id, resolve));
    },
    renew: async () => undefined,
    release: async (item) => void released.push(item.id),
    lost: () => undefined,
    logger: silentLogger,
    lifecycle: new LifecycleEmitter(silentLogger),
    now: () => 0,
    timeouts: { setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>) },
  });
  return { pool, claims, started, released, settle: (id: string) => finish.get(id)?.() };
}

describe('the claim loop', () => {
  it('claims again at once after a full batch, and sleeps after a short one until a wake-up or a freed slot', async () => {
    const t = scriptedPool([[effect('a'), effect('b'), effect('c'), effect('d')]], { concurrency: 6 });
    t.pool.start();
    await turn();
    // The full batch of 4 is followed by one claim for the 2 free slots, which comes back empty.
    expect(t.claims).toEqual([{ limit: 4, got: ['a', 'b', 'c', 'd'] }, { limit: 2, got: [] }]);
    t.pool.poke();
    await turn();
    t.settle('a');
    await turn();
    expect(t.claims.slice(2)).toEqual([{ limit: 2, got: [] }, { limit: 3, got: [] }]);
    for (const id of ['b', 'c', 'd']) t.settle(id);
    await t.pool.stop(1_000);
  });

  it('a lone effect costs one claim: a short batch is not followed by an empty claim', async () => {
    const t = scriptedPool([[effect('a')]]);
    t.pool.start();
    await turn();
    expect(t.claims).toEqual([{ limit: 4, got: ['a'] }]);
    t.settle('a');
    await t.pool.stop(1_000);
  });

  it('a recovered row left behind by a short batch is claimed when a slot frees, runs alone, and claiming resumes at once after it', async () => {
    const t = scriptedPool([[effect('a')], [effect('r', true)], [effect('c')]]);
    t.pool.start();
    await turn();
    expect(t.claims).toEqual([{ limit: 4, got: ['a'] }]);
    t.settle('a');
    await turn();
    expect(t.claims.slice(1)).toEqual([{ limit: 4, got: ['r'] }]);
    expect(t.started).toEqual(['a', 'r']);
    // Nothing is claimed while the recovered item runs, whatever wakes the loop.
    t.pool.poke();
    await turn();
    expect(t.claims).toHaveLength(2);
    t.settle('r');
    await turn();
    expect(t.claims.slice(2)).toEqual([{ limit: 4, got: ['c'] }]);
    expect(t.started).toEqual(['a', 'r', 'c']);
    t.settle('c');
    await t.pool.stop(1_000);
  });
});

describe('prefetch', () => {
  const fresh = (...ids: string[]) => ids.map((id) => effect(id));

  it('queues claimed items beyond the free slots and starts them as slots free, claiming again when the queue is half empty', async () => {
    const t = scriptedPool([fresh('a', 'b', 'c', 'd'), fresh('e', 'f'), fresh('g', 'h')], { concurrency: 2, prefetch: 4 });
    t.pool.start();
    await turn();
    // A full batch of 4: 2 run, 2 queue; the 2 places left are claimed at once. Then the queue is
    // full (4), so the loop sleeps.
    expect(t.claims).toEqual([{ limit: 4, got: ['a', 'b', 'c', 'd'] }, { limit: 2, got: ['e', 'f'] }]);
    expect(t.started).toEqual(['a', 'b']);
    expect(t.pool.health()).toMatchObject({ inFlight: 6, queued: 4 });
    t.settle('a');
    await turn();
    // 'c' took the free slot; the queue (3) is still more than half full: no claim.
    expect(t.started).toEqual(['a', 'b', 'c']);
    expect(t.claims).toHaveLength(2);
    t.settle('b');
    await turn();
    // The queue fell to 2, half of prefetch: one claim for the 2 free places.
    expect(t.started).toEqual(['a', 'b', 'c', 'd']);
    expect(t.claims.slice(2)).toEqual([{ limit: 2, got: ['g', 'h'] }]);
    for (const id of ['c', 'd', 'e', 'f', 'g', 'h']) {
      t.settle(id);
      await turn();
    }
    expect(t.started).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    await t.pool.stop(1_000);
  });

  it('a recovered item waits until the running and queued items have settled, then runs alone', async () => {
    const t = scriptedPool([fresh('a', 'b', 'c'), [effect('r', true)], fresh('z')], { concurrency: 2, prefetch: 2 });
    t.pool.start();
    await turn();
    expect(t.started).toEqual(['a', 'b']);
    t.settle('a');
    await turn();
    // 'c' moved from the queue to the free slot; the claim that followed returned the recovered row.
    expect(t.started).toEqual(['a', 'b', 'c']);
    expect(t.claims.map((c) => c.got)).toEqual([['a', 'b', 'c'], ['r']]);
    t.settle('b');
    await turn();
    expect(t.started).toEqual(['a', 'b', 'c']);
    t.settle('c');
    await turn();
    expect(t.started).toEqual(['a', 'b', 'c', 'r']);
    expect(t.claims).toHaveLength(2);
    t.settle('r');
    await turn();
    expect(t.started).toEqual(['a', 'b', 'c', 'r', 'z']);
    t.settle('z');
    await t.pool.stop(1_000);
  });

  it('stop() releases queued items that never started', async () => {
    const t = scriptedPool([fresh('a', 'b', 'c', 'd')], { concurrency: 1, prefetch: 3 });
    t.pool.start();
    await turn();
    expect(t.started).toEqual(['a']);
    const stopped = t.pool.stop(60_000);
    await turn();
    expect(t.released.sort()).toEqual(['b', 'c', 'd']);
    t.settle('a');
    await stopped;
    expect(t.started).toEqual(['a']);
  });
});
