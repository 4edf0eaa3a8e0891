// Turns a backend's primitives into a WorkflowStore: every call's arguments go through the kit's
// rules, outcomes become typed errors, native errors are classified, claims come back in one id
// order, and wake-ups fan out from one hub. Every store, memory included, is built here.
import { IronflowError, LeaseLostError, StoreError, UniqueKeyConflictError, VersionConflictError, invalidArgument, isIronflowError } from '../errors.js';
import type { ClaimedRecord, CommitOutcome, LeaseOperation, SettleOutcome, StoreBackend } from './backend.js';
import { compareIds } from './order.js';
import { PRIORITY_AGING_MS, type ProjectionLease, type InstanceEndedListener, type BatchResult, type Claimed, type EffectRecord, type TimerRecord, type WorkflowStore, type WorkKind } from './port.js';
import {
  instanceCursor,
  parseFeedQuery,
  parseInstancePageQuery,
  parseWorkQuery,
  workCursor,
  parseCancelInstance,
  parseDeleteInstance,
  parseRelease,
  parsePauseTarget,
  parseBatch,
  parseLeaseChange,
  type CheckedCommit,
  parseClaim,
  parseCommit,
  parseCount,
  parseDeadLetterQuery,
  parseInstanceQuery,
  parseKey,
  parseKind,
  parseLease,
  parseLoadOptions,
  parseObservation,
  parseReadOptions,
  parseRef,
  parseText,
  parseTime,
  parseTypes,
} from './rules.js';
import {
  parseFeedLagQuery,
  parseProjectionClaim,
  parseProjectionDeadLetterQuery,
  parseProjectionLease,
  parseProjectionRenew,
  parseProjectionReset,
  parseProjectionSave,
  projectionDeadLetterCursor,
} from './projection-rules.js';
import { createWakeHub, type WakeHubOptions } from './wake-hub.js';

/** A store built by `defineStore`: the port, with wake-ups and `close()` always present. */
export interface KitStore extends WorkflowStore {
  subscribe(listener: (kind: WorkKind) => void): () => void;
  subscribeEnded(listener: InstanceEndedListener): () => void;
  close(): Promise<void>;
}

/** Options of `defineStore`. */
export interface DefineStoreOptions {
  /** Receives what a wake-up listener threw. */
  readonly onListenerError?: WakeHubOptions['onListenerError'];
}

/** Claim order: rank (`availableAt - priority × PRIORITY_AGING_MS`) first, then id in code-point order. */
function rankOf(row: ClaimedRecord): number {
  return row.availableAt - (row.kind === 'effect' ? row.priority * PRIORITY_AGING_MS : 0);
}
function byRank(a: ClaimedRecord, b: ClaimedRecord): number {
  return rankOf(a) - rankOf(b) || compareIds(a.id, b.id);
}

/** The typed error of a failed commit outcome; undefined for `ok`. */
function commitError(checked: CheckedCommit, result: CommitOutcome): IronflowError | undefined {
  switch (result.outcome) {
    case 'ok':
      return undefined;
    case 'version-conflict':
      return new VersionConflictError(checked.ref.type, checked.ref.id, checked.expectedVersion, { actualVersion: result.actualVersion });
    case 'unique-key-conflict':
      return new UniqueKeyConflictError(checked.ref.type, checked.uniqueKey ?? '', result.holderId);
    case 'duplicate-id':
      return invalidArgument(`The ${result.kind} id ${JSON.stringify(result.id)} is already taken: a commit's effect and timer ids must be new`, {
        kind: result.kind,
        id: result.id,
      });
    case 'lease-lost': {
      const ack = checked.ack ?? { kind: 'effect', id: '?' };
      return new LeaseLostError(ack.kind, ack.id);
    }
    case 'effect-key-conflict':
      return new IronflowError(
        'EFFECT_KEY_CONFLICT',
        `${checked.ref.type}:${checked.ref.id} already has a live effect with key ${JSON.stringify(result.key)}; cancel it in the same decision (cancelEffects) to replace it`,
        { details: { workflowType: checked.ref.type, workflowId: checked.ref.id, key: result.key } },
      );
  }
}

/** LEASE_LOST of a projection whose token moved on (a takeover or a reset). */
function projectionLeaseLost(lease: ProjectionLease): IronflowError {
  return new IronflowError('LEASE_LOST', `The lease on projection ${JSON.stringify(lease.name)} with token ${lease.token} is no longer held: another runner claimed it, or it was reset`, {
    details: { projection: lease.name, owner: lease.owner, token: lease.token },
  });
}

/** Carries an error thrown by a projection's `apply` through the backend, so it is rethrown as thrown, not classified. */
class ApplyFailure {
  constructor(readonly error: unknown) {}
}

/** The typed error of a failed settlement; undefined for `ok`. */
function settleError(operation: LeaseOperation, outcome: SettleOutcome): IronflowError | undefined {
  if (outcome === 'ok') return undefined;
  return new LeaseLostError(operation.lease.kind, operation.lease.id, { cancelled: outcome === 'cancelled' });
}

const OK: BatchResult = Object.freeze({ ok: true });

/** Parses each item on its own: a bad one becomes its result and is not sent. */
function parseEach<T>(items: readonly unknown[], parse: (item: unknown) => T): Array<{ value: T } | { error: IronflowError }> {
  return items.map((item) => {
    try {
      return { value: parse(item) };
    } catch (error) {
      if (isIronflowError(error)) return { error };
      throw error;
    }
  });
}

/**
 * Builds a WorkflowStore over a backend; `extras` (setup, destroy, schema name …) are added to it.
 * @example
 * export function createMyStore(options) {
 *   return defineStore(myBackend(options), { destroy: () => dropEverything(options) });
 * }
 */
export function defineStore<E extends object = object>(backend: StoreBackend, extras?: E, options: DefineStoreOptions = {}): KitStore & E {
  const hub = createWakeHub({
    listen: backend.listen === undefined ? undefined : (wake, ended) => backend.listen!(wake, ended),
    onListenerError: options.onListenerError,
  });

  /** Runs one backend call; anything but our own typed errors becomes a classified StoreError. */
  async function call<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ApplyFailure) throw error.error;
      throw isIronflowError(error) ? error : backend.classify(error, operation);
    }
  }

  let closing: Promise<void> | undefined;

  /**
   * Sends a batch's well-formed items: through the backend's batch form when it has one (checking
   * it answered each item), else one at a time in order, since a later item may build on an
   * earlier one. Returns the outcomes of the well-formed items, in order.
   */
  async function sendBatch<I, O>(
    operation: string,
    parsed: ReadonlyArray<{ value: I } | { error: IronflowError }>,
    many: ((items: readonly I[]) => Promise<O[]>) | undefined,
    one: (item: I) => Promise<O>,
  ): Promise<O[]> {
    const valid = parsed.flatMap((p) => ('value' in p ? [p.value] : []));
    if (valid.length === 0) return [];
    if (many === undefined) {
      const outcomes: O[] = [];
      for (const item of valid) outcomes.push(await call(operation, () => one(item)));
      return outcomes;
    }
    const outcomes = await call(operation, () => many(valid));
    if (outcomes.length !== valid.length) throw new StoreError('integrity', `${backend.name} store (${operation}): ${outcomes.length} outcomes for ${valid.length} items`);
    return outcomes;
  }

  /** A page of up to `query.limit` rows; one row more than asked tells whether another page follows. */
  async function page<Q extends { readonly limit: number }, R>(
    operation: string,
    query: Q,
    read: (query: Q) => Promise<R[]>,
    cursorOf: (last: R) => string,
  ): Promise<{ items: R[]; next?: string }> {
    if (query.limit === 0) return { items: [] };
    const rows = await call(operation, () => read({ ...query, limit: query.limit + 1 }));
    if (rows.length <= query.limit) return { items: rows };
    const items = rows.slice(0, query.limit);
    return { items, next: cursorOf(items[items.length - 1]!) };
  }

  async function settle(name: string, operation: LeaseOperation): Promise<void> {
    const error = settleError(operation, await call(name, () => backend.settle(operation)));
    if (error) throw error;
    if (operation.op === 'release') hub.wake(operation.lease.kind);
  }

  async function claim(kind: WorkKind, request: unknown): Promise<ClaimedRecord[]> {
    const checked = parseClaim(request);
    if (checked.types.length === 0 || checked.limit === 0) return [];
    const claimed = await call(kind === 'effect' ? 'claimEffects' : 'claimTimers', () => backend.claim(kind, checked));
    return claimed.sort(byRank);
  }

  const store: KitStore = {
    name: backend.name,

    async load(ref, loadOptions) {
      const checked = parseRef(ref);
      const { idempotencyKey } = parseLoadOptions(loadOptions);
      return call('load', () => backend.load(checked, idempotencyKey));
    },

    async commit(request) {
      const checked = parseCommit(request);
      const error = commitError(checked, await call('commit', () => backend.commit(checked)));
      if (error) throw error;
      if (checked.effects.length > 0) hub.wake('effect');
      if (checked.timers.length > 0) hub.wake('timer');
      if (checked.completed) hub.ended({ type: checked.ref.type, id: checked.ref.id, status: 'completed' });
    },

    async commitMany(requests) {
      const parsed = parseEach(parseBatch(requests, 'commitMany requests'), parseCommit);
      const outcomes = await sendBatch('commitMany', parsed, backend.commitMany?.bind(backend), (commit) => backend.commit(commit));
      let next = 0;
      let effects = false;
      let timers = false;
      const results = parsed.map((p): BatchResult => {
        if ('error' in p) return { ok: false, error: p.error };
        const error = commitError(p.value, outcomes[next++]!);
        if (error) return { ok: false, error };
        effects ||= p.value.effects.length > 0;
        timers ||= p.value.timers.length > 0;
        if (p.value.completed) hub.ended({ type: p.value.ref.type, id: p.value.ref.id, status: 'completed' });
        return OK;
      });
      if (effects) hub.wake('effect');
      if (timers) hub.wake('timer');
      return results;
    },

    async recordObservation(observation) {
      const checked = parseObservation(observation);
      await call('recordObservation', () => backend.recordObservation(checked));
    },

    claimEffects: async (request) => (await claim('effect', request)) as Claimed<EffectRecord>[],
    claimTimers: async (request) => (await claim('timer', request)) as Claimed<TimerRecord>[],

    async nextTimerAt(types) {
      const checked = parseTypes(types);
      if (checked.length === 0) return undefined;
      return call('nextTimerAt', () => backend.nextTimerAt(checked));
    },

    async renewLease(lease, now, leaseMs) {
      const at = parseTime(now, 'now');
      const expiresAt = parseTime(at + parseCount(leaseMs, 'leaseMs', 1), 'now + leaseMs');
      await settle('renewLease', { op: 'renew', lease: parseLease(lease), now: at, expiresAt });
    },
    async complete(lease, now) {
      await settle('complete', { op: 'complete', lease: parseLease(lease), now: parseTime(now, 'now') });
    },
    async retry(lease, now, retryAt, error) {
      const checked = { lease: parseLease(lease), now: parseTime(now, 'now'), retryAt: parseTime(retryAt, 'retryAt'), error: parseText(error, 'error') };
      await settle('retry', { op: 'retry', ...checked });
    },
    async deadLetter(lease, now, error) {
      await settle('deadLetter', { op: 'dead', lease: parseLease(lease), now: parseTime(now, 'now'), error: parseText(error, 'error') });
    },
    async release(lease, now, options) {
      await settle('release', parseRelease(parseLease(lease), parseTime(now, 'now'), options));
    },
    async settleMany(changes) {
      const parsed = parseEach(parseBatch(changes, 'settleMany changes'), parseLeaseChange);
      const outcomes = await sendBatch('settleMany', parsed, backend.settleMany?.bind(backend), (operation) => backend.settle(operation));
      let next = 0;
      const released = new Set<WorkKind>();
      const results = parsed.map((p): BatchResult => {
        if ('error' in p) return { ok: false, error: p.error };
        const error = settleError(p.value, outcomes[next++]!);
        if (error) return { ok: false, error };
        if (p.value.op === 'release') released.add(p.value.lease.kind);
        return OK;
      });
      for (const kind of released) hub.wake(kind);
      return results;
    },

    async cancelInstance(request) {
      const checked = parseCancelInstance(request);
      const result = await call('cancelInstance', () => backend.cancelInstance(checked.ref, checked.now, checked.reason, checked.effects));
      if (result.cancelled) {
        if (checked.effects.length > 0) hub.wake('effect');
        hub.ended({ type: checked.ref.type, id: checked.ref.id, status: 'cancelled' });
      }
      return result;
    },
    async setPaused(target, paused, now) {
      const checked = parsePauseTarget(target);
      if (typeof paused !== 'boolean') throw invalidArgument(`paused must be a boolean, got ${typeof paused}`);
      const at = parseTime(now, 'now');
      const changed = await call('setPaused', () => backend.setPaused(checked, paused, at));
      // Resumed work may be claimable at once, on every process.
      if (changed && !paused) {
        hub.wake('effect');
        hub.wake('timer');
      }
      return changed;
    },
    async listPaused() {
      return call('listPaused', () => backend.listPaused());
    },
    async backlog(now) {
      const at = parseTime(now, 'now');
      return call('backlog', () => backend.backlog(at));
    },

    async purgeIdempotencyKeys(olderThan) {
      const before = parseTime(olderThan, 'olderThan');
      return call('purgeIdempotencyKeys', () => backend.purgeIdempotencyKeys(before));
    },
    listWork: async (query) => page('listWork', parseWorkQuery(query), (q) => backend.listWork(q), (row) => workCursor(row.id)),
    pageInstances: async (query) => page('pageInstances', parseInstancePageQuery(query), (q) => backend.pageInstances(q), instanceCursor),

    async readFeed(query) {
      const checked = parseFeedQuery(query);
      return call('readFeed', () => backend.readFeed(checked));
    },
    async feedHead() {
      return call('feedHead', () => backend.feedHead());
    },
    async feedLag(query) {
      const checked = parseFeedLagQuery(query);
      return call('feedLag', () => backend.feedLag(checked));
    },

    async claimProjection(request) {
      const checked = parseProjectionClaim(request);
      return call('claimProjection', () => backend.claimProjection(checked));
    },
    async renewProjection(lease, now, leaseMs) {
      const checked = parseProjectionRenew(lease, now, leaseMs);
      if ((await call('renewProjection', () => backend.renewProjection(checked))) === 'lease-lost') throw projectionLeaseLost(checked.lease);
    },
    async saveProjection(lease, save, apply) {
      const checked = parseProjectionSave(lease, save);
      if (apply !== undefined && typeof apply !== 'function') throw invalidArgument(`apply must be a function, got ${typeof apply}`);
      if (apply !== undefined && backend.projectionTransactions !== true) {
        throw invalidArgument(`The ${backend.name} store cannot run a projection's writes in its checkpoint transaction; only stores with projectionTransactions can`);
      }
      const guarded =
        apply === undefined
          ? undefined
          : async (tx: unknown): Promise<void> => {
              try {
                await apply(tx);
              } catch (error) {
                throw new ApplyFailure(error);
              }
            };
      if ((await call('saveProjection', () => backend.saveProjection(checked, guarded))) === 'lease-lost') throw projectionLeaseLost(checked.lease);
    },
    async releaseProjection(lease, now) {
      const checkedLease = parseProjectionLease(lease);
      const at = parseTime(now, 'now');
      if ((await call('releaseProjection', () => backend.releaseProjection(checkedLease, at))) === 'lease-lost') throw projectionLeaseLost(checkedLease);
    },
    async resetProjection(reset) {
      const checked = parseProjectionReset(reset);
      await call('resetProjection', () => backend.resetProjection(checked));
    },
    async listProjections() {
      return call('listProjections', () => backend.listProjections());
    },
    listProjectionDeadLetters: async (query) =>
      page('listProjectionDeadLetters', parseProjectionDeadLetterQuery(query), (q) => backend.listProjectionDeadLetters(q), (row) => projectionDeadLetterCursor(row.id)),
    async redriveProjectionDeadLetter(projection, id, now) {
      const name = parseKey(projection, 'projection');
      const checkedId = parseKey(id, 'id');
      const at = parseTime(now, 'now');
      return call('redriveProjectionDeadLetter', () => backend.redriveProjectionDeadLetter(name, checkedId, at));
    },
    async skipProjectionDeadLetter(projection, id) {
      const name = parseKey(projection, 'projection');
      const checkedId = parseKey(id, 'id');
      return call('skipProjectionDeadLetter', () => backend.skipProjectionDeadLetter(name, checkedId));
    },
    projectionTransactions: backend.projectionTransactions === true,

    async listDeadLetters(query) {
      const checked = parseDeadLetterQuery(query);
      if (checked.limit === 0) return [];
      return call('listDeadLetters', () => backend.listDeadLetters(checked));
    },
    async countDeadLetters(query) {
      const checked = parseDeadLetterQuery(query);
      return call('countDeadLetters', () => backend.countDeadLetters(checked));
    },
    async redrive(kind, id, now) {
      const checkedKind = parseKind(kind);
      const checkedId = parseKey(id, 'id');
      const at = parseTime(now, 'now');
      const redriven = await call('redrive', () => backend.redrive(checkedKind, checkedId, at));
      if (redriven) hub.wake(checkedKind);
      return redriven;
    },
    async purge(olderThan) {
      const before = parseTime(olderThan, 'olderThan');
      return call('purge', () => backend.purge(before));
    },
    async deleteInstance(request) {
      const checked = parseDeleteInstance(request);
      return call('deleteInstance', () => backend.deleteInstance(checked));
    },

    async readEvents(ref, readOptions) {
      const checked = parseRef(ref);
      const { fromSequence } = parseReadOptions(readOptions);
      return call('readEvents', () => backend.readEvents(checked, fromSequence));
    },
    async listInstances(query) {
      const checked = parseInstanceQuery(query);
      if (checked.limit === 0) return [];
      return call('listInstances', () => backend.listInstances(checked));
    },
    async listEffects(ref) {
      const checked = parseRef(ref);
      return call('listEffects', () => backend.listEffects(checked));
    },
    async listTimers(ref) {
      const checked = parseRef(ref);
      return call('listTimers', () => backend.listTimers(checked));
    },
    async listObservations(ref) {
      const checked = parseRef(ref);
      return call('listObservations', () => backend.listObservations(checked));
    },

    subscribe: (listener) => hub.subscribe(listener),
    subscribeEnded: (listener) => hub.subscribeEnded(listener),
    close() {
      // Idempotent: a second close (or two at once) waits for the first and closes nothing twice.
      closing ??= hub.close().then(() => backend.close?.());
      return closing;
    },
  };
  return Object.assign(store, extras) as KitStore & E;
}
