// Migrations and misconfiguration on a real server, outside the conformance run: they need fresh
// schemas, an admin pool and servers that are not there.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isIronflowError, StoreError } from '@ironflow/core/store';
import { testServerUrl, uniqueName } from '@ironflow/testing';
import { createPostgresStore, LATEST_SCHEMA_VERSION, migratePostgresStore, type PostgresStore, type PostgresStoreOptions } from '../src/index.js';
import { commit, rejection } from './support.js';

const url = testServerUrl('postgres');

describe.skipIf(!url)('PostgreSQL migrations and misconfiguration on a real server', () => {
  const pools: pg.Pool[] = [];
  const schemas: string[] = [];
  const stores: PostgresStore[] = [];
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  pools.push(admin);

  function newPool(config: pg.PoolConfig = {}): pg.Pool {
    const pool = new pg.Pool({ connectionString: url, max: 10, ...config });
    pools.push(pool);
    return pool;
  }

  function newSchema(): string {
    const schema = uniqueName('ironflow_pg');
    schemas.push(schema);
    return schema;
  }

  function newStore(options: PostgresStoreOptions): PostgresStore {
    const store = createPostgresStore(options);
    stores.push(store);
    return store;
  }

  afterAll(async () => {
    for (const store of stores) await store.close();
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    for (const pool of pools) await pool.end();
  });

  describe('migrations', () => {
    it('migrating a fresh schema creates the tables, indexes and commit function, and running it again applies nothing', async () => {
      const schema = newSchema();
      const first = await migratePostgresStore({ pool: admin, schema });
      expect(first).toEqual({ schema, applied: [{ version: 1, name: 'initial schema' }], version: LATEST_SCHEMA_VERSION });

      const { rows: tables } = await admin.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [schema],
      );
      expect(tables.map((t) => t.table_name)).toEqual([
        'effects', 'events', 'idempotency_keys', 'instances', 'observations', 'schema_migrations', 'snapshots', 'timers',
      ]);
      const { rows: indexes } = await admin.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = $1', [schema]);
      expect(indexes.map((i) => i.indexname)).toEqual(
        expect.arrayContaining(['effects_claimable_idx', 'timers_claimable_idx', 'timers_active_key_idx', 'instances_active_unique_key_idx']),
      );
      const { rows: fn } = await admin.query('SELECT to_regprocedure($1) IS NOT NULL AS present', [`"${schema}".commit_decision(json)`]);
      expect(fn[0]).toEqual({ present: true });

      expect(await migratePostgresStore({ pool: admin, schema })).toEqual({ schema, applied: [], version: LATEST_SCHEMA_VERSION });
      const { rows: versions } = await admin.query(`SELECT version, name FROM "${schema}".schema_migrations`);
      expect(versions).toEqual([{ version: 1, name: 'initial schema' }]);
    });

    it('five concurrent migrations of one fresh schema on separate connections apply each version exactly once', async () => {
      const schema = newSchema();
      const results = await Promise.all(Array.from({ length: 5 }, () => migratePostgresStore({ pool: newPool({ max: 1 }), schema })));
      expect(results.flatMap((r) => r.applied)).toEqual([{ version: 1, name: 'initial schema' }]);
      expect(results.every((r) => r.version === LATEST_SCHEMA_VERSION)).toBe(true);
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".schema_migrations`);
      expect(rows[0]).toEqual({ n: 1 });
      const store = newStore({ pool: admin, schema });
      await store.commit(commit({ type: 'migrated', id: 'works' }, 0));
      expect((await store.load({ type: 'migrated', id: 'works' })).version).toBe(1);
    });

    it('a hostile schema name is rejected with INVALID_ARGUMENT and creates nothing', async () => {
      const hostile = ['x"; DROP SCHEMA public CASCADE; --', 'Ironflow', 'pg_temp_x', 'a-b', '', 'a'.repeat(49), 'ironflow;', 'x y', 'é'];
      const before = await admin.query('SELECT count(*)::int AS n FROM pg_namespace');
      for (const schema of hostile) {
        const migrated = await rejection(migratePostgresStore({ pool: admin, schema }));
        expect(isIronflowError(migrated, 'INVALID_ARGUMENT'), `migrate with ${JSON.stringify(schema)}`).toBe(true);
        expect(() => createPostgresStore({ pool: admin, schema }), `create with ${JSON.stringify(schema)}`).toThrow(
          expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
        );
      }
      expect(await admin.query('SELECT count(*)::int AS n FROM pg_namespace')).toMatchObject({ rows: before.rows });
    });

    it('a store over a schema that was never migrated fails with a configuration StoreError that names the migration', async () => {
      const store = newStore({ pool: admin, schema: uniqueName('ironflow_missing') });
      const error = await rejection(store.load({ type: 'any', id: 'any' }));
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({ code: 'STORE_FAILURE', reason: 'configuration', retryable: false });
      expect((error as StoreError).message).toMatch(/migratePostgresStore/);
    });

    it('an unreachable server fails with an unavailable, retryable StoreError', async () => {
      const pool = newPool({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres', connectionTimeoutMillis: 2_000 });
      const store = newStore({ pool });
      const error = await rejection(store.load({ type: 'any', id: 'any' }));
      expect(error).toMatchObject({ code: 'STORE_FAILURE', reason: 'unavailable', retryable: true });
      expect((error as StoreError).cause).toBeDefined();
    });
  });
});
