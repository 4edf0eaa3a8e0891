// Behaviour specific to the PostgreSQL store on a real server: migrations, real concurrency through
// separate connections, type isolation, injection safety, LISTEN reconnection, round-trip counts.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accept, defineWorkflow, isIronflowError } from '@ironflow/core';
import { executeInput, systemClock } from '@ironflow/core/engine';
import { StoreError, type CommitRequest, type WakeUpListener, type WorkKind } from '@ironflow/core/store';
import { testServerUrl, uniqueName } from '@ironflow/testing';
import {
  createPostgresStore,
  LATEST_SCHEMA_VERSION,
  migratePostgresStore,
  type PgPoolLike,
  type PostgresStore,
  type PostgresStoreOptions,
} from '../src/index.js';

const url = testServerUrl('postgres');
const T0 = Date.UTC(2026, 0, 1);

/** A one-event commit with defaults, for tests that drive the store directly. */
function commit(ref: { type: string; id: string }, expectedVersion: number, fields: Partial<CommitRequest> = {}): CommitRequest {
  const now = fields.now ?? T0;
  return {
    ref,
    expectedVersion,
    now,
    events: [
      { workflowType: ref.type, workflowId: ref.id, sequence: expectedVersion + 1, type: 'Happened', payload: { n: expectedVersion + 1 }, metadata: { decidedAt: now }, recordedAt: now },
    ],
    effects: [],
    cancelTimers: [],
    timers: [],
    completed: false,
    ...fields,
  };
}

/** Polls `probe` until it returns a value (bounded): for asynchronous wake-ups and reconnects only. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

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

  /** PIDs of the backends currently listening on `channel`. */
  async function listeners(channel: string): Promise<number[]> {
    const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE query = $1 ORDER BY pid', [
      `LISTEN "${channel}"`,
    ]);
    return rows.map((r) => r.pid);
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

    it('a commit, a load, a claim and each lease operation cost one round trip', async () => {
      const counts = { query: 0, connect: 0 };
      const counting: PgPoolLike = {
        query: (textOrConfig, values) => {
          counts.query += 1;
          return typeof textOrConfig === 'string'
            ? shared.pool.query(textOrConfig, values)
            : shared.pool.query({ name: textOrConfig.name, text: textOrConfig.text, values: textOrConfig.values ?? [] });
        },
        connect: () => {
          counts.connect += 1;
          return shared.pool.connect();
        },
      };
      const store = newStore({ pool: counting, schema: shared.schema });
      const type = uniqueName('trips');
      const ref = { type, id: 'counted' };
      const measure = async (run: () => Promise<unknown>): Promise<number> => {
        const before = counts.query + counts.connect;
        await run();
        return counts.query + counts.connect - before;
      };
      const full = commit(ref, 0, {
        effects: [{ id: uniqueName('e'), payload: { a: 1 } }, { id: uniqueName('e'), payload: { a: 2 } }],
        timers: [{ id: uniqueName('t'), key: 'k', fireAt: T0, input: { t: 1 } }],
        cancelTimers: ['k0'],
        uniqueKey: 'u',
        idempotencyKey: 'i',
        snapshot: { version: 1, revision: '1', state: { s: 1 } },
        observation: { workflowType: type, workflowId: 'counted', inputType: 'Book', input: {}, outcome: 'accepted', observedAt: T0 },
      });
      expect(await measure(() => store.commit(full))).toBe(1);
      expect(await measure(() => store.load(ref, { idempotencyKey: 'i' }))).toBe(1);
      let claimed: Awaited<ReturnType<PostgresStore['claimEffects']>> = [];
      expect(await measure(async () => (claimed = await store.claimEffects({ now: T0, limit: 10, types: [type], leaseMs: 1000, owner: 'w' })))).toBe(1);
      expect(claimed).toHaveLength(2);
      expect(await measure(() => store.claimTimers({ now: T0, limit: 10, types: [type], leaseMs: 1000, owner: 'w' }))).toBe(1);
      expect(await measure(() => store.renewLease(claimed[0]!.lease, T0, 1000))).toBe(1);
      expect(await measure(() => store.complete(claimed[0]!.lease, T0))).toBe(1);
      const ack = { ...claimed[1]!.lease, outcome: 'done' as const };
      expect(await measure(() => store.commit(commit(ref, 1, { ack, effects: [{ id: uniqueName('e'), payload: null }] })))).toBe(1);
      expect(await measure(() => store.commit(commit(ref, 1)).catch(() => undefined))).toBe(1);
      expect(counts.connect).toBe(0);
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

    it("results do not depend on the pool's type parsers, and the store changes no global parser", async () => {
      const int8Parser = pg.types.getTypeParser(20);
      const jsonParser = pg.types.getTypeParser(114);
      const pool = newPool({
        types: {
          getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
            oid === 20 ? (value: string) => BigInt(value) : oid === 114 ? (value: string) => value : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
        },
      });
      const store = newStore({ pool, schema: shared.schema });
      const ref = { type: uniqueName('parsers'), id: 'p' };
      await store.commit(commit(ref, 0, { effects: [{ id: uniqueName('e'), payload: { deep: [1, { x: 'y' }] } }] }));
      const [effect] = await store.listEffects(ref);
      expect(effect).toMatchObject({ createdAt: T0, availableAt: T0, payload: { deep: [1, { x: 'y' }] } });
      expect((await store.load(ref)).events[0]).toMatchObject({ recordedAt: T0, payload: { n: 1 } });
      expect(pg.types.getTypeParser(20)).toBe(int8Parser);
      expect(pg.types.getTypeParser(114)).toBe(jsonParser);
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

  describe('wake-ups', () => {
    it('the LISTEN connection reconnects after the server kills it, and a later commit from another store still wakes the subscriber', async () => {
      const schema = newSchema();
      await migratePostgresStore({ pool: admin, schema });
      const listenErrors: StoreError[] = [];
      const subscriber = newStore({ pool: newPool({ max: 2 }), schema, onListenError: (error) => listenErrors.push(error) });
      const committer = newStore({ pool: newPool({ max: 2 }), schema });
      const heard: WorkKind[] = [];
      const listener: WakeUpListener = (kind) => heard.push(kind);
      const unsubscribe = subscriber.subscribe(listener);
      try {
        const first = await eventually('the LISTEN connection', async () => (await listeners(subscriber.channel))[0]);
        await committer.commit(commit({ type: 'wake', id: 'before' }, 0, { effects: [{ id: uniqueName('e'), payload: 1 }] }));
        await eventually('a wake-up before the kill', () => (heard.includes('effect') ? true : undefined));

        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1', [`LISTEN "${subscriber.channel}"`]);
        const [second] = await eventually('a new LISTEN connection', async () => {
          const pids = await listeners(subscriber.channel);
          return pids.length === 1 && pids[0] !== first ? pids : undefined;
        });
        expect(second).not.toBe(first);
        expect(listenErrors.some((error) => error.reason === 'unavailable')).toBe(true);

        heard.length = 0;
        await committer.commit(commit({ type: 'wake', id: 'after' }, 0, { timers: [{ id: uniqueName('t'), fireAt: T0, input: 1 }] }));
        await eventually('a wake-up after the reconnect', () => (heard.includes('timer') ? true : undefined));
      } finally {
        unsubscribe();
      }
      await eventually('the LISTEN connection to close after unsubscribing', async () =>
        (await listeners(subscriber.channel)).length === 0 ? true : undefined,
      );
    });

    it('close() releases the LISTEN connection, leaves the pool usable and refuses new subscriptions', async () => {
      const pool = newPool({ max: 2 });
      const store = createPostgresStore({ pool, schema: shared.schema, listenHealthCheckMs: 0 });
      store.subscribe(() => {});
      await eventually('the LISTEN connection', async () => (await listeners(store.channel)).length > 0 || undefined);
      await store.close();
      await eventually('the LISTEN connection to close', async () => ((await listeners(store.channel)).length === 0 ? true : undefined));
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(() => store.subscribe(() => {})).toThrow(expect.objectContaining({ code: 'SHUTTING_DOWN' }));
      await store.close();
    });

    it('a listenConnection factory opens the LISTEN connection and the store ends it on close', async () => {
      const clients: pg.Client[] = [];
      let ended = 0;
      const store = createPostgresStore({
        pool: shared.pool,
        schema: shared.schema,
        listenConnection: async () => {
          const client = new pg.Client({ connectionString: url, application_name: 'ironflow-listen-test' });
          client.on('end', () => {
            ended += 1;
          });
          await client.connect();
          clients.push(client);
          return client;
        },
      });
      const heard: WorkKind[] = [];
      store.subscribe((kind) => heard.push(kind));
      await eventually('the LISTEN connection', async () => {
        const { rows } = await admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'ironflow-listen-test' AND query LIKE 'LISTEN%'");
        return rows.length > 0 || undefined;
      });
      const other = newStore({ pool: newPool({ max: 1 }), schema: shared.schema });
      await other.commit(commit({ type: uniqueName('factory'), id: 'x' }, 0, { effects: [{ id: uniqueName('e'), payload: 1 }] }));
      await eventually('a wake-up through the factory connection', () => (heard.includes('effect') ? true : undefined));
      await store.close();
      await eventually('the factory connection to end', () => (ended === 1 ? true : undefined));
      expect(clients).toHaveLength(1);
    });
  });
});
