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
import { createKeyLayout, createRedisStore } from '@ironflow/store-redis';
import { Redis } from 'ioredis';
import pg from 'pg';

export interface Target {
  readonly name: string;
  readonly store: WorkflowStore;
  /** What "raw limit" means on this backend, for the report. */
  readonly rawDescription: string;
  /** Raw operations per second at `concurrency`, or undefined when there is no backend to measure. */
  raw(concurrency: number, operations: number): Promise<number | undefined>;
  /**
   * The backend's raw read of every stored event in feed order, in pages of 1000, with nothing
   * else done (no decoding, no checkpoint): events/s. Absent on memory.
   */
  rawRead?(atLeast: number): Promise<number>;
  /** What the raw read does, for the report. */
  readonly rawReadDescription?: string | undefined;
  close(): Promise<void>;
}

/** Reads pages until one comes back short; events/s over everything read, which must reach `atLeast`. */
async function pagedRead(atLeast: number, page: (after: string | undefined) => Promise<{ count: number; last: string | undefined }>): Promise<number> {
  const started = performance.now();
  let read = 0;
  let after: string | undefined;
  for (;;) {
    const { count, last } = await page(after);
    read += count;
    after = last;
    if (count < 1000) break;
  }
  if (read < atLeast) throw new Error(`the raw read found ${read} events, fewer than the ${atLeast} written`);
  return (read / (performance.now() - started)) * 1000;
}

/** Keyset pages of 1000 over the events table in feed order ((tx, position), its index), every column. */
function sqlRawRead(query: (text: string, values: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>, schema: string) {
  return (atLeast: number) =>
    pagedRead(atLeast, async (after) => {
      const [tx, position] = (after ?? '0.0').split('.');
      const { rows } = await query(
        // Ordered by the columns (e.tx), not by the text aliases of the select list.
        `SELECT e.tx::text AS tx, e.position::text AS position, e.workflow_type, e.workflow_id, e.sequence, e.type, e.payload::text AS payload, e.metadata::text AS metadata, e.recorded_at
           FROM ${schema}.events e WHERE (e.tx, e.position) > ($1::text::xid8, $2::bigint) ORDER BY e.tx, e.position LIMIT 1000`,
        [tx, position],
      );
      const last = rows.at(-1);
      return { count: rows.length, last: last === undefined ? after : `${String(last.tx)}.${String(last.position)}` };
    });
}
const SQL_RAW_READ = 'keyset pages of 1000 rows of the events table in (tx, position) order, every column, on the same connection pool';

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
    rawRead: sqlRawRead((text, values) => db.query(text, values), 'ironflow'),
    rawReadDescription: SQL_RAW_READ,
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
    rawRead: sqlRawRead((text, values) => pool.query(text, values), schema),
    rawReadDescription: SQL_RAW_READ,
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
    rawRead: (atLeast) => {
      // The feed stream in pages of 1000 entries, and the event each entry points to (LINDEX of its
      // instance's list), in one pipeline per page.
      const keys = createKeyLayout(keyPrefix, 1).partition(0);
      return pagedRead(atLeast, async (after) => {
        const entries = (await client.xrange(keys.feed(), after === undefined ? '-' : `(${after}`, '+', 'COUNT', 1000)) as [string, string[]][];
        const pipeline = client.pipeline();
        for (const [, fields] of entries) {
          const f = Object.fromEntries(fields.flatMap((v, i, all) => (i % 2 === 0 ? [[v, all[i + 1]!]] : [])));
          pipeline.lindex(keys.events(f.t!, f.i!), Number(f.s) - 1);
        }
        if (entries.length > 0) await pipeline.exec();
        return { count: entries.length, last: entries.at(-1)?.[0] ?? after };
      });
    },
    rawReadDescription: 'XRANGE pages of 1000 feed-stream entries plus a pipelined LINDEX of the event each points to, on the same client',
    raw: (concurrency, operations) =>
      rate(concurrency, operations, (i) => client.evalsha(sha, 2, `{${keyPrefix}:raw}:h${i}`, `{${keyPrefix}:raw}:list`, '{"n":1}')),
    close: async () => {
      await store.close();
      await deleteKeys(client, keyPrefix);
      client.disconnect();
    },
  };
}

/** The servers a measurement may use beside memory and PGlite. */
export interface ServerUrls {
  readonly postgres?: string | undefined;
  readonly redis?: string | undefined;
}

/** The targets among `wanted` that can be reached (a server only when its URL is given), opened one at a time by the caller. */
export function reachableTargets(wanted: readonly string[], urls: ServerUrls): (() => Promise<Target>)[] {
  const targets: (() => Promise<Target>)[] = [];
  if (wanted.includes('memory')) targets.push(memoryTarget);
  if (wanted.includes('pglite')) targets.push(pgliteTarget);
  const { postgres, redis } = urls;
  if (wanted.includes('postgres') && postgres) targets.push(() => postgresTarget(postgres, 20));
  if (wanted.includes('redis') && redis) targets.push(() => redisTarget(redis));
  return targets;
}
