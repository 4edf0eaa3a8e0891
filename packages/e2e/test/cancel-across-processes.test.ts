// Cancelling instances while worker processes run their handlers (issue 9), on PostgreSQL and
// Redis: the test process cancels, the workers learn it at their next lease renewal, every
// handler's AbortSignal fires with CANCELLED, and the result each handler returns afterwards is
// never routed: the instances stay as they were when cancelled, their effects listed as cancelled.
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '@ironflow/core/store';
import { createEngine, register, silentLogger } from '@ironflow/runtime';
import { testServerUrl } from '@ironflow/testing';
import { controlIds, controlJob } from './fixtures/control-workflow.js';
import { startWorkers, stopWorkers, waitUntil, type ControlWorker } from './control-workers.js';
import { openPostgres, openRedis, type ServerStore } from './server-stores.js';

const WORKERS = 3;
const JOBS = 6;
/**
 * The workers' lease: their renewal, every third of it, is how they learn of the cancel, so it is
 * short to keep the test quick, yet outlasts an event-loop stall of 2 s (a lapsed lease would show
 * as a recovered effect, which fails the test with its own message).
 */
const LEASE_MS = 3_000;
const REASON = 'e2e: cancelled while its handler ran';
const RUN_TIMEOUT_MS = 600_000;

async function cancelRun(open: () => Promise<ServerStore>, name: string): Promise<void> {
  const began = Date.now();
  const server = await open();
  const { store } = server;
  // The operator's engine, in this process: it starts and cancels jobs, and runs no handler.
  const engine = createEngine({ store, logger: silentLogger, workflows: [register(controlJob)] });
  let workers: ControlWorker[] = [];
  try {
    // Each worker can run every job at once, and claims one effect at a time with no local queue:
    // every job's handler runs, in whichever worker claims it first.
    workers = await startWorkers(WORKERS, { ...server.target, handler: 'abort', leaseMs: LEASE_MS, concurrency: JOBS, batchSize: 1, prefetch: 0, pollIntervalMs: 100 });
    const ids = controlIds('job', JOBS);
    const refs = ids.map((id) => ({ type: controlJob.type, id }));
    const started = await engine.executeMany(controlJob, ids.map((id) => ({ type: 'Start' as const, id })));
    expect(started.map((r) => r.status)).toEqual(ids.map(() => 'accepted'));
    const startedIds = () => workers.flatMap((w) => w.started).sort();
    /** A handler that ended or an effect that settled before the cancel breaks the test's premise. */
    const early = (): string | undefined => {
      const ended = workers.find((w) => w.aborted.length + w.timeouts.length + w.events.length > 0);
      return ended === undefined ? undefined : `${ended.name} reported an end before the cancel: ${JSON.stringify({ aborted: ended.aborted, timeouts: ended.timeouts, events: ended.events })}`;
    };
    await waitUntil(`all ${JOBS} handlers are running`, () => startedIds().length === JOBS, workers, early);
    expect(startedIds()).toEqual(ids);

    // What each instance is when cancelled: nothing a handler returns may change it.
    const before = new Map<string, { version: number; events: StoredEvent[] }>();
    for (const ref of refs) {
      const loaded = await store.load(ref);
      expect(loaded.status).toBe('active');
      before.set(ref.id, { version: loaded.version, events: await store.readEvents(ref) });
      expect((await store.listEffects(ref)).map((e) => e.status)).toEqual(['leased']);
    }
    expect(early()).toBeUndefined();

    for (const ref of refs) expect(await engine.cancel(ref, REASON)).toEqual({ outcome: 'cancelled', effects: 1, timers: 0 });

    // Each worker learns at its next renewal, aborts the handler, and reports the effect cancelled.
    const cancelledIds = () => workers.flatMap((w) => w.events.filter((e) => e.type === 'effect.cancelled').map((e) => (e as { workflowId: string }).workflowId)).sort();
    const unexpected = (): string | undefined => {
      const timedOut = workers.flatMap((w) => w.timeouts);
      if (timedOut.length > 0) return `handlers whose signal never fired: ${timedOut.join(', ')}`;
      const other = workers.flatMap((w) => w.events).find((e) => e.type !== 'effect.cancelled');
      return other === undefined ? undefined : `a worker reported ${JSON.stringify(other)}`;
    };
    await waitUntil(
      'every handler was aborted and every effect reported cancelled',
      () => workers.flatMap((w) => w.aborted).length === JOBS && cancelledIds().length === JOBS,
      workers,
      unexpected,
    );
    // The handlers returned their results after the abort; stopping drains whatever was still in flight.
    await stopWorkers(workers);

    const aborted = workers.flatMap((w) => w.aborted).sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(aborted).toEqual(ids.map((id) => ({ id, code: 'CANCELLED' })));
    expect(cancelledIds()).toEqual(ids);
    expect(unexpected()).toBeUndefined();
    for (const ref of refs) {
      const loaded = await store.load(ref);
      expect({ status: loaded.status, version: loaded.version }).toEqual({ status: 'cancelled', version: before.get(ref.id)!.version });
      expect(await store.readEvents(ref)).toEqual(before.get(ref.id)!.events);
      expect((await store.listEffects(ref)).map((e) => ({ status: e.status, lastError: e.lastError }))).toEqual([{ status: 'cancelled', lastError: REASON }]);
      // A late result sent now is answered as cancelled, undecided, as the workers' were.
      expect(await engine.execute(controlJob, { type: 'Finish', id: ref.id })).toMatchObject({ status: 'cancelled' });
    }
    const cancelled = await store.listInstances({ workflowType: controlJob.type, status: 'cancelled', limit: 100 });
    expect(cancelled.map((i) => [i.workflowId, i.cancelReason]).sort()).toEqual(ids.map((id) => [id, REASON]));
    expect(await store.listInstances({ workflowType: controlJob.type, status: 'completed', limit: 100 })).toEqual([]);
    expect((await store.backlog(Date.now())).filter((e) => e.workflowType === controlJob.type)).toEqual([]);
    console.log(
      `[cancel] ${name}: ${((Date.now() - began) / 1000).toFixed(1)} s; handlers per worker: ${workers.map((w) => w.started.length).join(', ')}`,
    );
  } finally {
    await Promise.all(workers.map((w) => w.kill()));
    await server.cleanUp();
  }
}

const postgresUrl = testServerUrl('postgres');
const redisUrl = testServerUrl('redis');
const title = `cancelling ${JOBS} instances from another process aborts their running handlers with CANCELLED and routes none of their results`;

describe.skipIf(!postgresUrl)('cancel across processes (PostgreSQL)', () => {
  it(title, () => cancelRun(() => openPostgres(postgresUrl ?? '', 'ironflow_cancel'), 'postgres'), RUN_TIMEOUT_MS);
});

describe.skipIf(!redisUrl)('cancel across processes (Redis)', () => {
  it(title, () => cancelRun(() => openRedis(redisUrl ?? '', 'ironflow_cancel'), 'redis'), RUN_TIMEOUT_MS);
});
