// What a backend implements for `defineStore`: primitives that take checked arguments and report
// conflicts and lost leases as data. Parsing, outcome → typed error, ordering, error
// classification and wake-up fan-out are the kit's; a backend only talks to its database.
import type { StoreError } from '../errors.js';
import type { WorkflowRef } from '../workflow.js';
import type {
  BacklogEntry,
  DeleteInstanceOutcome,
  DeleteInstanceRequest,
  InstanceEndedListener,
  CancelInstanceResult,
  PauseTarget,
  PausedEntry,
  Claimed,
  EffectRecord,
  FeedLag,
  FeedPage,
  FeedPosition,
  ProjectionApply,
  ProjectionClaim,
  ProjectionDeadLetter,
  ProjectionLease,
  ProjectionStatus,
  InstanceSummary,
  Lease,
  LoadedInstance,
  Observation,
  PurgeResult,
  StoredEvent,
  TimerRecord,
  WakeUpListener,
  WorkKind,
} from './port.js';
import type {
  CheckedClaim,
  CheckedCommit,
  CheckedDeadLetterQuery,
  CheckedEffect,
  CheckedFeedQuery,
  CheckedInstancePageQuery,
  CheckedInstanceQuery,
  CheckedObservation,
  CheckedWorkQuery,
} from './rules.js';
import type {
  CheckedFeedLagQuery,
  CheckedProjectionClaim,
  CheckedProjectionDeadLetterQuery,
  CheckedProjectionRenew,
  CheckedProjectionReset,
  CheckedProjectionSave,
} from './projection-rules.js';
import type { WakeSource } from './wake-hub.js';

/** How a commit ended, as data; the kit raises the typed error for each failure. */
export type CommitOutcome =
  | { readonly outcome: 'ok' }
  /** The instance is not at the expected version: VERSION_CONFLICT. */
  | { readonly outcome: 'version-conflict'; readonly actualVersion?: number | undefined }
  /** Another active instance of the type holds the unique key: UNIQUE_KEY_CONFLICT. */
  | { readonly outcome: 'unique-key-conflict'; readonly holderId?: string | undefined }
  /** The acknowledged lease is no longer held: LEASE_LOST. */
  | { readonly outcome: 'lease-lost' }
  /** A new effect or timer reuses the id of a stored one: INVALID_ARGUMENT (ids must be fresh). */
  | { readonly outcome: 'duplicate-id'; readonly kind: WorkKind; readonly id: string }
  /** A new keyed effect meets a live effect of the instance with that key: EFFECT_KEY_CONFLICT. */
  | { readonly outcome: 'effect-key-conflict'; readonly key: string };

/** How a fenced change ended: `cancelled` when the row is no longer leased because it was cancelled. */
export type SettleOutcome = 'ok' | 'lease-lost' | 'cancelled';

/** A change to a leased row after its claim, fenced by the lease token. */
export type LeaseOperation =
  | { readonly op: 'renew'; readonly lease: Lease; readonly now: number; readonly expiresAt: number }
  | { readonly op: 'complete'; readonly lease: Lease; readonly now: number }
  | { readonly op: 'retry'; readonly lease: Lease; readonly now: number; readonly retryAt: number; readonly error: string }
  | { readonly op: 'dead'; readonly lease: Lease; readonly now: number; readonly error: string }
  /**
   * Back to pending at `availableAt` (≥ `now`) with the attempt un-counted; with `reason`,
   * `releases` + 1 and `lastError` = reason (work not understood), without it both unchanged.
   */
  | { readonly op: 'release'; readonly lease: Lease; readonly now: number; readonly availableAt: number; readonly reason?: string | undefined };

/** An effect or timer row as backends return them. */
export type WorkRecord = EffectRecord | TimerRecord;

/** A claimed row as backends return it. */
export type ClaimedRecord = Claimed<EffectRecord> | Claimed<TimerRecord>;

/**
 * The primitives of one backend. Every argument has passed the kit's rules; every JSON value
 * arrives as JSON text. Methods may throw: the kit passes `IronflowError`s through and turns
 * anything else into a `StoreError` with `classify`.
 */
export interface StoreBackend {
  /** A short name for logs (`memory`, `postgres`, `redis`). */
  readonly name: string;
  /** Maps a native error (driver, socket, server reply) to a StoreError with a reason. */
  classify(error: unknown, operation: string): StoreError;

  /** The instance's snapshot, events after it, version and completion; `idempotent` when the key was committed. */
  load(ref: WorkflowRef, idempotencyKey: string | undefined): Promise<LoadedInstance>;
  /** Applies the whole commit atomically if its checks pass, or nothing at all. */
  commit(commit: CheckedCommit): Promise<CommitOutcome>;
  recordObservation(observation: CheckedObservation): Promise<void>;

  /**
   * Leases up to `claim.limit` claimable rows of `kind` and `claim.types`, oldest available first,
   * counting an attempt each. A row whose lease expired unsettled is returned alone with
   * `recovered: true`; a batch of fresh rows stops before such a row.
   */
  claim(kind: WorkKind, claim: CheckedClaim): Promise<ClaimedRecord[]>;
  nextTimerAt(types: readonly string[]): Promise<number | undefined>;
  /**
   * Applies a fenced change; `lease-lost` when the row is not leased with that token, unexpired at
   * `now`, or `cancelled` when the row's status is `cancelled`.
   */
  settle(operation: LeaseOperation): Promise<SettleOutcome>;

  /**
   * Group commit: applies each commit exactly as `commit` would, in array order, in as few round
   * trips as the backend allows (one transaction on PostgreSQL, one script call per partition on
   * Redis), and returns one outcome per commit, in order. Each commit keeps its own atomicity: a
   * failed check writes nothing for that commit and does not affect the others; a later commit
   * sees the writes of an earlier one (two commits to one instance at versions n and n + 1 both
   * apply). It throws only when the whole batch failed (then nothing of it may be assumed written).
   * Optional: without it the kit sends the commits one at a time, concurrently.
   */
  commitMany?(commits: readonly CheckedCommit[]): Promise<CommitOutcome[]>;
  /**
   * Batched settlement: applies each fenced change exactly as `settle` would, in array order, in
   * as few round trips as the backend allows; one result per change, in order. Optional, as above.
   */
  settleMany?(operations: readonly LeaseOperation[]): Promise<SettleOutcome[]>;

  /**
   * Cancels an active instance and its live work atomically (see the port's `cancelInstance`), and
   * in the same write adds `effects` as pending effects of the instance (not cancelled).
   */
  cancelInstance(ref: WorkflowRef, now: number, reason: string, effects: readonly CheckedEffect[]): Promise<CancelInstanceResult>;
  /** Adds or removes a pause; true when it changed something. */
  setPaused(target: PauseTarget, paused: boolean, now: number): Promise<boolean>;
  listPaused(): Promise<PausedEntry[]>;
  backlog(now: number): Promise<BacklogEntry[]>;
  /** Deletes idempotency records committed before `olderThan`; returns how many. */
  purgeIdempotencyKeys(olderThan: number): Promise<number>;
  /** Up to `query.limit` rows matching the filter with id after `query.after`, in id order (code points). */
  listWork(query: CheckedWorkQuery): Promise<WorkRecord[]>;
  /** Up to `query.limit` instances matching the filter after `query.after`, in (type, id) order (code points). */
  pageInstances(query: CheckedInstancePageQuery): Promise<InstanceSummary[]>;

  /**
   * Up to `query.limit` committed events after `query.after` (decoded by the backend, which throws
   * `badFeedPosition` for text it did not write) that pass the filters, each with its position,
   * and where the next read resumes (past the events the filters skipped too). An event is
   * returned only once no commit that could precede it is still in flight.
   */
  readFeed(query: CheckedFeedQuery): Promise<FeedPage>;
  /** The position of the last readable event, or undefined while there is none. */
  feedHead(): Promise<FeedPosition | undefined>;
  /** Readable events after `query.after` (decoded as `readFeed` does), counted up to `query.limit`, and the first one's `recordedAt`. */
  feedLag(query: CheckedFeedLagQuery): Promise<FeedLag>;

  /**
   * Takes the projection's lease unless another holder's is unexpired at `now` (`expiresAt > now`):
   * creates the projection (no position, token 1) on a first claim, else stores the owner, the
   * expiry and the token plus one; undefined, nothing written, when the lease is held.
   */
  claimProjection(claim: CheckedProjectionClaim): Promise<ProjectionClaim | undefined>;
  /** Sets the lease's expiry when the stored token is the lease's, whether or not it expired (nobody took it over). */
  renewProjection(renew: CheckedProjectionRenew): Promise<'ok' | 'lease-lost'>;
  /**
   * When the stored token is the lease's, in one atomic write: the position (when given, decoded
   * with `badFeedPosition(text, why, 'save.position')` for text it did not write), the expiry (when
   * given), `updatedAt`, the parked dead letters (their positions decoded the same way, what
   * `save.parked[i].position`; upserted by id: status `parked`, `parkedAt` now)
   * and the resolved ones deleted; else `lease-lost` and nothing written. With `apply` (only when
   * `projectionTransactions`), runs it in the same transaction after the fencing check, and rolls
   * everything back when it throws.
   */
  saveProjection(save: CheckedProjectionSave, apply?: ProjectionApply): Promise<'ok' | 'lease-lost'>;
  /** Clears the owner and the expiry when the stored token is the lease's. */
  releaseProjection(lease: ProjectionLease, now: number): Promise<'ok' | 'lease-lost'>;
  /**
   * Sets the position (decoded as in `saveProjection`, what `reset.position`), clears the owner and
   * the expiry, adds one to the token (creating the projection when it does not exist) and, unless
   * `keepDeadLetters`, deletes the projection's dead letters; one atomic write.
   */
  resetProjection(reset: CheckedProjectionReset): Promise<void>;
  /** Every projection, in name order (code points), with its count of dead letters. */
  listProjections(): Promise<ProjectionStatus[]>;
  /** Up to `query.limit` of the projection's dead letters with id after `query.after`, in id order (code points). */
  listProjectionDeadLetters(query: CheckedProjectionDeadLetterQuery): Promise<ProjectionDeadLetter[]>;
  /** A `parked` dead letter becomes `redriven` (updatedAt now); false when there is no parked one by that id. */
  redriveProjectionDeadLetter(projection: string, id: string, now: number): Promise<boolean>;
  /** Deletes the dead letter; false when there is none by that id. */
  skipProjectionDeadLetter(projection: string, id: string): Promise<boolean>;
  /** True when `saveProjection` runs `apply` in its transaction. */
  readonly projectionTransactions?: boolean | undefined;

  listDeadLetters(query: CheckedDeadLetterQuery): Promise<WorkRecord[]>;
  countDeadLetters(query: CheckedDeadLetterQuery): Promise<number>;
  /** Also resets `releases`. */
  redrive(kind: WorkKind, id: string, now: number): Promise<boolean>;
  purge(olderThan: number): Promise<PurgeResult>;
  /** Deletes an ended instance and everything it owns in one atomic write (see the port). */
  deleteInstance(request: DeleteInstanceRequest): Promise<DeleteInstanceOutcome>;

  readEvents(ref: WorkflowRef, fromSequence: number): Promise<StoredEvent[]>;
  listInstances(query: CheckedInstanceQuery): Promise<InstanceSummary[]>;
  listEffects(ref: WorkflowRef): Promise<EffectRecord[]>;
  listTimers(ref: WorkflowRef): Promise<TimerRecord[]>;
  listObservations(ref: WorkflowRef): Promise<Observation[]>;

  /**
   * Opens the backend's cross-process notification source (LISTEN, pub/sub); absent in-process.
   * `wake` gets work wake-ups, `ended` the instances other processes completed or cancelled (the
   * backend publishes one from each completing commit and each cancellation).
   */
  listen?(wake: WakeUpListener, ended: InstanceEndedListener): WakeSource;
  /** Closes what the backend opened itself, after wake-ups stopped. */
  close?(): Promise<void>;
}
