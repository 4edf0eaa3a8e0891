// Group commit on PostgreSQL: commits go out as one call of commit_decisions (one statement, one
// transaction, at most one NOTIFY per kind) in lock order, and their outcomes come back in order.
import { StoreError, type CheckedCommit, type CommitOutcome } from '@ironflow/core/store';
import { encodeCommit } from './commit-document.js';
import { retryingDeadlocks } from './deadlock-retry.js';
import type { SqlExecutor } from './driver.js';
import { commitOrder, restoreOrder } from './lock-order.js';
import { byIndex, type Row } from './rows.js';
import { retryingKeyRaces, takenId, takenKind } from './unique-violation.js';

/**
 * Applies `commits` as `commit_decisions` does, through `statement` (sql.ts's `commitDecisions`),
 * and returns one outcome per commit in the caller's order. A batch that lost a deadlock (lock
 * order cannot always be kept, see lock-order.ts) is sent again. So is one that lost a key race:
 * a redrive made a dead keyed effect live between a commit's key check and its insert (a redrive
 * does not lock the instance), and the live-key index refused the insert; sent again, the check
 * sees the redriven effect and reports `effect-key-conflict`. A taken effect or timer id fails the
 * whole statement on its primary key; the commits are then sent one at a time, in order, so only
 * the commit that reuses an id gets `duplicate-id`.
 */
export async function commitBatch(db: SqlExecutor, statement: string, commits: readonly CheckedCommit[], origin?: string): Promise<CommitOutcome[]> {
  if (commits.length === 0) return [];
  const order = commits.length === 1 ? [0] : commitOrder(commits);
  let rows: readonly unknown[];
  try {
    const batch = `[${order.map((position) => encodeCommit(commits[position]!, origin)).join(',')}]`;
    rows = (await retryingKeyRaces(() => retryingDeadlocks(() => db.query(statement, [batch])))).rows;
  } catch (error) {
    const kind = takenKind(error);
    if (kind === undefined) throw error;
    if (commits.length === 1) {
      const commit = commits[0]!;
      return [{ outcome: 'duplicate-id', kind, id: takenId(error, kind === 'effect' ? commit.effects : commit.timers) }];
    }
    // Rare (ids are fresh by contract), so the simple way out: a statement per commit.
    const outcomes: CommitOutcome[] = [];
    for (const commit of commits) outcomes.push(...(await commitBatch(db, statement, [commit], origin)));
    return outcomes;
  }
  return restoreOrder(order, byIndex(rows, commits.length, 'commit_decisions').map(toOutcome));
}

/** One row of commit_decisions as an outcome. */
function toOutcome(row: Row): CommitOutcome {
  const outcome = row.text('r_outcome');
  switch (outcome) {
    case 'ok':
    case 'lease-lost':
      return { outcome };
    case 'version-conflict':
      return { outcome, actualVersion: row.optionalNumber('r_version') };
    case 'unique-key-conflict':
      return { outcome, holderId: row.optionalText('r_holder') };
    case 'effect-key-conflict':
      // r_holder carries the key here (the function's columns predate keyed effects).
      return { outcome, key: row.text('r_holder') };
  }
  throw new StoreError('integrity', `PostgreSQL store (commit): commit_decisions returned an unknown outcome ${JSON.stringify(outcome)}`);
}
