// Opens the store `--url` names with the real store packages, proving the connection first so an
// unreachable server is exit 4 before any command runs, and closes everything it opened.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import pg from 'pg';
import type { WorkflowStore } from '@ironflow/core/store';
import { createPGliteStore, createPostgresStore, migratePGliteStore, migratePostgresStore, type MigrationResult, type PGliteLike } from '@ironflow/store-postgres';
import { createKeyLayout, createRedisStore } from '@ironflow/store-redis';
import { CliError, EXIT_CODES } from './exit-codes.js';
import { describeTarget, type Target } from './target.js';

/** How to open the store. */
export interface ConnectOptions {
  /** PostgreSQL and PGlite schema; the store's default when absent. */
  readonly schema?: string | undefined;
  /** Redis key prefix; the store's default when absent. */
  readonly prefix?: string | undefined;
  /** Redis partitions; the count recorded for the prefix when absent (1 for a new prefix). */
  readonly partitions?: number | undefined;
  readonly connectTimeoutMs: number;
  /** `migrate` may create a PGlite database; every other command needs one that exists. */
  readonly forMigration?: boolean | undefined;
}

/** An open store and what only some stores can do. */
export interface Connection {
  readonly store: WorkflowStore;
  /** `PostgreSQL at postgres://…`, for messages. */
  readonly label: string;
  /** Creates or upgrades the schema; undefined on stores without migrations (Redis). */
  readonly migrate: (() => Promise<MigrationResult>) | undefined;
  /** Closes the store and the pool, client or database opened for it. */
  close(): Promise<void>;
}

const unreachable = (target: Target, cause: unknown): CliError =>
  new CliError(EXIT_CODES.connection, `cannot connect to ${describeTarget(target)}: ${messageOf(cause)}`, { cause });

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0]);
  const message = error instanceof Error ? error.message : String(error);
  return message === '' && error instanceof Error ? error.name : message;
}

/** Opens and checks the store; the caller must `close()` it. */
export async function connect(target: Target, options: ConnectOptions): Promise<Connection> {
  switch (target.kind) {
    case 'postgres':
      return connectPostgres(target, options);
    case 'pglite':
      return connectPGlite(target, options);
    case 'redis':
    case 'redis-cluster':
      return connectRedis(target, options);
  }
}

async function connectPostgres(target: Target & { kind: 'postgres' }, options: ConnectOptions): Promise<Connection> {
  const pool = new pg.Pool({ connectionString: target.url, max: 4, connectionTimeoutMillis: options.connectTimeoutMs });
  // An idle client's error (the server went away) is reported by the next query; without a
  // listener it would crash the process with a stack trace.
  pool.on('error', () => undefined);
  let store: ReturnType<typeof createPostgresStore>;
  try {
    store = createPostgresStore({ pool, schema: options.schema });
  } catch (error) {
    await pool.end();
    throw error;
  }
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw unreachable(target, error);
  }
  return {
    store,
    label: describeTarget(target),
    migrate: () => migratePostgresStore({ pool, schema: options.schema }),
    async close() {
      await store.close();
      await pool.end();
    },
  };
}

async function connectPGlite(target: Target & { kind: 'pglite' }, options: ConnectOptions): Promise<Connection> {
  // PGlite creates a database in any directory it opens; only `migrate` may do that.
  if (options.forMigration !== true && !existsSync(join(target.dir, 'PG_VERSION'))) {
    throw new CliError(EXIT_CODES.connection, `cannot open ${describeTarget(target)}: no PGlite database there (create one with \`ironflow migrate --url pglite:${target.dir}\`)`);
  }
  let db: PGliteLike;
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    db = await PGlite.create(target.dir);
  } catch (error) {
    throw unreachable(target, error);
  }
  try {
    const store = await createPGliteStore({ pglite: db, schema: options.schema, migrate: false });
    return {
      store,
      label: describeTarget(target),
      migrate: () => migratePGliteStore({ pglite: db, schema: options.schema }),
      async close() {
        await store.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** The ioredis options of a short-lived client: connect once, fail fast, never retry in the background. */
function redisOptions(url: URL | undefined, options: ConnectOptions): RedisOptions {
  return {
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    ...(url === undefined
      ? {}
      : {
          ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
          ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
          ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
        }),
  };
}

async function connectRedis(target: Target & { kind: 'redis' | 'redis-cluster' }, options: ConnectOptions): Promise<Connection> {
  // Checked before connecting: a bad prefix is a usage error, whatever the server's state.
  const layout = createKeyLayout(options.prefix ?? 'ironflow', 1);
  let lastError: unknown;
  let client: Redis | Cluster;
  if (target.kind === 'redis') {
    client = new Redis(target.url, redisOptions(undefined, options));
  } else {
    const nodes = target.urls.map((u) => new URL(u));
    const clusterOptions: ClusterOptions = {
      lazyConnect: true,
      clusterRetryStrategy: () => null,
      slotsRefreshTimeout: options.connectTimeoutMs,
      redisOptions: redisOptions(nodes[0], options),
    };
    client = new Cluster(
      nodes.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) })),
      clusterOptions,
    );
  }
  // ioredis reports connection errors as events too; unheard, it prints them as "Unhandled error event".
  client.on('error', (error: unknown) => (lastError = error));
  const closeClient = async (): Promise<void> => {
    await client.quit().catch(() => client.disconnect());
  };
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw unreachable(target, lastError ?? error);
  }
  try {
    const recorded = options.partitions === undefined ? await client.hget(layout.meta, 'partitions') : null;
    const partitions = options.partitions ?? (recorded === null ? 1 : Number(recorded));
    const store = createRedisStore({ client, keyPrefix: layout.prefix, partitions });
    return {
      store,
      label: describeTarget(target),
      migrate: undefined,
      async close() {
        await store.close();
        await closeClient();
      },
    };
  } catch (error) {
    await closeClient();
    throw error;
  }
}
