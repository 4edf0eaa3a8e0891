// Group commit and executeMany: concurrent calls share batches, a lone call is not held back, and
// every caller gets its own outcome.
import { describe, expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import { LeaseLostError, StoreError, type BatchResult, type CommitRequest, type LeaseChange, type WorkflowStore } from '@ironflow/core/store';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, silentLogger } from '../src/index.js';
import { Batcher } from '../src/group-commit.js';
import { payWorkflow } from './fixtures.js';

/** A send function whose batches stay in flight until the test answers them. */
function heldSend() {
  const batches: { items: number[]; answer: (results: BatchResult[]) => void; fail: (error: unknown) => void }[] = [];
  const send = (items: number[]) =>
    new Promise<BatchResult[]>((answer, fail) => {
      batches.push({ items, answer, fail });
    });
  return { batches, send };
}

const ok = (n: number): BatchResult[] => Array.from({ length: n }, () => ({ ok: true }));
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('Batcher', () => {
  it('sends a lone item at once, and gathers the items submitted while a batch is in flight', async () => {
    const { batches, send } = heldSend();
    const batcher = new Batcher(send, { maxBatch: 100, maxInFlight: 1 });
    const first = batcher.submit(1);
    await turn();
    expect(batches.map((b) => b.items)).toEqual([[1]]);
    const rest = [2, 3, 4].map((n) => batcher.submit(n));
    await turn();
    expect(batches).toHaveLength(1);
    expect(batcher.queued).toBe(3);
    batches[0]!.answer(ok(1));
    await first;
    await turn();
    expect(batches.map((b) => b.items)).toEqual([[1], [2, 3, 4]]);
    batches[1]!.answer(ok(3));
    await Promise.all(rest);
  });

  it('splits at maxBatch and keeps at most maxInFlight batches out', async () => {
    const { batches, send } = heldSend();
    const batcher = new Batcher(send, { maxBatch: 2, maxInFlight: 2 });
    const all = [1, 2, 3, 4, 5].map((n) => batcher.submit(n));
    await turn();
    expect(batches.map((b) => b.items)).toEqual([[1, 2], [3, 4]]);
    batches[1]!.answer(ok(2));
    await turn();
    expect(batches.map((b) => b.items)).toEqual([[1, 2], [3, 4], [5]]);
    batches[0]!.answer(ok(2));
    batches[2]!.answer(ok(1));
    await Promise.all(all);
  });

  it('gives each caller its own error, and every caller the error of a failed batch', async () => {
    const { batches, send } = heldSend();
    const batcher = new Batcher(send, { maxBatch: 10, maxInFlight: 1 });
    const calls = [1, 2, 3].map((n) => batcher.submit(n).then(() => 'ok', (error: unknown) => error));
    await turn();
    const lost = new LeaseLostError('effect', 'e2');
    batches[0]!.answer([{ ok: true }, { ok: false, error: lost }, { ok: true }]);
    expect(await Promise.all(calls)).toEqual(['ok', lost, 'ok']);
    const failed = [4, 5].map((n) => batcher.submit(n).then(() => 'ok', (error: unknown) => error));
    await turn();
    const down = new StoreError('unavailable', 'connection refused');
    batches[1]!.fail(down);
    expect(await Promise.all(failed)).toEqual([down, down]);
    // The batcher keeps working after a failed batch.
    const after = batcher.submit(6);
    await turn();
    batches[2]!.answer(ok(1));
    await after;
  });
});

/** Records the batches a store receives. */
function recording(inner: WorkflowStore) {
  const commits: number[] = [];
  const changes: string[][] = [];
  const store: WorkflowStore = {
    ...inner,
    commitMany: async (requests: readonly CommitRequest[]) => {
      commits.push(requests.length);
      return inner.commitMany(requests);
    },
    settleMany: async (batch: readonly LeaseChange[]) => {
      changes.push(batch.map((c) => c.op));
      return inner.settleMany(batch);
    },
  };
  return { store, commits, changes };
}

describe('group commit in the engine', () => {
  it('concurrent executes share commit batches, and each gets its own result', async () => {
    const { store, commits } = recording(createMemoryStore());
    const pay = payWorkflow();
    const engine = createEngine({ store, logger: silentLogger, workflows: [pay] });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => engine.execute(pay, { type: 'Start', id: `g${i}`, amount: 1 })));
    expect(results.every((r) => r.status === 'accepted')).toBe(true);
    expect(commits.reduce((a, b) => a + b, 0)).toBe(200);
    expect(commits.length).toBeLessThan(20);
  });

  it('settlements of effects that route nothing go out in batches', async () => {
    const { store, changes } = recording(createMemoryStore());
    const pay = payWorkflow();
    const engine = createEngine({
      store,
      logger: silentLogger,
      workflows: [{ workflow: pay, handler: async () => undefined }],
      effects: { concurrency: 50, batchSize: 50 },
    });
    await engine.executeMany(pay, Array.from({ length: 50 }, (_, i) => ({ type: 'Start' as const, id: `s${i}`, amount: 1 })));
    expect((await engine.runUntilIdle()).effects).toBe(50);
    const completes = changes.filter((batch) => batch.includes('complete'));
    expect(completes.flat()).toHaveLength(50);
    expect(completes.length).toBeLessThan(10);
  });

  it('groupCommit: false sends every commit on its own', async () => {
    const { store, commits } = recording(createMemoryStore());
    const pay = payWorkflow();
    const engine = createEngine({ store, logger: silentLogger, workflows: [pay], groupCommit: false });
    await Promise.all(Array.from({ length: 5 }, (_, i) => engine.execute(pay, { type: 'Start', id: `f${i}`, amount: 1 })));
    expect(commits).toEqual([]);
    expect(await store.listInstances({ workflowType: 'payment' })).toHaveLength(5);
  });

  it('refuses group commit settings it cannot honour', () => {
    const store = createMemoryStore();
    for (const groupCommit of [{ maxBatch: 0 }, { maxBatch: 1001 }, { maxInFlight: 0 }, { maxBatch: 2.5 }, 'yes']) {
      expect(() => createEngine({ store, logger: silentLogger, workflows: [], groupCommit: groupCommit as never }), JSON.stringify(groupCommit)).toThrowError(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });
});

describe('executeMany', () => {
  it('returns one outcome per input, in order, and one bad input affects no other', async () => {
    const store = createMemoryStore();
    const pay = payWorkflow();
    const engine = createEngine({ store, logger: silentLogger, workflows: [pay] });
    await engine.execute(pay, { type: 'Start', id: 'taken', amount: 1, customer: 'c-1' });
    const results = await engine.executeMany(
      pay,
      [
        { type: 'Start', id: 'm1', amount: 3 },
        { type: 'Start', id: 'm1', amount: 4 }, // the same instance, after the first: rejected
        { type: 'Remind', id: 'm1', n: 7 },
        { type: 'Start', id: 'm2', amount: -1 }, // fails its schema
        { type: 'Start', id: 'm3', amount: 1, customer: 'c-1' }, // unique key held by 'taken'
        { type: 'Remind', id: 'taken', n: 1 },
        { type: 'Remind', id: 'taken', n: 1 }, // same idempotency key as the previous one
      ],
      { idempotencyKey: (_input, index) => (index >= 5 ? 'remind-once' : undefined) },
    );
    expect(results.map((r) => r.status)).toEqual(['accepted', 'rejected', 'accepted', 'failed', 'failed', 'accepted', 'duplicate']);
    expect(results[2]).toMatchObject({ status: 'accepted', version: 2 });
    const failed = results[3]!;
    expect(failed.status === 'failed' && isIronflowError(failed.error, 'VALIDATION_FAILED')).toBe(true);
    const held = results[4]!;
    expect(held.status === 'failed' && isIronflowError(held.error, 'UNIQUE_KEY_CONFLICT')).toBe(true);
    expect((await store.readEvents({ type: 'payment', id: 'm1' })).map((e) => e.type)).toEqual(['Started', 'Reminded']);
    expect(await store.load({ type: 'payment', id: 'm2' })).toMatchObject({ version: 0 });
    expect(await store.readEvents({ type: 'payment', id: 'taken' })).toHaveLength(2);
  });

  it('commits thousands of new instances in a few batches, without loads', async () => {
    const inner = createMemoryStore();
    const { store, commits } = recording(inner);
    let loads = 0;
    const counting: WorkflowStore = { ...store, load: (ref, options) => ((loads += 1), inner.load(ref, options)) };
    const pay = payWorkflow();
    const engine = createEngine({ store: counting, logger: silentLogger, workflows: [pay] });
    const results = await engine.executeMany(pay, Array.from({ length: 3000 }, (_, i) => ({ type: 'Start' as const, id: `b${i}`, amount: 1 })));
    expect(results.every((r) => r.status === 'accepted')).toBe(true);
    expect(loads).toBe(0);
    expect(commits.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(commits.length).toBeLessThan(60);
    expect(Math.max(...commits)).toBeLessThanOrEqual(250);
  });

  it('refuses what is not an array of inputs', async () => {
    const pay = payWorkflow();
    const engine = createEngine({ store: createMemoryStore(), logger: silentLogger, workflows: [pay] });
    await expect(engine.executeMany(pay, 'nope' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(engine.executeMany(pay, [], { idempotencyKey: 'k' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await engine.executeMany(pay, [])).toEqual([]);
  });
});
