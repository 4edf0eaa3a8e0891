// The options of `createEngine` and their resolution: defaults filled in, every number checked,
// the workflows turned into one registry of entries. Everything else reads the resolved settings.
import type { AnyWorkflow, Clock, RetryPolicy } from '@ironflow/core';
import { createRegistry, isValidWorkflowType, resolveRetryPolicy, systemClock, type Registry } from '@ironflow/core/engine';
import { invalidArgument, MAX_BATCH, parseKey, type WorkflowStore } from '@ironflow/core/store';
import { withGroupCommit, type GroupCommitSettings } from './group-commit.js';
import { uuidv7 } from './ids.js';
import type { EngineTracer, Instrumentation } from './instrumentation.js';
import { consoleLogger, type LifecycleEvent, type Logger } from './lifecycle.js';
import { resolveNotUnderstood, type NotUnderstoodOptions, type NotUnderstoodSettings } from './not-understood.js';
import type { Projection } from './projection.js';
import { resolveProjections, resolveProjectionSettings, type ProjectionOptions, type ProjectionSettings, type ResolvedProjection } from './projection-settings.js';
import type { EffectHandler, Registration } from './registration.js';
import { resolveRetention, type RetentionOptions, type RetentionSettings } from './retention.js';

/** Settings of a worker pool; effects and timers take the same ones. */
export interface WorkerOptions {
  /**
   * Items processed at once by this process.
   * @default 10
   */
  concurrency?: number | undefined;
  /**
   * Most items claimed in one store call.
   * @default concurrency
   */
  batchSize?: number | undefined;
  /**
   * Items claimed ahead and queued in this process (leases renewed), so that a freed slot starts
   * its next item without waiting for a claim. The pool claims again when the queue is half empty.
   * An item re-claimed after its lease expired still runs alone, after the queue has drained.
   * 0 claims only for free slots.
   * @default batchSize
   */
  prefetch?: number | undefined;
  /**
   * Longest wait between claims when no wake-up arrives, in ms. The timer pool also sleeps
   * exactly until the next known fire time.
   * @default 1000
   */
  pollIntervalMs?: number | undefined;
  /**
   * Lease length; renewed every third of it while an effect handler runs, and while an item
   * re-claimed after a lost lease waits to run alone.
   * @default 30000
   */
  leaseMs?: number | undefined;
}

/** Settings of the effect worker pool. */
export interface EffectWorkerOptions extends WorkerOptions {
  /**
   * A handler still running after this long is aborted and its attempt fails (retryable).
   * @default 60000
   */
  timeoutMs?: number | undefined;
  /**
   * Claim only effects with one of these tags (`effect(payload, { tag })`), for a pool on machines
   * made for them (`['gpu']`). Without it the pool claims every effect, tagged or not.
   * @default every effect
   */
  tags?: readonly string[] | undefined;
}

/** Settings of the timer worker pool. */
export type TimerWorkerOptions = WorkerOptions;

/** Options of `createEngine`. */
export interface EngineOptions {
  /** Where workflows, effects and timers live. */
  store: WorkflowStore;
  /** Workflows, with their effect handlers (`register(workflow).handle(handler)`) or alone. */
  workflows: readonly (Registration | AnyWorkflow)[];
  /** @default systemClock */
  clock?: Clock | undefined;
  /** A pino-compatible logger. @default warnings and errors to the console */
  logger?: Logger | undefined;
  /** Default retry policy of effects and timers; a workflow's own `retry` overrides it. */
  retry?: Partial<RetryPolicy> | undefined;
  effects?: EffectWorkerOptions | undefined;
  timers?: TimerWorkerOptions | undefined;
  /**
   * How long `stop()` lets in-flight handlers finish before aborting them and releasing their leases.
   * @default 10000
   */
  shutdownTimeoutMs?: number | undefined;
  /** Written as the lease owner. @default `ironflow-<random>` */
  workerId?: string | undefined;
  /**
   * Where the engine gets ids, randomness and its own waits (conflict backoff, lease renewals,
   * handler timeouts). The defaults are the process's; a deterministic simulation (`simulate` of
   * `@ironflow/testing`) passes its own so that one seed replays exactly.
   */
  environment?: Partial<EngineEnvironment> | undefined;
  /**
   * Record an observation of every input's outcome.
   * @default false
   */
  observeInputs?: boolean | undefined;
  /**
   * Decision retries after version conflicts.
   * @default 20
   */
  maxConflictRetries?: number | undefined;
  /**
   * Instances whose folded state this process keeps, so that a decision on a warm instance skips
   * the load (one round trip instead of two). Safe with other processes writing: a stale entry
   * makes the commit a version conflict, which reloads. 0 turns the cache off.
   * @default 10000
   */
  cacheSize?: number | undefined;
  /**
   * How long idempotency keys are kept. When set, a started engine forgets keys older than this
   * every `maintenanceIntervalMs`; a repeat after that is decided again. Unset keeps them forever.
   */
  idempotencyRetentionMs?: number | undefined;
  /**
   * How often a started engine runs its maintenance (the idempotency retention).
   * @default 600000 (10 minutes)
   */
  maintenanceIntervalMs?: number | undefined;
  /** Receives every lifecycle event (same as `engine.on('*', fn)`). */
  onEvent?: ((event: LifecycleEvent) => void) | undefined;
  /**
   * Tracing and metrics adapter, such as `openTelemetry()` from `@ironflow/otel`. With a tracer,
   * each effect and timer is stored with the trace context of the execute that wrote it.
   */
  instrumentation?: Instrumentation | undefined;
  /**
   * Group commit: decisions and lease changes this process makes concurrently go to the store in
   * batches (`commitMany`, `settleMany`), one round trip and, on PostgreSQL, one transaction each.
   * A lone call goes out at once; calls made while a batch is in flight go together in the next.
   * Each call keeps its own atomicity and its own outcome. `false` sends every call on its own.
   * @default { maxBatch: 250, maxInFlight: 4 }
   */
  groupCommit?: false | { maxBatch?: number | undefined; maxInFlight?: number | undefined } | undefined;
  /**
   * Projections this engine runs (`defineProjection`): a started engine holds each one it can
   * claim and keeps its read model up to date; engines that cannot claim it stand by. Names are
   * unique; their workflows must be registered here.
   */
  projections?: readonly Projection[] | undefined;
  /** Timings of the projection runners: lease, claim and poll intervals, lag measurement. */
  projectionOptions?: ProjectionOptions | undefined;
  /**
   * Work this code cannot understand yet (written by a newer version, a payload or input its
   * schema refuses, an instance with events of a newer schema) is released for a process running
   * newer code, after a growing delay, up to `maxReleases` times; then dead-lettered as NOT_UNDERSTOOD.
   * @default { maxReleases: 20, delayMs: 1000, maxDelayMs: 60000 }
   */
  notUnderstood?: NotUnderstoodOptions | undefined;
  /**
   * Per workflow type, how long ended instances are kept: older ones are archived (when asked) and
   * deleted with everything they own by `engine.retention.sweep()`, which a started engine runs
   * every `intervalMs`. Unset keeps every instance forever.
   */
  retention?: RetentionOptions | undefined;
}

/** A pool's settings with defaults filled in and checked. */
export interface PoolSettings {
  readonly concurrency: number;
  readonly batchSize: number;
  readonly prefetch: number;
  readonly pollIntervalMs: number;
  readonly leaseMs: number;
}

/** A registered workflow with its effect handler and its retry policy (engine default, then its own). */
export interface WorkflowEntry {
  readonly workflow: AnyWorkflow;
  readonly handler?: EffectHandler<unknown, unknown> | undefined;
  readonly retry: RetryPolicy;
}

/** `EngineOptions` resolved: what the engine's parts are built from. */
export interface EngineSettings {
  readonly store: WorkflowStore;
  readonly clock: Clock;
  readonly environment: EngineEnvironment;
  readonly logger: Logger;
  readonly entries: Registry<WorkflowEntry>;
  readonly defaultRetry: RetryPolicy;
  readonly workerId: string;
  readonly effects: PoolSettings;
  readonly timers: PoolSettings;
  /** `effects.timeoutMs`. */
  readonly effectTimeoutMs: number;
  /** `effects.tags`, checked; undefined claims every effect. */
  readonly effectTags: readonly string[] | undefined;
  readonly shutdownTimeoutMs: number;
  readonly cacheSize: number;
  readonly idempotencyRetentionMs: number | undefined;
  readonly maintenanceIntervalMs: number;
  readonly maxConflictRetries: number | undefined;
  readonly observeInputs: boolean | undefined;
  readonly onEvent: ((event: LifecycleEvent) => void) | undefined;
  readonly instrumentation: Instrumentation | undefined;
  /** `instrumentation.tracer`. */
  readonly tracer: EngineTracer | undefined;
  /** Group commit settings, or undefined when it is off. */
  readonly groupCommit: GroupCommitSettings | undefined;
  /** The projections this engine runs, checked against its workflows and store. */
  readonly projections: readonly ResolvedProjection[];
  readonly projectionSettings: ProjectionSettings;
  readonly notUnderstood: NotUnderstoodSettings;
  /** Undefined when no retention is set. */
  readonly retention: RetentionSettings | undefined;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw invalidArgument(`${name} must be a positive number, got ${v}`);
  return v;
}

function poolSettings(options: WorkerOptions | undefined, name: 'effects' | 'timers'): PoolSettings {
  const concurrency = positive(options?.concurrency, 10, `${name}.concurrency`);
  const batchSize = positive(options?.batchSize, concurrency, `${name}.batchSize`);
  const prefetch = options?.prefetch ?? batchSize;
  if (!Number.isInteger(prefetch) || prefetch < 0) throw invalidArgument(`${name}.prefetch must be a whole number >= 0, got ${prefetch}`);
  return {
    concurrency,
    batchSize,
    prefetch,
    pollIntervalMs: positive(options?.pollIntervalMs, 1000, `${name}.pollIntervalMs`),
    leaseMs: positive(options?.leaseMs, 30_000, `${name}.leaseMs`),
  };
}

/** Checks the shape of `options` (INVALID_ARGUMENT, never a TypeError) and fills in every default. */
export function resolveEngineOptions(options: EngineOptions): EngineSettings {
  if (typeof options !== 'object' || options === null) throw invalidArgument('createEngine needs an options object with a store and workflows');
  const store = options.store;
  if (typeof store !== 'object' || store === null || typeof store.commit !== 'function' || typeof store.claimEffects !== 'function') {
    throw invalidArgument('createEngine needs `store`: a WorkflowStore (createMemoryStore(), createPostgresStore(), createRedisStore(), ...)');
  }
  if (!Array.isArray(options.workflows)) throw invalidArgument('createEngine needs `workflows`: an array of workflows or register(workflow) entries');
  const registrations = options.workflows.map((w, index): Registration => {
    const registration = typeof w === 'object' && w !== null && 'workflow' in w ? w : { workflow: w };
    const workflow: unknown = registration.workflow;
    if (typeof workflow !== 'object' || workflow === null || typeof registration.workflow.decide !== 'function' || !isValidWorkflowType(registration.workflow.type)) {
      throw invalidArgument(`workflows[${index}] is neither a workflow made by defineWorkflow nor register(workflow)`);
    }
    return registration;
  });
  const defaultRetry = resolveRetryPolicy(options.retry);
  const entries = createRegistry(
    registrations.map((r): WorkflowEntry => ({ workflow: r.workflow, handler: r.handler, retry: resolveRetryPolicy(defaultRetry, r.workflow.retry) })),
    (entry) => entry.workflow.type,
  );
  const groupCommit = resolveGroupCommit(options.groupCommit);
  const projections = resolveProjections(options.projections, registrations.map((r) => r.workflow), store);
  const projectionSettings = resolveProjectionSettings(options.projectionOptions);
  const cacheSize = options.cacheSize ?? 10_000;
  if (!Number.isInteger(cacheSize) || cacheSize < 0) throw invalidArgument(`cacheSize must be a whole number >= 0, got ${cacheSize}`);
  return {
    store: groupCommit === undefined ? store : withGroupCommit(store, groupCommit),
    clock: options.clock ?? systemClock,
    environment: resolveEnvironment(options.environment, options.clock ?? systemClock),
    logger: options.logger ?? consoleLogger,
    entries,
    defaultRetry,
    workerId: options.workerId ?? `ironflow-${uuidv7().slice(-12)}`,
    effects: poolSettings(options.effects, 'effects'),
    timers: poolSettings(options.timers, 'timers'),
    effectTimeoutMs: positive(options.effects?.timeoutMs, 60_000, 'effects.timeoutMs'),
    effectTags: resolveTags(options.effects?.tags),
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 10_000,
    cacheSize,
    idempotencyRetentionMs: optionalDuration(options.idempotencyRetentionMs, 'idempotencyRetentionMs', 0),
    maintenanceIntervalMs: optionalDuration(options.maintenanceIntervalMs, 'maintenanceIntervalMs', 1) ?? 600_000,
    maxConflictRetries: options.maxConflictRetries,
    observeInputs: options.observeInputs,
    onEvent: options.onEvent,
    instrumentation: resolveInstrumentation(options.instrumentation),
    tracer: options.instrumentation?.tracer,
    groupCommit,
    projections,
    projectionSettings,
    notUnderstood: resolveNotUnderstood(options.notUnderstood),
    retention: resolveRetention(options.retention, entries.types),
  };
}

function resolveInstrumentation(instrumentation: unknown): Instrumentation | undefined {
  if (instrumentation === undefined) return undefined;
  const i = instrumentation as Partial<Instrumentation> | null;
  const ok =
    typeof i === 'object' && i !== null &&
    (i.tracer === undefined || (typeof i.tracer === 'object' && i.tracer !== null && typeof i.tracer.execute === 'function' && typeof i.tracer.work === 'function')) &&
    (i.attach === undefined || typeof i.attach === 'function');
  if (!ok) throw invalidArgument('instrumentation must be an object with an optional tracer { execute, work } and an optional attach(engine), such as openTelemetry() from @ironflow/otel');
  return instrumentation as Instrumentation;
}

function resolveTags(tags: unknown): readonly string[] | undefined {
  if (tags === undefined) return undefined;
  if (!Array.isArray(tags) || tags.length === 0) throw invalidArgument('effects.tags must be a non-empty array of tags; leave it out to claim every effect');
  return [...new Set(tags.map((tag, i) => parseKey(tag, `effects.tags[${i}]`)))];
}

function resolveGroupCommit(option: EngineOptions['groupCommit']): GroupCommitSettings | undefined {
  if (option === false) return undefined;
  if (option !== undefined && (typeof option !== 'object' || option === null)) throw invalidArgument(`groupCommit must be false or { maxBatch, maxInFlight }, got ${String(option)}`);
  const maxBatch = positive(option?.maxBatch, 250, 'groupCommit.maxBatch');
  const maxInFlight = positive(option?.maxInFlight, 4, 'groupCommit.maxInFlight');
  if (!Number.isInteger(maxBatch) || maxBatch > MAX_BATCH) throw invalidArgument(`groupCommit.maxBatch must be a whole number from 1 to ${MAX_BATCH}, got ${maxBatch}`);
  if (!Number.isInteger(maxInFlight)) throw invalidArgument(`groupCommit.maxInFlight must be a whole number, got ${maxInFlight}`);
  return { maxBatch, maxInFlight };
}

/** An optional duration in whole ms of at least `min`. */
function optionalDuration(value: unknown, what: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw invalidArgument(`${what} must be a whole number of ms >= ${min}, got ${String(value)}`);
  return value;
}

/** Where an engine gets ids, randomness and its own waits; see `EngineOptions.environment`. */
export interface EngineEnvironment {
  /** A new id for an effect or timer; ids must sort in creation order. @default UUID v7 */
  newId(): string;
  /** A number in [0, 1), for backoff jitter. @default Math.random */
  random(): number;
  /** Calls `callback` once after `ms`; returns a handle for `clearTimeout`. @default the process's */
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

function resolveEnvironment(given: Partial<EngineEnvironment> | undefined, clock: Clock): EngineEnvironment {
  if (given !== undefined && (typeof given !== 'object' || given === null)) throw invalidArgument('environment must be an object of functions');
  for (const name of ['newId', 'random', 'setTimeout', 'clearTimeout'] as const) {
    if (given?.[name] !== undefined && typeof given[name] !== 'function') throw invalidArgument(`environment.${name} must be a function`);
  }
  if ((given?.setTimeout === undefined) !== (given?.clearTimeout === undefined)) throw invalidArgument('environment.setTimeout and environment.clearTimeout go together');
  return {
    newId: given?.newId ?? (() => uuidv7(clock.now())),
    random: given?.random ?? Math.random,
    setTimeout: given?.setTimeout ?? ((callback, ms) => setTimeout(callback, ms)),
    clearTimeout: given?.clearTimeout ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>)),
  };
}
