// The backends a benchmark runs on, each with a store factory and a measurement of the backend's
// raw limit for the same shape of work: one atomic, durable write per operation, at the same
// concurrency, from the same process. Ratios to that limit are what the benchmark reports.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { WorkflowStore } from '@ironflow/core/store';
import { createMemoryStore } from '@ironflow/store-memory';
import { createPGliteStore, createPostgresStore, migratePostgresStore } from '@ironflow/store-postgres';
import { createRedisStore } from '@ironflow/store-redis';
import { Redis } from 'ioredis';
import pg from 'pg';

export interface Target {
  readonly name: string;
  readonly store: WorkflowStore;
  /** What "raw limit" means on this backend, for the report. */
  readonly rawDescription: string;
  /** Raw operations per second at `concurrency`, or undefined when there is no backend to measure. */
  raw(concurrency: number, operations: number): Promise<number | undefined>;
  close(): Promise<void>;
}

/** Runs `total` operations split over `concurrency` loops; returns operations per second. */
export async function rate(concurrency: number, total: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) await op(i);
    }),
  );
  return (total / (performance.now() - started)) * 1000;
}

export async function memoryTarget(): Promise<Target> {
  return {
    name: 'memory',
    store: createMemoryStore(),
    rawDescription: 'none (in-process)',
    raw: async () => undefined,
    close: async () => {},
  };
}

export async function pgliteTarget(): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'ironflow-bench-'));
  const db = await PGlite.create(join(dir, 'db'));
  const store = await createPGliteStore({ pglite: db });
  await db.exec('CREATE TABLE raw_writes (id text PRIMARY KEY, body json NOT NULL)');
  return {
    name: 'pglite',
    store,
    rawDescription: 'single-row INSERT transactions on the same PGlite database',
    raw: (concurrency, operations) => rate(concurrency, operations, (i) => db.query('INSERT INTO raw_writes VALUES ($1, $2)', [`r${i}-${randomUUID()}`, '{"n":1}'])),
    close: async () => {
      await store.close();
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function postgresTarget(url: string, poolSize: number): Promise<Target> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  const schema = `ironflow_bench_${Date.now().toString(36)}`;
  await migratePostgresStore({ pool, schema });
  await pool.query(`CREATE TABLE ${schema}.raw_writes (id text PRIMARY KEY, body json NOT NULL)`);
  const store = createPostgresStore({ pool, schema });
  return {
    name: 'postgres',
    store,
    rawDescription: `single-row INSERT transactions through the same pg.Pool (max ${poolSize})`,
    raw: (concurrency, operations) =>
      rate(concurrency, operations, (i) => pool.query(`INSERT INTO ${schema}.raw_writes VALUES ($1, $2)`, [`r${i}-${randomUUID()}`, '{"n":1}'])),
    close: async () => {
      await store.close();
      await pool.query(`DROP SCHEMA ${schema} CASCADE`);
      await pool.end();
    },
  };
}

/** Deletes the keys whose names contain `fragment` (the store's own and the raw writes'). */
export async function deleteKeys(client: Redis, fragment: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `*${fragment}*`, 'COUNT', 1000);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

const RAW_SCRIPT = `redis.call('HSET', KEYS[1], 'v', ARGV[1]); redis.call('RPUSH', KEYS[2], ARGV[1]); return 1`;

export async function redisTarget(url: string): Promise<Target> {
  const client = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const keyPrefix = `ironflow-bench-${Date.now().toString(36)}`;
  const store = createRedisStore({ client, keyPrefix });
  await store.setup();
  const sha = (await client.script('LOAD', RAW_SCRIPT)) as string;
  return {
    name: 'redis',
    store,
    rawDescription: 'EVALSHA of a two-key write script (HSET + RPUSH) on the same client',
    raw: (concurrency, operations) =>
      rate(concurrency, operations, (i) => client.evalsha(sha, 2, `{${keyPrefix}:raw}:h${i}`, `{${keyPrefix}:raw}:list`, '{"n":1}')),
    close: async () => {
      await store.close();
      await deleteKeys(client, keyPrefix);
      client.disconnect();
    },
  };
}
