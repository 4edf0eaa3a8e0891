// The reference store: every port of @ironflow/core in process memory, deterministic under a
// manual clock. Values go through a JSON round trip so tests see what a database would return.
import type { StoredEvent, WorkflowRef } from '@ironflow/core';
import { LeaseLostError, UniqueKeyConflictError, VersionConflictError, stripUndefined, toJsonText, type Claimed, type ClaimRequest, type CommitRequest, type DeadLetterQuery, type EffectRecord, type IdempotencyRecord, type InstanceQuery, type InstanceSummary, type Lease, type LoadedInstance, type Observation, type PurgeResult, type Snapshot, type TimerRecord, type WakeUpListener, type WorkflowStore, type WorkKind, type WorkStatus } from '@ironflow/core/store';

/** The in-memory store; also exposes `reset()` for tests. */
export interface MemoryStore extends WorkflowStore {
  /** Forgets everything. */
  reset(): void;
}

interface Instance {
  type: string;
  id: string;
  version: number;
  completed: boolean;
  uniqueKey?: string | undefined;
  createdAt: number;
  updatedAt: number;
  events: StoredEvent[];
  snapshot?: Snapshot | undefined;
  idempotency: Map<string, IdempotencyRecord>;
  observations: Observation[];
}

interface Row {
  kind: WorkKind;
  id: string;
  workflowType: string;
  workflowId: string;
  status: WorkStatus;
  attempts: number;
  lastError?: string | undefined;
  createdAt: number;
  updatedAt: number;
  availableAt: number;
  leaseOwner?: string | undefined;
  leaseExpiresAt?: number | undefined;
  leaseToken?: string | undefined;
  payload?: unknown;
  key?: string | undefined;
  input?: unknown;
  seq: number;
}

const clone = <T>(value: T): T => (value === undefined ? value : (JSON.parse(toJsonText(value, 'A stored value')) as T));
const refKey = (type: string, id: string) => `${type}\u0000${id}`;

/**
 * Creates an in-memory store.
 * @example const store = createMemoryStore();
 */
export function createMemoryStore(): MemoryStore {
  let instances = new Map<string, Instance>();
  let uniqueKeys = new Map<string, string>(); // type\0key -> workflow id
  let rows = new Map<string, Row>(); // kind:id -> row
  let seq = 0;
  let tokens = 0;
  const listeners = new Set<WakeUpListener>();

  const rowKey = (kind: WorkKind, id: string) => `${kind}:${id}`;
  const wake = (kind: WorkKind) => {
    for (const listener of [...listeners]) void Promise.resolve(kind).then(listener);
  };
  const live = (row: Row | undefined, lease: Lease, now: number): row is Row =>
    row !== undefined && row.status === 'leased' && row.leaseToken === lease.token && (row.leaseExpiresAt ?? 0) > now;
  const held = (lease: Lease, now: number): Row => {
    const row = rows.get(rowKey(lease.kind, lease.id));
    if (!live(row, lease, now)) throw new LeaseLostError(lease.kind, lease.id);
    return row;
  };
  const clearLease = (row: Row) => {
    row.leaseOwner = undefined;
    row.leaseExpiresAt = undefined;
    row.leaseToken = undefined;
  };
  const toRecord = (row: Row): EffectRecord | TimerRecord => {
    const base = {
      id: row.id,
      workflowType: row.workflowType,
      workflowId: row.workflowId,
      status: row.status,
      attempts: row.attempts,
      lastError: row.lastError,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      availableAt: row.availableAt,
      leaseOwner: row.leaseOwner,
      leaseExpiresAt: row.leaseExpiresAt,
    };
    return row.kind === 'effect'
      ? stripUndefined({ kind: 'effect', ...base, payload: clone(row.payload) } as EffectRecord)
      : stripUndefined({ kind: 'timer', ...base, key: row.key, fireAt: row.availableAt, input: clone(row.input) } as TimerRecord);
  };
  const byAvailable = (a: Row, b: Row) => a.availableAt - b.availableAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const byCreated = (a: Row, b: Row) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const pendingKeyed = (type: string, id: string, key: string): Row | undefined => {
    for (const row of rows.values()) {
      if (row.kind === 'timer' && row.workflowType === type && row.workflowId === id && row.key === key && (row.status === 'pending' || row.status === 'leased')) {
        return row;
      }
    }
    return undefined;
  };

  const claim = (kind: WorkKind, request: ClaimRequest): Row[] => {
    if (request.types.length === 0 || request.limit <= 0) return [];
    const types = new Set(request.types);
    const claimable = [...rows.values()]
      .filter(
        (row) =>
          row.kind === kind &&
          types.has(row.workflowType) &&
          ((row.status === 'pending' && row.availableAt <= request.now) ||
            (row.status === 'leased' && (row.leaseExpiresAt ?? 0) <= request.now)),
      )
      .sort(byAvailable)
      .slice(0, request.limit);
    for (const row of claimable) {
      row.status = 'leased';
      row.attempts += 1;
      row.leaseToken = `t${++tokens}-${Math.random().toString(36).slice(2, 10)}`;
      row.leaseOwner = request.owner;
      row.leaseExpiresAt = request.now + request.leaseMs;
      row.updatedAt = request.now;
    }
    return claimable;
  };
  const claimed = <T extends EffectRecord | TimerRecord>(row: Row): Claimed<T> =>
    ({ ...(toRecord(row) as T), lease: { kind: row.kind, id: row.id, token: row.leaseToken ?? '' }, recovered: false }) as Claimed<T>;

  const store: MemoryStore = {
    name: 'memory',

    async load(ref, options = {}): Promise<LoadedInstance> {
      const inst = instances.get(refKey(ref.type, ref.id));
      if (inst === undefined) return { version: 0, completed: false, events: [] };
      const from = inst.snapshot?.version ?? 0;
      const idem = options.idempotencyKey === undefined ? undefined : inst.idempotency.get(options.idempotencyKey);
      return stripUndefined({
        version: inst.version,
        completed: inst.completed,
        snapshot: clone(inst.snapshot),
        events: clone(inst.events.slice(from)),
        idempotent: clone(idem),
      });
    },

    async commit(request: CommitRequest): Promise<void> {
      const { ref, now } = request;
      // Checks first: a failing check must leave everything untouched.
      let ackRow: Row | undefined;
      if (request.ack) ackRow = held(request.ack, now);
      const key = refKey(ref.type, ref.id);
      const existing = instances.get(key);
      const actual = existing?.version ?? 0;
      if (actual !== request.expectedVersion) {
        throw new VersionConflictError(ref.type, ref.id, request.expectedVersion, { actualVersion: actual });
      }
      const uniqueSlot = request.uniqueKey === undefined ? undefined : refKey(ref.type, request.uniqueKey);
      if (uniqueSlot !== undefined) {
        const holder = uniqueKeys.get(uniqueSlot);
        if (holder !== undefined && holder !== ref.id) throw new UniqueKeyConflictError(ref.type, request.uniqueKey ?? '', holder);
      }
      // Copy everything before the first change, so a value that is not JSON writes nothing.
      const { events, effects, timers, snapshot, observation } = clone({
        events: request.events,
        effects: request.effects,
        timers: request.timers,
        snapshot: request.snapshot,
        observation: request.observation,
      });
      events.forEach((e, i) => {
        if (e.sequence !== request.expectedVersion + i + 1) throw new VersionConflictError(ref.type, ref.id, request.expectedVersion);
      });

      if (ackRow && request.ack) {
        ackRow.status = request.ack.outcome === 'dead' ? 'dead' : ackRow.kind === 'effect' ? 'done' : 'fired';
        if (request.ack.outcome === 'dead') ackRow.lastError = request.ack.error;
        ackRow.updatedAt = now;
        clearLease(ackRow);
      }
      const inst: Instance = existing ?? {
        type: ref.type,
        id: ref.id,
        version: 0,
        completed: false,
        createdAt: now,
        updatedAt: now,
        events: [],
        idempotency: new Map(),
        observations: [],
      };
      inst.events.push(...events);
      for (const effect of effects) {
        rows.set(rowKey('effect', effect.id), {
          kind: 'effect', id: effect.id, workflowType: ref.type, workflowId: ref.id, status: 'pending', attempts: 0,
          createdAt: now, updatedAt: now, availableAt: now, payload: effect.payload, seq: ++seq,
        });
      }
      for (const cancelKey of request.cancelTimers) {
        const row = pendingKeyed(ref.type, ref.id, cancelKey);
        if (row) {
          row.status = 'cancelled';
          row.updatedAt = now;
          clearLease(row);
        }
      }
      for (const timer of timers) {
        const current = timer.key === undefined ? undefined : pendingKeyed(ref.type, ref.id, timer.key);
        if (current) {
          Object.assign(current, { status: 'pending', attempts: 0, availableAt: timer.fireAt, input: timer.input, createdAt: now, updatedAt: now });
          current.lastError = undefined;
          clearLease(current);
        } else {
          rows.set(rowKey('timer', timer.id), {
            kind: 'timer', id: timer.id, workflowType: ref.type, workflowId: ref.id, status: 'pending', attempts: 0,
            createdAt: now, updatedAt: now, availableAt: timer.fireAt, key: timer.key, input: timer.input, seq: ++seq,
          });
        }
      }
      inst.version = request.expectedVersion + events.length;
      inst.updatedAt = now;
      if (uniqueSlot !== undefined && request.expectedVersion === 0) {
        inst.uniqueKey = request.uniqueKey;
        uniqueKeys.set(uniqueSlot, ref.id);
      }
      if (request.completed) {
        inst.completed = true;
        if (inst.uniqueKey !== undefined) {
          const slot = refKey(ref.type, inst.uniqueKey);
          if (uniqueKeys.get(slot) === ref.id) uniqueKeys.delete(slot);
        }
      }
      if (request.idempotencyKey !== undefined) {
        inst.idempotency.set(request.idempotencyKey, {
          key: request.idempotencyKey, version: inst.version, eventCount: events.length, committedAt: now,
        });
      }
      if (snapshot) inst.snapshot = snapshot;
      if (observation) inst.observations.push(observation);
      instances.set(key, inst);
      if (effects.length > 0) wake('effect');
      if (timers.length > 0) wake('timer');
    },

    async recordObservation(observation) {
      const key = refKey(observation.workflowType, observation.workflowId);
      const inst = instances.get(key);
      if (inst) inst.observations.push(clone(observation));
      else orphanObservations.push(clone(observation));
    },

    async claimEffects(request) {
      return claim('effect', request).map((row) => claimed<EffectRecord>(row));
    },
    async claimTimers(request) {
      return claim('timer', request).map((row) => claimed<TimerRecord>(row));
    },
    async nextTimerAt(types) {
      const set = new Set(types);
      let next: number | undefined;
      for (const row of rows.values()) {
        if (row.kind === 'timer' && row.status === 'pending' && set.has(row.workflowType)) {
          if (next === undefined || row.availableAt < next) next = row.availableAt;
        }
      }
      return next;
    },
    async renewLease(lease, now, leaseMs) {
      const row = held(lease, now);
      row.leaseExpiresAt = now + leaseMs;
      row.updatedAt = now;
    },
    async complete(lease, now) {
      const row = held(lease, now);
      row.status = row.kind === 'effect' ? 'done' : 'fired';
      row.updatedAt = now;
      clearLease(row);
    },
    async retry(lease, now, retryAt, error) {
      const row = held(lease, now);
      row.status = 'pending';
      row.availableAt = retryAt;
      row.lastError = error;
      row.updatedAt = now;
      clearLease(row);
    },
    async deadLetter(lease, now, error) {
      const row = held(lease, now);
      row.status = 'dead';
      row.lastError = error;
      row.updatedAt = now;
      clearLease(row);
    },
    async release(lease, now) {
      const row = held(lease, now);
      row.status = 'pending';
      row.availableAt = now;
      row.attempts = Math.max(0, row.attempts - 1);
      row.updatedAt = now;
      clearLease(row);
      wake(row.kind);
    },

    async listDeadLetters(query: DeadLetterQuery) {
      const limit = query.limit ?? 100;
      const offset = query.offset ?? 0;
      return deadRows(query)
        .sort((a, b) => b.updatedAt - a.updatedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .slice(offset, offset + limit)
        .map(toRecord);
    },
    async countDeadLetters(query) {
      return deadRows(query).length;
    },
    async redrive(kind, id, now) {
      const row = rows.get(rowKey(kind, id));
      if (row === undefined || row.status !== 'dead') return false;
      if (row.kind === 'timer' && row.key !== undefined && pendingKeyed(row.workflowType, row.workflowId, row.key)) return false;
      row.status = 'pending';
      row.attempts = 0;
      row.availableAt = now;
      row.updatedAt = now;
      wake(kind);
      return true;
    },
    async purge(olderThan): Promise<PurgeResult> {
      let effects = 0;
      let timers = 0;
      for (const [k, row] of rows) {
        const finished = row.kind === 'effect' ? row.status === 'done' : row.status === 'fired' || row.status === 'cancelled';
        if (finished && row.updatedAt < olderThan) {
          rows.delete(k);
          if (row.kind === 'effect') effects++;
          else timers++;
        }
      }
      return { effects, timers };
    },

    async readEvents(ref, options = {}) {
      const inst = instances.get(refKey(ref.type, ref.id));
      const from = options.fromSequence ?? 1;
      return inst ? clone(inst.events.filter((e) => e.sequence >= from)) : [];
    },
    async listInstances(query: InstanceQuery = {}): Promise<InstanceSummary[]> {
      const limit = query.limit ?? 100;
      const offset = query.offset ?? 0;
      return [...instances.values()]
        .filter((i) => (query.workflowType === undefined || i.type === query.workflowType) && (query.status === undefined || (query.status === 'completed') === i.completed))
        .sort((a, b) => b.updatedAt - a.updatedAt || cmp(a.type, b.type) || cmp(a.id, b.id))
        .slice(offset, offset + limit)
        .map((i) => ({ workflowType: i.type, workflowId: i.id, version: i.version, status: i.completed ? 'completed' : 'active', createdAt: i.createdAt, updatedAt: i.updatedAt }));
    },
    async listEffects(ref: WorkflowRef) {
      return ofInstance('effect', ref).map((r) => toRecord(r) as EffectRecord);
    },
    async listTimers(ref: WorkflowRef) {
      return ofInstance('timer', ref).map((r) => toRecord(r) as TimerRecord);
    },
    async listObservations(ref) {
      const inst = instances.get(refKey(ref.type, ref.id));
      const orphans = orphanObservations.filter((o) => o.workflowType === ref.type && o.workflowId === ref.id);
      return clone([...orphans, ...(inst?.observations ?? [])]).sort((a, b) => a.observedAt - b.observedAt);
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    reset() {
      instances = new Map();
      uniqueKeys = new Map();
      rows = new Map();
      orphanObservations = [];
    },
  };

  let orphanObservations: Observation[] = [];
  function deadRows(query: Omit<DeadLetterQuery, 'limit' | 'offset'>): Row[] {
    return [...rows.values()].filter(
      (r) =>
        r.kind === query.kind &&
        r.status === 'dead' &&
        (query.workflowType === undefined || r.workflowType === query.workflowType) &&
        (query.workflowId === undefined || r.workflowId === query.workflowId),
    );
  }
  function ofInstance(kind: WorkKind, ref: WorkflowRef): Row[] {
    return [...rows.values()].filter((r) => r.kind === kind && r.workflowType === ref.type && r.workflowId === ref.id).sort(byCreated);
  }
  return store;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
