// @ironflow/core/engine — for runtimes: the decision algorithm over the store port, folding,
// the registry, retry and backoff math, schema validation. Workflow authors need none of it.
export { executeInput, foldEvents, stateOf, inputTypeOf, instanceKey } from '../execute.js';
export type { CachedInstance, CommitAttempt, ExecuteDependencies, ExecuteOptions, ExecuteResult, InstanceCache } from '../execute.js';
export { createRegistry } from '../registry.js';
export type { Registry } from '../registry.js';
export { attemptsExhausted, backoff, backoffDelay, claimedTooOften, defaultRetryPolicy, resolveRetryPolicy } from '../retry.js';
export type { BackoffOptions } from '../retry.js';
export { systemClock } from '../clock.js';
export { validateWithSchema } from '../schema.js';
export { isValidWorkflowType } from '../workflow.js';
export { DEFAULT_SNAPSHOT_EVERY, isPlainJson, schemaVersionOf, snapshotEvery, snapshotRevision, snapshotUsable, upcastEvent } from '../versions.js';
export { childEndedPayload, systemEffectOf, SYSTEM_EFFECT } from '../children.js';
export type { ChildEndedPayload, StartChildPayload, SystemEffectPayload } from '../children.js';
export { testBugs } from '../test-bugs.js';
