// The store conformance suite against a real PostgreSQL server, in a schema of its own that is
// dropped afterwards. Skips visibly without IRONFLOW_TEST_POSTGRES_URL.
import pg from 'pg';
import { describe } from 'vitest';
import { describeStoreConformance, testServerUrl } from '@ironflow/testing';
import { createPostgresStore, migratePostgresStore } from '../src/index.js';

const url = testServerUrl('postgres');

describe.skipIf(!url)('PostgreSQL store on a real server', () => {
  // Once with named prepared statements (the default) and once without (PgBouncer transaction mode).
  for (const preparedStatements of [true, false]) {
    describeStoreConformance({
      name: preparedStatements ? 'postgres' : 'postgres, unnamed statements',
      // Each opened store gets its own pool, like a process of its own; the schema is the namespace.
      async open(schema) {
        const pool = new pg.Pool({ connectionString: url, max: 20 });
        await migratePostgresStore({ pool, schema });
        const store = createPostgresStore({ pool, schema, preparedStatements });
        return {
          store,
          async close() {
            await store.close();
            await pool.end();
          },
          async destroy() {
            await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          },
        };
      },
    });
  }
});
