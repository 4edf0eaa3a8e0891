// Migrations and misconfiguration on a real server, outside the conformance run: they need fresh
// schemas, an admin pool and servers that are not there.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isIronflowError, parseCommit, StoreError, type CommitRequest } from '@ironflow/core/store';
import { testServerUrl, uniqueName } from '@ironflow/testing';
import { createPostgresStore, LATEST_SCHEMA_VERSION, migratePostgresStore, type PostgresStore, type PostgresStoreOptions } from '../src/index.js';
import { encodeCommit } from '../src/commit-document.js';
import { MIGRATIONS } from '../src/migrations.js';
import { parseSchemaName } from '../src/schema-name.js';
import { commit, rejection, T0 } from './support.js';

const url = testServerUrl('postgres');
const ALL_VERSIONS = [
  { version: 1, name: 'initial schema' },
  { version: 2, name: 'claim indexes by workflow type' },
  { version: 3, name: 'group commit and batched settlement' },
];

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

  /** Commits as releases before schema version 3 did: one call of commit_decision per commit. */
  async function previousRelease(quoted: string, request: CommitRequest): Promise<unknown> {
    return (await admin.query(`SELECT r_outcome, r_version FROM ${quoted}.commit_decision($1::json)`, [encodeCommit(parseCommit(request))])).rows[0];
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
      expect(first).toEqual({ schema, applied: ALL_VERSIONS, version: LATEST_SCHEMA_VERSION });

      const { rows: tables } = await admin.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [schema],
      );
      expect(tables.map((t) => t.table_name)).toEqual([
        'effects', 'events', 'idempotency_keys', 'instances', 'observations', 'schema_migrations', 'snapshots', 'timers',
      ]);
      const { rows: indexes } = await admin.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = $1', [schema]);
      expect(indexes.map((i) => i.indexname)).toEqual(
        expect.arrayContaining(['effects_claimable_by_type_idx', 'timers_claimable_by_type_idx', 'timers_active_key_idx', 'instances_active_unique_key_idx']),
      );
      // Version 2 replaced the claim indexes led by available_at.
      expect(indexes.map((i) => i.indexname)).not.toEqual(expect.arrayContaining(['effects_claimable_idx']));
      expect(indexes.map((i) => i.indexname)).not.toEqual(expect.arrayContaining(['timers_claimable_idx']));
      for (const fn of ['commit_decision(json)', 'commit_one(jsonb)', 'commit_decisions(jsonb)', 'settle_leases(jsonb)']) {
        const { rows } = await admin.query('SELECT to_regprocedure($1) IS NOT NULL AS present', [`"${schema}".${fn}`]);
        expect(rows[0], fn).toEqual({ present: true });
      }

      expect(await migratePostgresStore({ pool: admin, schema })).toEqual({ schema, applied: [], version: LATEST_SCHEMA_VERSION });
      const { rows: versions } = await admin.query(`SELECT version, name FROM "${schema}".schema_migrations ORDER BY version`);
      expect(versions).toEqual(ALL_VERSIONS);
    });

    it('five concurrent migrations of one fresh schema on separate connections apply each version exactly once', async () => {
      const schema = newSchema();
      const results = await Promise.all(Array.from({ length: 5 }, () => migratePostgresStore({ pool: newPool({ max: 1 }), schema })));
      expect(results.flatMap((r) => r.applied)).toEqual(ALL_VERSIONS);
      expect(results.every((r) => r.version === LATEST_SCHEMA_VERSION)).toBe(true);
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".schema_migrations`);
      expect(rows[0]).toEqual({ n: ALL_VERSIONS.length });
      const store = newStore({ pool: admin, schema });
      await store.commit(commit({ type: 'migrated', id: 'works' }, 0));
      expect((await store.load({ type: 'migrated', id: 'works' })).version).toBe(1);
    });

    it('a version 1 schema with live work upgrades to the claim indexes by type, and its work is still claimed in order', async () => {
      const schema = newSchema();
      const quoted = parseSchemaName(schema);
      // A schema as version 1 of this package left it.
      await admin.query(`CREATE SCHEMA ${quoted.quoted}`);
      await admin.query(`CREATE TABLE ${quoted.quoted}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      await admin.query(MIGRATIONS[0]!.sql(quoted));
      await admin.query(`INSERT INTO ${quoted.quoted}.schema_migrations (version, name) VALUES (1, 'initial schema')`);
      // As an operator does before upgrading a large table: the migration keeps this one.
      await admin.query(
        `CREATE INDEX CONCURRENTLY effects_claimable_by_type_idx ON ${quoted.quoted}.effects (workflow_type, available_at, id) WHERE status IN ('pending', 'leased')`,
      );
      await previousRelease(quoted.quoted, commit({ type: 'upgraded', id: 'a' }, 0, { effects: [{ id: 'e2', payload: 2 }, { id: 'e1', payload: 1 }] }));

      expect(await migratePostgresStore({ pool: admin, schema })).toEqual({ schema, applied: ALL_VERSIONS.slice(1), version: LATEST_SCHEMA_VERSION });
      const { rows: indexes } = await admin.query<{ indexname: string }>(
        `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE '%claimable%' ORDER BY indexname`,
        [schema],
      );
      expect(indexes.map((i) => i.indexname)).toEqual(['effects_claimable_by_type_idx', 'timers_claimable_by_type_idx']);
      const store = newStore({ pool: admin, schema });
      const claimed = await store.claimEffects({ now: T0, limit: 10, types: ['upgraded'], leaseMs: 60_000, owner: 'w' });
      expect(claimed.map((c) => [c.id, c.recovered])).toEqual([['e1', false], ['e2', false]]);
    });

    it('a version 2 schema with live work upgrades to group commit, and commit_decision keeps working for processes of the previous release', async () => {
      const schema = newSchema();
      const quoted = parseSchemaName(schema).quoted;
      await admin.query(`CREATE SCHEMA ${quoted}`);
      await admin.query(`CREATE TABLE ${quoted}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const migration of MIGRATIONS.slice(0, 2)) {
        await admin.query(migration.sql(parseSchemaName(schema)));
        await admin.query(`INSERT INTO ${quoted}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      }
      const a = { type: 'upgraded', id: 'a' };
      expect(await previousRelease(quoted, commit(a, 0, { effects: [{ id: 'e1', payload: 1 }] }))).toEqual({ r_outcome: 'ok', r_version: 1 });

      expect(await migratePostgresStore({ pool: admin, schema })).toEqual({ schema, applied: ALL_VERSIONS.slice(2), version: LATEST_SCHEMA_VERSION });
      const store = newStore({ pool: admin, schema });
      const [claimed] = await store.claimEffects({ now: T0, limit: 1, types: [a.type], leaseMs: 60_000, owner: 'w' });
      const results = await store.commitMany([commit(a, 1, { ack: { ...claimed!.lease, outcome: 'done' } }), commit(a, 2), commit({ type: a.type, id: 'b' }, 0)]);
      expect(results.map((r) => r.ok)).toEqual([true, true, true]);
      expect((await store.listEffects(a))[0]).toMatchObject({ status: 'done' });

      // During a rolling deploy, processes of the previous release still commit through the old function.
      expect(await previousRelease(quoted, commit(a, 3))).toEqual({ r_outcome: 'ok', r_version: 4 });
      expect(await previousRelease(quoted, commit(a, 3))).toEqual({ r_outcome: 'version-conflict', r_version: 4 });
      expect((await store.load(a)).events.map((e) => e.sequence)).toEqual([1, 2, 3, 4]);
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
