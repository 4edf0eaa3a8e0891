// The memory store's backend for the store kit: each primitive checks, then writes, without an
// await in between, so calls in one process never interleave. The kit has already checked every
// argument; conflicts and lost leases are returned as data for the kit to raise.
import {
  IronflowError,
  StoreError,
  compareIds,
  stripUndefined,
  type CheckedAck,
  type CheckedCommit,
  type CheckedDeadLetterQuery,
  type CheckedEffect,
  type CheckedObservation,
  type CheckedTimer,
  type CommitOutcome,
  type FeedEvent,
  type Lease,
  type BacklogEntry,
  type LeaseOperation,
  type SettleOutcome,
  type StoreBackend,
  type WorkflowRef,
  type WorkKind,
  type ClaimedRecord,
} from '@ironflow/core/store';
import {
  byRank,
  byCreated,
  isPaused,
  summaryOf,
  claimedOf,
  eventsOf,
  leaseExpired,
  observationOf,
  ofInstance,
  recordOf,
  deleteWork,
  feedEventOf,
  putWork,
  refKey,
  workKey,
  workOf,
  type EffectRow,
  type InstanceRow,
  type Tables,
  type TimerRow,
  type WorkRow,
} from './memory-tables.js';
import { feedIndex, memoryProjections } from './memory-projections.js';
import { memoryStoreTestBugs as testBugs } from './test-bugs.js';

/**
 * The backend of `createMemoryStore` over `tables`.
 * @example const store = defineStore(memoryBackend(createTables()));
 */
export function memoryBackend(tables: Tables): StoreBackend {
  let issued = 0;
  // A counter keeps tokens unique in this store; the random part keeps a token of another store
  // from matching by accident, as a database's random tokens would not.
  const newToken = (): string => `${(issued += 1).toString(36)}.${Math.random().toString(36).slice(2, 10)}`;

  /** The row a lease names, if that lease still holds it at `now`. */
  function held(lease: Lease, now: number): WorkRow | undefined {
    const row = tables.work.get(workKey(lease.kind, lease.id));
    return row?.status === 'leased' && row.lease?.token === lease.token && row.lease.expiresAt > now ? row : undefined;
  }

  /** The pending or leased timer of `ref` with `key`: at most one exists. */
  function liveTimer(ref: WorkflowRef, key: string): TimerRow | undefined {
    for (const row of workOf(tables, ref)) {
      if (row.kind === 'timer' && row.key === key && (row.status === 'pending' || row.status === 'leased')) return row;
    }
    return undefined;
  }

  /** The live (pending or leased) effect of `ref` with `key`: at most one exists. */
  function liveEffect(ref: WorkflowRef, key: string): EffectRow | undefined {
    for (const row of workOf(tables, ref)) {
      if (row.kind === 'effect' && row.key === key && (row.status === 'pending' || row.status === 'leased')) return row;
    }
    return undefined;
  }

  /**
   * A new keyed effect whose key a live effect holds and the commit does not free first: by
   * cancelling the key, by `cancelWork`, or by acknowledging that very effect (the ack applies first).
   */
  function keyConflict(c: CheckedCommit): string | undefined {
    if (c.cancelWork) return undefined;
    const cancelled = new Set(c.cancelEffects);
    return c.effects.find((e) => {
      if (e.key === undefined || cancelled.has(e.key)) return false;
      const holder = liveEffect(c.ref, e.key);
      return holder !== undefined && !(c.ack?.kind === 'effect' && c.ack.id === holder.id);
    })?.key;
  }

  function cancelRow(row: WorkRow, now: number, reason: string | undefined): void {
    row.status = 'cancelled';
    row.lease = undefined;
    if (reason !== undefined) row.lastError = reason;
    row.updatedAt = now;
  }

  /** Cancels every live effect and timer of `ref` but `except` (the acknowledged row); counts them. */
  function cancelLive(ref: WorkflowRef, now: number, reason: string | undefined, except?: WorkRow): { effects: number; timers: number } {
    const counts = { effects: 0, timers: 0 };
    for (const row of workOf(tables, ref)) {
      if (row === except || (row.status !== 'pending' && row.status !== 'leased')) continue;
      cancelRow(row, now, reason);
      if (row.kind === 'effect') counts.effects += 1;
      else counts.timers += 1;
    }
    return counts;
  }

  function addEffects(ref: WorkflowRef, effects: readonly CheckedEffect[], now: number): void {
    for (const effect of effects) {
      putWork(tables, {
        kind: 'effect', id: effect.id, workflowType: ref.type, workflowId: ref.id, payload: effect.payload,
        key: effect.key, tag: effect.tag, priority: effect.priority, settings: effect.settings, trace: effect.trace,
        version: effect.version, releases: 0, status: 'pending', attempts: 0, createdAt: now, updatedAt: now, availableAt: now,
      });
    }
  }

  /** The first id of the commit that another row of its kind already has (a caller bug: refused before any write). */
  function reusedId(c: CheckedCommit): { kind: WorkKind; id: string } | undefined {
    const effect = c.effects.find((e) => tables.work.has(workKey('effect', e.id)));
    if (effect !== undefined) return { kind: 'effect', id: effect.id };
    // Re-scheduling a keyed timer under the id it already has is an upsert, not a reuse.
    const timer = c.timers.find((t) => {
      const row = tables.work.get(workKey('timer', t.id));
      return row !== undefined && !(row.kind === 'timer' && t.key !== undefined && row.key === t.key && ofInstance(row, c.ref));
    });
    return timer === undefined ? undefined : { kind: 'timer', id: timer.id };
  }

  function settleAck(row: WorkRow, ack: CheckedAck, now: number): void {
    if (testBugs.attemptsAtCompletion) row.attempts += 1;
    row.status = ack.outcome === 'dead' ? 'dead' : row.kind === 'effect' ? 'done' : 'fired';
    if (ack.outcome === 'dead') row.lastError = ack.error;
    row.lease = undefined;
    row.updatedAt = now;
  }

  /** A keyed timer scheduled again replaces the pending one in place: it keeps its id, nothing else (its trace is the new decision's). */
  function rearm(row: TimerRow, timer: CheckedTimer, now: number): void {
    row.status = 'pending';
    row.attempts = 0;
    row.releases = 0;
    row.lastError = undefined;
    row.lease = undefined;
    row.fireAt = timer.fireAt;
    row.availableAt = timer.fireAt;
    row.input = timer.input;
    row.trace = timer.trace;
    row.version = timer.version;
    row.createdAt = now;
    row.updatedAt = now;
  }

  function apply(c: CheckedCommit, existing: InstanceRow | undefined, ackRow: WorkRow | undefined): void {
    const { ref, now } = c;
    if (ackRow !== undefined && c.ack !== undefined) settleAck(ackRow, c.ack, now);
    const instance: InstanceRow = existing ?? { type: ref.type, id: ref.id, version: 0, status: 'active', createdAt: now, updatedAt: now, events: [], idempotency: new Map() };
    tables.instances.set(refKey(ref.type, ref.id), instance);
    instance.events.push(...c.events);
    for (const event of c.events) tables.feed.push({ type: ref.type, id: ref.id, event });
    for (const key of c.cancelEffects) {
      const row = liveEffect(ref, key);
      if (row !== undefined && row !== ackRow) cancelRow(row, now, undefined);
    }
    if (c.cancelWork) cancelLive(ref, now, undefined, ackRow);
    addEffects(ref, c.effects, now);
    for (const key of c.cancelTimers) {
      const row = liveTimer(ref, key);
      if (row === undefined) continue;
      row.status = 'cancelled';
      row.lease = undefined;
      row.updatedAt = now;
    }
    for (const timer of c.timers) {
      const current = timer.key === undefined ? undefined : liveTimer(ref, timer.key);
      if (current === undefined) {
        putWork(tables, {
          kind: 'timer', id: timer.id, workflowType: ref.type, workflowId: ref.id, key: timer.key, fireAt: timer.fireAt, input: timer.input, trace: timer.trace,
          version: timer.version, releases: 0, status: 'pending', attempts: 0, createdAt: now, updatedAt: now, availableAt: timer.fireAt,
        });
      } else {
        rearm(current, timer, now);
      }
    }
    instance.version = c.newVersion;
    instance.updatedAt = now;
    if (c.parent !== undefined) instance.parent = c.parent;
    if (c.uniqueKey !== undefined) {
      instance.uniqueKey = c.uniqueKey;
      tables.uniqueKeys.set(refKey(ref.type, c.uniqueKey), ref.id);
    }
    if (c.completed) {
      instance.status = 'completed';
      if (instance.uniqueKey !== undefined) tables.uniqueKeys.delete(refKey(ref.type, instance.uniqueKey));
    }
    if (c.idempotencyKey !== undefined && !instance.idempotency.has(c.idempotencyKey)) {
      instance.idempotency.set(c.idempotencyKey, { key: c.idempotencyKey, version: c.newVersion, eventCount: c.events.length, committedAt: now });
    }
    if (c.snapshot !== undefined) instance.snapshot = c.snapshot;
    if (c.observation !== undefined) record(c.observation);
  }

  function record(observation: CheckedObservation): void {
    const key = refKey(observation.workflowType, observation.workflowId);
    const list = tables.observations.get(key) ?? [];
    list.push(observation);
    tables.observations.set(key, list);
  }

  function deadRows(query: CheckedDeadLetterQuery): WorkRow[] {
    return [...tables.work.values()].filter(
      (row) =>
        row.kind === query.kind &&
        row.status === 'dead' &&
        (query.workflowType === undefined || row.workflowType === query.workflowType) &&
        (query.workflowId === undefined || row.workflowId === query.workflowId),
    );
  }

  function change(row: WorkRow, operation: LeaseOperation): void {
    if (testBugs.attemptsAtCompletion && operation.op !== 'renew') row.attempts += operation.op === 'release' ? 0 : 1;
    switch (operation.op) {
      case 'renew':
        if (row.lease !== undefined) row.lease.expiresAt = operation.expiresAt;
        break;
      case 'complete':
        row.status = row.kind === 'effect' ? 'done' : 'fired';
        row.lease = undefined;
        break;
      case 'retry':
        row.status = 'pending';
        row.availableAt = operation.retryAt;
        row.lastError = operation.error;
        row.lease = undefined;
        break;
      case 'dead':
        row.status = 'dead';
        row.lastError = operation.error;
        row.lease = undefined;
        break;
      case 'release':
        row.status = 'pending';
        row.availableAt = operation.availableAt;
        if (!testBugs.attemptsAtCompletion) row.attempts = Math.max(0, row.attempts - 1);
        row.lease = undefined;
        if (operation.reason !== undefined) {
          row.releases += 1;
          row.lastError = operation.reason;
        }
        break;
    }
    row.updatedAt = operation.now;
  }

  return {
    name: 'memory',

    classify(error, operation) {
      // Nothing in memory fails on its own: whatever was thrown is a bug, not worth a retry.
      return new StoreError('unknown', `memory store: ${operation} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    },

    async load(ref, idempotencyKey) {
      const instance = tables.instances.get(refKey(ref.type, ref.id));
      if (instance === undefined) return { version: 0, completed: false, status: 'active', events: [] };
      const snapshot = instance.snapshot;
      const idempotent = idempotencyKey === undefined ? undefined : instance.idempotency.get(idempotencyKey);
      return {
        version: instance.version,
        completed: instance.status !== 'active',
        status: instance.status,
        ...(instance.parent === undefined ? {} : { parent: { ...instance.parent } }),
        ...(snapshot === undefined ? {} : { snapshot: { version: snapshot.version, revision: snapshot.revision, state: JSON.parse(snapshot.state) as unknown } }),
        events: eventsOf(instance, (snapshot?.version ?? 0) + 1),
        ...(idempotent === undefined ? {} : { idempotent: { ...idempotent } }),
      };
    },

    async commit(c): Promise<CommitOutcome> {
      const ackRow = c.ack === undefined ? undefined : held(c.ack, c.now);
      if (c.ack !== undefined && ackRow === undefined) return { outcome: 'lease-lost' };
      const existing = tables.instances.get(refKey(c.ref.type, c.ref.id));
      const actualVersion = existing?.version ?? 0;
      // A terminal instance takes no more commits; cancelling does not move the version, so say so here.
      if (actualVersion !== c.expectedVersion || (existing !== undefined && existing.status !== 'active')) return { outcome: 'version-conflict', actualVersion };
      const holderId = c.uniqueKey === undefined ? undefined : tables.uniqueKeys.get(refKey(c.ref.type, c.uniqueKey));
      if (holderId !== undefined) return { outcome: 'unique-key-conflict', holderId };
      const reused = reusedId(c);
      if (reused !== undefined) return { outcome: 'duplicate-id', ...reused };
      const key = keyConflict(c);
      if (key !== undefined) return { outcome: 'effect-key-conflict', key };
      apply(c, existing, ackRow);
      return { outcome: 'ok' };
    },

    async recordObservation(observation) {
      record(observation);
    },

    async claim(kind, claim) {
      const types = new Set(claim.types);
      const tags = kind === 'effect' && claim.tags !== undefined ? new Set(claim.tags) : undefined;
      const claimable = [...tables.work.values()]
        .filter(
          (row) =>
            row.kind === kind &&
            types.has(row.workflowType) &&
            (tags === undefined || (row.kind === 'effect' && row.tag !== undefined && tags.has(row.tag))) &&
            ((row.status === 'pending' && row.availableAt <= claim.now) || leaseExpired(row, claim.now)) &&
            !isPaused(tables, row),
        )
        .sort(byRank);
      // Poison isolation: a row whose lease expired unsettled may have crashed its worker, so it is
      // claimed alone, and a batch of fresh rows stops before it rather than share its fate.
      const expired = claimable.findIndex((row) => leaseExpired(row, claim.now));
      const picked = expired === 0 ? claimable.slice(0, 1) : claimable.slice(0, expired === -1 ? claim.limit : Math.min(expired, claim.limit));
      return picked.map((row) => {
        const recovered = row.status === 'leased';
        const token = newToken();
        row.status = 'leased';
        row.lease = { token, owner: claim.owner, expiresAt: claim.expiresAt };
        row.updatedAt = claim.now;
        // testBugs.attemptsAtCompletion (the simulator's demonstration): the attempt is only stored when settled.
        if (testBugs.attemptsAtCompletion) return { ...claimedOf(row, token, recovered), attempts: row.attempts + 1 } as ClaimedRecord;
        row.attempts += 1;
        return claimedOf(row, token, recovered);
      });
    },

    async nextTimerAt(types) {
      const wanted = new Set(types);
      let next: number | undefined;
      for (const row of tables.work.values()) {
        if (row.kind === 'timer' && row.status === 'pending' && wanted.has(row.workflowType) && !isPaused(tables, row) && (next === undefined || row.availableAt < next)) next = row.availableAt;
      }
      return next;
    },

    async settle(operation): Promise<SettleOutcome> {
      const row = held(operation.lease, operation.now);
      if (row === undefined) return tables.work.get(workKey(operation.lease.kind, operation.lease.id))?.status === 'cancelled' ? 'cancelled' : 'lease-lost';
      change(row, operation);
      return 'ok';
    },

    async cancelInstance(ref, now, reason, effects) {
      const instance = tables.instances.get(refKey(ref.type, ref.id));
      if (instance === undefined || instance.status !== 'active') return { cancelled: false, effects: 0, timers: 0 };
      // Ids must be fresh, as in a commit; checked before anything is written.
      if (effects.some((e) => tables.work.has(workKey('effect', e.id)))) {
        throw new IronflowError('INVALID_ARGUMENT', 'cancelInstance: an effect id is already taken; ids must be new');
      }
      instance.status = 'cancelled';
      instance.cancelReason = reason;
      instance.updatedAt = now;
      if (instance.uniqueKey !== undefined) tables.uniqueKeys.delete(refKey(ref.type, instance.uniqueKey));
      const counts = cancelLive(ref, now, reason);
      addEffects(ref, effects, now);
      return { cancelled: true, ...counts };
    },

    async setPaused(target, paused, now) {
      const key = refKey(target.type, target.id ?? '');
      if (paused === tables.paused.has(key)) return false;
      if (paused) tables.paused.set(key, now);
      else tables.paused.delete(key);
      return true;
    },

    async listPaused() {
      return [...tables.paused]
        .map(([key, since]) => {
          const [type = '', id = ''] = key.split('\u0000');
          return id === '' ? { type, since } : { type, id, since };
        })
        .sort((a, b) => Number('id' in a) - Number('id' in b) || compareIds(a.type, b.type) || compareIds(a.id ?? '', b.id ?? ''));
    },

    async backlog(now) {
      const entries = new Map<string, { -readonly [K in keyof BacklogEntry]: BacklogEntry[K] }>();
      for (const row of tables.work.values()) {
        if (row.status !== 'pending' && row.status !== 'leased' && row.status !== 'dead') continue;
        const key = workKey(row.kind, row.workflowType);
        let entry = entries.get(key);
        if (entry === undefined) {
          entry = { workflowType: row.workflowType, kind: row.kind, pending: 0, due: 0, leased: 0, paused: 0, dead: 0, oldestDueAt: undefined };
          entries.set(key, entry);
        }
        if (row.status === 'leased') entry.leased += 1;
        else if (row.status === 'dead') entry.dead += 1;
        else if (isPaused(tables, row)) entry.paused += 1;
        else {
          entry.pending += 1;
          if (row.availableAt <= now) {
            entry.due += 1;
            if (entry.oldestDueAt === undefined || row.availableAt < entry.oldestDueAt) entry.oldestDueAt = row.availableAt;
          }
        }
      }
      return [...entries.values()].sort((a, b) => compareIds(a.workflowType, b.workflowType) || compareIds(a.kind, b.kind)).map((entry) => stripUndefined(entry));
    },

    async listDeadLetters(query) {
      return deadRows(query)
        .sort((a, b) => b.updatedAt - a.updatedAt || compareIds(a.id, b.id))
        .slice(query.offset, query.offset + query.limit)
        .map((row) => recordOf(row));
    },

    async countDeadLetters(query) {
      return deadRows(query).length;
    },

    async redrive(kind, id, now) {
      const row = tables.work.get(workKey(kind, id));
      if (row === undefined || row.status !== 'dead') return false;
      // A key taken by a live row since stays with it.
      const ref = { type: row.workflowType, id: row.workflowId };
      if (row.key !== undefined && (row.kind === 'timer' ? liveTimer(ref, row.key) : liveEffect(ref, row.key)) !== undefined) return false;
      row.status = 'pending';
      row.attempts = 0;
      row.releases = 0;
      row.availableAt = now;
      row.updatedAt = now;
      return true;
    },

    async purge(olderThan) {
      const purged = { effects: 0, timers: 0 };
      for (const row of [...tables.work.values()]) {
        const finished = row.status === 'done' || row.status === 'fired' || row.status === 'cancelled';
        if (!finished || row.updatedAt >= olderThan) continue;
        deleteWork(tables, row);
        if (row.kind === 'effect') purged.effects += 1;
        else purged.timers += 1;
      }
      return purged;
    },

    async deleteInstance(request) {
      const { ref } = request;
      const key = refKey(ref.type, ref.id);
      const instance = tables.instances.get(key);
      if (instance === undefined) return 'missing';
      if (instance.version !== request.expectedVersion) return 'changed';
      if (instance.status === 'active') return 'active';
      const rows = [...workOf(tables, ref)];
      if (rows.some((row) => row.status === 'pending' || row.status === 'leased')) return 'busy';
      for (const row of rows) deleteWork(tables, row);
      // Feed positions are indexes: the instance's events stay in place, marked for readers to pass over.
      for (const event of instance.events) event.deleted = true;
      tables.instances.delete(key);
      tables.observations.delete(key);
      tables.paused.delete(key);
      return 'deleted';
    },

    async purgeIdempotencyKeys(olderThan) {
      let purged = 0;
      for (const instance of tables.instances.values()) {
        for (const [key, record] of instance.idempotency) {
          if (record.committedAt >= olderThan) continue;
          instance.idempotency.delete(key);
          purged += 1;
        }
      }
      return purged;
    },

    async listWork(query) {
      return [...tables.work.values()]
        .filter(
          (row) =>
            row.kind === query.kind &&
            (query.workflowType === undefined || row.workflowType === query.workflowType) &&
            (query.workflowId === undefined || row.workflowId === query.workflowId) &&
            (query.status === undefined || row.status === query.status) &&
            (query.tag === undefined || (row.kind === 'effect' && row.tag === query.tag)) &&
            (query.createdFrom === undefined || row.createdAt >= query.createdFrom) &&
            (query.createdBefore === undefined || row.createdAt < query.createdBefore) &&
            (query.after === undefined || compareIds(row.id, query.after) > 0),
        )
        .sort((a, b) => compareIds(a.id, b.id))
        .slice(0, query.limit)
        .map((row) => recordOf(row));
    },

    async pageInstances(query) {
      return [...tables.instances.values()]
        .filter(
          (i) =>
            (query.workflowType === undefined || i.type === query.workflowType) &&
            (query.status === undefined || i.status === query.status) &&
            (query.parent === undefined || (i.parent?.type === query.parent.type && i.parent.id === query.parent.id)) &&
            (query.updatedFrom === undefined || i.updatedAt >= query.updatedFrom) &&
            (query.updatedBefore === undefined || i.updatedAt < query.updatedBefore) &&
            (query.after === undefined || (compareIds(i.type, query.after.type) || compareIds(i.id, query.after.id)) > 0),
        )
        .sort((a, b) => compareIds(a.type, b.type) || compareIds(a.id, b.id))
        .slice(0, query.limit)
        .map(summaryOf);
    },

    async readFeed(query) {
      const { feed } = tables;
      const start = query.after === undefined ? 0 : feedIndex(query.after, feed.length);
      const types = query.workflowTypes === undefined ? undefined : new Set(query.workflowTypes);
      const eventTypes = query.eventTypes === undefined ? undefined : new Set(query.eventTypes);
      const events: FeedEvent[] = [];
      let at = start;
      while (at < feed.length && events.length < query.limit) {
        const row = feed[at]!;
        at += 1;
        if (row.event.deleted !== true && (types === undefined || types.has(row.type)) && (eventTypes === undefined || eventTypes.has(row.event.type))) events.push(feedEventOf(row, at));
      }
      return { events, next: at === 0 ? undefined : String(at) };
    },
    async feedHead() {
      return tables.feed.length === 0 ? undefined : String(tables.feed.length);
    },
    ...memoryProjections(tables),

    async readEvents(ref, fromSequence) {
      const instance = tables.instances.get(refKey(ref.type, ref.id));
      return instance === undefined ? [] : eventsOf(instance, fromSequence);
    },

    async listInstances(query) {
      return [...tables.instances.values()]
        .filter((i) => (query.workflowType === undefined || i.type === query.workflowType) && (query.status === undefined || query.status === i.status))
        .sort((a, b) => b.updatedAt - a.updatedAt || compareIds(a.type, b.type) || compareIds(a.id, b.id))
        .slice(query.offset, query.offset + query.limit)
        .map(summaryOf);
    },

    async listEffects(ref) {
      return [...workOf(tables, ref)]
        .filter((row): row is EffectRow => row.kind === 'effect')
        .sort(byCreated)
        .map((row) => recordOf(row));
    },

    async listTimers(ref) {
      return [...workOf(tables, ref)]
        .filter((row): row is TimerRow => row.kind === 'timer')
        .sort(byCreated)
        .map((row) => recordOf(row));
    },

    async listObservations(ref) {
      return (tables.observations.get(refKey(ref.type, ref.id)) ?? []).map(observationOf);
    },
  };
}
