// The clients this store accepts, typed by shape: a `pg.Pool` (or anything shaped like one), a
// `pg.Client` for the LISTEN connection, and a PGlite instance. The package never imports them.

/** What a `pg` query resolves to (the store reads the rows, and the count for a projection's own SQL). */
export interface PgQueryResultLike {
  readonly rows: unknown[];
  readonly rowCount?: number | null | undefined;
}

/** A notification as `pg` delivers it to a connection that ran `LISTEN`. */
export interface PgNotificationLike {
  readonly channel: string;
  readonly payload?: string | undefined;
}

/** One `pg` connection that can run queries and receive notifications (`pg.Client`, `pg.PoolClient`). */
export interface PgConnectionLike {
  query(text: string, values?: unknown[]): Promise<PgQueryResultLike>;
  on(event: 'notification', listener: (message: PgNotificationLike) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  removeListener(event: 'notification', listener: (message: PgNotificationLike) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'end', listener: () => void): unknown;
}

/** A connection checked out of a pool; `release(true)` destroys it instead of pooling it again. */
export interface PgPoolClientLike extends PgConnectionLike {
  release(destroy?: Error | boolean): void;
}

/** A connection the store opened itself (through `listenConnection`) and therefore ends. */
export interface PgClientLike extends PgConnectionLike {
  end(): Promise<void>;
}

/** A named statement, as `pg` accepts it. */
export interface PgQueryConfigLike {
  readonly name: string;
  readonly text: string;
  readonly values?: unknown[] | undefined;
}

/** A `pg.Pool`, typed by the two methods the store uses. The caller owns it: the store never ends it. */
export interface PgPoolLike {
  /** Text with values, or a named (prepared) statement config, which the server plans once per connection. */
  query(textOrConfig: string | PgQueryConfigLike, values?: unknown[]): Promise<PgQueryResultLike>;
  connect(): Promise<PgPoolClientLike>;
}

/** What a PGlite query resolves to (the store reads the rows, and the counts for a projection's own SQL). */
export interface PGliteResultsLike {
  readonly rows: unknown[];
  /** The command tag's count, in the PGlite versions that report it. */
  readonly rowCount?: number | undefined;
  /** Rows inserted, updated or deleted (every PGlite version). */
  readonly affectedRows?: number | undefined;
}

/** The transaction handle PGlite passes to `transaction(callback)`. */
export interface PGliteTransactionLike {
  query(text: string, params?: unknown[]): Promise<PGliteResultsLike>;
  exec(text: string): Promise<unknown>;
}

/** A PGlite instance (`@electric-sql/pglite` 0.3 or later), typed by the methods the store uses. */
export interface PGliteLike {
  query(text: string, params?: unknown[]): Promise<PGliteResultsLike>;
  transaction<T>(callback: (tx: PGliteTransactionLike) => Promise<T>): Promise<T>;
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
  readonly closed: boolean;
}
