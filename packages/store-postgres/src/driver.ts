// The seam between the store and a PostgreSQL client: a pooled `pg` client and an embedded PGlite
// instance both reduce to these few operations, so every SQL statement is written once.

/** Rows a statement returned; statements whose effect the store checks use RETURNING. */
export interface SqlResult {
  readonly rows: readonly unknown[];
  /** Rows the statement returned or changed (its command tag's count); both drivers fill it, for a projection's own SQL. */
  readonly rowCount?: number | undefined;
}

/** Runs statements; inside `transaction`, all on the same connection. */
export interface SqlExecutor {
  /** One statement with bound parameters. */
  query(text: string, values?: unknown[]): Promise<SqlResult>;
}

/** A transaction's executor, which can also run parameterless multi-statement DDL. */
export interface SqlTransaction extends SqlExecutor {
  exec(text: string): Promise<void>;
}

/** Callbacks of a LISTEN subscription. */
export interface ListenHandlers {
  /** A notification arrived on the channel. */
  notify(payload: string): void;
  /** The connection was re-established after a failure; notifications may have been missed. */
  reconnected(): void;
  /** A background failure (the listener keeps trying). */
  failed(error: unknown): void;
}

/** A running LISTEN subscription. */
export interface ListenHandle {
  /** Stops listening and releases the connection. */
  stop(): Promise<void>;
}

/** What the store needs from a PostgreSQL client. */
export interface SqlDriver extends SqlExecutor {
  /** Runs `work` in one transaction on one connection; commits when it resolves, rolls back when it throws. */
  transaction<T>(work: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  /** Starts listening on `channel` (the connection is opened in the background). */
  listen(channel: string, handlers: ListenHandlers): ListenHandle;
}
