// The stores every test here runs on: memory always; PostgreSQL and Redis on the servers named by
// IRONFLOW_TEST_POSTGRES_URL and IRONFLOW_TEST_REDIS_URL (skipped visibly without them, failing
// when IRONFLOW_TEST_REQUIRE names them), each run in a fresh schema or key prefix removed after.
import { Redis } from 'ioredis';
import pg from 'pg';
import type { WorkflowStore } from '@ironflow/core/store';
import { createMemoryStore } from '@ironflow/store-memory';
import { createPostgresStore, migratePostgresStore } from '@ironflow/store-postgres';
import { createRedisStore } from '@ironflow/store-redis';
import { testServerUrl, uniqueName } from '@ironflow/testing';

/** Where a worker process opens the same data (server stores only). */
export type StoreTarget = { readonly store: 'postgres'; readonly url: string; readonly schema: string } | { readonly store: 'redis'; readonly url: string; readonly keyPrefix: string };

/** One test's data: a store on it, more stores on the same data (other "processes"), and its clean-up. */
export interface TestStore {
  readonly store: WorkflowStore;
  /** Another store on the same data, as another process would open it (the same instance on memory). */
  another(): Promise<WorkflowStore>;
  /** How a child process reaches the data; undefined on memory. */
  readonly target: StoreTarget | undefined;
  close(): Promise<void>;
}

/** A store under test: its name, and how to open a fresh one (undefined when its server is not configured). */
export interface StoreCase {
  readonly name: 'memory' | 'postgres' | 'redis';
  readonly open: (() => Promise<TestStore>) | undefined;
}

async function openPostgres(url: string): Promise<TestStore> {
  const schema = uniqueName('ironflow_otel');
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  await migratePostgresStore({ pool: admin, schema });
  const closers: (() => Promise<void>)[] = [];
  const open = (): WorkflowStore => {
    const pool = new pg.Pool({ connectionString: url, max: 12 });
    const store = createPostgresStore({ pool, schema });
    closers.push(async () => {
      await store.close();
      await pool.end();
    });
    return store;
  };
  return {
    store: open(),
    another: async () => open(),
    target: { store: 'postgres', url, schema },
    async close() {
      for (const close of closers) await close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  };
}

async function openRedis(url: string): Promise<TestStore> {
  const keyPrefix = uniqueName('ironflow_otel');
  const stores: { store: ReturnType<typeof createRedisStore>; client: Redis }[] = [];
  const open = (): WorkflowStore => {
    const client = new Redis(url);
    const store = createRedisStore({ client, keyPrefix });
    stores.push({ store, client });
    return store;
  };
  const first = open();
  return {
    store: first,
    another: async () => open(),
    target: { store: 'redis', url, keyPrefix },
    async close() {
      await stores[0]?.store.destroy();
      for (const { store, client } of stores) {
        await store.close();
        client.disconnect();
      }
    },
  };
}

const postgresUrl = testServerUrl('postgres');
const redisUrl = testServerUrl('redis');

/** Memory, PostgreSQL and Redis. */
export const STORES: readonly StoreCase[] = [
  {
    name: 'memory',
    open: async () => {
      const store = createMemoryStore();
      return { store, another: async () => store, target: undefined, close: async () => store.close?.() };
    },
  },
  { name: 'postgres', open: postgresUrl === undefined ? undefined : () => openPostgres(postgresUrl) },
  { name: 'redis', open: redisUrl === undefined ? undefined : () => openRedis(redisUrl) },
];
