// The PostgreSQL primitives behind the store kit: every operation is one SQL statement (a commit, or
// a batch of them, is one call of the commit_decisions function), so each costs one round trip;
// projections.ts says which projection operations take a short transaction. Works over `pg` and PGlite.
import { randomUUID } from 'node:crypto';
import {
  StoreError,
  invalidArgument,
  stripUndefined,
  type BacklogEntry,
  type CommitOutcome,
  type LeaseOperation,
  type PausedEntry,
  type SettleOutcome,
  type StoreBackend,
  type WakeSource,
  type WorkKind,
} from '@ironflow/core/store';
import { classifyPostgresError } from './classify-error.js';
import { commitBatch } from './commit-batch.js';
import { retryingDeadlocks } from './deadlock-retry.js';
import type { SqlDriver } from './driver.js';
import { endedOf } from './ended.js';
import { decodeFeedPosition, feedRead, feedStatements, toFeedHead, toFeedPage } from './feed-sql.js';
import { listWorkQuery, pageInstancesQuery } from './pages-sql.js';
import { sqlProjections } from './projections.js';
import { instanceStatus, parentOf, Row, toEffect, toEvent, toEvents, toInstanceSummary, toObservation, toTimer } from './rows.js';
import type { SchemaName } from './schema-name.js';
import { settleBatch } from './settle-batch.js';
import { statements, type WorkStatements } from './sql.js';
import { isUniqueViolation, retryingKeyRaces, takenId, takenKind } from './unique-violation.js';

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
  const feed = feedStatements(settings.schema.quoted);
  const channel = settings.schema.channel;
  const work = (kind: WorkKind): WorkStatements => (kind === 'effect' ? sql.effects : sql.timers);
  // Names this store object in the endings it notifies: the kit tells its own subscribers of them
  // at once, so its listener skips them rather than deliver each twice.
  const origin = randomUUID();
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
        return [s.release, [id, token, operation.now, channel, kind, operation.availableAt, operation.reason ?? null]];
    }
  }

  return {
    name: settings.name,
    classify: classifyPostgresError,

    async load(ref, idempotencyKey) {
      const result = await driver.query(sql.load, [ref.type, ref.id, idempotencyKey ?? null]);
      if (result.rows.length === 0) return { version: 0, completed: false, status: 'active', events: [] };
      const row = new Row(result.rows[0]);
      const snapshotVersion = row.optionalNumber('snapshot_version');
      const idempotentVersion = row.optionalNumber('idempotent_version');
      const status = instanceStatus(row);
      return stripUndefined({
        version: row.number('version'),
        completed: status !== 'active',
        status,
        parent: parentOf(row),
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
      const [outcome] = await commitBatch(driver, sql.commitDecisions, [commit], origin);
      return outcome!;
    },

    commitMany(commits) {
      return commitBatch(driver, sql.commitDecisions, commits, origin);
    },

    async recordObservation(o) {
      await driver.query(sql.recordObservation, [o.workflowType, o.workflowId, o.inputType, o.input, o.outcome, o.rejection ?? null, o.observedAt]);
    },

    async claim(kind, claim) {
      const values: unknown[] = [claim.now, claim.limit, claim.types, claim.owner, claim.expiresAt];
      let statement = work(kind).claim;
      // Tags narrow effect claims only: a timer has no tag.
      if (kind === 'effect' && claim.tags !== undefined) {
        if (claim.tags.length === 0) return [];
        statement = sql.claimTaggedEffects;
        values.push(claim.tags);
      }
      const result = await driver.query(statement, values);
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

    async settle(operation): Promise<SettleOutcome> {
      const [text, values] = fenced(operation);
      const result = await driver.query(text, values);
      if (result.rows.length > 0) return 'ok';
      // Not applied, which is rare: say whether the row was cancelled, which its holder is told.
      const { kind, id } = operation.lease;
      const status = await driver.query(work(kind).statusOf, [id]);
      return status.rows.length > 0 && new Row(status.rows[0]).text('status') === 'cancelled' ? 'cancelled' : 'lease-lost';
    },

    settleMany(operations) {
      return settleBatch(driver, sql.settleLeases, operations);
    },

    async cancelInstance(ref, now, reason, effects) {
      let result;
      try {
        // Sent again if it lost a key race (it wrote nothing then): a redriven effect is cancelled with the rest.
        result = await retryingKeyRaces(() => driver.query(sql.cancelInstance, [ref.type, ref.id, now, reason, JSON.stringify(effects), origin]));
      } catch (error) {
        // The primary key refused a new effect, and the whole call was undone.
        if (takenKind(error) === 'effect') throw invalidArgument(`cancelInstance: effect id ${JSON.stringify(takenId(error, effects))} is already taken; ids must be new`);
        throw error;
      }
      const row = new Row(result.rows[0]);
      return { cancelled: row.boolean('o_cancelled'), effects: row.number('o_effects'), timers: row.number('o_timers') };
    },

    async setPaused(target, paused, now) {
      // A whole type is the row with id '', which no instance id can be (the kit refuses empty ids).
      const id = target.id ?? '';
      const result = paused
        ? await driver.query(sql.pause, [target.type, id, now])
        : await driver.query(sql.resume, [target.type, id, channel]);
      return result.rows.length > 0;
    },

    async listPaused() {
      return (await driver.query(sql.listPaused)).rows.map((raw): PausedEntry => {
        const row = new Row(raw);
        const id = row.text('workflow_id');
        const entry = { type: row.text('workflow_type'), since: row.number('since') };
        return id === '' ? entry : { ...entry, id };
      });
    },

    async backlog(now) {
      return (await driver.query(sql.backlog, [now])).rows.map((raw): BacklogEntry => {
        const row = new Row(raw);
        const kind = row.text('kind');
        if (kind !== 'effect' && kind !== 'timer') throw new StoreError('integrity', `PostgreSQL store (backlog): unexpected kind ${JSON.stringify(kind)}`);
        return stripUndefined({
          workflowType: row.text('workflow_type'),
          kind,
          pending: row.number('pending'),
          due: row.number('due'),
          leased: row.number('leased'),
          paused: row.number('paused'),
          dead: row.number('dead'),
          oldestDueAt: row.optionalNumber('oldest_due_at'),
        });
      });
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
        // A keyed row whose key was taken between the statement's check and its update: not redriven.
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },

    async purgeIdempotencyKeys(olderThan) {
      return new Row((await driver.query(sql.purgeIdempotencyKeys, [olderThan])).rows[0]).number('count');
    },

    async listWork(q) {
      // Timers have no tag: a tag filter matches none of them.
      if (q.kind === 'timer' && q.tag !== undefined) return [];
      const [text, values] = listWorkQuery(settings.schema.quoted, q);
      const { rows } = await driver.query(text, values);
      return q.kind === 'effect' ? rows.map(toEffect) : rows.map(toTimer);
    },

    async pageInstances(q) {
      const [text, values] = pageInstancesQuery(settings.schema.quoted, q);
      return (await driver.query(text, values)).rows.map(toInstanceSummary);
    },

    async readFeed(q) {
      // Decoded before any statement: text this store did not write is bad input, nothing is read.
      const after = q.after === undefined ? undefined : decodeFeedPosition(q.after);
      const { rows } = await driver.query(...feedRead(feed, after, q.workflowTypes, q.eventTypes, q.limit));
      return toFeedPage(rows, q.after);
    },

    async feedHead() {
      return toFeedHead((await driver.query(feed.head)).rows);
    },

    // feedLag and the projection checkpoints, with their writes in the handler's transaction.
    ...sqlProjections(driver, settings.schema.quoted),

    async purge(olderThan) {
      const row = new Row((await driver.query(sql.purge, [olderThan])).rows[0]);
      return { effects: row.number('effects'), timers: row.number('timers') };
    },

    async deleteInstance(request) {
      // One call of delete_instance, which locks the instance row, then its work, as commits and
      // settlements do; a deadlock (with a purge deleting the same done rows) rolled it back whole.
      const { rows } = await retryingDeadlocks(() => driver.query(sql.deleteInstance, [request.ref.type, request.ref.id, request.expectedVersion]));
      const outcome = new Row(rows[0]).text('outcome');
      if (outcome === 'deleted' || outcome === 'missing' || outcome === 'changed' || outcome === 'active' || outcome === 'busy') return outcome;
      throw new StoreError('integrity', `PostgreSQL store (deleteInstance): delete_instance returned an unknown outcome ${JSON.stringify(outcome)}`);
    },

    async readEvents(ref, fromSequence) {
      const result = await driver.query(sql.readEvents, [ref.type, ref.id, fromSequence]);
      return result.rows.map((raw) => toEvent(raw, ref.type, ref.id));
    },

    async listInstances(q) {
      const result = await driver.query(sql.listInstances, [q.workflowType ?? null, q.status ?? null, q.limit, q.offset]);
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

    listen(wake, ended): WakeSource {
      return driver.listen(channel, {
        notify(payload) {
          if (payload === 'effect' || payload === 'timer') wake(payload);
          else {
            const ending = endedOf(payload);
            if (ending !== undefined && ending.from !== origin) ended(ending.instance);
          }
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
