// The store conformance suite against a real PostgreSQL server, in a schema of its own that is
// dropped afterwards. Skips visibly without IRONFLOW_TEST_POSTGRES_URL.
import pg from 'pg';
import { describe } from 'vitest';
import { describeStoreConformance, testServerUrl, uniqueName } from '@ironflow/testing';
import { createPostgresStore, migratePostgresStore } from '../src/index.js';

const url = testServerUrl('postgres');

describe.skipIf(!url)('PostgreSQL store on a real server', () => {
  // Once with named prepared statements (the default) and once without (PgBouncer transaction mode).
  for (const preparedStatements of [true, false]) {
    describeStoreConformance({
      name: preparedStatements ? 'postgres' : 'postgres, unnamed statements',
      async setup() {
        const pool = new pg.Pool({ connectionString: url, max: 20 });
        const schema = uniqueName('ironflow_conf');
        await migratePostgresStore({ pool, schema });
        const store = createPostgresStore({ pool, schema, preparedStatements });
        return {
          store,
          async teardown() {
            await store.close();
            await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
            await pool.end();
          },
        };
      },
    });
  }
});
