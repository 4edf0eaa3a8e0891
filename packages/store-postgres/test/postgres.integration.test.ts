// The PostgreSQL store on a real server outside the conformance run: migrations, and cases that
// need fixtures of their own (an admin pool, fresh schemas, separate pools per writer).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accept, defineWorkflow, isIronflowError } from '@ironflow/core';
import { executeInput, systemClock } from '@ironflow/core/engine';
import { StoreError, type CommitRequest } from '@ironflow/core/store';
import { testServerUrl, uniqueName } from '@ironflow/testing';
import {
  createPostgresStore,
  LATEST_SCHEMA_VERSION,
  migratePostgresStore,
  type PgPoolLike,
  type PostgresStore,
  type PostgresStoreOptions,
} from '../src/index.js';
import { commit, rejection, T0 } from './support.js';

const url = testServerUrl('postgres');

describe.skipIf(!url)('PostgreSQL store on a real server', () => {
  const pools: pg.Pool[] = [];
  const schemas: string[] = [];
  const stores: PostgresStore[] = [];
  let admin: pg.Pool;
  let shared: { schema: string; pool: pg.Pool; store: PostgresStore };

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

  beforeAll(async () => {
    admin = newPool({ max: 2 });
    const schema = newSchema();
    const pool = newPool({ max: 20 });
    await migratePostgresStore({ pool, schema });
    shared = { schema, pool, store: newStore({ pool, schema }) };
  });

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

  describe('decisions', () => {
    it('50 concurrent executions on one instance through separate connections win each version exactly once, gapless', async () => {
      const pool = newPool({ max: 50 });
      const store = newStore({ pool, schema: shared.schema });
      const counter = defineWorkflow({
        type: uniqueName('counter'),
        initialState: () => ({ total: 0 }),
        evolve: (state: { total: number }, event: { type: 'Added'; writer: number }) => ({ total: state.total + (event.type === 'Added' ? 1 : 0) }),
        decide: (input: { id: string; writer: number }) => accept({ type: 'Added' as const, writer: input.writer }),
        workflowId: (input) => input.id,
      });
      const deps = {
        store,
        clock: systemClock,
        newId: () => crypto.randomUUID(),
        sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
        maxConflictRetries: 500,
      };
      const results = await Promise.all(Array.from({ length: 50 }, (_, writer) => executeInput(deps, counter, { id: 'hot', writer })));
      const versions = results.map((r) => (r.status === 'accepted' ? r.version : -1)).sort((a, b) => a - b);
      expect(versions).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      const events = await store.readEvents({ type: counter.type, id: 'hot' });
      expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(new Set(events.map((e) => (e.payload as { writer: number }).writer)).size).toBe(50);
      expect(pool.totalCount).toBeGreaterThan(1);
    });

    it('a malformed request is refused with INVALID_ARGUMENT before any SQL and writes nothing', async () => {
      let queries = 0;
      const counting: PgPoolLike = {
        query: (textOrConfig, values) => {
          queries += 1;
          return typeof textOrConfig === 'string'
            ? shared.pool.query(textOrConfig, values)
            : shared.pool.query({ name: textOrConfig.name, text: textOrConfig.text, values: textOrConfig.values ?? [] });
        },
        connect: () => shared.pool.connect(),
      };
      const store = newStore({ pool: counting, schema: shared.schema });
      const ref = { type: uniqueName('bad'), id: 'bad' };
      const good = commit(ref, 0);
      const malformed: CommitRequest[] = [
        { ...good, events: [{ ...good.events[0]!, sequence: 2 }] },
        { ...good, events: [] },
        { ...good, now: 1.5 },
        { ...good, events: [{ ...good.events[0]!, payload: { n: 10n } }] },
        { ...good, effects: [{ id: 'same', payload: 1 }, { id: 'same', payload: 2 }] },
        { ...good, timers: [{ id: 'a', key: 'k', fireAt: T0, input: 1 }, { id: 'b', key: 'k', fireAt: T0, input: 2 }] },
        { ...good, timers: [{ id: 'a', fireAt: T0, input: undefined }] },
        { ...good, ref: { type: ref.type, id: 'nul\u0000' } },
        { ...good, idempotencyKey: '' },
        { ...good, ack: { kind: 'effect', id: 'x', token: 'y', outcome: 'maybe' as 'done' } },
      ];
      for (const request of malformed) {
        expect(isIronflowError(await rejection(store.commit(request)), 'INVALID_ARGUMENT')).toBe(true);
      }
      expect(isIronflowError(await rejection(store.claimEffects({ now: T0, limit: -1, types: [ref.type], leaseMs: 1, owner: 'w' })), 'INVALID_ARGUMENT')).toBe(true);
      expect(isIronflowError(await rejection(store.listInstances({ limit: 1.5 })), 'INVALID_ARGUMENT')).toBe(true);
      expect(queries).toBe(0);
      expect((await store.load(ref)).version).toBe(0);
    });

  });

  describe('claims', () => {
    it("two stores on one database whose claims pass disjoint types never claim each other's effects", async () => {
      const left = { type: uniqueName('left'), store: newStore({ pool: newPool(), schema: shared.schema }) };
      const right = { type: uniqueName('right'), store: newStore({ pool: newPool(), schema: shared.schema }) };
      const ids = { [left.type]: [] as string[], [right.type]: [] as string[] };
      for (let i = 0; i < 10; i++) {
        for (const side of [left, right]) {
          const fx = [uniqueName('e'), uniqueName('e')];
          ids[side.type]!.push(...fx);
          await shared.store.commit(commit({ type: side.type, id: `i-${i}` }, 0, { effects: fx.map((id) => ({ id, payload: { side: side.type } })) }));
        }
      }
      const drain = async (side: typeof left): Promise<string[]> => {
        const seen: string[] = [];
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            for (;;) {
              const batch = await side.store.claimEffects({ now: T0, limit: 3, types: [side.type], leaseMs: 60_000, owner: side.type });
              if (batch.length === 0) return;
              for (const claimed of batch) expect(claimed.workflowType).toBe(side.type);
              seen.push(...batch.map((b) => b.id));
            }
          }),
        );
        return seen;
      };
      const [leftSeen, rightSeen] = await Promise.all([drain(left), drain(right)]);
      expect([...leftSeen].sort()).toEqual([...ids[left.type]!].sort());
      expect([...rightSeen].sort()).toEqual([...ids[right.type]!].sort());
    });
  });

  describe('injection safety', () => {
    it('hostile workflow types, ids, keys, tokens and owners are data: they round-trip verbatim and inject nothing', async () => {
      const hostile = [
        `o'; DROP TABLE "${shared.schema}".events; --`,
        '$1',
        '$$ dollar $$',
        'back\\slash\\',
        '"double" quotes',
        '{a,b}',
        'NULL',
        "'||pg_sleep(5)||'",
        'semi;colon',
        '%_ like * patterns',
        'line\nbreak\ttab',
        'naïve 😀 𝄞',
      ];
      const store = shared.store;
      for (const [n, text] of hostile.entries()) {
        const ref = { type: `${text}#type${n}`, id: text };
        const effectId = `${text}#effect${n}`;
        const timerId = `${text}#timer${n}`;
        await store.commit(
          commit(ref, 0, {
            effects: [{ id: effectId, payload: { text } }],
            timers: [{ id: timerId, key: text, fireAt: T0, input: { text } }],
            cancelTimers: [text + 'x'],
            uniqueKey: text,
            idempotencyKey: text,
          }),
        );
        const loaded = await store.load(ref, { idempotencyKey: text });
        expect(loaded.idempotent?.key).toBe(text);
        expect(loaded.events[0]).toMatchObject({ workflowType: ref.type, workflowId: text });
        expect(await store.listInstances({ workflowType: ref.type })).toEqual([expect.objectContaining({ workflowType: ref.type, workflowId: text })]);
        const [claimed] = await store.claimEffects({ now: T0, limit: 10, types: [ref.type, text], leaseMs: 1000, owner: text });
        expect(claimed).toMatchObject({ id: effectId, workflowType: ref.type, workflowId: text, leaseOwner: text, payload: { text } });
        await store.deadLetter(claimed!.lease, T0, text);
        expect(await store.listDeadLetters({ kind: 'effect', workflowType: ref.type, workflowId: text })).toEqual([
          expect.objectContaining({ id: effectId, lastError: text }),
        ]);
        expect(await store.redrive('effect', effectId, T0)).toBe(true);
        const [timer] = await store.claimTimers({ now: T0, limit: 10, types: [ref.type], leaseMs: 1000, owner: text });
        expect(timer).toMatchObject({ id: timerId, key: text, input: { text } });
        await store.commit(commit(ref, 1, { cancelTimers: [text] }));
        expect((await store.listTimers(ref))[0]).toMatchObject({ key: text, status: 'cancelled' });
        const conflict = await rejection(store.commit(commit({ type: ref.type, id: `${text}-2` }, 0, { uniqueKey: text })));
        expect(conflict).toMatchObject({ code: 'UNIQUE_KEY_CONFLICT', uniqueKey: text, holderId: text });
      }
      const { rows } = await admin.query('SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1', [shared.schema]);
      expect(rows[0]).toEqual({ n: 8 });
    });
  });
});
