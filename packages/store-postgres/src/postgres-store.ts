// The WorkflowStore on PostgreSQL: every operation is one SQL statement (a commit is one call of
// the commit_decision function), so each costs one round trip. Works over `pg` and over PGlite.
import { IronflowError, isIronflowError, type WorkflowRef } from '@ironflow/core';
import { LeaseLostError, UniqueKeyConflictError, VersionConflictError, invalidArgument, stripUndefined, type Claimed, type ClaimRequest, type CommitRequest, type DeadLetterQuery, type EffectRecord, type InstanceQuery, type Lease, type LoadedInstance, type Observation, type StoreError, type TimerRecord, type WakeUpListener, type WorkflowStore, type WorkKind } from '@ironflow/core/store';
import { freeText, integer, key, optionalCount, typeList, workKind } from './arguments.js';
import { classifyPostgresError } from './classify-error.js';
import { encodeCommit, encodeObservation } from './commit-document.js';
import type { ListenHandle, SqlDriver } from './driver.js';
import type { PgClientLike, PgPoolLike } from './pg-client.js';
import { pgPoolDriver } from './pg-driver.js';
import { Row, toEffect, toEvent, toEvents, toInstanceSummary, toObservation, toTimer } from './rows.js';
import { parseSchemaName, type SchemaName } from './schema-name.js';
import { statements, type WorkStatements } from './sql.js';

/** Options of `createPostgresStore`. */
export interface PostgresStoreOptions {
  /** A `pg.Pool` (or anything shaped like one) that you own; the store never ends it. */
  pool: PgPoolLike;
  /**
   * The PostgreSQL schema holding the store's tables (created by `migratePostgresStore`).
   * @default 'ironflow'
   */
  schema?: string | undefined;
  /**
   * Opens the dedicated connection used for LISTEN while someone is subscribed, e.g.
   * `async () => { const c = new pg.Client(config); await c.connect(); return c; }`. The store ends it.
   * @default a connection checked out of `pool` (and destroyed, never returned, when listening stops)
   */
  listenConnection?: (() => Promise<PgClientLike>) | undefined;
  /**
   * Interval between `SELECT 1` pings on the LISTEN connection, so a silently dropped socket is
   * replaced; 0 turns pings off.
   * @default 30000
   */
  listenHealthCheckMs?: number | undefined;
  /**
   * Run the store's statements as named prepared statements, planned once per connection (the
   * load query plans in three times the time it runs). Turn off behind PgBouncer in transaction
   * mode older than 1.21, or without `max_prepared_statements`.
   * @default true
   */
  preparedStatements?: boolean | undefined;
  /**
   * Called with background failures of the LISTEN connection; it reconnects by itself either way.
   * @default failures are ignored (workers still poll)
   */
  onListenError?: ((error: StoreError) => void) | undefined;
}

/** A WorkflowStore on PostgreSQL or PGlite, with wake-ups and a `close()` for what it opened. */
export interface PostgresStore extends WorkflowStore {
  /** `postgres`, or `pglite` for an embedded store. */
  readonly name: 'postgres' | 'pglite';
  /** The schema the store uses. */
  readonly schema: string;
  /** The NOTIFY channel of wake-ups (`<schema>_wakeup`). */
  readonly channel: string;
  /** Calls `listener` when effects or timers may have become claimable; returns an unsubscribe. */
  subscribe(listener: WakeUpListener): () => void;
  /** Stops listening and closes what the store opened itself (never the pool you passed). */
  close(): Promise<void>;
}

/**
 * Creates a store over a `pg.Pool`; run `migratePostgresStore` once (per deploy) before using it.
 * @example
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePostgresStore({ pool });
 * const store = createPostgresStore({ pool });
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  if (typeof options !== 'object' || options === null) throw invalidArgument('createPostgresStore needs an options object');
  const { pool } = options;
  if (typeof pool !== 'object' || pool === null || typeof pool.query !== 'function' || typeof pool.connect !== 'function') {
    throw invalidArgument('createPostgresStore needs `pool`: a pg.Pool (with query() and connect())');
  }
  if (options.listenConnection !== undefined && typeof options.listenConnection !== 'function') {
    throw invalidArgument('listenConnection must be a function that resolves to a connected pg.Client');
  }
  const healthCheckMs = optionalCount(options.listenHealthCheckMs, 'listenHealthCheckMs', 30_000);
  const schema = parseSchemaName(options.schema);
  if (options.preparedStatements !== undefined && typeof options.preparedStatements !== 'boolean') {
    throw invalidArgument('preparedStatements must be a boolean');
  }
  const driver = pgPoolDriver(pool, {
    listenConnection: options.listenConnection,
    listenHealthCheckMs: healthCheckMs,
    preparedStatements: options.preparedStatements ?? true,
  });
  return createSqlStore(driver, { name: 'postgres', schema, onListenError: options.onListenError });
}

/** Internal settings of a store over any driver. */
export interface SqlStoreSettings {
  readonly name: 'postgres' | 'pglite';
  readonly schema: SchemaName;
  readonly onListenError?: ((error: StoreError) => void) | undefined;
  /** Closes resources the caller opened for this store (the PGlite instance of `dataDir`). */
  readonly onClose?: (() => Promise<void>) | undefined;
}

/** Builds the store over a driver; shared by the `pg` and PGlite factories. */
export function createSqlStore(driver: SqlDriver, settings: SqlStoreSettings): PostgresStore {
  const sql = statements(settings.schema);
  const channel = settings.schema.channel;
  const listeners = new Set<WakeUpListener>();
  let listening: ListenHandle | undefined;
  let closed = false;

  const work = (kind: WorkKind): WorkStatements => (kind === 'effect' ? sql.effects : sql.timers);

  /** Runs one driver call; anything but our own typed errors becomes a classified StoreError. */
  async function run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw isIronflowError(error) ? error : classifyPostgresError(error, operation);
    }
  }

  function wake(kind: WorkKind): void {
    for (const listener of [...listeners]) {
      try {
        listener(kind);
      } catch {
        // A listener's failure must not break the commit or the LISTEN connection that called it.
      }
    }
  }

  function startListening(): void {
    listening = driver.listen(channel, {
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
  }

  function checkLease(lease: Lease): { kind: WorkKind; id: string; token: string } {
    if (typeof lease !== 'object' || lease === null) throw invalidArgument('lease must be an object');
    return { kind: workKind(lease.kind), id: key(lease.id, 'lease.id'), token: key(lease.token, 'lease.token') };
  }

  /** Runs a lease-fenced update; LEASE_LOST when no row was changed. */
  async function fenced(
    operation: string,
    lease: Lease,
    text: (s: WorkStatements) => string,
    values: (kind: WorkKind) => unknown[],
  ): Promise<WorkKind> {
    const checked = checkLease(lease);
    const args = [checked.id, checked.token, ...values(checked.kind)];
    const result = await run(operation, () => driver.query(text(work(checked.kind)), args));
    if (result.rows.length === 0) throw new LeaseLostError(checked.kind, checked.id);
    return checked.kind;
  }

  function checkRef(ref: WorkflowRef): WorkflowRef {
    if (typeof ref !== 'object' || ref === null) throw invalidArgument('ref must be { type, id }');
    return { type: key(ref.type, 'ref.type'), id: key(ref.id, 'ref.id') };
  }

  function checkClaim(request: ClaimRequest): { now: number; limit: number; types: string[]; owner: string; expiresAt: number } {
    if (typeof request !== 'object' || request === null) throw invalidArgument('claim needs a request object');
    const now = integer(request.now, 'now');
    const leaseMs = integer(request.leaseMs, 'leaseMs', 0);
    return {
      now,
      limit: integer(request.limit, 'limit', 0),
      types: typeList(request.types),
      owner: freeText(request.owner, 'owner'),
      expiresAt: integer(now + leaseMs, 'now + leaseMs'),
    };
  }

  async function claim<T extends EffectRecord | TimerRecord>(
    kind: WorkKind,
    request: ClaimRequest,
    map: (row: unknown) => T,
  ): Promise<Claimed<T>[]> {
    const checked = checkClaim(request);
    if (checked.types.length === 0 || checked.limit === 0) return [];
    const result = await run(kind === 'effect' ? 'claimEffects' : 'claimTimers', () =>
      driver.query(work(kind).claim, [checked.now, checked.limit, checked.types, checked.owner, checked.expiresAt]),
    );
    const claimed = result.rows.map((raw) => {
      const record = map(raw);
      return { ...record, lease: { kind, id: record.id, token: new Row(raw).text('lease_token') }, recovered: false };
    });
    // RETURNING does not keep the order of the claim; restore it (ids compare like COLLATE "C").
    return claimed.sort((a, b) => a.availableAt - b.availableAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  function checkDeadQuery(query: Omit<DeadLetterQuery, 'limit' | 'offset'>): [WorkKind, string | null, string | null] {
    if (typeof query !== 'object' || query === null) throw invalidArgument('the dead-letter query must be an object');
    return [
      workKind(query.kind),
      query.workflowType === undefined ? null : key(query.workflowType, 'workflowType'),
      query.workflowId === undefined ? null : key(query.workflowId, 'workflowId'),
    ];
  }

  const store: PostgresStore = {
    name: settings.name,
    schema: settings.schema.name,
    channel,

    async load(ref, options = {}) {
      const { type, id } = checkRef(ref);
      const idempotencyKey = options.idempotencyKey === undefined ? null : key(options.idempotencyKey, 'idempotencyKey');
      const result = await run('load', () => driver.query(sql.load, [type, id, idempotencyKey]));
      if (result.rows.length === 0) return { version: 0, completed: false, events: [] };
      const row = new Row(result.rows[0]);
      const snapshotVersion = row.optionalNumber('snapshot_version');
      const idempotentVersion = row.optionalNumber('idempotent_version');
      const loaded: LoadedInstance = {
        version: row.number('version'),
        completed: row.boolean('completed'),
        snapshot:
          snapshotVersion === undefined
            ? undefined
            : { version: snapshotVersion, revision: row.text('snapshot_revision'), state: row.json('snapshot_state') },
        events: toEvents(row.optionalText('events'), type, id),
        idempotent:
          idempotentVersion === undefined || idempotencyKey === null
            ? undefined
            : {
                key: idempotencyKey,
                version: idempotentVersion,
                eventCount: row.number('idempotent_event_count'),
                committedAt: row.number('idempotent_committed_at'),
              },
      };
      return stripUndefined(loaded);
    },

    async commit(request: CommitRequest) {
      const document = encodeCommit(request);
      const result = await run('commit', () => driver.query(sql.commit, [document]));
      const row = new Row(result.rows[0]);
      const outcome = row.text('r_outcome');
      switch (outcome) {
        case 'ok':
          // The transaction also sent NOTIFY; waking this process's listeners directly saves the
          // round trip through the server and covers a LISTEN connection that is still starting.
          if ((request.effects?.length ?? 0) > 0) wake('effect');
          if ((request.timers?.length ?? 0) > 0) wake('timer');
          return;
        case 'lease-lost': {
          const ack = request.ack;
          if (ack === undefined) break;
          throw new LeaseLostError(ack.kind, ack.id);
        }
        case 'version-conflict':
          throw new VersionConflictError(request.ref.type, request.ref.id, request.expectedVersion, {
            actualVersion: row.optionalNumber('r_version'),
          });
        case 'unique-key-conflict':
          throw new UniqueKeyConflictError(request.ref.type, request.uniqueKey ?? '', row.optionalText('r_holder'));
      }
      throw classifyPostgresError(new Error(`commit_decision returned an unknown outcome: ${outcome}`), 'commit');
    },

    async recordObservation(observation: Observation) {
      const o = encodeObservation(observation);
      await run('recordObservation', () =>
        driver.query(sql.recordObservation, [o.workflowType, o.workflowId, o.inputType, o.input, o.outcome, o.rejection ?? null, o.observedAt]),
      );
    },

    claimEffects(request) {
      return claim('effect', request, toEffect);
    },

    claimTimers(request) {
      return claim('timer', request, toTimer);
    },

    async nextTimerAt(types) {
      const checked = typeList(types);
      if (checked.length === 0) return undefined;
      const result = await run('nextTimerAt', () => driver.query(sql.nextTimerAt, [checked]));
      return new Row(result.rows[0]).optionalNumber('next');
    },

    async renewLease(lease, now, leaseMs) {
      const at = integer(now, 'now');
      const expiresAt = integer(at + integer(leaseMs, 'leaseMs', 0), 'now + leaseMs');
      await fenced('renewLease', lease, (s) => s.renew, () => [at, expiresAt]);
    },

    async complete(lease, now) {
      const at = integer(now, 'now');
      await fenced('complete', lease, (s) => s.complete, (kind) => [at, kind === 'effect' ? 'done' : 'fired']);
    },

    async retry(lease, now, retryAt, error) {
      const values = [integer(now, 'now'), integer(retryAt, 'retryAt'), freeText(error, 'error')];
      await fenced('retry', lease, (s) => s.retry, () => values);
    },

    async deadLetter(lease, now, error) {
      const values = [integer(now, 'now'), freeText(error, 'error')];
      await fenced('deadLetter', lease, (s) => s.deadLetter, () => values);
    },

    async release(lease, now) {
      const at = integer(now, 'now');
      wake(await fenced('release', lease, (s) => s.release, (kind) => [at, channel, kind]));
    },

    async listDeadLetters(query) {
      const [kind, type, id] = checkDeadQuery(query);
      const limit = optionalCount(query.limit, 'limit', 100);
      const offset = optionalCount(query.offset, 'offset', 0);
      const result = await run('listDeadLetters', () => driver.query(work(kind).listDead, [type, id, limit, offset]));
      return kind === 'effect' ? result.rows.map(toEffect) : result.rows.map(toTimer);
    },

    async countDeadLetters(query) {
      const [kind, type, id] = checkDeadQuery(query);
      const result = await run('countDeadLetters', () => driver.query(work(kind).countDead, [type, id]));
      return new Row(result.rows[0]).number('count');
    },

    async redrive(kind, id, now) {
      const checkedKind = workKind(kind);
      const values = [key(id, 'id'), integer(now, 'now'), channel, checkedKind];
      try {
        const result = await driver.query(work(checkedKind).redrive, values);
        if (result.rows.length === 0) return false;
      } catch (error) {
        // A keyed timer whose key was taken between our check and the update: not redriven.
        if (checkedKind === 'timer' && isUniqueViolation(error)) return false;
        throw classifyPostgresError(error, 'redrive');
      }
      wake(checkedKind);
      return true;
    },

    async purge(olderThan) {
      const before = integer(olderThan, 'olderThan');
      const result = await run('purge', () => driver.query(sql.purge, [before]));
      const row = new Row(result.rows[0]);
      return { effects: row.number('effects'), timers: row.number('timers') };
    },

    async readEvents(ref, options = {}) {
      const { type, id } = checkRef(ref);
      const from = options.fromSequence === undefined ? 1 : integer(options.fromSequence, 'fromSequence');
      const result = await run('readEvents', () => driver.query(sql.readEvents, [type, id, from]));
      return result.rows.map((raw) => toEvent(raw, type, id));
    },

    async listInstances(query = {}) {
      if (typeof query !== 'object' || query === null) throw invalidArgument('the instance query must be an object');
      const type = query.workflowType === undefined ? null : key(query.workflowType, 'workflowType');
      if (query.status !== undefined && query.status !== 'active' && query.status !== 'completed') {
        throw invalidArgument(`status must be 'active' or 'completed', got ${String(query.status)}`);
      }
      const completed = query.status === undefined ? null : query.status === 'completed';
      const limit = optionalCount(query.limit, 'limit', 100);
      const offset = optionalCount(query.offset, 'offset', 0);
      const result = await run('listInstances', () => driver.query(sql.listInstances, [type, completed, limit, offset]));
      return result.rows.map(toInstanceSummary);
    },

    async listEffects(ref) {
      const { type, id } = checkRef(ref);
      const result = await run('listEffects', () => driver.query(sql.effects.listByInstance, [type, id]));
      return result.rows.map(toEffect);
    },

    async listTimers(ref) {
      const { type, id } = checkRef(ref);
      const result = await run('listTimers', () => driver.query(sql.timers.listByInstance, [type, id]));
      return result.rows.map(toTimer);
    },

    async listObservations(ref) {
      const { type, id } = checkRef(ref);
      const result = await run('listObservations', () => driver.query(sql.listObservations, [type, id]));
      return result.rows.map(toObservation);
    },

    subscribe(listener) {
      if (closed) throw new IronflowError('SHUTTING_DOWN', 'This store was closed; create a new one to subscribe');
      if (typeof listener !== 'function') throw invalidArgument('subscribe needs a listener function');
      listeners.add(listener);
      if (listening === undefined) startListening();
      return () => {
        if (!listeners.delete(listener) || listeners.size > 0 || listening === undefined) return;
        void listening.stop();
        listening = undefined;
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      const stopping = listening;
      listening = undefined;
      await stopping?.stop();
      await settings.onClose?.();
    },
  };
  return store;
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}
