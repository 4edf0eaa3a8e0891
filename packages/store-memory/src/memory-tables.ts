// The memory store's tables and how their rows read back as port records. JSON values are kept as
// the JSON text the kit hands over and parsed on every read, so no caller ever holds a stored object.
import {
  PRIORITY_AGING_MS,
  compareIds,
  stripUndefined,
  type CheckedObservation,
  type ClaimedRecord,
  type EffectRecord,
  type FeedEvent,
  type IdempotencyRecord,
  type InstanceStatus,
  type InstanceSummary,
  type JsonText,
  type Observation,
  type ProjectionDeadLetter,
  type StoredEvent,
  type TimerRecord,
  type WorkflowRef,
  type WorkKind,
  type WorkRecord,
  type WorkStatus,
} from '@ironflow/core/store';

/** An event of an instance; the instance row knows its type and id. */
export interface EventRow {
  readonly sequence: number;
  readonly type: string;
  readonly payload: JsonText;
  readonly metadata: JsonText;
  readonly recordedAt: number;
  readonly schemaVersion: number;
  /** Set when retention deleted its instance: feed readers pass over it, positions stay as they are. */
  deleted?: boolean | undefined;
}

/** A workflow instance. */
export interface InstanceRow {
  readonly type: string;
  readonly id: string;
  version: number;
  status: InstanceStatus;
  cancelReason?: string | undefined;
  uniqueKey?: string | undefined;
  parent?: WorkflowRef | undefined;
  readonly createdAt: number;
  updatedAt: number;
  readonly events: EventRow[];
  snapshot?: { readonly version: number; readonly revision: string; readonly state: JsonText } | undefined;
  /** The first commit of each idempotency key wins, as with a database's ON CONFLICT DO NOTHING. */
  readonly idempotency: Map<string, IdempotencyRecord>;
}

/** The lease a claim put on a row. */
export interface HeldLease {
  readonly token: string;
  readonly owner: string;
  expiresAt: number;
}

interface WorkRowFields {
  readonly id: string;
  readonly workflowType: string;
  readonly workflowId: string;
  status: WorkStatus;
  attempts: number;
  lastError?: string | undefined;
  createdAt: number;
  updatedAt: number;
  availableAt: number;
  lease?: HeldLease | undefined;
  /** The trace carrier as JSON text; a keyed timer scheduled again takes the new one. */
  trace?: JsonText | undefined;
  /** The code version that wrote it; a keyed timer scheduled again takes the new one. */
  version: number;
  /** Releases by a process that could not understand it (`release` with a reason). */
  releases: number;
}

/** An effect row. */
export interface EffectRow extends WorkRowFields {
  readonly kind: 'effect';
  readonly payload: JsonText;
  readonly key?: string | undefined;
  readonly tag?: string | undefined;
  readonly priority: number;
  readonly settings?: JsonText | undefined;
}

/** A timer row; a keyed upsert replaces its fire time and input in place. */
export interface TimerRow extends WorkRowFields {
  readonly kind: 'timer';
  readonly key?: string | undefined;
  fireAt: number;
  input: JsonText;
}

/** An effect or timer row. */
export type WorkRow = EffectRow | TimerRow;

/** Everything one memory store holds. */
export interface Tables {
  /** By `refKey(type, id)`. */
  readonly instances: Map<string, InstanceRow>;
  /** `refKey(type, uniqueKey)` → the active instance holding it. */
  readonly uniqueKeys: Map<string, string>;
  /** By `workKey(kind, id)`: effect and timer ids are unique per kind. Write through `putWork`/`deleteWork`. */
  readonly work: Map<string, WorkRow>;
  /**
   * The same rows by instance, `refKey(type, id)` → its effects and timers in insertion order, so
   * that what a commit does to its own instance's work (keys, terminal policy, listings) costs the
   * instance's rows, not the store's.
   */
  readonly workByInstance: Map<string, Set<WorkRow>>;
  /** By `refKey(type, id)`, in the order recorded, whether or not the instance exists. */
  readonly observations: Map<string, CheckedObservation[]>;
  /** Pauses in force: `refKey(type, '')` for a whole type (ids are never empty), else `refKey(type, id)` → since. */
  readonly paused: Map<string, number>;
  /** Every committed event in commit order: the global feed; an event's position is its index + 1. */
  readonly feed: FeedRow[];
  /** Projection checkpoints and leases by name. */
  readonly projections: Map<string, ProjectionRow>;
}

/** A projection's checkpoint, lease and dead letters. */
export interface ProjectionRow {
  readonly name: string;
  position?: string | undefined;
  owner?: string | undefined;
  token: number;
  expiresAt?: number | undefined;
  updatedAt: number;
  /** By id. */
  readonly deadLetters: Map<string, ProjectionDeadLetter>;
}

/** One event of the feed, with its instance. */
export interface FeedRow {
  readonly type: string;
  readonly id: string;
  /** The instance's own row (deleting the instance marks it). */
  readonly event: EventRow;
}

/** Empty tables. */
export function createTables(): Tables {
  return { instances: new Map(), uniqueKeys: new Map(), work: new Map(), workByInstance: new Map(), observations: new Map(), paused: new Map(), feed: [], projections: new Map() };
}

/** Forgets every row. */
export function clearTables(tables: Tables): void {
  tables.instances.clear();
  tables.uniqueKeys.clear();
  tables.work.clear();
  tables.workByInstance.clear();
  tables.observations.clear();
  tables.paused.clear();
  tables.feed.length = 0;
  tables.projections.clear();
}

/** Adds an effect or timer row. */
export function putWork(tables: Tables, row: WorkRow): void {
  tables.work.set(workKey(row.kind, row.id), row);
  const key = refKey(row.workflowType, row.workflowId);
  const rows = tables.workByInstance.get(key);
  if (rows === undefined) tables.workByInstance.set(key, new Set([row]));
  else rows.add(row);
}

/** Removes an effect or timer row. */
export function deleteWork(tables: Tables, row: WorkRow): void {
  tables.work.delete(workKey(row.kind, row.id));
  const key = refKey(row.workflowType, row.workflowId);
  const rows = tables.workByInstance.get(key);
  rows?.delete(row);
  if (rows?.size === 0) tables.workByInstance.delete(key);
}

/** The effects and timers of one instance, in insertion order. */
export function workOf(tables: Tables, ref: WorkflowRef): Iterable<WorkRow> {
  return tables.workByInstance.get(refKey(ref.type, ref.id)) ?? [];
}

/** True when claims must skip `row`: its type or its instance is paused. */
export const isPaused = (tables: Tables, row: WorkRow): boolean =>
  tables.paused.size > 0 && (tables.paused.has(refKey(row.workflowType, '')) || tables.paused.has(refKey(row.workflowType, row.workflowId)));

/** An instance as listings return it. */
export function summaryOf(i: InstanceRow): InstanceSummary {
  return stripUndefined({
    workflowType: i.type, workflowId: i.id, version: i.version, status: i.status, cancelReason: i.cancelReason,
    parent: i.parent === undefined ? undefined : { ...i.parent }, createdAt: i.createdAt, updatedAt: i.updatedAt,
  });
}

// NUL cannot occur in a type, id or key (the kit refuses it), so it joins two of them unambiguously.
/** The key of an instance, or of a unique key within a workflow type. */
export const refKey = (type: string, id: string): string => `${type}\u0000${id}`;

/** The key of an effect or timer row. */
export const workKey = (kind: WorkKind, id: string): string => `${kind}\u0000${id}`;

/** True for a leased row whose lease ran out without being settled: its holder crashed or stalled. */
export const leaseExpired = (row: WorkRow, now: number): boolean => row.status === 'leased' && row.lease !== undefined && row.lease.expiresAt <= now;

/** Claim rank: `availableAt - priority × PRIORITY_AGING_MS` (aging), timers by `availableAt`. */
export const rankOf = (row: WorkRow): number => row.availableAt - (row.kind === 'effect' ? row.priority * PRIORITY_AGING_MS : 0);

/** Claim order: rank first, then id by code point. */
export const byRank = (a: WorkRow, b: WorkRow): number => rankOf(a) - rankOf(b) || compareIds(a.id, b.id);

/** Listing order of an instance's effects and timers: created first, then id by code point. */
export const byCreated = (a: WorkRow, b: WorkRow): number => a.createdAt - b.createdAt || compareIds(a.id, b.id);

/** An event row of instance `type`/`id` as the port returns it. */
function storedEventOf(type: string, id: string, event: EventRow): StoredEvent {
  const stored: StoredEvent = {
    workflowType: type,
    workflowId: id,
    sequence: event.sequence,
    type: event.type,
    payload: JSON.parse(event.payload) as unknown,
    metadata: JSON.parse(event.metadata) as StoredEvent['metadata'],
    recordedAt: event.recordedAt,
  };
  return event.schemaVersion === 1 ? stored : { ...stored, schemaVersion: event.schemaVersion };
}

/** The events of an instance from `fromSequence` on, as the port returns them. */
export function eventsOf(instance: InstanceRow, fromSequence: number): StoredEvent[] {
  // Sequences run 1, 2, 3… without gaps, so event n sits at index n - 1: no scan of the history.
  return instance.events.slice(Math.max(0, fromSequence - 1)).map((event) => storedEventOf(instance.type, instance.id, event));
}

/** A feed row as the port returns it. */
export function feedEventOf(row: FeedRow, position: number): FeedEvent {
  return { ...storedEventOf(row.type, row.id, row.event), position: String(position) };
}

/** An observation as the port returns it. */
export function observationOf(o: CheckedObservation): Observation {
  return stripUndefined({
    workflowType: o.workflowType,
    workflowId: o.workflowId,
    inputType: o.inputType,
    input: JSON.parse(o.input) as unknown,
    outcome: o.outcome,
    rejection: o.rejection === undefined ? undefined : (JSON.parse(o.rejection) as unknown),
    observedAt: o.observedAt,
  });
}

/** A row as the port returns it: optional fields absent when unset. */
export function recordOf(row: EffectRow): EffectRecord;
export function recordOf(row: TimerRow): TimerRecord;
export function recordOf(row: WorkRow): WorkRecord;
export function recordOf(row: WorkRow): WorkRecord {
  const fields = {
    id: row.id,
    workflowType: row.workflowType,
    workflowId: row.workflowId,
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    availableAt: row.availableAt,
    leaseOwner: row.lease?.owner,
    leaseExpiresAt: row.lease?.expiresAt,
    trace: row.trace === undefined ? undefined : (JSON.parse(row.trace) as WorkRecord['trace']),
    version: row.version === 1 ? undefined : row.version,
    releases: row.releases === 0 ? undefined : row.releases,
  };
  return row.kind === 'effect'
    ? stripUndefined<EffectRecord>({
        kind: 'effect', ...fields, payload: JSON.parse(row.payload) as unknown, key: row.key, tag: row.tag, priority: row.priority,
        settings: row.settings === undefined ? undefined : (JSON.parse(row.settings) as EffectRecord['settings']),
      })
    : stripUndefined<TimerRecord>({ kind: 'timer', ...fields, key: row.key, fireAt: row.fireAt, input: JSON.parse(row.input) as unknown });
}

/** A row just leased, with its fencing token and whether the claim recovered an expired lease. */
export function claimedOf(row: WorkRow, token: string, recovered: boolean): ClaimedRecord {
  const lease = { kind: row.kind, id: row.id, token };
  return row.kind === 'effect' ? { ...recordOf(row), lease, recovered } : { ...recordOf(row), lease, recovered };
}

/** True when `row` belongs to `ref`. */
export const ofInstance = (row: WorkRow, ref: WorkflowRef): boolean => row.workflowType === ref.type && row.workflowId === ref.id;
