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
import { commit, eventually, rejection, T0 } from './support.js';

const url = testServerUrl('postgres');
const ALL_VERSIONS = [
  { version: 1, name: 'initial schema' },
  { version: 2, name: 'claim indexes by workflow type' },
  { version: 3, name: 'group commit and batched settlement' },
  { version: 4, name: 'control of live work' },
  { version: 5, name: 'trace context of work' },
  { version: 6, name: 'completing routed results set-based' },
  { version: 7, name: 'global event feed' },
  { version: 8, name: 'projection checkpoints' },
  { version: 9, name: 'versions, releases and retention' },
  { version: 10, name: 'live work of an instance by its instance index' },
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

  /** A schema as the first `version` migrations of this package leave it; its quoted name. */
  async function schemaAt(schema: string, version: number): Promise<string> {
    const name = parseSchemaName(schema);
    await admin.query(`CREATE SCHEMA ${name.quoted}`);
    await admin.query(`CREATE TABLE ${name.quoted}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    for (const migration of MIGRATIONS.filter((m) => m.version <= version)) {
      await admin.query(migration.sql(name));
      await admin.query(`INSERT INTO ${name.quoted}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
    }
    return name.quoted;
  }

  /** Commits as releases on schema version 3 did: a batch of commit documents without the fields of version 4. */
  async function previousBatch(quoted: string, request: CommitRequest): Promise<unknown> {
    const { cancelEffects: _e, cancelWork: _w, parent: _p, origin: _o, ...document } = JSON.parse(encodeCommit(parseCommit(request))) as Record<string, unknown>;
    const { rows } = await admin.query(`SELECT r_outcome, r_version, r_holder FROM ${quoted}.commit_decisions($1::jsonb)`, [JSON.stringify([document])]);
    return rows[0];
  }

  /** Commits as releases on schema version 4 did: a batch of commit documents whose effects and timers have no trace. */
  async function schema4Batch(quoted: string, request: CommitRequest): Promise<unknown> {
    const document = JSON.parse(encodeCommit(parseCommit(request))) as { effects: object[]; timers: object[] };
    const untraced = { ...document, effects: document.effects.map(({ trace: _t, ...e }: { trace?: unknown }) => e), timers: document.timers.map(({ trace: _t, ...t }: { trace?: unknown }) => t) };
    const { rows } = await admin.query(`SELECT r_outcome, r_version, r_holder FROM ${quoted}.commit_decisions($1::jsonb)`, [JSON.stringify([untraced])]);
    return rows[0];
  }

  /**
   * Commits `request` as a batch of one and counts the calls of commit_one it made (track_functions
   * on for the transaction). The backend's counts not yet flushed include earlier transactions',
   * and no flush happens inside a transaction, so the difference across the call is its own.
   */
  async function commitOneCalls(quoted: string, request: CommitRequest): Promise<{ outcome: unknown; calls: number }> {
    const client = await admin.connect();
    const calls = async () =>
      (await client.query('SELECT coalesce(pg_stat_get_xact_function_calls($1::regprocedure), 0)::int AS n', [`${quoted}.commit_one(jsonb)`])).rows[0].n as number;
    try {
      await client.query('BEGIN');
      await client.query("SET LOCAL track_functions = 'pl'");
      const before = await calls();
      const { rows: outcomes } = await client.query(`SELECT r_outcome FROM ${quoted}.commit_decisions($1::jsonb)`, [`[${encodeCommit(parseCommit(request))}]`]);
      const after = await calls();
      await client.query('COMMIT');
      return { outcome: outcomes[0]?.r_outcome, calls: after - before };
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }

  /** Commits as releases on schema versions 5 to 8 did: events without schemaVersion, effects and timers without version. */
  async function schema8Batch(quoted: string, request: CommitRequest): Promise<unknown> {
    const document = JSON.parse(encodeCommit(parseCommit(request))) as { events: object[]; effects: object[]; timers: object[] };
    const unversioned = {
      ...document,
      events: document.events.map(({ schemaVersion: _v, ...e }: { schemaVersion?: unknown }) => e),
      effects: document.effects.map(({ version: _v, ...e }: { version?: unknown }) => e),
      timers: document.timers.map(({ version: _v, ...t }: { version?: unknown }) => t),
    };
    const { rows } = await admin.query(`SELECT r_outcome, r_version, r_holder FROM ${quoted}.commit_decisions($1::jsonb)`, [JSON.stringify([unversioned])]);
    return rows[0];
  }

  /** Settles as releases on schema version 3 did, reading r_index and r_applied only. */
  async function previousSettle(quoted: string, change: Record<string, unknown>): Promise<unknown> {
    const { rows } = await admin.query(`SELECT r_index, r_applied FROM ${quoted}.settle_leases($1::jsonb)`, [JSON.stringify([change])]);
    return rows[0];
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
        'effects', 'events', 'idempotency_keys', 'instances', 'observations', 'paused', 'projection_dead_letters', 'projections', 'schema_migrations',
        'snapshots', 'timers',
      ]);
      const { rows: indexes } = await admin.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = $1', [schema]);
      expect(indexes.map((i) => i.indexname)).toEqual(
        expect.arrayContaining([
          'effects_claimable_by_rank_idx', 'effects_claimable_by_tag_idx', 'effects_live_key_idx', 'effects_settled_idx',
          'timers_claimable_by_type_idx', 'timers_active_key_idx', 'instances_active_unique_key_idx', 'instances_parent_idx',
          'idempotency_keys_committed_at_idx', 'events_feed_idx',
        ]),
      );
      // Version 2 replaced the claim indexes led by available_at; version 4 the effects' one by type and available_at.
      for (const replaced of ['effects_claimable_idx', 'timers_claimable_idx', 'effects_claimable_by_type_idx', 'effects_done_idx']) {
        expect(indexes.map((i) => i.indexname), replaced).not.toContain(replaced);
      }
      for (const fn of ['commit_decision(json)', 'commit_one(jsonb)', 'commit_decisions(jsonb)', 'settle_leases(jsonb)', 'cancel_instance(text, text, bigint, text, jsonb, text)', 'delete_instance(text, text, integer)']) {
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
      // Version 4 replaced the effects' claim index by those in rank order.
      expect(indexes.map((i) => i.indexname)).toEqual(['effects_claimable_by_rank_idx', 'effects_claimable_by_tag_idx', 'timers_claimable_by_type_idx']);
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

    it('a version 3 schema with live work upgrades to control of live work: its rows read back with the new fields, and processes of the previous release keep committing and settling', async () => {
      const schema = newSchema();
      const quoted = await schemaAt(schema, 3);
      const type = 'upgraded';
      const [a, b, c] = [{ type, id: 'a' }, { type, id: 'b' }, { type, id: 'c' }];
      expect(await previousBatch(quoted, commit(a, 0, { effects: [{ id: 'a-e1', payload: 1 }], timers: [{ id: 'a-t1', key: 'k', fireAt: T0 + 60_000, input: {} }] }))).toMatchObject({ r_outcome: 'ok' });
      expect(await previousBatch(quoted, commit(b, 0, { uniqueKey: 'u', completed: true }))).toMatchObject({ r_outcome: 'ok' });
      expect(await previousBatch(quoted, commit(c, 0, { effects: [{ id: 'c-e1', payload: 1 }] }))).toMatchObject({ r_outcome: 'ok' });
      // A worker of the previous release holds c's effect.
      await admin.query(`UPDATE ${quoted}.effects SET status = 'leased', attempts = 1, lease_token = 'old', lease_owner = 'old', lease_expires_at = $1 WHERE id = 'c-e1'`, [T0 + 60_000]);

      expect(await migratePostgresStore({ pool: admin, schema })).toEqual({ schema, applied: ALL_VERSIONS.slice(3), version: LATEST_SCHEMA_VERSION });
      const store = newStore({ pool: admin, schema });
      expect(await store.load(a)).toMatchObject({ version: 1, status: 'active', completed: false });
      expect(await store.load(b)).toMatchObject({ version: 1, status: 'completed', completed: true });
      expect((await store.listInstances({ workflowType: type, status: 'completed' })).map((i) => i.workflowId)).toEqual(['b']);
      const [old] = await store.listEffects(a);
      expect(old).toMatchObject({ id: 'a-e1', status: 'pending', priority: 0 });
      expect(Object.keys(old!)).not.toEqual(expect.arrayContaining(['key']));
      // b released its unique key before the upgrade; it stays free.
      await store.commit(commit({ type, id: 'd' }, 0, { uniqueKey: 'u' }));

      // The old worker renews through settle_leases as its release reads it; then the instance is cancelled under it.
      expect(await previousSettle(quoted, { kind: 'effect', op: 'renew', id: 'c-e1', token: 'old', now: T0 + 1, expiresAt: T0 + 90_000 })).toEqual({ r_index: 0, r_applied: true });
      expect(await store.cancelInstance({ ref: c, now: T0 + 2, reason: 'upgrade test' })).toEqual({ cancelled: true, effects: 1, timers: 0 });
      expect(await previousSettle(quoted, { kind: 'effect', op: 'complete', id: 'c-e1', token: 'old', now: T0 + 3 })).toEqual({ r_index: 0, r_applied: false });
      // Processes of the previous release, and of releases before group commit, cannot commit to the cancelled instance.
      expect(await previousBatch(quoted, commit(c, 1))).toMatchObject({ r_outcome: 'version-conflict', r_version: 1 });
      expect(await previousRelease(quoted, commit(c, 1))).toEqual({ r_outcome: 'version-conflict', r_version: 1 });
      expect(await previousBatch(quoted, commit(a, 1, { effects: [{ id: 'a-e2', payload: 2 }] }))).toMatchObject({ r_outcome: 'ok', r_version: 2 });

      // New work of the upgraded schema mixes with the old: priorities, keys, claims in rank order.
      await store.commit(commit(a, 2, { effects: [{ id: 'a-e3', payload: 3, key: 'k', priority: 10 }] }));
      const claimed = await store.claimEffects({ now: T0 + 5, limit: 10, types: [type], leaseMs: 60_000, owner: 'w' });
      expect(claimed.map((e) => e.id)).toEqual(['a-e3', 'a-e1', 'a-e2']);
      const outOfRange = await rejection(admin.query(`UPDATE ${quoted}.effects SET priority = 5000 WHERE id = 'a-e1'`));
      expect(outOfRange).toMatchObject({ code: '23514' });
    });

    it('a version 3 schema whose new columns and indexes were built beforehand without blocking writes migrates to version 4 keeping them', async () => {
      const schema = newSchema();
      const quoted = await schemaAt(schema, 3);
      // As docs/stores/postgres.md tells an operator to do before upgrading large tables.
      await admin.query(`ALTER TABLE ${quoted}.effects ADD COLUMN IF NOT EXISTS key text COLLATE "C", ADD COLUMN IF NOT EXISTS tag text COLLATE "C",
        ADD COLUMN IF NOT EXISTS priority integer NOT NULL DEFAULT 0, ADD COLUMN IF NOT EXISTS settings json`);
      await admin.query(`ALTER TABLE ${quoted}.instances ADD COLUMN IF NOT EXISTS cancel_reason text,
        ADD COLUMN IF NOT EXISTS parent_type text COLLATE "C", ADD COLUMN IF NOT EXISTS parent_id text COLLATE "C"`);
      const prebuilt = [
        `CREATE INDEX CONCURRENTLY instances_parent_idx ON ${quoted}.instances (parent_type, parent_id, workflow_type, workflow_id) WHERE parent_type IS NOT NULL`,
        `CREATE INDEX CONCURRENTLY idempotency_keys_committed_at_idx ON ${quoted}.idempotency_keys (committed_at)`,
        `CREATE INDEX CONCURRENTLY effects_claimable_by_rank_idx ON ${quoted}.effects (workflow_type, (priority < 0), (available_at - priority * 1000), id) WHERE status IN ('pending', 'leased')`,
        `CREATE INDEX CONCURRENTLY effects_claimable_by_tag_idx ON ${quoted}.effects (workflow_type, tag, (priority < 0), (available_at - priority * 1000), id) WHERE status IN ('pending', 'leased') AND tag IS NOT NULL`,
        `CREATE UNIQUE INDEX CONCURRENTLY effects_live_key_idx ON ${quoted}.effects (workflow_type, workflow_id, key) WHERE key IS NOT NULL AND status IN ('pending', 'leased')`,
        `CREATE INDEX CONCURRENTLY effects_settled_idx ON ${quoted}.effects (updated_at) WHERE status IN ('done', 'cancelled')`,
      ];
      for (const statement of prebuilt) await admin.query(statement);
      const oids = async () =>
        (await admin.query<{ indexname: string; oid: string }>(`SELECT indexrelid::text AS oid, indexrelid::regclass::text AS indexname FROM pg_index WHERE indrelid::regclass::text LIKE $1 ORDER BY 2`, [`${quoted}.%`])).rows;
      const before = await oids();

      expect(await migratePostgresStore({ pool: admin, schema })).toEqual({ schema, applied: ALL_VERSIONS.slice(3), version: LATEST_SCHEMA_VERSION });
      const after = await oids();
      for (const name of ['instances_parent_idx', 'idempotency_keys_committed_at_idx', 'effects_claimable_by_rank_idx', 'effects_claimable_by_tag_idx', 'effects_live_key_idx', 'effects_settled_idx']) {
        const kept = before.find((i) => i.indexname.endsWith(name));
        expect(after.find((i) => i.indexname.endsWith(name)), name).toEqual(kept);
      }
      const store = newStore({ pool: admin, schema });
      await store.commit(commit({ type: 'prebuilt', id: 'a' }, 0, { effects: [{ id: 'e', payload: 1, key: 'k', tag: 'gpu', priority: 2 }] }));
      expect((await store.claimEffects({ now: T0, limit: 1, types: ['prebuilt'], leaseMs: 1000, owner: 'w', tags: ['gpu'] })).map((e) => e.id)).toEqual(['e']);
    });

    it('a version 4 schema with live work upgrades to trace context: its rows read back without a trace, and processes of the previous release keep committing and cancelling', async () => {
      const schema = newSchema();
      const quoted = await schemaAt(schema, 4);
      const type = 'traced';
      const [a, b] = [{ type, id: 'a' }, { type, id: 'b' }];
      const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'k=v' };
      const pending = async (ref: typeof a) => (await store.listTimers(ref)).filter((t) => t.status === 'pending');
      expect(await schema4Batch(quoted, commit(a, 0, { effects: [{ id: 'a-e1', payload: 1 }], timers: [{ id: 'a-t1', key: 'k', fireAt: T0 + 60_000, input: {} }] }))).toMatchObject({ r_outcome: 'ok' });
      expect(await schema4Batch(quoted, commit(b, 0, { effects: [{ id: 'b-e1', payload: 1 }] }))).toMatchObject({ r_outcome: 'ok' });

      expect(await migratePostgresStore({ pool: admin, schema })).toEqual({ schema, applied: ALL_VERSIONS.slice(4), version: LATEST_SCHEMA_VERSION });
      const { rows: columns } = await admin.query(
        `SELECT table_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'trace' ORDER BY table_name`,
        [schema],
      );
      expect(columns).toEqual(['effects', 'timers'].map((table_name) => ({ table_name, data_type: 'json', is_nullable: 'YES', column_default: null })));

      // Rows written before the upgrade have no trace, on every read.
      const store = newStore({ pool: admin, schema });
      expect((await store.listEffects(a))[0]).toMatchObject({ id: 'a-e1', status: 'pending' });
      expect((await store.listEffects(a))[0]).not.toHaveProperty('trace');
      expect((await store.listTimers(a))[0]).toMatchObject({ id: 'a-t1', key: 'k' });
      expect((await store.listTimers(a))[0]).not.toHaveProperty('trace');
      const claimed = await store.claimEffects({ now: T0, limit: 10, types: [type], leaseMs: 60_000, owner: 'w' });
      expect(claimed.map((e) => [e.id, 'trace' in e])).toEqual([['a-e1', false], ['b-e1', false]]);

      // The new release traces work, through the routed-result path too, and rescheduling a keyed timer gives it the new trace.
      const lease = claimed.find((e) => e.id === 'a-e1')!.lease;
      await store.commit(commit(a, 1, { ack: { ...lease, outcome: 'done' }, effects: [{ id: 'a-e2', payload: 2, trace }] }));
      await store.commit(commit(a, 2, { timers: [{ id: 'a-t2', key: 'k', fireAt: T0 + 90_000, input: {}, trace }] }));
      expect((await store.listEffects(a)).find((e) => e.id === 'a-e2')).toMatchObject({ status: 'pending', trace });
      expect(await pending(a)).toEqual([expect.objectContaining({ id: 'a-t1', fireAt: T0 + 90_000, trace })]);

      // A process of the previous release reschedules the key with a timer that has no trace: the row has none.
      expect(await schema4Batch(quoted, commit(a, 3, { timers: [{ id: 'a-t3', key: 'k', fireAt: T0 + 120_000, input: {} }] }))).toMatchObject({ r_outcome: 'ok', r_version: 4 });
      const [rearmed] = await pending(a);
      expect(rearmed).toMatchObject({ id: 'a-t1', fireAt: T0 + 120_000 });
      expect(rearmed).not.toHaveProperty('trace');
      // …and cancels an instance as it did, writing effects without a trace.
      const refund = parseCommit(commit(b, 1, { effects: [{ id: 'b-refund', payload: 1 }] })).effects;
      const { rows: cancelled } = await admin.query(`SELECT o_cancelled, o_effects, o_timers FROM ${quoted}.cancel_instance($1, $2, $3, $4, $5::jsonb, $6)`, [
        b.type, b.id, T0 + 5, 'previous release', JSON.stringify(refund), null,
      ]);
      expect(cancelled).toEqual([{ o_cancelled: true, o_effects: 1, o_timers: 0 }]);
      const written = (await store.listEffects(b)).find((e) => e.id === 'b-refund');
      expect(written).toMatchObject({ status: 'pending' });
      expect(written).not.toHaveProperty('trace');
    });

    it('a version 5 schema upgrades to version 6, which applies a routed result that completes its instance without calling commit_one', async () => {
      const schema = newSchema();
      const quoted = await schemaAt(schema, 5);
      const store = newStore({ pool: admin, schema });
      const type = 'completing';
      const refs = [{ type, id: 'a' }, { type, id: 'b' }];
      for (const ref of refs) await store.commit(commit(ref, 0, { effects: [{ id: `${ref.id}-1`, payload: 1 }, { id: `${ref.id}-2`, payload: 2 }] }));
      // Leased as a claim of a release on version 5 leases them (this release's claims read version 9's columns).
      await admin.query(`UPDATE ${quoted}.effects SET status = 'leased', attempts = 1, lease_token = 'token-' || id, lease_owner = 'w', lease_expires_at = $1`, [T0 + 60_000]);
      const completing = (ref: (typeof refs)[number]) =>
        commit(ref, 1, { now: T0 + 1, ack: { kind: 'effect', id: `${ref.id}-1`, token: `token-${ref.id}-1`, outcome: 'done' }, completed: true, cancelWork: true });

      // Version 5 sends it through commit_one, one call per commit.
      expect(await commitOneCalls(quoted, completing(refs[0]!))).toEqual({ outcome: 'ok', calls: 1 });
      expect(await migratePostgresStore({ pool: admin, schema })).toEqual({ schema, applied: ALL_VERSIONS.slice(5), version: LATEST_SCHEMA_VERSION });
      expect(await commitOneCalls(quoted, completing(refs[1]!))).toEqual({ outcome: 'ok', calls: 0 });
      // Both paths leave the same rows: the acknowledged effect done, the other one cancelled.
      for (const ref of refs) {
        expect(await store.load(ref), ref.id).toMatchObject({ version: 2, status: 'completed' });
        expect((await store.listEffects(ref)).map((e) => [e.id, e.status]), ref.id).toEqual([[`${ref.id}-1`, 'done'], [`${ref.id}-2`, 'cancelled']]);
      }
    });

    it('a version 5 schema with events upgrades to the global feed: its events come first, in recorded order and each instance in sequence order, under the migration\'s transaction, and processes of the previous release write feed rows too', async () => {
      const schema = newSchema();
      const quoted = await schemaAt(schema, 5);
      const type = 'fed';
      const [a, b, c] = [{ type, id: 'a' }, { type, id: 'b' }, { type, id: 'c' }];
      // a's clock went back between its two events; b's only event sits between a's two times.
      expect(await schema4Batch(quoted, commit(a, 0, { now: T0 + 10 }))).toMatchObject({ r_outcome: 'ok' });
      expect(await schema4Batch(quoted, commit(a, 1, { now: T0 + 5 }))).toMatchObject({ r_outcome: 'ok' });
      expect(await schema4Batch(quoted, commit(b, 0, { now: T0 + 7 }))).toMatchObject({ r_outcome: 'ok' });
      const { rows: [migration] } = await admin.query<{ xid: string }>(`SELECT pg_current_xact_id()::text AS xid`);

      expect(await migratePostgresStore({ pool: admin, schema })).toEqual({ schema, applied: ALL_VERSIONS.slice(5), version: LATEST_SCHEMA_VERSION });
      const { rows: columns } = await admin.query(
        `SELECT column_name, data_type, is_nullable, is_identity, identity_generation FROM information_schema.columns
          WHERE table_schema = $1 AND table_name = 'events' AND column_name IN ('tx', 'position') ORDER BY column_name`,
        [schema],
      );
      expect(columns).toEqual([
        { column_name: 'position', data_type: 'bigint', is_nullable: 'NO', is_identity: 'YES', identity_generation: 'BY DEFAULT' },
        { column_name: 'tx', data_type: 'xid8', is_nullable: 'NO', is_identity: 'NO', identity_generation: null },
      ]);
      const { rows: old } = await admin.query<{ id: string; sequence: number; tx: string; position: string }>(
        `SELECT workflow_id AS id, sequence, tx::text AS tx, position::text AS position FROM ${quoted}.events ORDER BY position`,
      );
      expect(old.map((r) => `${r.id}#${r.sequence}`)).toEqual(['b#1', 'a#1', 'a#2']);
      expect(old.map((r) => r.position)).toEqual(['1', '2', '3']);
      // One transaction id for all of them: the migration's, later than any before it.
      expect(new Set(old.map((r) => r.tx)).size).toBe(1);
      expect(BigInt(old[0]!.tx)).toBeGreaterThan(BigInt(migration!.xid));

      const store = newStore({ pool: admin, schema });
      await store.commit(commit(c, 0));
      // A process of the previous release commits as it did; the defaults give its events their place.
      expect(await schema4Batch(quoted, commit(b, 1, { now: T0 + 8 }))).toMatchObject({ r_outcome: 'ok', r_version: 2 });
      expect(await previousRelease(quoted, commit(a, 2))).toEqual({ r_outcome: 'ok', r_version: 3 });
      const read = async () => {
        const page = await store.readFeed({ workflowTypes: [type] });
        return page.events.length === 6 ? page : undefined;
      };
      const page = await eventually('the feed of the upgraded schema', read);
      expect(page.events.map((e) => `${e.workflowId}#${e.sequence}`)).toEqual(['b#1', 'a#1', 'a#2', 'c#1', 'b#2', 'a#3']);
      expect(page.events[1]).toMatchObject({ type: 'Happened', payload: { n: 1 }, recordedAt: T0 + 10 });
      expect(page.events[0]!.position).toBe(`${old[0]!.tx}.1`);
      expect(await store.feedHead()).toBe(page.next);
      // The identity continues after the backfilled positions.
      expect(Number(page.events[3]!.position.split('.')[1])).toBe(4);
    });

    it('migrating an empty schema to version 7 starts positions at 1', async () => {
      const schema = newSchema();
      await schemaAt(schema, 5);
      await migratePostgresStore({ pool: admin, schema });
      const store = newStore({ pool: admin, schema });
      expect(await store.feedHead()).toBeUndefined();
      expect(await store.readFeed()).toEqual({ events: [] });
      await store.commit(commit({ type: 'empty', id: 'e' }, 0));
      const page = await eventually('the first event', async () => {
        const p = await store.readFeed();
        return p.events.length > 0 ? p : undefined;
      });
      expect(page.events[0]!.position).toMatch(/^\d+\.1$/);
    });

    it('a version 7 schema with events and live work upgrades to projection checkpoints: nothing of it changes, and a projection reads its feed from the start', async () => {
      const schema = newSchema();
      const quoted = await schemaAt(schema, 7);
      const store = newStore({ pool: admin, schema });
      const type = 'projected';
      await store.commit(commit({ type, id: 'a' }, 0, { effects: [{ id: 'a-e1', payload: 1 }] }));
      await store.commit(commit({ type, id: 'a' }, 1, { now: T0 + 1 }));
      await store.commit(commit({ type, id: 'b' }, 0, { now: T0 + 2 }));
      // The feed's positions as a reader of a release on version 7 sees them (this release's reads need version 9's columns).
      const before = {
        events: (await admin.query<{ position: string }>(`SELECT tx::text || '.' || position::text AS position FROM ${quoted}.events ORDER BY tx, position`)).rows,
      };
      // A process of this release on a version 7 schema: projections fail as configuration, naming the migration.
      const early = await rejection(store.claimProjection({ name: 'orders', owner: 'w', now: T0, leaseMs: 1000 }));
      expect(early).toMatchObject({ code: 'STORE_FAILURE', reason: 'configuration', retryable: false });
      expect((early as StoreError).message).toMatch(/migratePostgresStore/);
      const rowsOf = async () => ({
        events: (await admin.query(`SELECT workflow_id, sequence, tx::text, position FROM ${quoted}.events ORDER BY tx, position`)).rows,
        effects: (await admin.query(`SELECT id, status FROM ${quoted}.effects ORDER BY id`)).rows,
      });
      const rows = await rowsOf();

      expect(await migratePostgresStore({ pool: admin, schema })).toEqual({ schema, applied: ALL_VERSIONS.slice(7), version: LATEST_SCHEMA_VERSION });
      expect(await rowsOf()).toEqual(rows);
      const { rows: columns } = await admin.query(
        `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
          WHERE table_schema = $1 AND table_name IN ('projections', 'projection_dead_letters') ORDER BY table_name, ordinal_position`,
        [schema],
      );
      expect(columns.filter((c) => c.table_name === 'projections').map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual([
        ['name', 'text', 'NO'], ['position', 'text', 'YES'], ['owner', 'text', 'YES'], ['token', 'bigint', 'NO'], ['expires_at', 'bigint', 'YES'], ['updated_at', 'bigint', 'NO'],
      ]);
      expect(columns.filter((c) => c.table_name === 'projection_dead_letters').map((c) => c.column_name)).toEqual([
        'projection', 'id', 'workflow_type', 'workflow_id', 'sequence', 'event_type', 'position', 'error', 'attempts', 'status', 'parked_at', 'updated_at',
      ]);

      // The feed written before the upgrade is what a first claim starts from, positions unchanged.
      expect((await store.readFeed({ workflowTypes: [type] })).events.map((e) => e.position)).toEqual(before.events.map((e) => e.position));
      const claimed = await store.claimProjection({ name: 'orders', owner: 'w', now: T0, leaseMs: 1000 });
      expect(claimed).toEqual({ lease: { name: 'orders', owner: 'w', token: 1 }, expiresAt: T0 + 1000 });
      expect((await store.feedLag({ limit: 100_000 })).events).toBe(3);
      await store.saveProjection(claimed!.lease, { now: T0 + 3, position: before.events[1]!.position });
      expect(await store.feedLag({ after: before.events[1]!.position })).toEqual({ events: 1, capped: false, oldestRecordedAt: T0 + 2 });
      expect(await store.listProjections()).toEqual([{ name: 'orders', position: before.events[1]!.position, owner: 'w', token: 1, expiresAt: T0 + 1000, updatedAt: T0 + 3, deadLetters: 0 }]);
      // The work written before the upgrade is claimed as before.
      const [effect] = await store.claimEffects({ now: T0, limit: 1, types: [type], leaseMs: 1000, owner: 'w' });
      expect(effect?.id).toBe('a-e1');
    });

    it('a version 8 schema with events and live work upgrades to versions and releases without rewriting a table: its rows read back as before, and processes of the previous release keep committing and releasing', async () => {
      const schema = newSchema();
      const quoted = await schemaAt(schema, 8);
      const type = 'versioned';
      const [a, b] = [{ type, id: 'a' }, { type, id: 'b' }];
      expect(await schema8Batch(quoted, commit(a, 0, { effects: [{ id: 'a-e1', payload: 1 }], timers: [{ id: 'a-t1', key: 'k', fireAt: T0 + 60_000, input: {} }] }))).toMatchObject({ r_outcome: 'ok' });
      expect(await schema8Batch(quoted, commit(b, 0, { effects: [{ id: 'b-e1', payload: 1 }] }))).toMatchObject({ r_outcome: 'ok' });
      // The files holding each table: a rewrite would give it a new one.
      const files = async () =>
        (await admin.query(`SELECT c.relname, pg_relation_filenode(c.oid)::text AS file FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r' ORDER BY c.relname`, [quoted])).rows;
      const before = await files();

      expect(await migratePostgresStore({ pool: admin, schema })).toEqual({ schema, applied: ALL_VERSIONS.slice(8), version: LATEST_SCHEMA_VERSION });
      expect(await files()).toEqual(before);
      const { rows: columns } = await admin.query(
        `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
          WHERE table_schema = $1 AND column_name IN ('schema_version', 'version', 'releases') AND table_name IN ('events', 'effects', 'timers')
          ORDER BY table_name, column_name`,
        [schema],
      );
      expect(columns).toEqual([
        { table_name: 'effects', column_name: 'releases', data_type: 'integer', is_nullable: 'NO', column_default: '0' },
        { table_name: 'effects', column_name: 'version', data_type: 'integer', is_nullable: 'YES', column_default: null },
        { table_name: 'events', column_name: 'schema_version', data_type: 'integer', is_nullable: 'YES', column_default: null },
        { table_name: 'timers', column_name: 'releases', data_type: 'integer', is_nullable: 'NO', column_default: '0' },
        { table_name: 'timers', column_name: 'version', data_type: 'integer', is_nullable: 'YES', column_default: null },
      ]);

      // Rows written before the upgrade read back without the new fields.
      const store = newStore({ pool: admin, schema });
      const [event] = (await store.load(a)).events;
      expect(event).toMatchObject({ sequence: 1, type: 'Happened' });
      expect(event).not.toHaveProperty('schemaVersion');
      for (const row of [...(await store.listEffects(a)), ...(await store.listTimers(a))]) {
        expect(row).not.toHaveProperty('version');
        expect(row).not.toHaveProperty('releases');
      }

      // The new release writes versions; a process of the previous release commits as it did, beside it.
      await store.commit(commit(a, 1, { events: [{ ...commit(a, 1).events[0]!, schemaVersion: 3 }], effects: [{ id: 'a-e2', payload: 2, version: 2 }] }));
      expect(await schema8Batch(quoted, commit(a, 2, { timers: [{ id: 'a-t2', key: 'k', fireAt: T0 + 90_000, input: {} }] }))).toMatchObject({ r_outcome: 'ok', r_version: 3 });
      expect((await store.readEvents(a)).map((e) => e.schemaVersion)).toEqual([undefined, 3, undefined]);
      expect((await store.listEffects(a)).map((e) => [e.id, e.version])).toEqual([['a-e1', undefined], ['a-e2', 2]]);

      // A worker of the previous release gives its lease back through settle_leases as it did: claimable
      // at once, its release not counted. A worker of this release gives one back with a reason.
      const claimed = await store.claimEffects({ now: T0 + 5, limit: 10, types: [type], leaseMs: 60_000, owner: 'w' });
      const lease = (id: string) => claimed.find((e) => e.id === id)!.lease;
      expect(await previousSettle(quoted, { kind: 'effect', op: 'release', id: 'a-e1', token: lease('a-e1').token, now: T0 + 6 })).toEqual({ r_index: 0, r_applied: true });
      await store.release(lease('a-e2'), T0 + 6, { reason: 'needs version 2', availableAt: T0 + 1000 });
      const rows = await store.listEffects(a);
      expect(rows.find((e) => e.id === 'a-e1')).toMatchObject({ status: 'pending', attempts: 0, availableAt: T0 + 6 });
      expect(rows.find((e) => e.id === 'a-e1')).not.toHaveProperty('releases');
      expect(rows.find((e) => e.id === 'a-e2')).toMatchObject({ status: 'pending', attempts: 0, availableAt: T0 + 1000, releases: 1, lastError: 'needs version 2', version: 2 });
    });

    it('a version 9 schema with live work upgrades to version 10 without touching a table or an index, and cancelWork, cancel_instance and delete_instance work on rows of both releases while processes of the previous release keep committing', async () => {
      const schema = newSchema();
      const quoted = await schemaAt(schema, 9);
      const type = 'live';
      const [a, b, c] = [{ type, id: 'a' }, { type, id: 'b' }, { type, id: 'c' }];
      const store = newStore({ pool: admin, schema });
      await store.commit(commit(a, 0, { effects: [{ id: 'a-e1', payload: 1 }, { id: 'a-e2', payload: 2 }], timers: [{ id: 'a-t1', key: 'k', fireAt: T0 + 60_000, input: {} }] }));
      await store.commit(commit(b, 0, { effects: [{ id: 'b-e1', payload: 1 }] }));
      await store.commit(commit(c, 0, { effects: [{ id: 'c-e1', payload: 1 }], timers: [{ id: 'c-t1', key: 'k', fireAt: T0 + 60_000, input: {} }] }));
      // Each table's and index's file: a rewrite or a rebuild would give it a new one.
      const files = async () =>
        (await admin.query(`SELECT c.relname, pg_relation_filenode(c.oid)::text AS file FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'i') ORDER BY c.relname`, [quoted])).rows;
      const before = await files();

      expect(await migratePostgresStore({ pool: admin, schema })).toEqual({ schema, applied: ALL_VERSIONS.slice(9), version: LATEST_SCHEMA_VERSION });
      expect(await files()).toEqual(before);

      // A routed result completing a (cancelWork) cancels the rest of its live work, in the set-based path.
      const claimed = await store.claimEffects({ now: T0 + 1, limit: 10, types: [type], leaseMs: 60_000, owner: 'w' });
      const lease = (id: string) => claimed.find((e) => e.id === id)!.lease;
      expect(await store.commitMany([commit(a, 1, { now: T0 + 2, ack: { ...lease('a-e1'), outcome: 'done' }, completed: true, cancelWork: true })])).toMatchObject([{ ok: true }]);
      expect((await store.listEffects(a)).map((e) => [e.id, e.status])).toEqual([['a-e1', 'done'], ['a-e2', 'cancelled']]);
      expect((await store.listTimers(a)).map((t) => [t.id, t.status])).toEqual([['a-t1', 'cancelled']]);
      // A process of the previous release commits as it did; cancel_instance and delete_instance see live work.
      expect(await schema8Batch(quoted, commit(b, 1, { effects: [{ id: 'b-e2', payload: 2 }] }))).toMatchObject({ r_outcome: 'ok', r_version: 2 });
      expect(await store.deleteInstance({ ref: c, expectedVersion: 1, now: T0 + 3 })).toBe('active');
      expect(await store.cancelInstance({ ref: c, now: T0 + 3, reason: 'stop' })).toEqual({ cancelled: true, effects: 1, timers: 1 });
      expect(await store.cancelInstance({ ref: b, now: T0 + 3, reason: 'stop' })).toEqual({ cancelled: true, effects: 2, timers: 0 });
      expect(await store.deleteInstance({ ref: c, expectedVersion: 1, now: T0 + 4 })).toBe('deleted');
      expect(await store.deleteInstance({ ref: a, expectedVersion: 2, now: T0 + 4 })).toBe('deleted');
      expect(await store.listEffects(a)).toEqual([]);
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
