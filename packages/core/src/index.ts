// @ironflow/core — the workflow-authoring API: define a workflow, decide with accept/reject, the
// errors you may catch, and a manual clock for tests. Store authors import `@ironflow/core/store`;
// runtimes import `@ironflow/core/engine`.
export { defineWorkflow, accept, reject } from './workflow.js';
export { effect } from './effect-options.js';
export { startChild } from './children.js';
export type { ChildNotice, ChildStart } from './children.js';
export type { EffectOptions, EffectRequest } from './effect-options.js';
export type {
  AnyWorkflow,
  CancelNotice,
  DeadLetterNotice,
  Decision,
  DecideContext,
  EffectOf,
  EventOf,
  InputOf,
  RejectionOf,
  SnapshotPolicy,
  StateOf,
  TerminalPolicy,
  TimerRequest,
  Workflow,
  WorkflowDefinition,
  WorkflowRef,
} from './workflow.js';
export { IronflowError, isIronflowError, NonRetryableError } from './errors.js';
export type { IronflowErrorCode } from './errors.js';
export type { RetryPolicy } from './retry.js';
export type { StoredEvent } from './store/port.js';
export type { EventVersioning, EventVersions } from './versions.js';
export type { StandardSchemaV1 } from './schema.js';
export { defineStateMachine, instancePath, toDot, toMermaid } from './visualization.js';
export type {
  InstancePath,
  PathStep,
  RenderOptions,
  StateDefinition,
  StateMachine,
  TransitionDefinition,
  WorkflowStateMachine,
} from './visualization.js';
export { createManualClock } from './clock.js';
export type { Clock, ManualClock } from './clock.js';
