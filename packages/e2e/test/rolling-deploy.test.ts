// A rolling deploy across real processes (issue 13): a worker of release 1 runs alone, orders of
// release 2 arrive (the new API servers are up before the new workers), release 1 claims them,
// cannot understand them and gives them back — never dead-letters them; a worker of release 2
// starts, both run side by side while orders of both releases keep coming, then release 1 stops.
// Every order completes, nothing is dead, and release 1 released work it could not run.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, replayCheck, silentLogger } from '@ironflow/runtime';
import { createPostgresStore, migratePostgresStore } from '@ironflow/store-postgres';
import { createRedisStore } from '@ironflow/store-redis';
import { testServerUrl, uniqueName } from '@ironflow/testing';
import { ORDER_TYPE, orderWorkflow, ROLLING_LINE, type RollingWorkerOptions, type Version } from './fixtures/rolling-workflow.js';
import type { StoreTarget } from './fixtures/worker-config.js';

const workerPath = fileURLToPath(new URL('./fixtures/rolling-worker.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));
/** A ceiling on a busy machine, not an expectation. */
const RUN_TIMEOUT_MS = 300_000;
const ORDERS_PER_WAVE = 12;

interface Worker {
  readonly version: Version;
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: string;
}

function startWorker(target: StoreTarget, version: Version): Worker {
  const options: RollingWorkerOptions = { version, leaseMs: 10_000 };
  const child = spawn(process.execPath, ['--conditions=@ironflow/source', '--import', 'tsx', workerPath, JSON.stringify({ ...target, ...options })], { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] });
  const worker: Worker = { version, child, lines: [], stderr: '', exited: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))) };
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    worker.lines.push(...lines);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    worker.stderr = (worker.stderr + chunk.toString()).slice(-4_000);
  });
  return worker;
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, workers: readonly Worker[]): Promise<T> {
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}; ${workers.map((w) => `v${w.version}: ${w.lines.slice(-5).join(' | ')} ${w.stderr}`).join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const linesOf = (worker: Worker, prefix: string): string[] => worker.lines.filter((l) => l.startsWith(prefix));

/** Places `count` orders with release `version`'s code, as that release's API servers would. */
async function place(store: WorkflowStore, version: Version, prefix: string, count: number): Promise<string[]> {
  const workflow = orderWorkflow(version);
  const engine = createEngine({ store, logger: silentLogger, workflows: [workflow] });
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);
  const results = await engine.executeMany(workflow, ids.map((id, i) => ({ type: 'Place' as const, id, amount: 10 + i })));
  expect(results.map((r) => r.status)).toEqual(ids.map(() => 'accepted'));
  return ids;
}

async function rollingDeploy(store: WorkflowStore, target: StoreTarget): Promise<void> {
  const workers: Worker[] = [];
  try {
    const old = startWorker(target, 1);
    workers.push(old);
    const before = await place(store, 1, 'v1-before', ORDERS_PER_WAVE);
    // Release 2's API servers are up before its workers: only release 1 runs what they write.
    const early = await place(store, 2, 'v2-early', ORDERS_PER_WAVE);
    await until('release 1 gave back work of release 2', () => (linesOf(old, ROLLING_LINE.released).length >= 3 ? true : undefined), workers);

    const next = startWorker(target, 2);
    workers.push(next);
    // Both releases run side by side while orders of both arrive.
    const during = [...(await place(store, 1, 'v1-during', ORDERS_PER_WAVE)), ...(await place(store, 2, 'v2-during', ORDERS_PER_WAVE))];
    await until('release 2 charged some orders', () => (linesOf(next, ROLLING_LINE.charged).length > 0 ? true : undefined), workers);

    // The deploy ends: release 1 stops (its leases are released), release 2 finishes everything.
    old.child.kill('SIGTERM');
    expect((await old.exited).code, old.stderr).toBe(0);
    const after = await place(store, 2, 'v2-after', ORDERS_PER_WAVE);
    const all = [...before, ...early, ...during, ...after];
    await until('every order is complete', async () => {
      const states = await Promise.all(all.map((id) => store.load({ type: ORDER_TYPE, id })));
      return states.every((s) => s.status === 'completed') ? true : undefined;
    }, workers);

    for (const worker of workers) expect(linesOf(worker, ROLLING_LINE.dead), `release ${worker.version} dead-lettered nothing`).toEqual([]);
    expect(await store.countDeadLetters({ kind: 'effect', workflowType: ORDER_TYPE })).toBe(0);
    expect(await store.countDeadLetters({ kind: 'timer', workflowType: ORDER_TYPE })).toBe(0);
    // Release 1 never ran a charge of release 2; the work it gave back carries its release count.
    const early2 = new Set(early);
    expect(linesOf(old, ROLLING_LINE.charged).filter((l) => early2.has(l.split(' ')[1]!))).toEqual([]);
    const released = (await store.listWork({ kind: 'effect', workflowType: ORDER_TYPE, limit: 1000 })).items.filter((e) => (e.releases ?? 0) > 0);
    expect(released.length).toBeGreaterThan(0);
    expect(released.every((e) => e.version === 2 && e.status === 'done')).toBe(true);
    // Orders of release 1 read under release 2 were upcast: their final state is in cents.
    const engine = createEngine({ store, logger: silentLogger, workflows: [orderWorkflow(2)] });
    expect((await engine.getState(orderWorkflow(2), before[0]!)).state).toEqual({ status: 'done', cents: 1000, noReceipt: true });
    // And the new code replays every stored order as it was (the check CI runs before a deploy).
    const check = await replayCheck({ store, workflow: orderWorkflow(2) });
    expect(check).toMatchObject({ checked: all.length, failed: 0 });
    console.log(`[rolling deploy] ${target.store}: release 1 gave back ${linesOf(old, ROLLING_LINE.released).length} items; release 2 charged ${linesOf(next, ROLLING_LINE.charged).length} orders, release 1 ${linesOf(old, ROLLING_LINE.charged).length}`);

    next.child.kill('SIGTERM');
    expect((await next.exited).code, next.stderr).toBe(0);
  } finally {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  }
}

const postgresUrl = testServerUrl('postgres');
const redisUrl = testServerUrl('redis');

describe.skipIf(!postgresUrl)('rolling deploy across processes (PostgreSQL)', () => {
  it(
    'release 1 gives back what only release 2 understands; nothing is dead and every order completes',
    async () => {
      const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
      const schema = uniqueName('ironflow_rolling');
      await migratePostgresStore({ pool, schema });
      const store = createPostgresStore({ pool, schema });
      try {
        await rollingDeploy(store, { store: 'postgres', url: postgresUrl!, schema });
      } finally {
        await store.close();
        await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
        await pool.end();
      }
    },
    RUN_TIMEOUT_MS,
  );
});

describe.skipIf(!redisUrl)('rolling deploy across processes (Redis)', () => {
  it(
    'release 1 gives back what only release 2 understands; nothing is dead and every order completes',
    async () => {
      const client = new Redis(redisUrl!);
      const keyPrefix = uniqueName('ironflow_rolling');
      const store = createRedisStore({ client, keyPrefix });
      try {
        await rollingDeploy(store, { store: 'redis', url: redisUrl!, keyPrefix });
      } finally {
        await store.destroy();
        await store.close();
        client.disconnect();
      }
    },
    RUN_TIMEOUT_MS,
  );
});
