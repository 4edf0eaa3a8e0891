// Started engines on real timers: a projection keeps up while inputs are executed, a stopped holder
// hands over at once, a failing store shows in health until it recovers, a reset aborts the batch
// in hand and rebuilds, and stop() aborts a batch that outlives the shutdown timeout. Waits poll with
// generous limits; nothing depends on how fast the machine is.
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, defineProjection, type Engine, type ProjectedEvent } from '../src/index.js';
import { aborted, eventually, recordingLogger } from './fixtures.js';
import { counterWorkflow, countingStore } from './projection-fixtures.js';

const counter = counterWorkflow();
const FAST = { claimIntervalMs: 20, pollIntervalMs: 50, lagIntervalMs: 20 };

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

function started(options: Parameters<typeof createEngine>[0]): Engine {
  const engine = createEngine({ logger: recordingLogger(), projectionOptions: FAST, ...options });
  engines.push(engine);
  engine.start();
  return engine;
}

/** A read model of applied events, keyed by instance and sequence. */
function readModel(name: string, by: string, into: Map<string, string>, options: { handle?: (batch: readonly ProjectedEvent[], signal: AbortSignal) => Promise<void> } = {}) {
  return defineProjection({
    name,
    workflows: [counter],
    batchSize: 7,
    async handle(batch, ctx) {
      await options.handle?.(batch, ctx.signal);
      for (const e of batch) into.set(`${e.workflowId}#${e.sequence}`, by);
    },
  });
}

describe('projections on started engines', () => {
  it('keeps up while inputs are executed; a stopped holder hands over to a standby engine at once', async () => {
    const store = createMemoryStore();
    const applied = new Map<string, string>();
    const a = started({ store, workflows: [counter], workerId: 'a', projections: [readModel('live', 'a', applied)] });
    await eventually(() => a.health().projections.live?.state === 'active');
    const b = started({ store, workflows: [counter], workerId: 'b', projections: [readModel('live', 'b', applied)] });
    for (let i = 0; i < 60; i++) await a.execute(counter, { type: 'Add', id: `o-${i % 12}`, n: i });
    await eventually(() => applied.size === 60);
    expect([...applied.values()].every((by) => by === 'a')).toBe(true);
    expect(b.health().projections.live?.state).toBe('standby');
    await eventually(() => a.health().projections.live?.lag?.events === 0);
    expect(a.health()).toMatchObject({ status: 'ok', projections: { live: { state: 'active', consecutiveFailures: 0 } } });

    await a.stop();
    // Well before a's 30 s lease could have run out: it was released.
    await eventually(() => b.health().projections.live?.state === 'active', 20_000);
    for (let i = 0; i < 5; i++) await b.execute(counter, { type: 'Add', id: 'later', n: i });
    await eventually(() => applied.size === 65);
    expect([...applied].filter(([key]) => key.startsWith('later')).every(([, by]) => by === 'b')).toBe(true);
    expect(a.health().projections.live?.state).toBe('stopped');
  }, 120_000);

  it('a failing store shows in health as degraded, with the error, until the loop recovers', async () => {
    const store = countingStore();
    const applied = new Map<string, string>();
    const engine = started({ store, workflows: [counter], projections: [readModel('flaky', 'a', applied)] });
    await eventually(() => engine.health().projections.flaky?.state === 'active');
    store.failReads = new Error('connection reset');
    await eventually(() => (engine.health().projections.flaky?.consecutiveFailures ?? 0) >= 2);
    expect(engine.health()).toMatchObject({ status: 'degraded', projections: { flaky: { state: 'active', lastError: 'Error: connection reset' } } });
    store.failReads = undefined;
    await engine.execute(counter, { type: 'Add', id: 'o-1', n: 1 });
    await eventually(() => applied.has('o-1#1'));
    await eventually(() => engine.health().status === 'ok');
    expect(engine.health().projections.flaky?.lastError).toBeUndefined();
  }, 120_000);

  it('a reset aborts the batch in hand (its signal), and the holder claims again and rebuilds from the start', async () => {
    const store = createMemoryStore();
    const applied = new Map<string, string>();
    let rounds = 0;
    let abortedOnce = false;
    const engine = started({
      store,
      workflows: [counter],
      projectionOptions: { ...FAST, leaseMs: 300 },
      projections: [
        readModel('rebuilt', 'a', applied, {
          async handle(_batch, signal) {
            rounds += 1;
            if (rounds > 1) return;
            // The first batch waits for the engine to let it go: the reset, seen at the next renewal.
            await aborted(signal);
            abortedOnce = true;
            throw signal.reason;
          },
        }),
      ],
    });
    await engine.execute(counter, { type: 'Add', id: 'o-1', n: 1 });
    await eventually(() => rounds === 1);
    await engine.projections.reset('rebuilt');
    await eventually(() => applied.has('o-1#1'));
    expect(abortedOnce).toBe(true);
    expect(await engine.projections.deadLetters.list('rebuilt')).toEqual({ items: [] });
    expect((await engine.projections.get('rebuilt'))?.position).toBe('1');
  }, 120_000);

  it('stop() waits for the batch in hand up to the shutdown timeout, then aborts it and releases the lease', async () => {
    const store = createMemoryStore();
    const applied = new Map<string, string>();
    let signal: AbortSignal | undefined;
    const engine = started({
      store,
      workflows: [counter],
      shutdownTimeoutMs: 100,
      projections: [
        readModel('stuck', 'a', applied, {
          handle: (_batch, s) => {
            signal = s;
            return new Promise(() => undefined);
          },
        }),
      ],
    });
    await engine.execute(counter, { type: 'Add', id: 'o-1', n: 1 });
    await eventually(() => signal !== undefined);
    await engine.stop();
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toMatchObject({ code: 'SHUTTING_DOWN' });
    const report = await engine.projections.get('stuck');
    expect(report?.held).toBe(false);
    expect(report?.position).toBeUndefined();
    expect(applied.size).toBe(0);
  }, 120_000);
});
