// A PostgreSQL store in a fresh schema, dropped afterwards; undefined when no server is configured
// (testServerUrl fails instead when IRONFLOW_TEST_REQUIRE names postgres).
import pg from 'pg';
import type { WorkflowStore } from '@ironflow/core/store';
import { createPostgresStore, migratePostgresStore } from '@ironflow/store-postgres';
import { testServerUrl, uniqueName } from '@ironflow/testing';

export const postgresUrl = testServerUrl('postgres');

export interface PostgresTestStore {
  readonly store: WorkflowStore;
  close(): Promise<void>;
}

export async function openPostgres(url: string): Promise<PostgresTestStore> {
  const schema = uniqueName('ironflow_dash');
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  await migratePostgresStore({ pool, schema });
  const store = createPostgresStore({ pool, schema });
  return {
    store,
    async close() {
      await store.close?.();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}
