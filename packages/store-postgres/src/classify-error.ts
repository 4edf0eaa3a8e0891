// Turns whatever `pg`, PGlite or the network threw into core's StoreError, whose `reason` tells the
// runtime whether retrying can help. The original error is always kept in `cause`.
import { isNetworkErrorCode, StoreError, type StoreErrorReason } from '@ironflow/core/store';

const TRANSIENT_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available (lock_timeout)
  '57014', // query_canceled (statement_timeout)
]);

const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, recovery)
  '57P05', // idle_session_timeout
  '53300', // too_many_connections
  '25006', // read_only_sql_transaction (a standby after fail-over)
]);


// Messages `pg`, `pg-pool` and PGlite use for a connection that is gone or never came.
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /not queryable/i,
  /timeout exceeded when trying to connect/i,
  /query read timeout/i,
  /cannot use a pool after calling end/i,
  /pglite is closed/i,
];

// Missing schema, table, function or column: the schema is older than this release (a column of a
// later version, such as effects.trace, is missing on a schema that was not migrated yet).
const MISSING_OBJECT_SQLSTATES = new Set(['3F000', '42P01', '42883', '42703']);

/**
 * Classifies an error thrown by `pg` or PGlite as a StoreError: serialization failures, deadlocks
 * and lock or statement timeouts are `transient`; lost or refused connections and server shutdown
 * are `unavailable`; unexpected constraint or data errors are `integrity`; missing schema, tables,
 * functions or privileges are `configuration`; anything else is `unknown`.
 * @example throw classifyPostgresError(error, 'claimEffects');
 */
export function classifyPostgresError(error: unknown, operation?: string | undefined): StoreError {
  if (error instanceof StoreError) return error;
  const sqlState = sqlStateOf(error);
  const reason = sqlState === undefined ? reasonOfClientError(error) : reasonOfSqlState(sqlState);
  const message = messageOf(error);
  const where = operation === undefined ? 'PostgreSQL store' : `PostgreSQL store (${operation})`;
  const hint =
    sqlState !== undefined && MISSING_OBJECT_SQLSTATES.has(sqlState)
      ? ' Has migratePostgresStore() been run for this schema?'
      : '';
  return new StoreError(reason, `${where}: ${message}${sqlState === undefined ? '' : ` [SQLSTATE ${sqlState}]`}.${hint}`, {
    cause: error,
    details: compact({ operation, sqlState, code: nodeCodeOf(error), constraint: fieldOf(error, 'constraint') }),
  });
}

function reasonOfSqlState(state: string): StoreErrorReason {
  if (TRANSIENT_SQLSTATES.has(state)) return 'transient';
  if (UNAVAILABLE_SQLSTATES.has(state) || state.startsWith('08')) return 'unavailable';
  if (state.startsWith('23') || state.startsWith('22')) return 'integrity';
  if (state.startsWith('42') || state.startsWith('28') || state === '3F000' || state === '3D000') return 'configuration';
  return 'unknown';
}

function reasonOfClientError(error: unknown): StoreErrorReason {
  const code = nodeCodeOf(error);
  if (isNetworkErrorCode(code)) return 'unavailable';
  // Node reports a refused connection to every address of a host as an AggregateError.
  if (error instanceof AggregateError && error.errors.some((inner) => reasonOfClientError(inner) === 'unavailable')) {
    return 'unavailable';
  }
  const message = messageOf(error);
  if (UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return 'unavailable';
  return 'unknown';
}

/** The five-character SQLSTATE of a server error, when the error carries one. */
function sqlStateOf(error: unknown): string | undefined {
  const code = fieldOf(error, 'code');
  if (code === undefined || isNetworkErrorCode(code) || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  return code;
}

function nodeCodeOf(error: unknown): string | undefined {
  const code = fieldOf(error, 'code');
  return code !== undefined && sqlStateOf(error) === undefined ? code : undefined;
}

function fieldOf(error: unknown, field: string): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value: unknown = (error as Record<string, unknown>)[field];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === 'string' ? error : 'non-error value thrown';
}

function compact(record: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value;
  return out;
}
