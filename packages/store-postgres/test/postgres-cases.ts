// PostgreSQL-only cases added to each conformance run on a real server: statement naming, type
// parsers, and the LISTEN connection (reconnects, what close() ends, the listenConnection factory).
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { StoreError, WakeUpListener, WorkKind } from '@ironflow/core/store';
import { uniqueName, type ConformanceContext } from '@ironflow/testing';
import { createPostgresStore, type PgPoolLike, type PostgresStore, type PostgresStoreOptions } from '../src/index.js';
import { commit, eventually, T0 } from './support.js';

/** How the conformance run that adds these cases opens its stores. */
export interface PostgresCaseSettings {
  readonly url: string;
  readonly preparedStatements: boolean;
  /** Declare the LISTEN cases (once per server is enough: statement naming does not touch them). */
  readonly listen: boolean;
}

/** A pool wrapper that forwards both call forms and reports which form each statement used. */
export function recordingPool(pool: pg.Pool, record: (form: 'named' | 'text') => void): PgPoolLike {
  return {
    query: (textOrConfig, values) => {
      record(typeof textOrConfig === 'string' ? 'text' : 'named');
      return typeof textOrConfig === 'string'
        ? pool.query(textOrConfig, values)
        : pool.query({ name: textOrConfig.name, text: textOrConfig.text, values: textOrConfig.values ?? [] });
    },
    connect: () => pool.connect(),
  };
}

/** Declares the PostgreSQL-only cases on the suite's namespace. */
export function postgresCases(ctx: ConformanceContext, settings: PostgresCaseSettings): void {
  const pools: pg.Pool[] = [];
  const stores: PostgresStore[] = [];
  const { url, preparedStatements } = settings;

  function newPool(config: pg.PoolConfig = {}): pg.Pool {
    const pool = new pg.Pool({ connectionString: url, max: 4, ...config });
    pools.push(pool);
    return pool;
  }

  function newStore(options: Omit<PostgresStoreOptions, 'preparedStatements'>): PostgresStore {
    const store = createPostgresStore({ ...options, preparedStatements });
    stores.push(store);
    return store;
  }

  afterAll(async () => {
    for (const store of stores) await store.close();
    for (const pool of pools) await pool.end();
  });

  it(
    preparedStatements
      ? 'every statement is a named prepared statement, planned once per connection'
      : 'no statement is prepared by name, as PgBouncer in transaction mode needs',
    async () => {
      const pool = newPool({ max: 1 });
      const forms = new Set<string>();
      const store = newStore({ pool: recordingPool(pool, (form) => forms.add(form)), schema: ctx.namespace });
      const ref = { type: uniqueName('prepared'), id: 'p' };
      await store.commit(commit(ref, 0));
      await store.load(ref);
      await store.load(ref);
      expect([...forms]).toEqual([preparedStatements ? 'named' : 'text']);
      // One connection: the statements it holds are exactly what this store prepared (commit and load).
      const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE $1', ['ironflow\\_%']);
      expect(rows[0]!.n).toBe(preparedStatements ? 2 : 0);
    },
  );

  it("results do not depend on the pool's type parsers, and the store changes no global parser", async () => {
    const int8Parser = pg.types.getTypeParser(20);
    const jsonParser = pg.types.getTypeParser(114);
    const pool = newPool({
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === 20 ? (value: string) => BigInt(value) : oid === 114 ? (value: string) => value : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    const store = newStore({ pool, schema: ctx.namespace });
    const ref = { type: uniqueName('parsers'), id: 'p' };
    await store.commit(commit(ref, 0, { effects: [{ id: uniqueName('e'), payload: { deep: [1, { x: 'y' }] } }] }));
    const [effect] = await store.listEffects(ref);
    expect(effect).toMatchObject({ createdAt: T0, availableAt: T0, payload: { deep: [1, { x: 'y' }] } });
    expect((await store.load(ref)).events[0]).toMatchObject({ recordedAt: T0, payload: { n: 1 } });
    expect(pg.types.getTypeParser(20)).toBe(int8Parser);
    expect(pg.types.getTypeParser(114)).toBe(jsonParser);
  });

  if (!settings.listen) return;

  describe('the LISTEN connection', () => {
    let adminPool: pg.Pool | undefined;
    /** A pool for looking at and killing the server's connections. */
    const admin = (): pg.Pool => (adminPool ??= newPool({ max: 2 }));

    /** PIDs of the backends whose last statement was LISTEN on `channel`. */
    async function listeners(channel: string): Promise<number[]> {
      const { rows } = await admin().query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE query = $1 ORDER BY pid', [
        `LISTEN "${channel}"`,
      ]);
      return rows.map((r) => r.pid);
    }

    it('reconnects after the server kills it, and a later commit from another store still wakes the subscriber', async () => {
      // A namespace of its own, so no other store listens on its channel.
      const schema = `${ctx.namespace}_listen`;
      await ctx.open(schema);
      const listenErrors: StoreError[] = [];
      // No pings: they would change pg_stat_activity.query, which is how this test finds the connection.
      const subscriber = newStore({ pool: newPool({ max: 2 }), schema, listenHealthCheckMs: 0, onListenError: (error) => listenErrors.push(error) });
      const committer = newStore({ pool: newPool({ max: 2 }), schema });
      const heard: WorkKind[] = [];
      const listener: WakeUpListener = (kind) => heard.push(kind);
      const unsubscribe = subscriber.subscribe(listener);
      try {
        const first = await eventually('the LISTEN connection', async () => (await listeners(subscriber.channel))[0]);
        await committer.commit(commit({ type: 'wake', id: 'before' }, 0, { effects: [{ id: uniqueName('e'), payload: 1 }] }));
        await eventually('a wake-up before the kill', () => (heard.includes('effect') ? true : undefined));

        await admin().query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1', [`LISTEN "${subscriber.channel}"`]);
        const [second] = await eventually('a new LISTEN connection', async () => {
          const pids = await listeners(subscriber.channel);
          return pids.length === 1 && pids[0] !== first ? pids : undefined;
        });
        expect(second).not.toBe(first);
        expect(listenErrors.some((error) => error.reason === 'unavailable')).toBe(true);

        heard.length = 0;
        await committer.commit(commit({ type: 'wake', id: 'after' }, 0, { timers: [{ id: uniqueName('t'), fireAt: 0, input: 1 }] }));
        await eventually('a wake-up after the reconnect', () => (heard.includes('timer') ? true : undefined));
      } finally {
        unsubscribe();
      }
      await eventually('the LISTEN connection to close after unsubscribing', async () =>
        (await listeners(subscriber.channel)).length === 0 ? true : undefined,
      );
    });

    it('close() ends the LISTEN connection it opened, leaves the pool usable and refuses new subscriptions', async () => {
      const schema = `${ctx.namespace}_close`;
      await ctx.open(schema);
      const pool = newPool({ max: 2 });
      const store = newStore({ pool, schema, listenHealthCheckMs: 0 });
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
      const application = uniqueName('ironflow_listen');
      const store = newStore({
        pool: newPool({ max: 2 }),
        schema: ctx.namespace,
        listenConnection: async () => {
          const client = new pg.Client({ connectionString: url, application_name: application });
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
        const { rows } = await admin().query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'", [application]);
        return rows.length > 0 || undefined;
      });
      const other = newStore({ pool: newPool({ max: 1 }), schema: ctx.namespace });
      await other.commit(commit({ type: uniqueName('factory'), id: 'x' }, 0, { effects: [{ id: uniqueName('e'), payload: 1 }] }));
      await eventually('a wake-up through the factory connection', () => (heard.includes('effect') ? true : undefined));
      await store.close();
      await eventually('the factory connection to end', () => (ended === 1 ? true : undefined));
      expect(clients).toHaveLength(1);
    });
  });
}
