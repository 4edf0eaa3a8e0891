// Batched settlement on PostgreSQL: fenced lease changes go out as one call of settle_leases (one
// statement, one transaction, one NOTIFY per kind released) in lock order, results back in order.
import type { LeaseOperation, SettleOutcome } from '@ironflow/core/store';
import { retryingDeadlocks } from './deadlock-retry.js';
import type { SqlExecutor } from './driver.js';
import { restoreOrder, settleOrder } from './lock-order.js';
import { byIndex } from './rows.js';

/** The change document settle_leases reads for one operation. */
function encodeChange(operation: LeaseOperation): Record<string, unknown> {
  const { kind, id, token } = operation.lease;
  const change = { kind, op: operation.op, id, token, now: operation.now };
  switch (operation.op) {
    case 'renew':
      return { ...change, expiresAt: operation.expiresAt };
    case 'retry':
      return { ...change, retryAt: operation.retryAt, error: operation.error };
    case 'dead':
      return { ...change, error: operation.error };
    case 'release':
      // No reason, no field: the function reads a missing one as a shutdown's release.
      return operation.reason === undefined ? { ...change, availableAt: operation.availableAt } : { ...change, availableAt: operation.availableAt, reason: operation.reason };
    case 'complete':
      return change;
  }
}

/**
 * Applies `operations` as `settle_leases` does, through `statement` (sql.ts's `settleLeases`), and
 * returns one result per operation in the caller's order: `cancelled` for a change that did not
 * apply because its row is cancelled.
 */
export async function settleBatch(db: SqlExecutor, statement: string, operations: readonly LeaseOperation[]): Promise<SettleOutcome[]> {
  if (operations.length === 0) return [];
  const order = settleOrder(operations);
  const batch = JSON.stringify(order.map((position) => encodeChange(operations[position]!)));
  // Settlements lock rows in one order, but a commit acknowledging one of them may not: retried.
  const { rows } = await retryingDeadlocks(() => db.query(statement, [batch]));
  const results = byIndex(rows, operations.length, 'settle_leases').map((row): SettleOutcome => {
    if (row.boolean('r_applied')) return 'ok';
    return row.boolean('r_cancelled') ? 'cancelled' : 'lease-lost';
  });
  return restoreOrder(order, results);
}
