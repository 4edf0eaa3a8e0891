// The engine: executes inputs through the core decision algorithm, answers queries, and runs the
// supervised effect and timer worker pools that settle work atomically with the inputs it routes.
import { IronflowError, isIronflowError, type AnyWorkflow, type Clock, type InputOf, type RejectionOf, type RetryPolicy, type StateOf, type WorkflowRef } from '@ironflow/core';
import { backoffDelay, createRegistry, executeInput, inputTypeOf, instanceKey, isValidWorkflowType, resolveRetryPolicy, stateOf, systemClock, validateWithSchema, type ExecuteDependencies, type ExecuteResult } from '@ironflow/core/engine';
import { invalidArgument, type Claimed, type DeadLetterQuery, type EffectRecord, type InstanceQuery, type Lease, type TimerRecord, type WorkflowStore, type WorkKind } from '@ironflow/core/store';
import { uuidv7 } from './ids.js';
import { createLruCache, KeyedQueue } from './instance-cache.js';
import { LifecycleEmitter, consoleLogger, type LifecycleEvent, type LifecycleEventType, type LifecycleListener, type Logger } from './lifecycle.js';
import { isRoutedInput, type EffectHandler, type Registration } from './registration.js';
import { WorkerPool, type PoolHealth } from './worker-pool.js';

/** Settings of the effect worker pool. */
export interface EffectWorkerOptions {
  /**
   * Effects run at once by this process.
   * @default 10
   */
  concurrency?: number | undefined;
  /**
   * Most effects claimed in one store call.
   * @default concurrency
   */
  batchSize?: number | undefined;
  /**
   * Longest wait between claims when no wake-up arrives, in ms.
   * @default 1000
   */
  pollIntervalMs?: number | undefined;
  /**
   * Lease length; renewed every third of it while a handler runs.
   * @default 30000
   */
  leaseMs?: number | undefined;
  /**
   * A handler still running after this long is aborted and its attempt fails (retryable).
   * @default 60000
   */
  timeoutMs?: number | undefined;
}

/** Settings of the timer worker pool. */
export interface TimerWorkerOptions {
  /** @default 10 */
  concurrency?: number | undefined;
  /** @default concurrency */
  batchSize?: number | undefined;
  /**
   * Longest wait between claims; the pool also sleeps exactly until the next known fire time.
   * @default 1000
   */
  pollIntervalMs?: number | undefined;
  /** @default 30000 */
  leaseMs?: number | undefined;
}

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
  /** Receives every lifecycle event (same as `engine.on('*', fn)`). */
  onEvent?: ((event: LifecycleEvent) => void) | undefined;
}

/** Per-call options of `execute`. */
export interface ExecuteCallOptions {
  /** A repeated key returns the first outcome as `duplicate`. */
  idempotencyKey?: string | undefined;
}

/** The current state of an instance. */
export interface InstanceState<S> {
  readonly state: S;
  readonly version: number;
  readonly completed: boolean;
}

/** What `health()` reports. */
export interface HealthReport {
  /** `ok` when started and no loop is failing; `degraded` while a loop restarts; `stopped` otherwise. */
  readonly status: 'ok' | 'degraded' | 'stopped';
  readonly effects: PoolHealth;
  readonly timers: PoolHealth;
}

/** What `runUntilIdle` processed. */
export interface IdleReport {
  readonly effects: number;
  readonly timers: number;
}

/** A running Ironflow engine. */
export interface Engine {
  /** Registered workflow types. */
  readonly types: readonly string[];
  /** Runs one typed input. */
  execute<W extends AnyWorkflow>(workflow: W, input: InputOf<W>, options?: ExecuteCallOptions): Promise<ExecuteResult<RejectionOf<W>>>;
  /** Runs an input given as JSON text or a parsed value, validated by the workflow's schema. */
  executeDynamic(workflowType: string, input: unknown, options?: ExecuteCallOptions): Promise<ExecuteResult>;
  /** Folds the current state of an instance (the initial state when it does not exist). */
  getState<W extends AnyWorkflow>(workflow: W, workflowId: string): Promise<InstanceState<StateOf<W>>>;
  getEvents(ref: WorkflowRef): ReturnType<WorkflowStore['readEvents']>;
  listInstances(query?: InstanceQuery): ReturnType<WorkflowStore['listInstances']>;
  listEffects(ref: WorkflowRef): ReturnType<WorkflowStore['listEffects']>;
  listTimers(ref: WorkflowRef): ReturnType<WorkflowStore['listTimers']>;
  listObservations(ref: WorkflowRef): ReturnType<WorkflowStore['listObservations']>;
  /** Operator access to dead letters. */
  readonly deadLetters: {
    list(query: DeadLetterQuery): ReturnType<WorkflowStore['listDeadLetters']>;
    count(query: Omit<DeadLetterQuery, 'limit' | 'offset'>): Promise<number>;
    /** Makes a dead effect or timer claimable again with its attempts reset. */
    redrive(kind: WorkKind, id: string): Promise<boolean>;
  };
  /** Deletes done effects and fired or cancelled timers last changed more than `olderThanMs` ago. */
  purge(olderThanMs: number): ReturnType<WorkflowStore['purge']>;
  /** Starts the worker pools. */
  start(): void;
  /** Graceful stop: stop claiming, drain in-flight work up to the timeout, abort and release the rest. */
  stop(): Promise<void>;
  health(): HealthReport;
  /** Processes every claimable effect and due timer at the clock's current time until none is left (tests). */
  runUntilIdle(options?: { maxRounds?: number | undefined }): Promise<IdleReport>;
  /** Subscribes to lifecycle events of one type, or `'*'` for all; returns an unsubscribe. */
  on<T extends LifecycleEventType | '*'>(type: T, listener: T extends LifecycleEventType ? LifecycleListener<T> : (event: LifecycleEvent) => void): () => void;
}

interface Entry {
  readonly workflow: AnyWorkflow;
  readonly handler?: EffectHandler<unknown, unknown> | undefined;
  readonly retry: RetryPolicy;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw invalidArgument(`${name} must be a positive number, got ${v}`);
  return v;
}

/** Dead-letter queries name a kind; anything else is refused the same way on every store. */
function checkKind<Q extends { kind: unknown }>(query: Q): Q {
  if (typeof query !== 'object' || query === null || (query.kind !== 'effect' && query.kind !== 'timer')) {
    throw invalidArgument(`dead-letter queries need kind 'effect' or 'timer', got ${String(query?.kind)}`);
  }
  return query;
}

/** Errors retrying cannot fix: the input or payload itself is wrong. */
function isPermanent(error: unknown): boolean {
  return (
    isIronflowError(error, 'NON_RETRYABLE') ||
    isIronflowError(error, 'VALIDATION_FAILED') ||
    isIronflowError(error, 'UNKNOWN_WORKFLOW_TYPE') ||
    isIronflowError(error, 'HANDLER_MISSING')
  );
}

function message(error: unknown): string {
  if (error instanceof Error) return isIronflowError(error) ? `${error.code}: ${error.message}` : `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Builds an engine over a store. Duplicate workflow types fail here with DUPLICATE_WORKFLOW_TYPE.
 * @example
 * const engine = createEngine({ store: createMemoryStore(), workflows: [register(order).handle(handleOrderEffect)] });
 * engine.start();
 * await engine.execute(order, { type: 'Place', orderId: 'o-1' });
 */
export function createEngine(options: EngineOptions): Engine {
  if (typeof options !== 'object' || options === null) throw invalidArgument('createEngine needs an options object with a store and workflows');
  const store = options.store;
  if (typeof store !== 'object' || store === null || typeof store.commit !== 'function' || typeof store.claimEffects !== 'function') {
    throw invalidArgument('createEngine needs `store`: a WorkflowStore (createMemoryStore(), createPostgresStore(), createRedisStore(), ...)');
  }
  if (!Array.isArray(options.workflows)) throw invalidArgument('createEngine needs `workflows`: an array of workflows or register(workflow) entries');
  options.workflows.forEach((w, index) => {
    const workflow = typeof w === 'object' && w !== null && 'workflow' in w ? w.workflow : w;
    if (typeof workflow !== 'object' || workflow === null || typeof workflow.decide !== 'function' || !isValidWorkflowType(workflow.type)) {
      throw invalidArgument(`workflows[${index}] is neither a workflow made by defineWorkflow nor register(workflow)`);
    }
  });
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? consoleLogger;
  const lifecycle = new LifecycleEmitter(logger);
  if (options.onEvent) lifecycle.on('*', options.onEvent);
  const defaultRetry = resolveRetryPolicy(options.retry);
  const registrations = options.workflows.map((w): Registration => ('workflow' in w ? w : { workflow: w }));
  const registry = createRegistry(
    registrations.map((r): Entry => ({ workflow: r.workflow, handler: r.handler, retry: resolveRetryPolicy(defaultRetry, r.workflow.retry) })),
    (entry) => entry.workflow.type,
  );
  if (registry.types.length === 0) logger.warn({}, 'ironflow engine created with no workflows: it will never claim work');
  const types = registry.types;
  const workerId = options.workerId ?? `ironflow-${uuidv7().slice(-12)}`;
  const fx = {
    concurrency: positive(options.effects?.concurrency, 10, 'effects.concurrency'),
    pollIntervalMs: positive(options.effects?.pollIntervalMs, 1000, 'effects.pollIntervalMs'),
    leaseMs: positive(options.effects?.leaseMs, 30_000, 'effects.leaseMs'),
    timeoutMs: positive(options.effects?.timeoutMs, 60_000, 'effects.timeoutMs'),
    batchSize: 0,
  };
  fx.batchSize = positive(options.effects?.batchSize, fx.concurrency, 'effects.batchSize');
  const tm = {
    concurrency: positive(options.timers?.concurrency, 10, 'timers.concurrency'),
    pollIntervalMs: positive(options.timers?.pollIntervalMs, 1000, 'timers.pollIntervalMs'),
    leaseMs: positive(options.timers?.leaseMs, 30_000, 'timers.leaseMs'),
    batchSize: 0,
  };
  tm.batchSize = positive(options.timers?.batchSize, tm.concurrency, 'timers.batchSize');
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;

  const cacheSize = options.cacheSize ?? 10_000;
  if (!Number.isInteger(cacheSize) || cacheSize < 0) throw invalidArgument(`cacheSize must be a whole number >= 0, got ${cacheSize}`);
  const deps: ExecuteDependencies = {
    store,
    clock,
    newId: () => uuidv7(clock.now()),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    maxConflictRetries: options.maxConflictRetries,
    observeInputs: options.observeInputs,
    cache: cacheSize > 0 ? createLruCache(cacheSize) : undefined,
  };
  // Inputs to one instance from this process take turns: they would only conflict otherwise.
  const queue = new KeyedQueue();

  const entryOf = (type: string): Entry => registry.get(type);


  async function run(workflow: AnyWorkflow, input: unknown, opts: Parameters<typeof executeInput>[3] = {}): Promise<ExecuteResult> {
    let id: string | undefined;
    try {
      id = workflow.workflowId(input);
    } catch {
      id = undefined; // executeInput reports it, after validating the input
    }
    const result =
      typeof id === 'string'
        ? await queue.run(instanceKey({ type: workflow.type, id }), () => executeInput(deps, workflow, input, opts))
        : await executeInput(deps, workflow, input, opts);
    if (result.status === 'accepted') {
      lifecycle.emit({
        type: 'decision.committed',
        workflowType: workflow.type,
        workflowId: result.workflowId,
        inputType: inputTypeOf(workflow, input),
        version: result.version,
        eventTypes: result.events.map((e) => e.type),
        effects: result.effects,
        timers: result.timers,
        completed: result.completed,
        causedBy: opts.ack ? { kind: opts.ack.kind, id: opts.ack.id } : undefined,
      });
    } else if (result.status === 'rejected') {
      lifecycle.emit({ type: 'decision.rejected', workflowType: workflow.type, workflowId: result.workflowId, inputType: inputTypeOf(workflow, input), reason: result.reason });
    }
    return result;
  }

  // ---- settling work ----

  async function settleDead(item: Claimed<EffectRecord> | Claimed<TimerRecord>, entry: Entry | undefined, error: string): Promise<void> {
    const now = clock.now();
    const notice =
      item.kind === 'effect'
        ? { kind: 'effect' as const, id: item.id, effect: item.payload, attempts: item.attempts, error }
        : { kind: 'timer' as const, id: item.id, input: item.input, attempts: item.attempts, error };
    let routed = false;
    if (entry?.workflow.onDeadLetter) {
      try {
        const input = entry.workflow.onDeadLetter(notice);
        if (input !== undefined) {
          const result = await run(entry.workflow, input, { ack: { ...item.lease, outcome: 'dead', error } });
          routed = result.status === 'accepted';
        }
      } catch (routeError) {
        if (isIronflowError(routeError, 'LEASE_LOST')) return lost(item.lease);
        logger.error({ err: routeError, kind: item.kind, id: item.id }, 'could not route the dead-letter notice; dead-lettering without it');
      }
    }
    if (!routed) {
      try {
        await store.deadLetter(item.lease, now, error);
      } catch (deadError) {
        if (isIronflowError(deadError, 'LEASE_LOST')) return lost(item.lease);
        throw deadError;
      }
    }
    lifecycle.emit({ type: `${item.kind}.dead-lettered`, id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts, error });
    logger.warn({ kind: item.kind, id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempts: item.attempts, error }, `${item.kind} dead-lettered`);
  }

  async function settleFailure(item: Claimed<EffectRecord> | Claimed<TimerRecord>, entry: Entry | undefined, error: unknown): Promise<void> {
    const text = message(error);
    const policy = entry?.retry ?? defaultRetry;
    if (isPermanent(error) || item.attempts >= policy.maxAttempts) {
      const reason = isPermanent(error) ? text : `attempts exhausted (${item.attempts}/${policy.maxAttempts}): ${text}`;
      return settleDead(item, entry, reason);
    }
    const now = clock.now();
    const retryAt = now + backoffDelay(policy, item.attempts);
    try {
      await store.retry(item.lease, now, retryAt, text);
    } catch (retryError) {
      if (isIronflowError(retryError, 'LEASE_LOST')) return lost(item.lease);
      throw retryError;
    }
    lifecycle.emit({ type: `${item.kind}.retried`, id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts, error: text, retryAt });
    if (item.kind === 'effect') scheduleRetryWake(retryAt);
  }

  // Retries this process schedules wake the effect pool when they fall due, so a retry waits its
  // backoff, not its backoff rounded up to the poll interval. (Timers sleep until nextTimerAt.)
  let retryWake: { at: number; handle: ReturnType<typeof setTimeout> } | undefined;
  function scheduleRetryWake(at: number): void {
    if (!started) return;
    if (retryWake && retryWake.at <= at) return;
    if (retryWake) clearTimeout(retryWake.handle);
    const handle = setTimeout(() => {
      retryWake = undefined;
      effectPool.poke();
    }, Math.max(0, at - clock.now()));
    handle.unref?.();
    retryWake = { at, handle };
  }

  function lost(lease: Lease): void {
    lifecycle.emit({ type: 'lease.lost', kind: lease.kind, id: lease.id });
    logger.info({ kind: lease.kind, id: lease.id }, 'lease lost; another worker owns this item now');
  }

  /** Routes `output` (a handler's return or a timer input) with the acknowledgement; completes alone when nothing was committed. */
  async function deliver(item: Claimed<EffectRecord> | Claimed<TimerRecord>, target: AnyWorkflow, input: unknown): Promise<string> {
    const result = await run(target, input, { ack: { ...item.lease, outcome: 'done' } });
    if (result.status !== 'accepted') await store.complete(item.lease, clock.now());
    if (result.status === 'already-completed') {
      logger.warn(
        { kind: item.kind, id: item.id, workflowType: target.type, workflowId: result.workflowId, inputType: inputTypeOf(target, input) },
        `the ${item.kind}'s input reached an instance that had already completed and was dropped`,
      );
    }
    return result.status;
  }

  async function processEffect(item: Claimed<EffectRecord>, poolSignal: AbortSignal): Promise<void> {
    const entry = registry.find(item.workflowType);
    const policy = entry?.retry ?? defaultRetry;
    if (!entry) return settleDead(item, undefined, `UNKNOWN_WORKFLOW_TYPE: no workflow "${item.workflowType}" is registered`);
    if (item.attempts > policy.maxAttempts) {
      // The process died during earlier attempts (attempts are counted at claim): stop trying.
      return settleDead(item, entry, `attempts exhausted: claimed ${item.attempts} times (max ${policy.maxAttempts}); earlier attempts ended without an outcome (worker crash, or maxAttempts lowered)`);
    }
    if (!entry.handler) return settleFailure(item, entry, new IronflowError('HANDLER_MISSING', `Workflow "${item.workflowType}" emitted an effect but has no handler registered`));
    let payload = item.payload;
    if (entry.workflow.effectSchema) {
      try {
        payload = await validateWithSchema(entry.workflow.effectSchema, item.payload, `Effect payload of ${item.workflowType}`);
      } catch (error) {
        return settleFailure(item, entry, error);
      }
    }
    const started = clock.now();
    lifecycle.emit({ type: 'effect.started', id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts });

    const controller = new AbortController();
    const abort = (reason: unknown) => {
      if (!controller.signal.aborted) controller.abort(reason);
    };
    const onPoolAbort = () => abort(poolSignal.reason);
    poolSignal.addEventListener('abort', onPoolAbort, { once: true });
    let leaseLost = false;
    const renew = setInterval(() => {
      store.renewLease(item.lease, clock.now(), fx.leaseMs).catch((error: unknown) => {
        if (isIronflowError(error, 'LEASE_LOST')) {
          leaseLost = true;
          abort(error);
        } else logger.warn({ err: error, id: item.id }, 'lease renewal failed; will try again');
      });
    }, Math.max(10, Math.floor(fx.leaseMs / 3)));
    const timeout = setTimeout(
      () => abort(new IronflowError('EFFECT_TIMEOUT', `Effect handler of ${item.workflowType} exceeded ${fx.timeoutMs} ms`)),
      fx.timeoutMs,
    );
    let output: unknown;
    let failure: unknown;
    let failed = false;
    try {
      const context = {
        effectId: item.id,
        workflow: { type: item.workflowType, id: item.workflowId },
        attempt: item.attempts,
        createdAt: new Date(item.createdAt),
        idempotencyKey: `${item.workflowType}:${item.workflowId}:${item.id}`,
        signal: controller.signal,
      };
      try {
        output = await Promise.race([
          Promise.resolve().then(() => entry.handler!(payload, context)),
          new Promise((_, rejectRace) => {
            if (controller.signal.aborted) rejectRace(controller.signal.reason);
            controller.signal.addEventListener('abort', () => rejectRace(controller.signal.reason), { once: true });
          }),
        ]);
      } catch (error) {
        failed = true;
        failure = error;
      }
      clearTimeout(timeout);
      if (leaseLost) return lost(item.lease);
      if (poolSignal.aborted) return; // shutdown: the pool releases the lease
      if (failed) return await settleFailure(item, entry, failure);
      // The lease keeps being renewed while the result is routed: conflict retries may take a while.
      try {
        let routedTo: string | undefined;
        let outcome: string | undefined;
        if (output === undefined || output === null) {
          await store.complete(item.lease, clock.now());
        } else if (isRoutedInput(output)) {
          routedTo = output.workflowType;
          outcome = await deliver(item, entryOf(output.workflowType).workflow, output.input);
        } else {
          routedTo = item.workflowType;
          outcome = await deliver(item, entry.workflow, output);
        }
        lifecycle.emit({ type: 'effect.succeeded', id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts, durationMs: clock.now() - started, routedTo, outcome });
      } catch (error) {
        if (isIronflowError(error, 'LEASE_LOST')) return lost(item.lease);
        return await settleFailure(item, entry, error);
      }
    } finally {
      clearInterval(renew);
      clearTimeout(timeout);
      poolSignal.removeEventListener('abort', onPoolAbort);
    }
  }

  async function processTimer(item: Claimed<TimerRecord>): Promise<void> {
    const entry = registry.find(item.workflowType);
    const policy = entry?.retry ?? defaultRetry;
    if (!entry) return settleDead(item, undefined, `UNKNOWN_WORKFLOW_TYPE: no workflow "${item.workflowType}" is registered`);
    if (item.attempts > policy.maxAttempts) {
      return settleDead(item, entry, `attempts exhausted: claimed ${item.attempts} times (max ${policy.maxAttempts}); earlier attempts ended without an outcome (worker crash, or maxAttempts lowered)`);
    }
    try {
      const outcome = await deliver(item, entry.workflow, item.input);
      lifecycle.emit({ type: 'timer.fired', id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts, outcome });
    } catch (error) {
      if (isIronflowError(error, 'LEASE_LOST')) return lost(item.lease);
      return settleFailure(item, entry, error);
    }
  }

  const claimEffects = (limit: number) => store.claimEffects({ now: clock.now(), limit, types, leaseMs: fx.leaseMs, owner: workerId });
  const claimTimers = (limit: number) => store.claimTimers({ now: clock.now(), limit, types, leaseMs: tm.leaseMs, owner: workerId });
  const release = (item: Claimed<EffectRecord> | Claimed<TimerRecord>) => store.release(item.lease, clock.now());

  const effectPool = new WorkerPool<EffectRecord>({
    kind: 'effect',
    concurrency: fx.concurrency,
    batchSize: fx.batchSize,
    pollIntervalMs: fx.pollIntervalMs,
    claim: claimEffects,
    process: processEffect,
    release,
    logger,
    lifecycle,
    now: () => clock.now(),
  });
  const timerPool = new WorkerPool<TimerRecord>({
    kind: 'timer',
    concurrency: tm.concurrency,
    batchSize: tm.batchSize,
    pollIntervalMs: tm.pollIntervalMs,
    claim: claimTimers,
    process: (item) => processTimer(item),
    nextDueInMs: async () => {
      const next = await store.nextTimerAt(types);
      return next === undefined ? undefined : next - clock.now();
    },
    release,
    logger,
    lifecycle,
    now: () => clock.now(),
  });

  let started = false;
  let unsubscribe: (() => void) | undefined;

  const engine: Engine = {
    types,
    async execute(workflow, input, opts = {}) {
      const entry = entryOf(workflow.type);
      if (entry.workflow !== workflow) {
        throw new IronflowError('UNKNOWN_WORKFLOW_TYPE', `This engine registered another definition under "${workflow.type}"`, { details: { workflowType: workflow.type } });
      }
      return run(entry.workflow, input, { idempotencyKey: opts.idempotencyKey }) as Promise<ExecuteResult<RejectionOf<typeof workflow>>>;
    },
    async executeDynamic(workflowType, input, opts = {}) {
      const entry = entryOf(workflowType);
      let value = input;
      if (typeof input === 'string') {
        try {
          value = JSON.parse(input);
        } catch (cause) {
          throw new IronflowError('VALIDATION_FAILED', `Input of ${workflowType} is not valid JSON`, { cause });
        }
      }
      return run(entry.workflow, value, { idempotencyKey: opts.idempotencyKey });
    },
    async getState(workflow, workflowId) {
      const entry = entryOf(workflow.type);
      const ref = { type: workflow.type, id: workflowId };
      const loaded = await store.load(ref);
      const state = await stateOf(store, entry.workflow, ref, loaded);
      return { state: state as StateOf<typeof workflow>, version: loaded.version, completed: loaded.completed };
    },
    getEvents: (ref) => store.readEvents(ref),
    listInstances: (query) => store.listInstances(query),
    listEffects: (ref) => store.listEffects(ref),
    listTimers: (ref) => store.listTimers(ref),
    listObservations: (ref) => store.listObservations(ref),
    deadLetters: {
      list: async (query) => store.listDeadLetters(checkKind(query)),
      count: async (query) => store.countDeadLetters(checkKind(query)),
      redrive: async (kind, id) => store.redrive(checkKind({ kind }).kind, id, clock.now()),
    },
    async purge(olderThanMs) {
      if (!Number.isFinite(olderThanMs) || olderThanMs < 0) throw invalidArgument(`purge() needs a non-negative age in ms, got ${olderThanMs}`);
      return store.purge(clock.now() - olderThanMs);
    },
    start() {
      if (started) return;
      started = true;
      unsubscribe = store.subscribe?.((kind) => (kind === 'effect' ? effectPool : timerPool).poke());
      effectPool.start();
      timerPool.start();
    },
    async stop() {
      if (!started) return;
      started = false;
      unsubscribe?.();
      if (retryWake) clearTimeout(retryWake.handle);
      retryWake = undefined;
      await Promise.all([effectPool.stop(shutdownTimeoutMs), timerPool.stop(shutdownTimeoutMs)]);
    },
    health() {
      const effects = effectPool.health();
      const timers = timerPool.health();
      const status = !started ? 'stopped' : effects.consecutiveFailures > 0 || timers.consecutiveFailures > 0 ? 'degraded' : 'ok';
      return { status, effects, timers };
    },
    async runUntilIdle(opts = {}) {
      if (started) throw invalidArgument('runUntilIdle() drives work by hand; call it on an engine that was not start()ed');
      const maxRounds = opts.maxRounds ?? 1000;
      const never = new AbortController().signal;
      let effects = 0;
      let timers = 0;
      for (let round = 0; round < maxRounds; round++) {
        const claimedEffects = await claimEffects(fx.batchSize);
        await Promise.all(claimedEffects.map((item) => processEffect(item, never)));
        const claimedTimers = await claimTimers(tm.batchSize);
        await Promise.all(claimedTimers.map((item) => processTimer(item)));
        effects += claimedEffects.length;
        timers += claimedTimers.length;
        if (claimedEffects.length === 0 && claimedTimers.length === 0) return { effects, timers };
      }
      throw new IronflowError('INVALID_ARGUMENT', `runUntilIdle() did not reach idle within ${maxRounds} rounds (a timer or effect loop at the same instant?)`);
    },
    on: (type, listener) => lifecycle.on(type, listener),
  };
  return engine;
}
