// The store conformance suite against a real PostgreSQL server, in schemas of its own that are
// dropped afterwards, plus this package's own cases. Skips visibly without IRONFLOW_TEST_POSTGRES_URL.
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import { describeStoreConformance, testServerUrl } from '@ironflow/testing';
import { createPostgresStore, migratePostgresStore } from '../src/index.js';
import { pgPoolDriver } from '../src/pg-driver.js';
import { batchStoreCases } from './batch-cases.js';
import { pgChannelProbe } from './channel-probe.js';
import { claimPlanCases } from './claim-plan-cases.js';
import { feedCases } from './feed-cases.js';
import { feedLagPlanCases } from './feed-lag-plan-cases.js';
import { instancePlanCases } from './instance-plan-cases.js';
import { postgresCases, recordingPool } from './postgres-cases.js';
import { projectionTransactionCases } from './projection-cases.js';
import { sqlStoreCases, type CountedStore } from './sql-store-cases.js';

const url = testServerUrl('postgres');

describe.skipIf(!url)('PostgreSQL store on a real server', () => {
  // Statements of the tests themselves (a read model's table, pg_stat_activity), outside any store.
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  afterAll(() => admin.end());
  const sql = async (text: string, values?: unknown[]) => (await admin.query<Record<string, unknown>>(text, values)).rows;

  // Once with named prepared statements (the default) and once without (PgBouncer transaction mode).
  for (const preparedStatements of [true, false]) {
    /** A store whose pool counts statements and check-outs, on an already migrated schema. */
    const counted = async (schema: string): Promise<CountedStore> => {
      const pool = new pg.Pool({ connectionString: url, max: 4 });
      let trips = 0;
      const recording = recordingPool(pool, () => {
        trips += 1;
      });
      const counting = {
        query: recording.query,
        connect() {
          trips += 1;
          return pool.connect();
        },
      };
      const store = createPostgresStore({ pool: counting, schema, preparedStatements });
      return {
        store,
        trips: () => trips,
        async close() {
          await store.close();
          await pool.end();
        },
      };
    };

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
      additionalTests(ctx) {
        sqlStoreCases(ctx, counted);
        batchStoreCases(ctx, { counted, probe: (channel) => pgChannelProbe(url!, channel) });
        postgresCases(ctx, { url: url!, preparedStatements, listen: preparedStatements });
        feedCases(ctx, { url: url! });
        projectionTransactionCases(ctx, { sql, counted, server: true });
        // Plans do not depend on how statements are sent (the cases check generic plans too): once.
        if (preparedStatements) {
          const openDriver = async () => {
            const pool = new pg.Pool({ connectionString: url, max: 1 });
            return { driver: pgPoolDriver(pool, { listenHealthCheckMs: 0, preparedStatements: false }), close: () => pool.end() };
          };
          claimPlanCases(openDriver);
          feedLagPlanCases(openDriver);
          instancePlanCases(openDriver);
        }
      },
    });
  }
});
