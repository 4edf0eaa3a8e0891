// The `pg` side of the driver seam: statements go through the user's pool (one checkout per
// statement), transactions hold one pooled connection, and LISTEN uses a dedicated connection.
import { createHash } from 'node:crypto';
import type { SqlDriver, SqlResult, SqlTransaction } from './driver.js';
import type { PgClientLike, PgConnectionLike, PgPoolLike, PgQueryResultLike } from './pg-client.js';
import { startPgListener, type ListenConnection } from './pg-listener.js';

/** How the `pg` driver opens its LISTEN connection. */
export interface PgDriverOptions {
  /** Opens a connection the driver owns and ends; without it, one is checked out of the pool. */
  readonly listenConnection?: (() => Promise<PgClientLike>) | undefined;
  readonly listenHealthCheckMs: number;
  /** Name each statement so the server plans it once per connection. */
  readonly preparedStatements: boolean;
}

/** Wraps a `pg.Pool`-shaped pool as a driver; nothing here ever ends the pool. */
export function pgPoolDriver(pool: PgPoolLike, options: PgDriverOptions): SqlDriver {
  const openListenConnection = async (): Promise<ListenConnection> => {
    if (options.listenConnection !== undefined) {
      const client = await options.listenConnection();
      return { connection: client, dispose: () => void client.end().catch(() => undefined) };
    }
    const client = await pool.connect();
    // A connection that ran LISTEN must not go back to the pool: destroy it.
    return { connection: client, dispose: () => client.release(true) };
  };

  // Every statement of the store is fixed text per schema, so each runs as a named (prepared)
  // statement: PostgreSQL plans it once per connection instead of on every call. Planning the load
  // query took three times as long as running it.
  const names = new Map<string, string>();
  const nameOf = (text: string): string => {
    let name = names.get(text);
    if (name === undefined) {
      name = `ironflow_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      names.set(text, name);
    }
    return name;
  };

  return {
    async query(text, values) {
      if (!options.preparedStatements) return toResult(await pool.query(text, values));
      return toResult(await pool.query({ name: nameOf(text), text, values: values ?? [] }));
    },

    async transaction(work) {
      const client = await pool.connect();
      // A checked-out connection reports a broken socket through 'error'; without a listener it would crash the process.
      let broken: unknown;
      const onError = (error: Error): void => {
        broken = error;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        try {
          const result = await work(pgTransaction(client));
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch((rollbackError: unknown) => {
            broken = rollbackError;
          });
          throw error;
        }
      } finally {
        client.removeListener('error', onError);
        if (broken === undefined) client.release();
        else client.release(true);
      }
    },

    listen(channel, handlers) {
      return startPgListener({
        channel,
        connect: openListenConnection,
        handlers,
        healthCheckMs: options.listenHealthCheckMs,
        reconnectBaseMs: 100,
        reconnectCapMs: 10_000,
      });
    },
  };
}

function pgTransaction(client: PgConnectionLike): SqlTransaction {
  return {
    async query(text, values) {
      return toResult(await client.query(text, values));
    },
    async exec(text) {
      await client.query(text);
    },
  };
}

function toResult(result: PgQueryResultLike): SqlResult {
  return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
}
