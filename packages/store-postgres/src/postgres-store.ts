// The WorkflowStore on PostgreSQL and PGlite: the kit's defineStore over this package's backend.
// Only PostgreSQL's own options are checked here; every port call's arguments are the kit's.
import { defineStore, invalidArgument, parseCount, type KitStore, type StoreError } from '@ironflow/core/store';
import { createSqlBackend, type SqlBackendSettings } from './backend.js';
import type { SqlDriver } from './driver.js';
import type { PgClientLike, PgPoolLike } from './pg-client.js';
import { pgPoolDriver } from './pg-driver.js';
import { parseSchemaName } from './schema-name.js';

/** Options of `createPostgresStore`. */
export interface PostgresStoreOptions {
  /** A `pg.Pool` (or anything shaped like one) that you own; the store never ends it. */
  pool: PgPoolLike;
  /**
   * The PostgreSQL schema holding the store's tables (created by `migratePostgresStore`).
   * @default 'ironflow'
   */
  schema?: string | undefined;
  /**
   * Opens the dedicated connection used for LISTEN while someone is subscribed, e.g.
   * `async () => { const c = new pg.Client(config); await c.connect(); return c; }`. The store ends it.
   * @default a connection checked out of `pool` (and destroyed, never returned, when listening stops)
   */
  listenConnection?: (() => Promise<PgClientLike>) | undefined;
  /**
   * Interval between `SELECT 1` pings on the LISTEN connection, so a silently dropped socket is
   * replaced; 0 turns pings off.
   * @default 30000
   */
  listenHealthCheckMs?: number | undefined;
  /**
   * Run the store's statements as named prepared statements, planned once per connection (the
   * load query plans in three times the time it runs). Turn off behind PgBouncer in transaction
   * mode older than 1.21, or without `max_prepared_statements`.
   * @default true
   */
  preparedStatements?: boolean | undefined;
  /**
   * Called with background failures of the LISTEN connection; it reconnects by itself either way.
   * @default failures are ignored (workers still poll)
   */
  onListenError?: ((error: StoreError) => void) | undefined;
}

/**
 * A WorkflowStore on PostgreSQL or PGlite, with wake-ups (LISTEN while someone is subscribed) and
 * a `close()` for what it opened itself (never the pool or PGlite instance you passed).
 */
export interface PostgresStore extends KitStore {
  /** `postgres`, or `pglite` for an embedded store. */
  readonly name: 'postgres' | 'pglite';
  /** The schema the store uses. */
  readonly schema: string;
  /** The NOTIFY channel of wake-ups (`<schema>_wakeup`). */
  readonly channel: string;
}

/**
 * Creates a store over a `pg.Pool`; run `migratePostgresStore` once (per deploy) before using it.
 * @example
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePostgresStore({ pool });
 * const store = createPostgresStore({ pool });
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  if (typeof options !== 'object' || options === null) throw invalidArgument('createPostgresStore needs an options object');
  const { pool } = options;
  if (typeof pool !== 'object' || pool === null || typeof pool.query !== 'function' || typeof pool.connect !== 'function') {
    throw invalidArgument('createPostgresStore needs `pool`: a pg.Pool (with query() and connect())');
  }
  if (options.listenConnection !== undefined && typeof options.listenConnection !== 'function') {
    throw invalidArgument('listenConnection must be a function that resolves to a connected pg.Client');
  }
  if (options.preparedStatements !== undefined && typeof options.preparedStatements !== 'boolean') {
    throw invalidArgument('preparedStatements must be a boolean');
  }
  if (options.onListenError !== undefined && typeof options.onListenError !== 'function') {
    throw invalidArgument('onListenError must be a function');
  }
  const schema = parseSchemaName(options.schema);
  const driver = pgPoolDriver(pool, {
    listenConnection: options.listenConnection,
    listenHealthCheckMs: options.listenHealthCheckMs === undefined ? 30_000 : parseCount(options.listenHealthCheckMs, 'listenHealthCheckMs'),
    preparedStatements: options.preparedStatements ?? true,
  });
  return createSqlStore(driver, { name: 'postgres', schema, onListenError: options.onListenError });
}

/** Builds the store over any driver; shared by the `pg` and PGlite factories. */
export function createSqlStore(driver: SqlDriver, settings: SqlBackendSettings): PostgresStore {
  const extras = { name: settings.name, schema: settings.schema.name, channel: settings.schema.channel };
  return defineStore(createSqlBackend(driver, settings), extras);
}
