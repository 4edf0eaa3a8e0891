// The feed lag and projection checkpoint primitives of the SQL backend. Each is one statement, but
// a reset that clears dead letters and a save with `apply`, which are one short transaction each.
import { StoreError, stripUndefined, type CheckedProjectionSave, type StoreBackend } from '@ironflow/core/store';
import type { SqlDriver, SqlExecutor } from './driver.js';
import { decodeFeedPosition, FEED_START, feedStatements } from './feed-sql.js';
import { parkedJson, projectionStatements, toProjectionDeadLetter, toProjectionStatus } from './projection-sql.js';
import { openProjectionTransaction } from './projection-transaction.js';
import { Row } from './rows.js';

type ProjectionPrimitives = Pick<
  StoreBackend,
  | 'feedLag'
  | 'claimProjection'
  | 'renewProjection'
  | 'saveProjection'
  | 'releaseProjection'
  | 'resetProjection'
  | 'listProjections'
  | 'listProjectionDeadLetters'
  | 'redriveProjectionDeadLetter'
  | 'skipProjectionDeadLetter'
  | 'projectionTransactions'
>;

/** Raised inside a save's transaction when the token is not the stored one, to roll it back. */
class Fenced {}

/** Throws `badFeedPosition` (INVALID_ARGUMENT) for any position of the save this store did not write, before anything is sent. */
function checkSavePositions(save: CheckedProjectionSave): void {
  if (save.position !== undefined) decodeFeedPosition(save.position, 'save.position');
  save.parked.forEach((letter, i) => decodeFeedPosition(letter.position, `save.parked[${i}].position`));
}

/** The primitives over `driver`, on the quoted schema `s`. */
export function sqlProjections(driver: SqlDriver, s: string): ProjectionPrimitives {
  const sql = projectionStatements(s);
  const { lag } = feedStatements(s);

  /** Runs the fenced save statement; true when the token was the stored one. */
  async function write(executor: SqlExecutor, save: CheckedProjectionSave): Promise<boolean> {
    const values = [save.lease.name, save.lease.token, save.position ?? null, save.expiresAt ?? null, save.now, parkedJson(save.parked), save.resolved];
    return new Row((await executor.query(sql.save, values)).rows[0]).number('saved') === 1;
  }

  return {
    projectionTransactions: true,

    async feedLag(q) {
      const from = q.after === undefined ? FEED_START : decodeFeedPosition(q.after);
      // One more than the limit, to tell "exactly the limit" from "more".
      const row = new Row((await driver.query(lag, [from.tx, from.position, q.limit + 1])).rows[0]);
      const counted = row.number('events');
      return stripUndefined({ events: Math.min(counted, q.limit), capped: counted > q.limit, oldestRecordedAt: row.optionalNumber('oldest') });
    },

    async claimProjection(c) {
      const { rows } = await driver.query(sql.claim, [c.name, c.owner, c.now, c.expiresAt]);
      if (rows.length === 0) return undefined;
      const row = new Row(rows[0]);
      return stripUndefined({ lease: { name: c.name, owner: c.owner, token: row.number('token') }, position: row.optionalText('position'), expiresAt: c.expiresAt });
    },

    async renewProjection(r) {
      const { rows } = await driver.query(sql.renew, [r.lease.name, r.lease.token, r.lease.owner, r.expiresAt]);
      return rows.length > 0 ? 'ok' : 'lease-lost';
    },

    async saveProjection(save, apply) {
      checkSavePositions(save);
      if (apply === undefined) return (await write(driver, save)) ? 'ok' : 'lease-lost';
      try {
        return await driver.transaction(async (tx) => {
          // The row stays locked to the end: a claim or reset waits for this save and then sees
          // its token move on, so apply's writes and the checkpoint land before any takeover.
          if ((await tx.query(sql.lock, [save.lease.name, save.lease.token])).rows.length === 0) throw new Fenced();
          const opened = openProjectionTransaction(tx, save.lease.name);
          try {
            // Whatever apply throws propagates as it is: the driver rolls back and rethrows it.
            await apply(opened.handle);
          } finally {
            opened.close();
          }
          if (!(await write(tx, save))) throw new StoreError('integrity', `PostgreSQL store (saveProjection): the locked row of projection ${JSON.stringify(save.lease.name)} lost its token`);
          return 'ok' as const;
        });
      } catch (error) {
        if (error instanceof Fenced) return 'lease-lost';
        throw error;
      }
    },

    async releaseProjection(lease) {
      const { rows } = await driver.query(sql.release, [lease.name, lease.token]);
      return rows.length > 0 ? 'ok' : 'lease-lost';
    },

    async resetProjection(reset) {
      if (reset.position !== undefined) decodeFeedPosition(reset.position, 'reset.position');
      const values = [reset.name, reset.position ?? null, reset.now];
      if (reset.keepDeadLetters) {
        await driver.query(sql.reset, values);
        return;
      }
      // Two statements: the delete takes its snapshot once the first one holds the row, so it sees
      // every dead letter a save committed before the reset (one statement's snapshot would not).
      await driver.transaction(async (tx) => {
        await tx.query(sql.reset, values);
        await tx.query(sql.clearDeadLetters, [reset.name]);
      });
    },

    async listProjections() {
      return (await driver.query(sql.list)).rows.map(toProjectionStatus);
    },

    async listProjectionDeadLetters(q) {
      const { rows } = await driver.query(sql.listDeadLetters, [q.projection, q.status ?? null, q.after ?? null, q.limit]);
      return rows.map(toProjectionDeadLetter);
    },

    async redriveProjectionDeadLetter(projection, id, now) {
      return (await driver.query(sql.redrive, [projection, id, now])).rows.length > 0;
    },

    async skipProjectionDeadLetter(projection, id) {
      return (await driver.query(sql.skip, [projection, id])).rows.length > 0;
    },
  };
}
