// The store port: everything the engine asks of a backend, and nothing more. Each operation is
// small enough for one conditional write (one PostgreSQL transaction, one Redis Lua call).
// Stores never read the wall clock: every call that depends on time receives `now` (epoch ms).
import type { IronflowError } from '../errors.js';
import type { WorkflowRef } from '../workflow.js';

/** A JSON value as stores keep it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Metadata recorded with every event. */
export interface EventMetadata {
  /** The clock time `decide` saw, so a decision can be reproduced. */
  readonly decidedAt: number;
  /** Kind of the input that produced the event. */
  readonly inputType?: string | undefined;
  /** The inbound idempotency key, when the caller gave one. */
  readonly idempotencyKey?: string | undefined;
  /** The effect or timer whose result the input was. */
  readonly causedBy?: { readonly kind: WorkKind; readonly id: string } | undefined;
}

/** An event as stored: `sequence` runs 1, 2, 3… per instance with no gaps. */
export interface StoredEvent<E = unknown> {
  readonly workflowType: string;
  readonly workflowId: string;
  readonly sequence: number;
  /** The event's kind (e.g. `OrderPlaced`), for queries and upcasting. */
  readonly type: string;
  readonly payload: E;
  readonly metadata: EventMetadata;
  readonly recordedAt: number;
  /**
   * The payload's schema version as the deciding code wrote it (a workflow's `eventVersions`);
   * absent means 1. Reads return it only when it is not 1. Upcasters turn older versions into the
   * latest shape before `evolve` or a projection sees them.
   */
  readonly schemaVersion?: number | undefined;
}

/** A folded state saved at a version. */
export interface Snapshot {
  readonly version: number;
  readonly revision: string;
  readonly state: unknown;
}

/**
 * Lifecycle of an instance: `active` until a commit completes it (`completed`) or an operator
 * cancels it (`cancelled`); both are terminal, and a commit to a terminal instance is refused.
 */
export type InstanceStatus = 'active' | 'completed' | 'cancelled';

/** What `load` returns: enough to fold the current state. */
export interface LoadedInstance {
  /** Number of events; 0 when the instance does not exist. */
  readonly version: number;
  /** True when the instance is terminal (`status` is not `active`). */
  readonly completed: boolean;
  /** `active` for an instance that does not exist. */
  readonly status: InstanceStatus;
  /** The instance that started this one as a child, when one did. */
  readonly parent?: WorkflowRef | undefined;
  /** The latest snapshot, when there is one. */
  readonly snapshot?: Snapshot | undefined;
  /** Events after the snapshot (or all events), in sequence order. */
  readonly events: readonly StoredEvent[];
  /** Set when the load named an idempotency key that an earlier commit recorded. */
  readonly idempotent?: IdempotencyRecord | undefined;
}

/** What a commit with an idempotency key remembers, to answer a repeat with the first outcome. */
export interface IdempotencyRecord {
  readonly key: string;
  /** Version of the instance right after the first commit. */
  readonly version: number;
  /** Number of events that commit appended. */
  readonly eventCount: number;
  readonly committedAt: number;
}

/** Effects and timers share one lease protocol. */
export type WorkKind = 'effect' | 'timer';

/**
 * Stored lifecycle of an effect or timer. `fired` is timers only; `cancelled` is a timer or effect
 * cancelled by a decision, by its instance's completion (policy `cancel`) or by `cancelInstance`.
 */
export type WorkStatus = 'pending' | 'leased' | 'done' | 'dead' | 'fired' | 'cancelled';

/** Lowest and highest effect priority. */
export const MIN_PRIORITY = -1000;
export const MAX_PRIORITY = 1000;
/**
 * Aging: claims order effects by `availableAt - priority × PRIORITY_AGING_MS`, so one priority
 * level is worth one second of waiting, and an effect waits behind effects of a higher priority
 * at most (difference in priority) seconds once it is available.
 */
export const PRIORITY_AGING_MS = 1000;

/**
 * Per-effect settings a decision gives, kept with the effect as JSON and read back by the runtime;
 * stores keep them without interpreting them.
 */
export interface EffectSettings {
  /** Retry policy fields overriding the workflow's and the runtime's. */
  readonly retry?: Readonly<Record<string, unknown>> | undefined;
  /** Handler timeout of this effect, in ms. */
  readonly timeoutMs?: number | undefined;
  /** Epoch ms after which the effect is dead-lettered (EFFECT_DEADLINE_EXCEEDED) instead of run. */
  readonly deadline?: number | undefined;
}

/**
 * Propagation fields of a trace context (W3C `traceparent`, `tracestate`, …), written with an effect
 * or timer in the commit that creates it and returned with it, so the work continues the trace of
 * the decision that asked for it, in whatever process runs it. Stores keep it without interpreting
 * it: at most MAX_TRACE_FIELDS fields, names of 1–64 characters (letters, digits, `-`, `_`, `.`),
 * values of at most MAX_TRACE_VALUE characters.
 */
export type TraceCarrier = Readonly<Record<string, string>>;

/** Most fields of a TraceCarrier. */
export const MAX_TRACE_FIELDS = 8;

/** Longest value of a TraceCarrier field (W3C `tracestate` is at most 512). */
export const MAX_TRACE_VALUE = 1024;

/** Identifies a claim: every change after it is fenced by the token. */
export interface Lease {
  readonly kind: WorkKind;
  readonly id: string;
  readonly token: string;
}

/** Part of a commit: settles the leased effect or timer whose result this input is. */
export interface Acknowledgement extends Lease {
  /** `done` completes the effect / fires the timer; `dead` dead-letters it (with `error`). */
  readonly outcome: 'done' | 'dead';
  readonly error?: string | undefined;
}

/** An effect written by a commit. */
export interface NewEffect {
  readonly id: string;
  readonly payload: unknown;
  /**
   * At most one pending or leased effect per (instance, key): a commit that writes a keyed effect
   * while one with the key is live is refused (EFFECT_KEY_CONFLICT) unless the same commit cancels
   * the key first. `cancelEffects` names effects by key.
   */
  readonly key?: string | undefined;
  /** Claims that name tags take only effects with one of them; claims without tags take any. */
  readonly tag?: string | undefined;
  /** From MIN_PRIORITY to MAX_PRIORITY, higher first, with aging (PRIORITY_AGING_MS). @default 0 */
  readonly priority?: number | undefined;
  readonly settings?: EffectSettings | undefined;
  /** The trace context of the decision that wrote it; absent when tracing is off. */
  readonly trace?: TraceCarrier | undefined;
  /** The version of the workflow code that wrote it (its `version`); absent means 1. */
  readonly version?: number | undefined;
}

/** A timer written by a commit; a keyed timer replaces the pending timer with the same key. */
export interface NewTimer {
  readonly id: string;
  readonly key?: string | undefined;
  readonly fireAt: number;
  readonly input: unknown;
  /** The trace context of the decision that scheduled it; absent when tracing is off. */
  readonly trace?: TraceCarrier | undefined;
  /** The version of the workflow code that wrote it (its `version`); absent means 1. */
  readonly version?: number | undefined;
}

/** One input's outcome, kept when observations are on. */
export interface Observation {
  readonly workflowType: string;
  readonly workflowId: string;
  readonly inputType: string;
  readonly input: unknown;
  readonly outcome: 'accepted' | 'rejected' | 'already-completed';
  readonly rejection?: unknown;
  readonly observedAt: number;
}

/**
 * One decision's writes, applied all or nothing, and only if the instance is still at
 * `expectedVersion` and active (a commit to a completed or cancelled instance is a version
 * conflict). Order inside the commit: acknowledgement, events, effect cancels (by key, then every
 * live effect and timer with `cancelWork`), effects, timer cancels, timer schedules, instance row
 * (version, completion, unique key), idempotency, snapshot, observation.
 */
export interface CommitRequest {
  readonly ref: WorkflowRef;
  readonly expectedVersion: number;
  readonly now: number;
  /** Sequences run from `expectedVersion + 1` without gaps; at least one event. */
  readonly events: readonly StoredEvent[];
  readonly effects: readonly NewEffect[];
  /** Keys of live (pending or leased) effects of the instance to cancel; unknown keys are ignored. */
  readonly cancelEffects?: readonly string[] | undefined;
  readonly cancelTimers: readonly string[];
  readonly timers: readonly NewTimer[];
  /** The instance becomes completed: its unique key is released. */
  readonly completed: boolean;
  /**
   * Only with `completed`: every live effect and timer of the instance written before this commit
   * (other than the acknowledged one) is cancelled — the workflow's terminal policy `cancel`.
   */
  readonly cancelWork?: boolean | undefined;
  /** Claimed when the instance is created (`expectedVersion` 0); conflicts with an active holder. */
  readonly uniqueKey?: string | undefined;
  /** Recorded when the instance is created (`expectedVersion` 0): the instance that started it. */
  readonly parent?: WorkflowRef | undefined;
  readonly idempotencyKey?: string | undefined;
  readonly snapshot?: Snapshot | undefined;
  readonly ack?: Acknowledgement | undefined;
  readonly observation?: Observation | undefined;
}

/** Arguments of a batch claim. */
export interface ClaimRequest {
  readonly now: number;
  readonly limit: number;
  /** Only rows of these workflow types are claimed (rolling deploys share a database). */
  readonly types: readonly string[];
  readonly leaseMs: number;
  /** Who holds the lease, for operators. */
  readonly owner: string;
  /** Effects only: claim only effects with one of these tags; absent claims any effect. */
  readonly tags?: readonly string[] | undefined;
}

/** Fields effects and timers share. */
export interface WorkItem {
  readonly id: string;
  readonly workflowType: string;
  readonly workflowId: string;
  readonly status: WorkStatus;
  /** Claims so far, this one included when returned by a claim. */
  readonly attempts: number;
  readonly lastError?: string | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** When it may next be claimed: retry time for effects, fire time for timers. */
  readonly availableAt: number;
  readonly leaseOwner?: string | undefined;
  readonly leaseExpiresAt?: number | undefined;
  /** The trace context written with it, when there was one. */
  readonly trace?: TraceCarrier | undefined;
  /** The version of the workflow code that wrote it; absent means 1. */
  readonly version?: number | undefined;
  /**
   * Times a process gave it back because it could not understand it yet (`release` with a
   * reason: a payload its schema refuses, a newer version); absent means 0. Reset by `redrive`.
   */
  readonly releases?: number | undefined;
}

/** An effect row. */
export interface EffectRecord extends WorkItem {
  readonly kind: 'effect';
  readonly payload: unknown;
  readonly key?: string | undefined;
  readonly tag?: string | undefined;
  /** 0 unless the decision gave one. */
  readonly priority: number;
  readonly settings?: EffectSettings | undefined;
}

/** A timer row. */
export interface TimerRecord extends WorkItem {
  readonly kind: 'timer';
  readonly key?: string | undefined;
  readonly fireAt: number;
  readonly input: unknown;
}

/** A claimed effect or timer and its fencing token. */
export type Claimed<T extends EffectRecord | TimerRecord> = T & {
  readonly lease: Lease;
  /**
   * True when this claim took over a lease that expired without being settled: the worker that
   * held it crashed or stalled, perhaps because of this very item. Such an item is always claimed
   * alone (poison isolation), so a handler that kills its process costs attempts only to itself.
   */
  readonly recovered: boolean;
};

/** A change to a leased effect or timer, as `settleMany` takes it; each is the call of the same name. */
export type LeaseChange =
  | { readonly op: 'renew'; readonly lease: Lease; readonly now: number; readonly leaseMs: number }
  | { readonly op: 'complete'; readonly lease: Lease; readonly now: number }
  | { readonly op: 'retry'; readonly lease: Lease; readonly now: number; readonly retryAt: number; readonly error: string }
  | { readonly op: 'deadLetter'; readonly lease: Lease; readonly now: number; readonly error: string }
  | ({ readonly op: 'release'; readonly lease: Lease; readonly now: number } & ReleaseOptions);

/** How `release` gives a lease back. */
export interface ReleaseOptions {
  /**
   * Set when the holder could not understand the work (a payload its schema refuses, a version
   * newer than its code): the row's `releases` count grows by one and its `lastError` becomes the
   * reason. Absent (a shutdown): both stay as they are.
   */
  readonly reason?: string | undefined;
  /** When it may be claimed again, at or after `now`. @default now */
  readonly availableAt?: number | undefined;
}

/** What `deleteInstance` takes: the ended instance, at the version its caller saw. */
export interface DeleteInstanceRequest {
  readonly ref: WorkflowRef;
  readonly expectedVersion: number;
  readonly now: number;
}

/**
 * How `deleteInstance` ended: `deleted`, or nothing written because the instance is `missing`,
 * `changed` (not at `expectedVersion`), `active` (not terminal) or `busy` (it has pending or
 * leased effects or timers).
 */
export type DeleteInstanceOutcome = 'deleted' | 'missing' | 'changed' | 'active' | 'busy';

/**
 * One item's outcome in a batch: applied, or the typed error the single call would have raised
 * (VERSION_CONFLICT, UNIQUE_KEY_CONFLICT, LEASE_LOST, INVALID_ARGUMENT …), having written nothing.
 */
export type BatchResult = { readonly ok: true } | { readonly ok: false; readonly error: IronflowError };

/** Most items one `commitMany` or `settleMany` call takes. */
export const MAX_BATCH = 1000;

/** Filter for dead letters and other work listings. */
export interface DeadLetterQuery {
  readonly kind: WorkKind;
  readonly workflowType?: string | undefined;
  readonly workflowId?: string | undefined;
  /** @default 100 */
  readonly limit?: number | undefined;
  /** @default 0 */
  readonly offset?: number | undefined;
}

/** Summary row of an instance. */
export interface InstanceSummary {
  readonly workflowType: string;
  readonly workflowId: string;
  readonly version: number;
  readonly status: InstanceStatus;
  /** The reason given to `cancelInstance`. */
  readonly cancelReason?: string | undefined;
  readonly parent?: WorkflowRef | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Filter for instance listings; newest `updatedAt` first. */
export interface InstanceQuery {
  readonly workflowType?: string | undefined;
  readonly status?: InstanceStatus | undefined;
  /** @default 100 */
  readonly limit?: number | undefined;
  /** @default 0 */
  readonly offset?: number | undefined;
}

/** Filter and position of a page of instances, in (workflowType, workflowId) order. */
export interface InstancePageQuery {
  readonly workflowType?: string | undefined;
  readonly status?: InstanceStatus | undefined;
  /** Only the children of this instance. */
  readonly parent?: WorkflowRef | undefined;
  /** Only instances last changed at or after / before these times (epoch ms). */
  readonly updatedFrom?: number | undefined;
  readonly updatedBefore?: number | undefined;
  /** The `next` of the previous page. */
  readonly after?: string | undefined;
  /** @default 100, at most 1000 */
  readonly limit?: number | undefined;
}

/** A page of instances; `next` is absent on the last page. */
export interface InstancePage {
  readonly items: InstanceSummary[];
  readonly next?: string | undefined;
}

/** Filter and position of a page of effects or timers across the store, in id order. */
export interface WorkQuery {
  readonly kind: WorkKind;
  readonly workflowType?: string | undefined;
  readonly workflowId?: string | undefined;
  readonly status?: WorkStatus | undefined;
  /** Effects only. */
  readonly tag?: string | undefined;
  /** Only rows created at or after / before these times (epoch ms). */
  readonly createdFrom?: number | undefined;
  readonly createdBefore?: number | undefined;
  /** The `next` of the previous page. */
  readonly after?: string | undefined;
  /** @default 100, at most 1000 */
  readonly limit?: number | undefined;
}

/**
 * A position in the global event feed, as the store that returned it wrote it: opaque, meaningful
 * only to that store (on a partitioned store it is a vector of per-partition positions). Resume a
 * read with `after: position`.
 */
export type FeedPosition = string;

/** What `readFeed` takes. */
export interface FeedQuery {
  /** Events after this position (an event's `position` or a page's `next`); absent: from the first. */
  readonly after?: FeedPosition | undefined;
  /** Only events of these workflow types. */
  readonly workflowTypes?: readonly string[] | undefined;
  /** Only events of these event types. */
  readonly eventTypes?: readonly string[] | undefined;
  /** @default 100, at most MAX_PAGE */
  readonly limit?: number | undefined;
}

/** A committed event as the feed returns it. */
export interface FeedEvent extends StoredEvent {
  /** Resuming after it returns exactly the events that come after it. */
  readonly position: FeedPosition;
}

/** One read of the feed. */
export interface FeedPage {
  readonly events: FeedEvent[];
  /**
   * Where the next read resumes: past the events returned and past those the filters skipped;
   * `after` (or undefined) when nothing new can be read yet.
   */
  readonly next?: FeedPosition | undefined;
}

/** How far a reader at a position is behind the feed's head. */
export interface FeedLag {
  /** Readable events after the position, counted up to the query's `limit`. */
  readonly events: number;
  /** True when there are more than `limit`: `events` is then a lower bound. */
  readonly capped: boolean;
  /** When the first readable event after the position was recorded; absent when there is none. */
  readonly oldestRecordedAt?: number | undefined;
}

/** What `feedLag` takes. */
export interface FeedLagQuery {
  /** The reader's position; absent: from the first event. */
  readonly after?: FeedPosition | undefined;
  /** Most events counted. @default 10000, at most 100000 */
  readonly limit?: number | undefined;
}

/**
 * The right to advance one projection's checkpoint. `token` fences every write of its holder: it
 * grows with every claim and every reset, and a write carrying an older token is refused with
 * LEASE_LOST, so two runners never both advance one checkpoint.
 */
export interface ProjectionLease {
  readonly name: string;
  readonly owner: string;
  readonly token: number;
}

/** What `claimProjection` takes. */
export interface ProjectionClaimRequest {
  readonly name: string;
  /** Who asks (a worker id); written as the holder. */
  readonly owner: string;
  readonly now: number;
  readonly leaseMs: number;
}

/** A won claim: the lease, and where the projection's last holder left off. */
export interface ProjectionClaim {
  readonly lease: ProjectionLease;
  /** The checkpoint: the feed position after which the projection resumes; absent: from the first event. */
  readonly position?: FeedPosition | undefined;
  readonly expiresAt: number;
}

/** An event parked by a projection that failed on it, as `saveProjection` writes it. */
export interface NewProjectionDeadLetter {
  /** Fresh for a new one; the id of a stored one updates it (a re-driven event failing again). */
  readonly id: string;
  readonly workflowType: string;
  readonly workflowId: string;
  readonly sequence: number;
  /** The event's kind. */
  readonly eventType: string;
  /** The event's position in the feed. */
  readonly position: FeedPosition;
  /** The last failure. */
  readonly error: string;
  /** Handler attempts on the event so far. */
  readonly attempts: number;
}

/** `parked` until an operator re-drives it (`redriven`: the holder tries it again). */
export type ProjectionDeadLetterStatus = 'parked' | 'redriven';

/** A projection dead letter as stored. */
export interface ProjectionDeadLetter extends NewProjectionDeadLetter {
  readonly projection: string;
  readonly status: ProjectionDeadLetterStatus;
  /** When it was parked, or last parked again. */
  readonly parkedAt: number;
  readonly updatedAt: number;
}

/** What `saveProjection` writes, fenced by the lease's token, in one atomic write. */
export interface ProjectionSave {
  readonly now: number;
  /** The new checkpoint; absent keeps the stored one. */
  readonly position?: FeedPosition | undefined;
  /** Extends the lease to `now + leaseMs`; absent leaves its expiry alone. */
  readonly leaseMs?: number | undefined;
  /** Dead letters to add (or, by id, to park again). */
  readonly parked?: readonly NewProjectionDeadLetter[] | undefined;
  /** Ids of dead letters to delete (re-driven events that now succeeded). */
  readonly resolved?: readonly string[] | undefined;
}

/**
 * Writes of a projection's handler that a store runs in the checkpoint's own transaction: the
 * handler's writes and the checkpoint commit together or not at all. `tx` is the store's
 * transaction handle (a SQL client on PostgreSQL).
 */
export type ProjectionApply = (tx: unknown) => Promise<void>;

/** A projection's stored state, as operators see it. */
export interface ProjectionStatus {
  readonly name: string;
  readonly position?: FeedPosition | undefined;
  /** The last holder of the lease, until it is released or reset (`expiresAt` says whether it is live). */
  readonly owner?: string | undefined;
  readonly token: number;
  /** When the holder's lease runs out; absent once released or reset. */
  readonly expiresAt?: number | undefined;
  readonly updatedAt: number;
  /** Dead letters stored, parked or re-driven. */
  readonly deadLetters: number;
}

/** What `listProjectionDeadLetters` takes. */
export interface ProjectionDeadLetterQuery {
  readonly projection: string;
  readonly status?: ProjectionDeadLetterStatus | undefined;
  /** The `next` of the previous page. */
  readonly after?: string | undefined;
  /** @default 100, at most MAX_PAGE */
  readonly limit?: number | undefined;
}

/** A page of projection dead letters, in id order; `next` is absent on the last page. */
export interface ProjectionDeadLetterPage {
  readonly items: ProjectionDeadLetter[];
  readonly next?: string | undefined;
}

/** What `resetProjection` takes. */
export interface ProjectionReset {
  readonly name: string;
  /** The checkpoint to restart from; absent: from the first event (a rebuild). */
  readonly position?: FeedPosition | undefined;
  readonly now: number;
  /** Keep the projection's dead letters. @default false: they are deleted with the reset */
  readonly keepDeadLetters?: boolean | undefined;
}

/** A page of effects or timers; `next` is absent on the last page. */
export interface WorkPage {
  readonly items: (EffectRecord | TimerRecord)[];
  readonly next?: string | undefined;
}

/** What `purge` removed. */
export interface PurgeResult {
  readonly effects: number;
  readonly timers: number;
}

/** What `cancelInstance` takes. */
export interface CancelInstanceRequest {
  readonly ref: WorkflowRef;
  readonly now: number;
  readonly reason: string;
  /** Effects written, pending, by the same write (e.g. telling a parent its child was cancelled). */
  readonly effects?: readonly NewEffect[] | undefined;
}

/** What `cancelInstance` did: `cancelled` false (nothing written) when the instance is missing or terminal. */
export interface CancelInstanceResult {
  readonly cancelled: boolean;
  /** Live effects and timers it cancelled (leased ones included: their holders lose the lease). */
  readonly effects: number;
  readonly timers: number;
}

/** A whole workflow type (`id` absent) or one instance, as paused. */
export interface PauseTarget {
  readonly type: string;
  readonly id?: string | undefined;
}

/** A pause in force. */
export interface PausedEntry extends PauseTarget {
  readonly since: number;
}

/** Work of one workflow type and kind, by status, as `backlog` counts it. */
export interface BacklogEntry {
  readonly workflowType: string;
  readonly kind: WorkKind;
  /** Pending and not paused (due or not yet). */
  readonly pending: number;
  /** Of `pending`, those available at `now` (due timers, effects past their retry time). */
  readonly due: number;
  readonly leased: number;
  /** Pending but held by a pause of the type or the instance. */
  readonly paused: number;
  readonly dead: number;
  /** Earliest `availableAt` of a due, unpaused row: `now - oldestDueAt` is how long work has waited. */
  readonly oldestDueAt?: number | undefined;
}

/** Called by a store when new work may be claimable. */
export type WakeUpListener = (kind: WorkKind) => void;

/** An instance that became terminal: completed by a commit or cancelled. */
export interface InstanceEnded {
  readonly type: string;
  readonly id: string;
  readonly status: 'completed' | 'cancelled';
}

/** Called by a store when an instance became terminal, in this process or another. */
export type InstanceEndedListener = (ended: InstanceEnded) => void;

/**
 * The store port. Implemented by `@ironflow/store-memory`, `-postgres`, `-redis`; proven by
 * `describeStoreConformance` from `@ironflow/testing`.
 */
export interface WorkflowStore {
  /** A short name for logs (`memory`, `postgres`, `redis`). */
  readonly name: string;

  // ---- decisions ----
  /** Loads an instance; with `idempotencyKey`, also says whether that key was committed before. */
  load(ref: WorkflowRef, options?: { readonly idempotencyKey?: string | undefined }): Promise<LoadedInstance>;
  /**
   * Applies a decision atomically. Raises VERSION_CONFLICT when the instance is not at
   * `expectedVersion`, UNIQUE_KEY_CONFLICT when another active instance holds the key,
   * LEASE_LOST when the acknowledged lease is gone; in every such case it writes nothing.
   */
  commit(request: CommitRequest): Promise<void>;
  /**
   * Group commit: applies each request exactly as `commit` would, in array order, in as few round
   * trips as the store allows (one transaction on PostgreSQL, one script call per partition on
   * Redis). Each request keeps its own atomicity and gets its own result, in order: a conflict, a
   * lost lease or a bad argument in one writes nothing for it and does not affect the others, and
   * a later request sees the writes of an earlier one. Rejects (INVALID_ARGUMENT) when `requests`
   * is not an array of at most MAX_BATCH items, and with a StoreError when the whole batch failed.
   */
  commitMany(requests: readonly CommitRequest[]): Promise<BatchResult[]>;
  /** Keeps an observation that no commit carries (rejected, already completed). */
  recordObservation(observation: Observation): Promise<void>;

  // ---- effects and timers ----
  /**
   * Leases up to `limit` claimable effects, oldest available first, counting an attempt each. An
   * effect whose lease expired unsettled is claimed alone (`recovered`), never in a batch.
   */
  claimEffects(request: ClaimRequest): Promise<Claimed<EffectRecord>[]>;
  /** Leases up to `limit` due timers, earliest first, counting an attempt each. */
  claimTimers(request: ClaimRequest): Promise<Claimed<TimerRecord>[]>;
  /** Earliest fire time of a pending timer of these types, to sleep until it. */
  nextTimerAt(types: readonly string[]): Promise<number | undefined>;
  /** Extends a lease to `now + leaseMs`; LEASE_LOST if it is not held. */
  renewLease(lease: Lease, now: number, leaseMs: number): Promise<void>;
  /** Completes an effect (`done`) or fires a timer (`fired`) with no input to route; LEASE_LOST if not held. */
  complete(lease: Lease, now: number): Promise<void>;
  /** Records a failed attempt and makes the row claimable again at `retryAt`; LEASE_LOST if not held. */
  retry(lease: Lease, now: number, retryAt: number, error: string): Promise<void>;
  /** Moves the row to the dead letters; LEASE_LOST if not held. */
  deadLetter(lease: Lease, now: number, error: string): Promise<void>;
  /**
   * Gives a lease back unfinished, the attempt not counted: claimable at `availableAt` (default at
   * once). With a `reason` (work this code cannot understand yet) its `releases` count grows.
   */
  release(lease: Lease, now: number, options?: ReleaseOptions): Promise<void>;
  /**
   * Batched settlement: applies each change exactly as the call of its name would, in array order,
   * in as few round trips as the store allows, with one result per change, in order (LEASE_LOST or
   * INVALID_ARGUMENT for one change affects no other). Rejects as `commitMany` does.
   */
  settleMany(changes: readonly LeaseChange[]): Promise<BatchResult[]>;

  // ---- control ----
  /**
   * Cancels an active instance in one atomic write: its status becomes `cancelled` (terminal, its
   * unique key released) and its live effects and timers `cancelled`; a leased one's holder loses
   * the lease (LEASE_LOST with `cancelled`), so its result is never routed. No event is written.
   */
  cancelInstance(request: CancelInstanceRequest): Promise<CancelInstanceResult>;
  /**
   * Pauses (or resumes) a workflow type or an instance: claims skip the effects and timers of
   * paused work, which stay pending (a timer due during the pause fires on resume); commits are
   * unaffected. Durable; true when it changed something.
   */
  setPaused(target: PauseTarget, paused: boolean, now: number): Promise<boolean>;
  /** Pauses in force, types first, then by type and id. */
  listPaused(): Promise<PausedEntry[]>;
  /** Counts work per type and kind by status; only types with work. Reads counts, not every row. */
  backlog(now: number): Promise<BacklogEntry[]>;
  /** Deletes idempotency records committed before `olderThan`; returns how many. */
  purgeIdempotencyKeys(olderThan: number): Promise<number>;
  /** A page of effects or timers across the store, in id order. */
  listWork(query: WorkQuery): Promise<WorkPage>;
  /** A page of instances, in (workflowType, workflowId) order. */
  pageInstances(query?: InstancePageQuery): Promise<InstancePage>;

  // ---- the global event feed ----
  /**
   * Committed events in one order every reader sees, resumable from any position, never skipping
   * one: an event is readable only once no commit that could come before it is still in flight.
   * Events of one instance come in sequence order. Memory, PostgreSQL and Redis with one
   * partition keep one global order; a partitioned Redis orders each partition, and its position
   * is a vector (events of one instance share a partition).
   */
  readFeed(query?: FeedQuery): Promise<FeedPage>;
  /** The position of the last event a reader can read now; undefined while the feed is empty. */
  feedHead(): Promise<FeedPosition | undefined>;
  /** How many readable events follow a position (up to a limit), and the age of the first. */
  feedLag(query?: FeedLagQuery): Promise<FeedLag>;

  // ---- projection checkpoints ----
  /**
   * Takes a projection's lease when nobody holds it unexpired at `now` (a first claim creates the
   * projection at the feed's start), with a token greater than every earlier one; undefined when
   * another holder's lease is still live. A holder claiming again gets a new token too.
   */
  claimProjection(request: ProjectionClaimRequest): Promise<ProjectionClaim | undefined>;
  /** Extends the lease to `now + leaseMs`; LEASE_LOST when the token is no longer the projection's. */
  renewProjection(lease: ProjectionLease, now: number, leaseMs: number): Promise<void>;
  /**
   * Moves the checkpoint, extends the lease, parks and resolves dead letters, all in one write
   * fenced by the token (LEASE_LOST, nothing written, when it is no longer the projection's). With
   * `apply` (stores with `projectionTransactions`), the handler's writes run in that same
   * transaction: an error from `apply` rolls everything back and is rethrown as it was thrown.
   */
  saveProjection(lease: ProjectionLease, save: ProjectionSave, apply?: ProjectionApply): Promise<void>;
  /** Gives the lease up (another runner may claim at once); LEASE_LOST when it is no longer held. */
  releaseProjection(lease: ProjectionLease, now: number): Promise<void>;
  /**
   * Moves a projection's checkpoint (back to the start for a rebuild) and ends its lease: the token
   * grows, so the holder's next write fails with LEASE_LOST and its next claim resumes from here.
   */
  resetProjection(reset: ProjectionReset): Promise<void>;
  /** Every projection the store knows, by name (code points). */
  listProjections(): Promise<ProjectionStatus[]>;
  listProjectionDeadLetters(query: ProjectionDeadLetterQuery): Promise<ProjectionDeadLetterPage>;
  /** Marks a parked event for its projection's holder to try again; false when there is no parked one by that id. */
  redriveProjectionDeadLetter(projection: string, id: string, now: number): Promise<boolean>;
  /** Deletes a dead letter: its event stays unprojected for good; false when there is none by that id. */
  skipProjectionDeadLetter(projection: string, id: string): Promise<boolean>;
  /** True when `saveProjection` can run a handler's writes in its transaction (`apply`). */
  readonly projectionTransactions?: boolean | undefined;

  // ---- operators ----
  listDeadLetters(query: DeadLetterQuery): Promise<(EffectRecord | TimerRecord)[]>;
  countDeadLetters(query: Omit<DeadLetterQuery, 'limit' | 'offset'>): Promise<number>;
  /** Makes a dead letter claimable again with its attempts reset; false when it is not dead. */
  redrive(kind: WorkKind, id: string, now: number): Promise<boolean>;
  /** Deletes done effects and fired or cancelled timers last changed before `olderThan`. */
  purge(olderThan: number): Promise<PurgeResult>;
  /**
   * Retention: deletes an ended instance (completed or cancelled) at `expectedVersion` with no
   * pending or leased work, and everything it owns — events (they leave the feed), snapshot,
   * idempotency records, observations, effects and timers, its pause — in one atomic write.
   * Children and parents are untouched. Otherwise writes nothing and says why.
   */
  deleteInstance(request: DeleteInstanceRequest): Promise<DeleteInstanceOutcome>;

  // ---- queries ----
  readEvents(ref: WorkflowRef, options?: { readonly fromSequence?: number | undefined }): Promise<StoredEvent[]>;
  listInstances(query?: InstanceQuery): Promise<InstanceSummary[]>;
  listEffects(ref: WorkflowRef): Promise<EffectRecord[]>;
  listTimers(ref: WorkflowRef): Promise<TimerRecord[]>;
  listObservations(ref: WorkflowRef): Promise<Observation[]>;

  // ---- wake-ups ----
  /** Calls `listener` when effects or timers may have become claimable; returns an unsubscribe. */
  subscribe?(listener: WakeUpListener): () => void;
  /**
   * Calls `listener` when an instance becomes terminal (a completing commit, `cancelInstance`), in
   * this process or — on stores with a notification channel — another; returns an unsubscribe.
   * Notifications sent while a connection was down are lost: callers re-check now and then.
   */
  subscribeEnded?(listener: InstanceEndedListener): () => void;
  /** Stops wake-ups and closes what the store opened itself (never a client it was given). */
  close?(): Promise<void>;
}
