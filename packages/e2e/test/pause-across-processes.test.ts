// Pausing a workflow type while three worker processes run it (issue 9), on PostgreSQL and Redis:
// nothing of the type is claimed from the pause until the resume, in any process, work already
// claimed finishes, and after the resume everything completes, each handler having run once.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BacklogEntry, WorkflowStore } from '@ironflow/core/store';
import { createEngine, register, silentLogger } from '@ironflow/runtime';
import { testServerUrl } from '@ironflow/testing';
import { controlIds, controlJob } from './fixtures/control-workflow.js';
import { startWorkers, stopWorkers, waitUntil, type ControlWorker } from './control-workers.js';
import { openPostgres, openRedis, type ServerStore } from './server-stores.js';

const WORKERS = 3;
/** Handlers each worker runs at once, and effects it claims ahead (its local queue). */
const CONCURRENCY = 2;
const PREFETCH = 2;
/** What a worker holds when full: it claims until then, so with enough work each holds exactly this. */
const HELD = CONCURRENCY + PREFETCH;
/** Jobs started before the pause (more than the workers can hold) and during it. */
const BEFORE = 24;
const DURING = 6;
/** Claims every worker must make while paused and idle, each of them empty. */
const IDLE_CLAIMS = 3;
/**
 * Long, so that no lease lapses under a handler on a busy machine (a re-run would break the
 * exactly-once count); nothing in this test waits for a lease to expire.
 */
const LEASE_MS = 20_000;
const RUN_TIMEOUT_MS = 600_000;

/** The effect row of the control type as `backlog` counts it (zeros when the store lists none). */
async function effectBacklog(store: WorkflowStore): Promise<Omit<BacklogEntry, 'workflowType' | 'kind' | 'oldestDueAt'>> {
  const entry = (await store.backlog(Date.now())).find((e) => e.workflowType === controlJob.type && e.kind === 'effect');
  return { pending: entry?.pending ?? 0, due: entry?.due ?? 0, leased: entry?.leased ?? 0, paused: entry?.paused ?? 0, dead: entry?.dead ?? 0 };
}

async function completedIds(store: WorkflowStore): Promise<string[]> {
  const completed = await store.listInstances({ workflowType: controlJob.type, status: 'completed', limit: 1000 });
  return completed.map((i) => i.workflowId).sort();
}

const startedIds = (workers: readonly ControlWorker[]): string[] => workers.flatMap((w) => w.started).sort();

async function pauseRun(open: () => Promise<ServerStore>, name: string): Promise<void> {
  const began = Date.now();
  const server = await open();
  const dir = await mkdtemp(join(tmpdir(), 'ironflow-pause-'));
  const gate = join(dir, 'gate');
  const { store } = server;
  // The operator's engine, in this process: it starts jobs, pauses and resumes, and claims nothing.
  const engine = createEngine({ store, logger: silentLogger, workflows: [register(controlJob)] });
  let workers: ControlWorker[] = [];
  try {
    workers = await startWorkers(WORKERS, {
      ...server.target,
      handler: 'gate',
      gate,
      leaseMs: LEASE_MS,
      concurrency: CONCURRENCY,
      batchSize: CONCURRENCY,
      prefetch: PREFETCH,
      pollIntervalMs: 100,
    });
    const before = controlIds('before', BEFORE);
    const during = controlIds('during', DURING);
    const started = await engine.executeMany(controlJob, before.map((id) => ({ type: 'Start' as const, id })));
    expect(started.map((r) => r.status)).toEqual(before.map(() => 'accepted'));

    // Every worker fills up: two handlers waiting at the (closed) gate, two effects claimed ahead.
    // There is more work than they can hold, so each gets there whatever the order of their claims.
    await waitUntil(
      `each worker runs ${CONCURRENCY} handlers and holds ${HELD} effects`,
      async () => workers.every((w) => w.started.length === CONCURRENCY && w.claims.reduce((a, b) => a + b, 0) === HELD) && (await effectBacklog(store)).leased === WORKERS * HELD,
      workers,
    );
    const leased = await store.listWork({ kind: 'effect', workflowType: controlJob.type, status: 'leased', limit: 1000 });
    const held = leased.items.map((e) => e.workflowId).sort();
    expect(held).toHaveLength(WORKERS * HELD);
    // A full worker does not claim: every claim from here on starts after the pause.
    const claimsAtPause = workers.map((w) => w.claims.length);
    /** What would show the pause broken, checked by every wait until the resume. */
    const pauseBroken = (): string | undefined => {
      const stray = startedIds(workers).find((id) => !held.includes(id));
      if (stray !== undefined) return `a handler ran for ${stray}, which no worker held when the type was paused`;
      const claimed = workers.findIndex((w, i) => w.claims.slice(claimsAtPause[i]).some((n) => n > 0));
      return claimed < 0 ? undefined : `${workers[claimed]!.name} claimed effects of the paused type`;
    };

    expect(await engine.pauseType(controlJob.type)).toBe(true);
    expect(await engine.pauseType(controlJob.type)).toBe(false);
    expect(await engine.listPaused()).toEqual([{ type: controlJob.type, since: expect.any(Number) }]);
    const more = await engine.executeMany(controlJob, during.map((id) => ({ type: 'Start' as const, id })));
    expect(more.map((r) => r.status)).toEqual(during.map(() => 'accepted'));

    // Open the gate: the pause stops claims, not work already claimed, so all that was held finishes.
    await writeFile(gate, '');
    await waitUntil(
      'the work held at the pause completed and nothing is leased',
      async () => (await completedIds(store)).length === held.length && (await effectBacklog(store)).leased === 0,
      workers,
      pauseBroken,
    );
    // Quiet now: every worker keeps polling (each freed slot also pokes a claim); let each claim a few more times.
    const claimsWhenQuiet = workers.map((w) => w.claims.length);
    await waitUntil(`every worker claimed ${IDLE_CLAIMS} more times`, () => workers.every((w, i) => w.claims.length >= claimsWhenQuiet[i]! + IDLE_CLAIMS), workers, pauseBroken);

    // The facts of the pause: every claim since it came back empty, only what was held ran, and the
    // rest, including everything started during the pause, waits pending, counted as paused.
    expect(workers.map((w, i) => w.claims.slice(claimsAtPause[i]).filter((n) => n > 0))).toEqual(workers.map(() => []));
    expect(startedIds(workers)).toEqual(held);
    expect(await completedIds(store)).toEqual(held);
    expect(await effectBacklog(store)).toEqual({ pending: 0, due: 0, leased: 0, paused: BEFORE + DURING - held.length, dead: 0 });
    const claimsPaused = workers.map((w, i) => w.claims.length - claimsAtPause[i]!);

    expect(await engine.resumeType(controlJob.type)).toBe(true);
    expect(await engine.listPaused()).toEqual([]);
    const all = [...before, ...during].sort();
    await waitUntil('every job completed after the resume', async () => (await completedIds(store)).length === all.length, workers);
    await stopWorkers(workers);

    // Everything completed once: each handler ran exactly once, no attempt was retried or recovered.
    expect(startedIds(workers)).toEqual(all);
    expect(await completedIds(store)).toEqual(all);
    for (const id of all) {
      const ref = { type: controlJob.type, id };
      expect((await store.readEvents(ref)).map((e) => e.type)).toEqual(['Started', 'Finished']);
      expect((await store.listEffects(ref)).map((e) => `${e.status}/${e.attempts}`)).toEqual(['done/1']);
    }
    const events = workers.flatMap((w) => w.events);
    expect(events.filter((e) => e.type !== 'effect.succeeded')).toEqual([]);
    expect(events).toHaveLength(all.length);
    expect(await effectBacklog(store)).toEqual({ pending: 0, due: 0, leased: 0, paused: 0, dead: 0 });
    console.log(
      `[pause] ${name}: ${((Date.now() - began) / 1000).toFixed(1)} s; ${held.length} held at the pause ran, ${all.length - held.length} waited; ` +
        `empty claims while paused per worker: ${claimsPaused.join(', ')}; handlers per worker: ${workers.map((w) => w.started.length).join(', ')}`,
    );
  } finally {
    await Promise.all(workers.map((w) => w.kill()));
    await rm(dir, { recursive: true, force: true });
    await server.cleanUp();
  }
}

const postgresUrl = testServerUrl('postgres');
const redisUrl = testServerUrl('redis');
const title = `pausing a type while ${WORKERS} worker processes run it holds all its new claims until the resume; then everything completes once`;

describe.skipIf(!postgresUrl)('pause across processes (PostgreSQL)', () => {
  it(title, () => pauseRun(() => openPostgres(postgresUrl ?? '', 'ironflow_pause'), 'postgres'), RUN_TIMEOUT_MS);
});

describe.skipIf(!redisUrl)('pause across processes (Redis)', () => {
  it(title, () => pauseRun(() => openRedis(redisUrl ?? '', 'ironflow_pause'), 'redis'), RUN_TIMEOUT_MS);
});
