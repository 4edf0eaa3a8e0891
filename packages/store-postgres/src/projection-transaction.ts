// The SQL handle a transactional projection writes its read model through: the checkpoint's own
// transaction, the same small client on `pg` and PGlite, usable only while the handler runs.
import { invalidArgument } from '@ironflow/core/store';
import type { SqlExecutor } from './driver.js';

/**
 * A SQL client inside a projection checkpoint's transaction: what `query` writes commits with the
 * checkpoint, or not at all. Only valid until the handler that received it returns.
 */
export interface PostgresProjectionTransaction {
  /** Runs one statement with `$1…` parameters in the checkpoint's transaction. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<{ rows: R[]; rowCount: number }>;
}

// Symbol.for, not a module symbol: a handle made by another copy of this package is still one.
const BRAND = Symbol.for('@ironflow/store-postgres/projection-transaction');

type Branded = PostgresProjectionTransaction & { readonly [BRAND]: true };

/** A handle over `tx` and the function that ends it; every call after `close()` rejects. */
export function openProjectionTransaction(tx: SqlExecutor, projection: string): { readonly handle: PostgresProjectionTransaction; close(): void } {
  let open = true;
  const handle: Branded = {
    [BRAND]: true,
    async query<R extends Record<string, unknown>>(text: string, values?: readonly unknown[]) {
      if (!open) {
        throw invalidArgument(
          `The transaction of projection ${JSON.stringify(projection)} has ended: use ctx.transaction only inside the handler's call, before it returns`,
        );
      }
      if (typeof text !== 'string') throw invalidArgument(`query text must be a string, got ${typeof text}`);
      if (values !== undefined && !Array.isArray(values)) throw invalidArgument('query values must be an array');
      const result = await tx.query(text, values === undefined ? undefined : [...values]);
      return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length };
    },
  };
  return {
    handle,
    close() {
      open = false;
    },
  };
}

/**
 * Narrows the `ctx.transaction` a projection handler receives to this store's SQL handle; throws
 * INVALID_ARGUMENT when it is not one (the projection is not transactional, or runs on another store).
 * @example
 * defineProjection({
 *   name: 'orders-by-status',
 *   workflows: [orderWorkflow],
 *   transactional: true,
 *   async handle(batch, ctx) {
 *     const sql = postgresTransaction(ctx.transaction);
 *     for (const e of batch) await sql.query('INSERT INTO order_events (id, sequence) VALUES ($1, $2)', [e.workflowId, e.sequence]);
 *   },
 * });
 */
export function postgresTransaction(tx: unknown): PostgresProjectionTransaction {
  if (typeof tx === 'object' && tx !== null && (tx as Partial<Branded>)[BRAND] === true && typeof (tx as Partial<Branded>).query === 'function') {
    return tx as PostgresProjectionTransaction;
  }
  throw invalidArgument(
    `postgresTransaction needs the transaction of a transactional projection on a PostgreSQL or PGlite store, got ${tx === null ? 'null' : typeof tx}: ` +
      'declare the projection transactional and run it on a store from createPostgresStore or createPGliteStore',
  );
}
