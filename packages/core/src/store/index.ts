// @ironflow/core/store — for store authors: the store port, the typed errors a store raises, and
// the store kit (argument rules, id order, wake-up hub, defineStore) every Ironflow store is built on.
export { MAX_BATCH, MAX_PRIORITY, MAX_TRACE_FIELDS, MAX_TRACE_VALUE, MIN_PRIORITY, PRIORITY_AGING_MS } from './port.js';
export type {
  Acknowledgement,
  BacklogEntry,
  BatchResult,
  CancelInstanceRequest,
  CancelInstanceResult,
  EffectSettings,
  InstanceEnded,
  InstanceEndedListener,
  InstancePage,
  InstancePageQuery,
  InstanceStatus,
  WorkPage,
  WorkQuery,
  PausedEntry,
  PauseTarget,
  Claimed,
  ClaimRequest,
  CommitRequest,
  DeadLetterQuery,
  EffectRecord,
  EventMetadata,
  FeedEvent,
  FeedLag,
  FeedLagQuery,
  FeedPage,
  FeedPosition,
  FeedQuery,
  IdempotencyRecord,
  InstanceQuery,
  InstanceSummary,
  Json,
  Lease,
  LeaseChange,
  LoadedInstance,
  NewEffect,
  NewTimer,
  Observation,
  NewProjectionDeadLetter,
  ProjectionApply,
  ProjectionClaim,
  ProjectionClaimRequest,
  ProjectionDeadLetter,
  ProjectionDeadLetterPage,
  ProjectionDeadLetterQuery,
  ProjectionDeadLetterStatus,
  ProjectionLease,
  ProjectionReset,
  ProjectionSave,
  ProjectionStatus,
  PurgeResult,
  Snapshot,
  StoredEvent,
  TimerRecord,
  TraceCarrier,
  WakeUpListener,
  WorkflowStore,
  WorkItem,
  WorkKind,
  WorkStatus,
} from './port.js';
export type { WorkflowRef } from '../workflow.js';

export { IronflowError, isIronflowError, LeaseLostError, StoreError, UniqueKeyConflictError, VersionConflictError, invalidArgument } from '../errors.js';
export type { IronflowErrorCode, IronflowErrorOptions, StoreErrorReason } from '../errors.js';

export { defineStore } from './define-store.js';
export type { DefineStoreOptions, KitStore } from './define-store.js';
export type { ClaimedRecord, CommitOutcome, LeaseOperation, SettleOutcome, StoreBackend, WorkRecord } from './backend.js';
export {
  MAX_KEY_LENGTH,
  MAX_VERSION,
  MAX_PAGE,
  parseCancelInstance,
  parseInstancePageQuery,
  parseWorkQuery,
  parseClaim,
  parseCommit,
  parseCount,
  parseDeadLetterQuery,
  parseInstanceQuery,
  parseKey,
  parseKind,
  parseLease,
  parseObservation,
  parsePauseTarget,
  parsePriority,
  parseRef,
  parseText,
  parseTime,
  parseTrace,
  parseFeedQuery,
  badFeedPosition,
  MAX_FEED_POSITION,
  parseTypes,
  toJsonText,
} from './rules.js';
export type {
  CheckedAck,
  CheckedClaim,
  CheckedCommit,
  CheckedDeadLetterQuery,
  CheckedEffect,
  CheckedEvent,
  CheckedFeedQuery,
  CheckedCancelInstance,
  CheckedInstancePageQuery,
  CheckedInstanceQuery,
  CheckedWorkQuery,
  CheckedObservation,
  CheckedTimer,
  JsonText,
} from './rules.js';
export { MAX_FEED_LAG, MAX_PROJECTION_LEASE_MS, parsePosition } from './projection-rules.js';
export type {
  CheckedFeedLagQuery,
  CheckedProjectionClaim,
  CheckedProjectionDeadLetterQuery,
  CheckedProjectionRenew,
  CheckedProjectionReset,
  CheckedProjectionSave,
} from './projection-rules.js';
export { compareIds } from './order.js';
export { createWakeHub } from './wake-hub.js';
export type { WakeHub, WakeHubOptions, WakeSource } from './wake-hub.js';
export { isNetworkErrorCode, stripUndefined } from './support.js';
export { backoff } from '../retry.js';
export type { BackoffOptions } from '../retry.js';
