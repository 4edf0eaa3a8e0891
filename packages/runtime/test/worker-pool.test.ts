// The claim loop on its own, with scripted claims: when it claims again at once and when it sleeps.
// Every stub settles in microtasks, so one macrotask turn lets the loop reach its (long) sleep.
import { describe, expect, it } from 'vitest';
import type { Claimed, EffectRecord } from '@ironflow/core/store';
import { LifecycleEmitter, silentLogger } from '../src/lifecycle.js';
import { WorkerPool } from '../src/worker-pool.js';

function effect(id: string, recovered = false): Claimed<EffectRecord> {
  return {
    kind: 'effect', id, workflowType: 'payment', workflowId: id, status: 'leased', attempts: recovered ? 2 : 1,
    createdAt: 0, updatedAt: 0, availableAt: 0, payload: null, lease: { kind: 'effect', id, token: `t-${id}` }, recovered,
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function scriptedPool(script: Claimed<EffectRecord>[][]) {
  const claims: { limit: number; got: string[] }[] = [];
  const finish = new Map<string, () => void>();
  const started: string[] = [];
  const pool = new WorkerPool<EffectRecord>({
    kind: 'effect',
    settings: { concurrency: 4, batchSize: 4, pollIntervalMs: 600_000, leaseMs: 600_000 },
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
    release: async () => undefined,
    lost: () => undefined,
    logger: silentLogger,
    lifecycle: new LifecycleEmitter(silentLogger),
    now: () => 0,
  });
  return { pool, claims, started, settle: (id: string) => finish.get(id)?.() };
}

describe('the claim loop', () => {
  it('claims again at once while claims bring work and slots are free, and sleeps after one empty claim', async () => {
    const t = scriptedPool([[effect('a')], [effect('b')]]);
    t.pool.start();
    await turn();
    expect(t.claims).toEqual([{ limit: 4, got: ['a'] }, { limit: 3, got: ['b'] }, { limit: 2, got: [] }]);
    // A wake-up with nothing to claim costs one claim, as does a freed slot.
    t.pool.poke();
    await turn();
    t.settle('a');
    await turn();
    expect(t.claims.slice(3)).toEqual([{ limit: 2, got: [] }, { limit: 3, got: [] }]);
    t.settle('b');
    await t.pool.stop(1_000);
  });

  it('a claim that stops before a recovered row is followed at once by the claim that takes it alone', async () => {
    const t = scriptedPool([[effect('a')], [effect('r', true)], [effect('c')]]);
    t.pool.start();
    await turn();
    expect(t.claims).toEqual([{ limit: 4, got: ['a'] }, { limit: 3, got: ['r'] }]);
    expect(t.started).toEqual(['a']);
    t.pool.poke();
    await turn();
    expect(t.claims).toHaveLength(2);
    t.settle('a');
    await turn();
    expect(t.started).toEqual(['a', 'r']);
    expect(t.claims).toHaveLength(2);
    // Settling the recovered item resumes claiming without waiting for the poll interval.
    t.settle('r');
    await turn();
    expect(t.claims.slice(2)).toEqual([{ limit: 4, got: ['c'] }, { limit: 3, got: [] }]);
    expect(t.started).toEqual(['a', 'r', 'c']);
    t.settle('c');
    await t.pool.stop(1_000);
  });
});
