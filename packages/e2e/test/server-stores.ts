// A fresh PostgreSQL schema or Redis key prefix per run, a store on it for the test process, and
// the target worker processes open; `cleanUp` closes the store and removes the data.
import { Redis } from 'ioredis';
import pg from 'pg';
import type { WorkflowStore } from '@ironflow/core/store';
import { createPostgresStore, migratePostgresStore } from '@ironflow/store-postgres';
import { createRedisStore } from '@ironflow/store-redis';
import { uniqueName } from '@ironflow/testing';
import type { ServerTarget } from './fixtures/control-config.js';

/** One run's data on a server. */
export interface ServerStore {
  readonly target: ServerTarget;
  /** The test process's own store on the run's data. */
  readonly store: WorkflowStore;
  readonly cleanUp: () => Promise<void>;
}

export async function openPostgres(url: string, prefix: string): Promise<ServerStore> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const schema = uniqueName(prefix);
  await migratePostgresStore({ pool, schema });
  const store = createPostgresStore({ pool, schema });
  return {
    target: { store: 'postgres', url, schema },
    store,
    cleanUp: async () => {
      await store.close();
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

export async function openRedis(url: string, prefix: string): Promise<ServerStore> {
  const client = new Redis(url);
  const keyPrefix = uniqueName(prefix);
  const store = createRedisStore({ client, keyPrefix });
  return {
    target: { store: 'redis', url, keyPrefix },
    store,
    cleanUp: async () => {
      await store.destroy();
      await store.close();
      client.disconnect();
    },
  };
}
