// Poison isolation across real processes (issue 7): one job's effect SIGKILLs its worker, twelve
// normal jobs, concurrency 4, maxAttempts 3, a supervisor restarting the worker until it reports
// completion. Only the poison may end dead; every normal job completes within two attempts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import type { WorkflowStore } from '@ironflow/core/store';
import { createPGliteStore, createPostgresStore, migratePostgresStore } from '@ironflow/store-postgres';
import { createRedisStore } from '@ironflow/store-redis';
import { testServerUrl, uniqueName } from '@ironflow/testing';
import { CONCURRENCY, jobIds, jobWorkflow, MAX_ATTEMPTS } from './fixtures/poison-workflow.js';
import type { StoreTarget } from './fixtures/worker-config.js';
import { superviseUntilComplete, type SupervisedRun } from './supervise.js';

/**
 * Lease of the workers (`IRONFLOW_POISON_LEASE_MS` overrides it, to measure). The issue used 400 ms,
 * renewed every 133 ms. A PGlite worker runs the database in its own event loop, and a freshly
 * started worker's first queries there are slow: at load 6–12 on 2 cores its loop stalled for
 * 0.6–0.85 s right after its first claim, the renewal could not run, the 400 ms lease lapsed under a
 * healthy handler and the worker re-claimed the item (all 8 runs at 400 ms failed: innocent jobs at
 * 3 attempts). PostgreSQL and Redis workers stalled at most 18 ms. 3 s outlasts a stall of 3 s,
 * several times the worst measured, at the cost of a slower recovery after each crash.
 */
const LEASE_MS = Number(process.env.IRONFLOW_POISON_LEASE_MS ?? '3000');
if (!Number.isInteger(LEASE_MS) || LEASE_MS < 1) throw new Error(`IRONFLOW_POISON_LEASE_MS must be a whole number of ms, got ${process.env.IRONFLOW_POISON_LEASE_MS}`);

/** Runs per store: 1 in the normal suite, `IRONFLOW_POISON_RUNS=10` (`pnpm poison:10`) for the bar. */
const RUNS = Number(process.env.IRONFLOW_POISON_RUNS ?? '1');
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`IRONFLOW_POISON_RUNS must be a whole number >= 1, got ${process.env.IRONFLOW_POISON_RUNS}`);

/** A ceiling for one run on a busy machine (three crashes, three lease expiries, thirteen jobs), not an expectation. */
const RUN_TIMEOUT_MS = 600_000;

/** One store's run: where the workers go, how the supervisor reads the result, and clean-up. */
interface Backend {
  readonly target: StoreTarget;
  /** Opens a store on the run's data for verification (PGlite: only after the last worker exited). */
  readonly inspect: () => Promise<{ store: WorkflowStore; close: () => Promise<void> }>;
  readonly cleanUp: () => Promise<void>;
}

async function postgresBackend(url: string): Promise<Backend> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const schema = uniqueName('ironflow_poison');
  await migratePostgresStore({ pool, schema });
  return {
    target: { store: 'postgres', url, schema },
    inspect: async () => {
      const store = createPostgresStore({ pool, schema });
      return { store, close: () => store.close() };
    },
    cleanUp: async () => {
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

async function redisBackend(url: string): Promise<Backend> {
  const client = new Redis(url);
  const keyPrefix = uniqueName('ironflow_poison');
  const store = createRedisStore({ client, keyPrefix });
  return {
    target: { store: 'redis', url, keyPrefix },
    inspect: async () => ({ store, close: async () => undefined }),
    cleanUp: async () => {
      await store.destroy();
      await store.close();
      client.disconnect();
    },
  };
}

async function pgliteBackend(): Promise<Backend> {
  const dir = await mkdtemp(join(tmpdir(), 'ironflow-poison-'));
  const dataDir = join(dir, 'db');
  return {
    target: { store: 'pglite', dataDir, template: inject('pgliteTemplate') },
    inspect: async () => {
      const store = await createPGliteStore({ dataDir });
      return { store, close: () => store.close() };
    },
    cleanUp: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Each effect's `status/attempts`; normal jobs that completed within two attempts read `done/≤2`. */
async function outcome(store: WorkflowStore, ids: readonly string[]): Promise<Record<string, string>> {
  const summary: Record<string, string> = {};
  for (const id of ids) {
    const effects = await store.listEffects({ type: jobWorkflow.type, id });
    summary[id] = effects.map((e) => (id !== 'poison' && e.status === 'done' && e.attempts <= 2 ? 'done/≤2' : `${e.status}/${e.attempts}`)).join(' ');
  }
  return summary;
}

async function poisonRun(open: () => Promise<Backend>, name: string, run: number): Promise<void> {
  // Runs rotate the poison through the first batch, starting in its middle: there the jobs claimed
  // with it are re-claimed next to it after the crash, which only the pool's isolation keeps apart.
  const poisonAt = (run + 1) % CONCURRENCY;
  const ids = jobIds(poisonAt);
  const backend = await open();
  try {
    const began = Date.now();
    const result: SupervisedRun = await superviseUntilComplete({ ...backend.target, leaseMs: LEASE_MS, poisonAt }, MAX_ATTEMPTS + 3);
    const { claims, emptyClaims, recovered } = result.report;
    console.log(
      `[poison] ${name} run ${run}/${RUNS}: ${result.crashes} crashes, ${((Date.now() - began) / 1000).toFixed(1)} s, lease ${LEASE_MS} ms, ` +
        `longest event-loop stall ${result.maxLagMs} ms, slowest renewal ${result.maxRenewalMs} ms; last worker: ${claims} claims (${emptyClaims} empty), ${recovered} recovered`,
    );
    const { store, close } = await backend.inspect();
    try {
      const expected = Object.fromEntries(ids.map((id) => [id, id === 'poison' ? `dead/${MAX_ATTEMPTS + 1}` : 'done/≤2']));
      expect(await outcome(store, ids)).toEqual(expected);
      const dead = await store.listDeadLetters({ kind: 'effect', workflowType: jobWorkflow.type });
      expect(dead.map((d) => d.workflowId)).toEqual(['poison']);
      const completed = await store.listInstances({ workflowType: jobWorkflow.type, status: 'completed', limit: 100 });
      expect(completed.map((i) => i.workflowId).sort()).toEqual(ids.filter((id) => id !== 'poison').sort());
      // The poison crashed its worker on each allowed attempt; the next claim dead-lettered it unrun.
      expect(result.crashes).toBe(MAX_ATTEMPTS);
    } finally {
      await close();
    }
  } finally {
    await backend.cleanUp();
  }
}

const postgresUrl = testServerUrl('postgres');
const redisUrl = testServerUrl('redis');
const runs = Array.from({ length: RUNS }, (_, i) => i + 1);
const title = 'only the poison is dead, every normal job completes, none used more than 2 attempts';

describe('poison isolation across processes (PGlite, file-backed)', () => {
  it.each(runs)(`run %i: ${title}`, (run) => poisonRun(pgliteBackend, 'pglite', run), RUN_TIMEOUT_MS);
});

describe.skipIf(!postgresUrl)('poison isolation across processes (PostgreSQL)', () => {
  it.each(runs)(`run %i: ${title}`, (run) => poisonRun(() => postgresBackend(postgresUrl ?? ''), 'postgres', run), RUN_TIMEOUT_MS);
});

describe.skipIf(!redisUrl)('poison isolation across processes (Redis)', () => {
  it.each(runs)(`run %i: ${title}`, (run) => poisonRun(() => redisBackend(redisUrl ?? ''), 'redis', run), RUN_TIMEOUT_MS);
});
