// The stores the binary is tested on, each fresh (a new schema, key prefix or PGlite directory)
// and seeded through the store API with the same instances, effects, timers, a dead letter and a
// paused type; `snapshot` reads back everything a command could change, to prove it changed nothing.
import { rmSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { NonRetryableError } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, register, silentLogger } from '@ironflow/runtime';
import { createPGliteStore, createPostgresStore, migratePostgresStore } from '@ironflow/store-postgres';
import { createRedisStore } from '@ironflow/store-redis';
import { testServerUrl, uniqueName } from '@ironflow/testing';
import { audit, order } from '../fixtures/workflows.js';

/** A note with a terminal escape sequence: stored data the CLI must print inert. */
export const HOSTILE_NOTE = 'pay \u001b[31mnow\u001b[0m \u009b2J';

/** One store under test. */
export interface StoreTarget {
  readonly name: 'postgres' | 'redis' | 'redis-cluster' | 'pglite';
  /** The connection flags of the binary, e.g. `--url postgres://… --schema ironflow_t_…`. */
  readonly args: readonly string[];
  /** Runs `fn` with a store on the data (PGlite: opened for the call only, as one process at a time may hold it). */
  withStore<T>(fn: (store: WorkflowStore) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Seeds the data every test file expects (see the file comment of fixtures/workflows.ts). */
export async function seed(store: WorkflowStore): Promise<void> {
  const engine = createEngine({
    store,
    logger: silentLogger,
    workflows: [
      register(order).handle(async (effect) => {
        if (effect.orderId === 'o-2') throw new NonRetryableError('card declined');
        return { type: 'Charged', orderId: effect.orderId };
      }),
      audit,
    ],
  });
  await engine.execute(order, { type: 'Place', orderId: 'o-1' });
  await engine.execute(order, { type: 'Place', orderId: 'o-2' });
  await engine.runUntilIdle();
  await engine.execute(order, { type: 'Place', orderId: 'o-3', note: HOSTILE_NOTE });
  await engine.execute(audit, { id: 'a-1' }, { idempotencyKey: 'audit-a-1' });
  await engine.pauseType('audit');
}

/** Everything the commands may change, for before/after comparisons. */
export async function snapshot(target: StoreTarget): Promise<unknown> {
  return target.withStore(async (store) => ({
    instances: (await store.pageInstances({ limit: 1000 })).items,
    effects: (await store.listWork({ kind: 'effect', limit: 1000 })).items,
    timers: (await store.listWork({ kind: 'timer', limit: 1000 })).items,
    paused: await store.listPaused(),
  }));
}

async function openPostgres(url: string): Promise<StoreTarget> {
  const schema = uniqueName('ironflow_cli');
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  await migratePostgresStore({ pool, schema });
  const store = createPostgresStore({ pool, schema });
  return {
    name: 'postgres',
    args: ['--url', url, '--schema', schema],
    withStore: (fn) => fn(store),
    async close() {
      await store.close();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

async function openRedis(url: string): Promise<StoreTarget> {
  const keyPrefix = uniqueName('ironflow_cli');
  // A comma-separated list is a Cluster's nodes, as the CLI reads it.
  const nodes = url.split(',').map((node) => new URL(node.trim()));
  const client = nodes.length > 1 ? new Cluster(nodes.map((node) => ({ host: node.hostname, port: Number(node.port) }))) : new Redis(url);
  const store = createRedisStore({ client, keyPrefix });
  return {
    name: nodes.length > 1 ? 'redis-cluster' : 'redis',
    args: ['--url', url, '--prefix', keyPrefix],
    withStore: (fn) => fn(store),
    async close() {
      await store.destroy();
      await store.close();
      client.disconnect();
    },
  };
}

function pgliteTarget(parent: string, dir: string): StoreTarget {
  return {
    name: 'pglite',
    args: ['--url', `pglite:${dir}`],
    async withStore(fn) {
      const store = await createPGliteStore({ dataDir: dir });
      try {
        return await fn(store);
      } finally {
        await store.close();
      }
    },
    close: () => rm(parent, { recursive: true, force: true }),
  };
}

let template: Promise<string> | undefined;

/** A PGlite directory seeded once per test file, copied for each store (initdb is slow). */
function seededTemplate(): Promise<string> {
  template ??= (async () => {
    const parent = await mkdtemp(join(tmpdir(), 'ironflow-cli-template-'));
    process.once('exit', () => rmSync(parent, { recursive: true, force: true }));
    const dir = join(parent, 'db');
    await pgliteTarget(parent, dir).withStore(seed);
    return dir;
  })();
  return template;
}

/** A fresh, seeded PGlite store: a copy of the template in a directory of its own. */
export async function openSeededPGlite(): Promise<StoreTarget> {
  const source = await seededTemplate();
  const parent = await mkdtemp(join(tmpdir(), 'ironflow-cli-'));
  const dir = join(parent, 'db');
  await cp(source, dir, { recursive: true });
  return pgliteTarget(parent, dir);
}

/** Opens a fresh, seeded store of each kind configured (PGlite always). */
export const STORES: readonly { readonly name: StoreTarget['name']; readonly open: (() => Promise<StoreTarget>) | undefined }[] = [
  { name: 'postgres', open: withUrl(testServerUrl('postgres'), openPostgres) },
  { name: 'redis', open: withUrl(testServerUrl('redis'), openRedis) },
  { name: 'redis-cluster', open: withUrl(testServerUrl('redis-cluster'), openRedis) },
  { name: 'pglite', open: openSeededPGlite },
];

function withUrl(url: string | undefined, open: (url: string) => Promise<StoreTarget>): (() => Promise<StoreTarget>) | undefined {
  if (url === undefined) return undefined;
  return async () => {
    const target = await open(url);
    await target.withStore(seed);
    return target;
  };
}
