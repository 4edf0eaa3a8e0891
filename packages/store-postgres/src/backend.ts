// The PostgreSQL primitives behind the store kit: every operation is one SQL statement (a commit, or
// a batch of them, is one call of the commit_decisions function), so each costs one round trip.
// Works over `pg` and PGlite.
import {
  stripUndefined,
  type CommitOutcome,
  type LeaseOperation,
  type StoreBackend,
  type StoreError,
  type WakeSource,
  type WorkKind,
} from '@ironflow/core/store';
import { classifyPostgresError } from './classify-error.js';
import { commitBatch } from './commit-batch.js';
import type { SqlDriver } from './driver.js';
import { Row, toEffect, toEvent, toEvents, toInstanceSummary, toObservation, toTimer } from './rows.js';
import type { SchemaName } from './schema-name.js';
import { settleBatch } from './settle-batch.js';
import { statements, type WorkStatements } from './sql.js';
import { isUniqueViolation } from './unique-violation.js';

/** What a backend needs besides its driver. */
export interface SqlBackendSettings {
  readonly name: 'postgres' | 'pglite';
  readonly schema: SchemaName;
  /** Receives background failures of the LISTEN subscription, already classified. */
  readonly onListenError?: ((error: StoreError) => void) | undefined;
  /** Closes resources the caller opened for this store (the PGlite instance of `dataDir`); run once. */
  readonly onClose?: (() => Promise<void>) | undefined;
}

/** The store's primitives over a driver; `defineStore` turns them into a WorkflowStore. */
export function createSqlBackend(driver: SqlDriver, settings: SqlBackendSettings): StoreBackend {
  const sql = statements(settings.schema);
  const channel = settings.schema.channel;
  const work = (kind: WorkKind): WorkStatements => (kind === 'effect' ? sql.effects : sql.timers);
  let closing: Promise<void> | undefined;

  /** The statement and values of a lease-fenced update; each returns a row when it applied. */
  function fenced(operation: LeaseOperation): [string, unknown[]] {
    const { kind, id, token } = operation.lease;
    const s = work(kind);
    switch (operation.op) {
      case 'renew':
        return [s.renew, [id, token, operation.now, operation.expiresAt]];
      case 'complete':
        return [s.complete, [id, token, operation.now, kind === 'effect' ? 'done' : 'fired']];
      case 'retry':
        return [s.retry, [id, token, operation.now, operation.retryAt, operation.error]];
      case 'dead':
        return [s.deadLetter, [id, token, operation.now, operation.error]];
      case 'release':
        return [s.release, [id, token, operation.now, channel, kind]];
    }
  }

  return {
    name: settings.name,
    classify: classifyPostgresError,

    async load(ref, idempotencyKey) {
      const result = await driver.query(sql.load, [ref.type, ref.id, idempotencyKey ?? null]);
      if (result.rows.length === 0) return { version: 0, completed: false, events: [] };
      const row = new Row(result.rows[0]);
      const snapshotVersion = row.optionalNumber('snapshot_version');
      const idempotentVersion = row.optionalNumber('idempotent_version');
      return stripUndefined({
        version: row.number('version'),
        completed: row.boolean('completed'),
        snapshot:
          snapshotVersion === undefined
            ? undefined
            : { version: snapshotVersion, revision: row.text('snapshot_revision'), state: row.json('snapshot_state') },
        events: toEvents(row.optionalText('events'), ref.type, ref.id),
        idempotent:
          idempotentVersion === undefined || idempotencyKey === undefined
            ? undefined
            : {
                key: idempotencyKey,
                version: idempotentVersion,
                eventCount: row.number('idempotent_event_count'),
                committedAt: row.number('idempotent_committed_at'),
              },
      });
    },

    async commit(commit): Promise<CommitOutcome> {
      // A batch of one: the same function and the same checks as a group commit, notifying at once.
      const [outcome] = await commitBatch(driver, sql.commitDecisions, [commit]);
      return outcome!;
    },

    commitMany(commits) {
      return commitBatch(driver, sql.commitDecisions, commits);
    },

    async recordObservation(o) {
      await driver.query(sql.recordObservation, [o.workflowType, o.workflowId, o.inputType, o.input, o.outcome, o.rejection ?? null, o.observedAt]);
    },

    async claim(kind, claim) {
      const result = await driver.query(work(kind).claim, [claim.now, claim.limit, claim.types, claim.owner, claim.expiresAt]);
      return result.rows.map((raw) => {
        const row = new Row(raw);
        const lease = { kind, id: row.text('id'), token: row.text('lease_token') };
        const record = kind === 'effect' ? toEffect(raw) : toTimer(raw);
        return { ...record, lease, recovered: row.boolean('recovered') };
      });
    },

    async nextTimerAt(types) {
      const result = await driver.query(sql.nextTimerAt, [types]);
      return new Row(result.rows[0]).optionalNumber('next');
    },

    async settle(operation) {
      const [text, values] = fenced(operation);
      const result = await driver.query(text, values);
      return result.rows.length === 0 ? 'lease-lost' : 'ok';
    },

    settleMany(operations) {
      return settleBatch(driver, sql.settleLeases, operations);
    },

    async listDeadLetters(q) {
      const result = await driver.query(work(q.kind).listDead, [q.workflowType ?? null, q.workflowId ?? null, q.limit, q.offset]);
      return q.kind === 'effect' ? result.rows.map(toEffect) : result.rows.map(toTimer);
    },

    async countDeadLetters(q) {
      const result = await driver.query(work(q.kind).countDead, [q.workflowType ?? null, q.workflowId ?? null]);
      return new Row(result.rows[0]).number('count');
    },

    async redrive(kind, id, now) {
      try {
        const result = await driver.query(work(kind).redrive, [id, now, channel, kind]);
        return result.rows.length > 0;
      } catch (error) {
        // A keyed timer whose key was taken between the statement's check and its update: not redriven.
        if (kind === 'timer' && isUniqueViolation(error)) return false;
        throw error;
      }
    },

    async purge(olderThan) {
      const row = new Row((await driver.query(sql.purge, [olderThan])).rows[0]);
      return { effects: row.number('effects'), timers: row.number('timers') };
    },

    async readEvents(ref, fromSequence) {
      const result = await driver.query(sql.readEvents, [ref.type, ref.id, fromSequence]);
      return result.rows.map((raw) => toEvent(raw, ref.type, ref.id));
    },

    async listInstances(q) {
      const completed = q.status === undefined ? null : q.status === 'completed';
      const result = await driver.query(sql.listInstances, [q.workflowType ?? null, completed, q.limit, q.offset]);
      return result.rows.map(toInstanceSummary);
    },

    async listEffects(ref) {
      return (await driver.query(sql.effects.listByInstance, [ref.type, ref.id])).rows.map(toEffect);
    },

    async listTimers(ref) {
      return (await driver.query(sql.timers.listByInstance, [ref.type, ref.id])).rows.map(toTimer);
    },

    async listObservations(ref) {
      return (await driver.query(sql.listObservations, [ref.type, ref.id])).rows.map(toObservation);
    },

    listen(wake): WakeSource {
      return driver.listen(channel, {
        notify(payload) {
          if (payload === 'effect' || payload === 'timer') wake(payload);
        },
        reconnected() {
          // Notifications sent while the connection was down are lost: let workers look now.
          wake('effect');
          wake('timer');
        },
        failed(error) {
          try {
            settings.onListenError?.(classifyPostgresError(error, 'listen'));
          } catch {
            // A throwing error callback must not stop the listener from reconnecting.
          }
        },
      });
    },

    close() {
      // close() may be called more than once; what the caller opened is closed once.
      closing ??= settings.onClose?.() ?? Promise.resolve();
      return closing;
    },
  };
}
