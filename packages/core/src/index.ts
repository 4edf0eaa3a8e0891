export {
  IronflowError,
  isIronflowError,
  VersionConflictError,
  UniqueKeyConflictError,
  LeaseLostError,
  StoreError,
  NonRetryableError,
  invalidArgument,
} from './errors.js';
export type { IronflowErrorCode, IronflowErrorOf, IronflowErrorOptions, StoreErrorReason } from './errors.js';

export { accept, reject, defineWorkflow, isValidWorkflowType } from './workflow.js';
export type {
  Accept,
  AcceptExtras,
  AnyWorkflow,
  DeadLetterNotice,
  Decision,
  DecideContext,
  EffectOf,
  EffectsIn,
  EventOf,
  InputOf,
  Reject,
  RejectionOf,
  RejectionIn,
  SnapshotPolicy,
  StateOf,
  TimerRequest,
  Workflow,
  WorkflowDefinition,
  WorkflowRef,
} from './workflow.js';

export { createRegistry } from './registry.js';
export type { Registry } from './registry.js';

export { executeInput, foldEvents, stateOf, checkKey, stripUndefined, inputTypeOf, instanceKey } from './execute.js';
export type { CachedInstance, ExecuteDependencies, ExecuteOptions, ExecuteResult, InstanceCache } from './execute.js';

export { defaultRetryPolicy, resolveRetryPolicy, backoffDelay, shouldRetry } from './retry.js';
export type { RetryPolicy } from './retry.js';

export { systemClock, createManualClock } from './clock.js';
export type { Clock, ManualClock } from './clock.js';

export { validateWithSchema } from './schema.js';
export { toJsonText, isNetworkErrorCode } from './store-support.js';
export type { StandardSchemaV1 } from './schema.js';

export type {
  Acknowledgement,
  Claimed,
  ClaimRequest,
  CommitRequest,
  DeadLetterQuery,
  EffectRecord,
  EventMetadata,
  IdempotencyRecord,
  InstanceQuery,
  InstanceSummary,
  Json,
  Lease,
  LoadedInstance,
  NewEffect,
  NewTimer,
  Observation,
  PurgeResult,
  Snapshot,
  StoredEvent,
  TimerRecord,
  WakeUpListener,
  WorkflowStore,
  WorkItem,
  WorkKind,
  WorkStatus,
} from './store.js';
