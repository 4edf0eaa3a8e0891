// The engine: composes the execute path, the runners that settle effects and timers, and the two
// supervised worker pools, and answers queries and operator calls over the store.
import { IronflowError, type AnyWorkflow, type InputOf, type RejectionOf, type StateOf, type WorkflowRef } from '@ironflow/core';
import { stateOf, type ExecuteResult } from '@ironflow/core/engine';
import {
  invalidArgument,
  type BacklogEntry,
  type DeadLetterQuery,
  type EffectRecord,
  type FeedPage,
  type FeedPosition,
  type FeedQuery,
  type InstancePage,
  type InstancePageQuery,
  type InstanceQuery,
  type InstanceStatus,
  type InstanceSummary,
  type Observation,
  type PausedEntry,
  type PurgeResult,
  type StoredEvent,
  type TimerRecord,
  type WorkKind,
  type WorkPage,
  type WorkQuery,
} from '@ironflow/core/store';
import { NEVER_CANCELLED } from './cancellation.js';
import { Control, type CancelOptions, type CancelResult } from './control.js';
import { Children } from './children.js';
import { EffectRunner } from './effect-runner.js';
import { Metrics, type MetricsSnapshot } from './metrics.js';
import { projectionAdmin, type ProjectionAdmin } from './projection-admin.js';
import { ProjectionRunner, type ProjectionHealth } from './projection-runner.js';
import { Operations, type BulkOptions, type BulkResult, type DeadLetterFilter, type InstanceFilter } from './operations.js';
import { waitFor, type WaitForOptions, type WaitResult } from './wait-for.js';
import { Executor, type ExecuteManyResult } from './executor.js';
import { LifecycleEmitter, type LifecycleEvent, type LifecycleEventType, type LifecycleListener } from './lifecycle.js';
import { resolveEngineOptions, type EngineOptions } from './options.js';
import { Retention, type RetentionReport } from './retention.js';
import { RunningEffects } from './running-effects.js';
import { RetryWake, Settler, type ClaimedItem } from './settle.js';
import { TimerRunner } from './timer-runner.js';
import { WorkerPool, type PoolHealth } from './worker-pool.js';

/** Per-call options of `execute`. */
export interface ExecuteCallOptions {
  /** A repeated key returns the first outcome as `duplicate`. */
  idempotencyKey?: string | undefined;
}

/** Per-call options of `executeMany`. */
export interface ExecuteManyOptions<I> {
  /** The idempotency key of each input that has one. */
  idempotencyKey?: ((input: I, index: number) => string | undefined) | undefined;
}

/** The current state of an instance. */
export interface InstanceState<S> {
  readonly state: S;
  readonly version: number;
  /** True when the instance is terminal: completed, or cancelled. */
  readonly completed: boolean;
  /** `active` also for an instance that does not exist yet. */
  readonly status: InstanceStatus;
}

/** What `health()` reports. */
export interface HealthReport {
  /** `ok` when started and no loop is failing; `degraded` while a loop restarts; `stopped` otherwise. */
  readonly status: 'ok' | 'degraded' | 'stopped';
  readonly effects: PoolHealth;
  readonly timers: PoolHealth;
  /** Each projection of this engine, by name: whether it holds it, its checkpoint, lag and failures. */
  readonly projections: Readonly<Record<string, ProjectionHealth>>;
}

/** What `runUntilIdle` processed. */
export interface IdleReport {
  readonly effects: number;
  readonly timers: number;
  /** Events the engine's projections handled; present when it has projections. */
  readonly projected?: number | undefined;
  /** Projections of this engine left alone because another engine holds their lease; present when there are any. */
  readonly heldElsewhere?: readonly string[] | undefined;
}

/** A running Ironflow engine. */
export interface Engine {
  /** Registered workflow types. */
  readonly types: readonly string[];
  /** Runs one typed input. */
  execute<W extends AnyWorkflow>(workflow: W, input: InputOf<W>, options?: ExecuteCallOptions): Promise<ExecuteResult<RejectionOf<W>>>;
  /**
   * Runs many inputs of one workflow (to different instances, or several to one, in order) and
   * commits them in as few round trips as the store allows, through group commit. Resolves with one
   * outcome per input, in order: the result `execute` would have returned, or `{ status: 'failed',
   * error }` with the error it would have thrown; one input's failure does not affect the others.
   */
  executeMany<W extends AnyWorkflow>(workflow: W, inputs: readonly InputOf<W>[], options?: ExecuteManyOptions<InputOf<W>>): Promise<ExecuteManyResult<RejectionOf<W>>[]>;
  /** Runs an input given as JSON text or a parsed value, validated by the workflow's schema. */
  executeDynamic(workflowType: string, input: unknown, options?: ExecuteCallOptions): Promise<ExecuteResult>;
  /** Folds the current state of an instance (the initial state when it does not exist). */
  getState<W extends AnyWorkflow>(workflow: W, workflowId: string): Promise<InstanceState<StateOf<W>>>;
  getEvents(ref: WorkflowRef): Promise<StoredEvent[]>;
  listInstances(query?: InstanceQuery): Promise<InstanceSummary[]>;
  listEffects(ref: WorkflowRef): Promise<EffectRecord[]>;
  listTimers(ref: WorkflowRef): Promise<TimerRecord[]>;
  listObservations(ref: WorkflowRef): Promise<Observation[]>;
  /** Operator access to dead letters. */
  readonly deadLetters: {
    list(query: DeadLetterQuery): Promise<(EffectRecord | TimerRecord)[]>;
    count(query: Omit<DeadLetterQuery, 'limit' | 'offset'>): Promise<number>;
    /** Makes a dead effect or timer claimable again with its attempts reset. */
    redrive(kind: WorkKind, id: string): Promise<boolean>;
    /** Re-drives every dead letter the filter matches; `dryRun` only counts them (the preview). */
    redriveWhere(filter: DeadLetterFilter, options?: BulkOptions): Promise<BulkResult>;
  };
  /**
   * Cancels an instance: in one write it becomes `cancelled` (terminal; later inputs get
   * `cancelled`), its pending effects and timers are cancelled, and handlers running for it are
   * aborted with a CANCELLED reason (at once in this process, at their next lease renewal in
   * others); their results are not routed. A workflow with `onCancel` handles it instead: its
   * input is decided like any other (`{ outcome: 'handled' }`); `force` skips that.
   */
  cancel(ref: WorkflowRef, reason: string, options?: CancelOptions): Promise<CancelResult>;
  /**
   * Pauses one instance: its effects and timers are not claimed (they stay pending) until
   * `resume`; inputs are still decided. Durable, seen by every process. True when it changed something.
   */
  pause(ref: WorkflowRef): Promise<boolean>;
  /** Ends an instance's pause; due work is claimed at once. True when it was paused. */
  resume(ref: WorkflowRef): Promise<boolean>;
  /** Pauses a whole workflow type, as `pause` does one instance. */
  pauseType(workflowType: string): Promise<boolean>;
  /** Ends a workflow type's pause. Instances paused one by one stay paused. */
  resumeType(workflowType: string): Promise<boolean>;
  /** Pauses in force: whole types first, then instances. */
  listPaused(): Promise<PausedEntry[]>;
  /** Effects and timers per workflow type by status (pending, due, leased, paused, dead), and the oldest due. */
  backlog(): Promise<BacklogEntry[]>;
  /** Deletes done or cancelled effects and fired or cancelled timers last changed more than `olderThanMs` ago. */
  purge(olderThanMs: number): Promise<PurgeResult>;
  /** Forgets idempotency keys committed more than `olderThanMs` ago (see `idempotencyRetentionMs`); returns how many. */
  purgeIdempotencyKeys(olderThanMs: number): Promise<number>;
  /**
   * Resolves when the instance is completed or cancelled — or, with `until`, as soon as that holds
   * of its state — woken by this process's commits and every process's endings, not by polling.
   * Rejects with WAIT_TIMEOUT after `timeoutMs`, WAIT_UNSATISFIABLE when the instance ended
   * without `until` holding, or the signal's reason.
   */
  waitFor<W extends AnyWorkflow>(workflow: W, workflowId: string, options: WaitForOptions<StateOf<W>>): Promise<WaitResult<StateOf<W>>>;
  /** A page of effects or timers across the store, in id order, with filters; pass `next` as `after`. */
  listWork(query: WorkQuery): Promise<WorkPage>;
  /**
   * Committed events of every instance in the store's feed order, after a position, filtered by
   * workflow and event type; pass `next` as `after` to go on. Never skips an event (see the store's
   * docs for its order: global, or per partition on a partitioned Redis).
   */
  readFeed(query?: FeedQuery): Promise<FeedPage>;
  /** The position of the last readable event of the feed, to measure a reader's lag. */
  feedHead(): Promise<FeedPosition | undefined>;
  /**
   * Projections by name, as every process sees them: checkpoint, lease, lag, reset (a rebuild) and
   * dead letters (list, re-drive, skip); any projection the store knows, run here or elsewhere.
   */
  readonly projections: ProjectionAdmin;
  /** A page of instances across the store, in (type, id) order, with filters; pass `next` as `after`. */
  pageInstances(query?: InstancePageQuery): Promise<InstancePage>;
  /**
   * Cancels every active instance the filter matches, as `cancel` does each; `dryRun` only counts
   * them (the preview).
   */
  cancelWhere(filter: InstanceFilter, reason: string, options?: BulkOptions & CancelOptions): Promise<BulkResult>;
  /** Retention of ended instances, as `createEngine({ retention })` sets it. */
  readonly retention: {
    /**
     * One sweep at `now` (default the clock's): each configured workflow type's completed and
     * cancelled instances last changed more than `afterMs` before it are archived (when asked) and
     * deleted with everything they own. A started engine sweeps every `intervalMs` by itself.
     * Without `retention` it deletes nothing.
     */
    sweep(options?: { now?: number | undefined }): Promise<RetentionReport>;
  };
  /** Starts the worker pools, the projection runners and the retention sweeps. */
  start(): void;
  /**
   * Graceful stop: stop claiming, drain in-flight work and projection batches up to the timeout,
   * abort and release the rest, and give projection leases back (another engine takes over at once).
   */
  stop(): Promise<void>;
  health(): HealthReport;
  /**
   * Counters and histograms of what this engine did since it was created (decisions, effect and
   * timer attempts by result, dead letters, recoveries, lost leases, handler durations), and
   * gauges of the store's backlog read now; attributes are workflow type, kind and outcome.
   */
  metrics(): Promise<MetricsSnapshot>;
  /**
   * Processes every claimable effect and due timer at the clock's current time until none is left,
   * and catches every projection of the engine up with the feed (tries one after another, no
   * waiting), keeping their leases across calls (tests).
   */
  runUntilIdle(options?: { maxRounds?: number | undefined }): Promise<IdleReport>;
  /** Subscribes to lifecycle events of one type; returns an unsubscribe. */
  on<T extends LifecycleEventType>(type: T, listener: LifecycleListener<T>): () => void;
  /** Subscribes to every lifecycle event; returns an unsubscribe. */
  on(type: '*', listener: (event: LifecycleEvent) => void): () => void;
}

/** Dead-letter queries name a kind; anything else is refused the same way on every store. */
function checkKind<Q extends { kind: unknown }>(query: Q): Q {
  if (typeof query !== 'object' || query === null || (query.kind !== 'effect' && query.kind !== 'timer')) {
    throw invalidArgument(`dead-letter queries need kind 'effect' or 'timer', got ${String(query?.kind)}`);
  }
  return query;
}

/**
 * Builds an engine over a store. Duplicate workflow types fail here with DUPLICATE_WORKFLOW_TYPE.
 * @example
 * const engine = createEngine({ store: createMemoryStore(), workflows: [register(order).handle(handleOrderEffect)] });
 * engine.start();
 * await engine.execute(order, { type: 'Place', orderId: 'o-1' });
 */
export function createEngine(options: EngineOptions): Engine {
  const settings = resolveEngineOptions(options);
  const { store, clock, logger, entries, workerId } = settings;
  const types = entries.types;
  const lifecycle = new LifecycleEmitter(logger);
  if (settings.onEvent) lifecycle.on('*', settings.onEvent);
  if (types.length === 0) logger.warn({}, 'ironflow engine created with no workflows: it will never claim work');

  const running = new RunningEffects();
  const executor = new Executor(settings, lifecycle, running);
  const retryWake = new RetryWake(() => clock.now());
  const settler = new Settler(settings, lifecycle, executor, retryWake);
  const children = new Children(settings, lifecycle, executor, settler);
  settler.onUnhandledDeadLetter = (item, error) => children.beforeDeadLetter(item, error);
  const effectRunner = new EffectRunner(settings, lifecycle, settler, running, children);
  const timerRunner = new TimerRunner(lifecycle, settler);
  const control = new Control(settings, executor, running, lifecycle);
  const operations = new Operations(settings, control);
  const metrics = new Metrics(lifecycle, store, () => clock.now());
  const tracer = settings.tracer;
  /** Processes a claimed item inside the tracer's span, continuing the trace stored with it. */
  const traced = <T extends ClaimedItem>(item: T, run: () => Promise<void>): Promise<void> =>
    tracer === undefined
      ? run()
      : tracer.work({ kind: item.kind, id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts, recovered: item.recovered, trace: item.trace }, run);

  const tags = settings.effectTags;
  const claimEffects = async (limit: number) => {
    const claimed = await store.claimEffects({ now: clock.now(), limit, types, leaseMs: settings.effects.leaseMs, owner: workerId, ...(tags === undefined ? {} : { tags }) });
    // Held from the claim, so that a cancel reaches an effect still queued here (prefetch).
    for (const item of claimed) running.track(item);
    return claimed;
  };
  const claimTimers = (limit: number) => store.claimTimers({ now: clock.now(), limit, types, leaseMs: settings.timers.leaseMs, owner: workerId });
  const shared = {
    release: (item: ClaimedItem) => {
      if (item.kind === 'effect') running.forget(item.id);
      return store.release(item.lease, clock.now());
    },
    lost: (item: ClaimedItem, error: unknown) => {
      if (item.kind === 'effect') running.forget(item.id);
      settler.lost(item, error);
    },
    logger,
    lifecycle,
    now: () => clock.now(),
    timeouts: settings.environment,
  };
  const effectPool = new WorkerPool<EffectRecord>({
    ...shared,
    kind: 'effect',
    settings: settings.effects,
    claim: claimEffects,
    process: (item, shutdown) => traced(item, () => effectRunner.run(item, shutdown)),
    renew: (item) => store.renewLease(item.lease, clock.now(), settings.effects.leaseMs),
  });
  const timerPool = new WorkerPool<TimerRecord>({
    ...shared,
    kind: 'timer',
    settings: settings.timers,
    claim: claimTimers,
    process: (item) => traced(item, () => timerRunner.run(item)),
    renew: (item) => store.renewLease(item.lease, clock.now(), settings.timers.leaseMs),
    nextDueInMs: async () => {
      const next = await store.nextTimerAt(types);
      return next === undefined ? undefined : next - clock.now();
    },
  });

  const projectionRunners = settings.projections.map(
    (resolved) => new ProjectionRunner({ resolved, settings: settings.projectionSettings, notUnderstood: settings.notUnderstood, store, clock, workerId, lifecycle, logger, timeouts: settings.environment }),
  );
  const retention = new Retention({ settings: settings.retention, store, clock, lifecycle, logger });
  // This engine's commits wake the runners that read them, so an in-process read model lags by a
  // round trip rather than a poll interval; other processes' commits are seen at the next poll.
  if (projectionRunners.length > 0) {
    lifecycle.on('decision.committed', (event) => {
      for (const runner of projectionRunners) if (runner.reads(event.workflowType, event.eventTypes)) runner.poke();
    });
  }

  settings.instrumentation?.attach?.({ workerId, on: (type, listener) => lifecycle.on(type, listener), counters: () => metrics.counters(), gauges: () => metrics.gauges() });

  let started = false;
  let unsubscribe: (() => void) | undefined;
  let maintenance: ReturnType<typeof setInterval> | undefined;

  /** Forgets idempotency keys past their retention; a failure is logged and tried again next time. */
  const maintain = (): void => {
    const keepMs = settings.idempotencyRetentionMs;
    if (keepMs === undefined) return;
    operations.purgeIdempotencyKeys(keepMs).then(
      (purged) => {
        if (purged > 0) logger.info({ purged }, 'forgot idempotency keys past their retention');
      },
      (error: unknown) => logger.warn({ err: error }, 'could not forget idempotency keys past their retention; trying again at the next maintenance'),
    );
  };

  /** The state of an instance, for getState and waitFor. */
  async function read(workflow: AnyWorkflow, ref: WorkflowRef): Promise<InstanceState<unknown>> {
    const entry = entries.get(workflow.type);
    const loaded = await store.load(ref);
    const state = await stateOf(store, entry.workflow, ref, loaded);
    return { state, version: loaded.version, completed: loaded.completed, status: loaded.status };
  }

  return {
    types,
    async execute<W extends AnyWorkflow>(workflow: W, input: InputOf<W>, opts: ExecuteCallOptions = {}): Promise<ExecuteResult<RejectionOf<W>>> {
      // The registry holds erased workflows; a rejection of `workflow` is a RejectionOf<W>.
      return (await executor.execute(workflow, input, opts.idempotencyKey)) as ExecuteResult<RejectionOf<W>>;
    },
    async executeMany<W extends AnyWorkflow>(workflow: W, inputs: readonly InputOf<W>[], opts: ExecuteManyOptions<InputOf<W>> = {}) {
      const keyOf = opts.idempotencyKey as ((input: unknown, index: number) => string | undefined) | undefined;
      // The registry holds erased workflows; a rejection of `workflow` is a RejectionOf<W>.
      return (await executor.executeMany(workflow, inputs, keyOf)) as ExecuteManyResult<RejectionOf<W>>[];
    },
    executeDynamic: (workflowType, input, opts = {}) => executor.executeDynamic(workflowType, input, opts.idempotencyKey),
    async getState<W extends AnyWorkflow>(workflow: W, workflowId: string): Promise<InstanceState<StateOf<W>>> {
      // The registry holds erased workflows; this one is `W` under its own type.
      return (await read(workflow, { type: workflow.type, id: workflowId })) as InstanceState<StateOf<W>>;
    },
    waitFor<W extends AnyWorkflow>(workflow: W, workflowId: string, opts: WaitForOptions<StateOf<W>>): Promise<WaitResult<StateOf<W>>> {
      const ref = { type: workflow.type, id: workflowId };
      return waitFor<StateOf<W>>(
        {
          read: async (r) => (await read(workflow, r)) as WaitResult<StateOf<W>>,
          onEnded: (listener) => store.subscribeEnded?.(listener) ?? (() => undefined),
          onCommitted: (r, listener) =>
            lifecycle.on('decision.committed', (event) => {
              if (event.workflowType === r.type && event.workflowId === r.id) listener();
            }),
        },
        ref,
        opts,
      );
    },
    listWork: (query) => store.listWork(query),
    readFeed: (query) => store.readFeed(query),
    feedHead: () => store.feedHead(),
    projections: projectionAdmin(store, clock),
    pageInstances: (query) => store.pageInstances(query),
    cancelWhere: (filter, reason, opts) => operations.cancelWhere(filter, reason, opts),
    retention: { sweep: (opts) => retention.sweep(opts) },
    purgeIdempotencyKeys: (olderThanMs) => operations.purgeIdempotencyKeys(olderThanMs),
    getEvents: (ref) => store.readEvents(ref),
    listInstances: (query) => store.listInstances(query),
    listEffects: (ref) => store.listEffects(ref),
    listTimers: (ref) => store.listTimers(ref),
    listObservations: (ref) => store.listObservations(ref),
    deadLetters: {
      list: async (query) => store.listDeadLetters(checkKind(query)),
      count: async (query) => store.countDeadLetters(checkKind(query)),
      redrive: async (kind, id) => store.redrive(checkKind({ kind }).kind, id, clock.now()),
      redriveWhere: (filter, opts) => operations.redriveWhere(checkKind(filter), opts),
    },
    cancel: (ref, reason, opts) => control.cancel(ref, reason, opts),
    pause: (ref) => control.setInstancePaused(ref, true),
    resume: (ref) => control.setInstancePaused(ref, false),
    pauseType: (workflowType) => control.setTypePaused(workflowType, true),
    resumeType: (workflowType) => control.setTypePaused(workflowType, false),
    listPaused: () => control.listPaused(),
    backlog: () => control.backlog(),
    async purge(olderThanMs) {
      if (!Number.isFinite(olderThanMs) || olderThanMs < 0) throw invalidArgument(`purge() needs a non-negative age in ms, got ${olderThanMs}`);
      return store.purge(clock.now() - olderThanMs);
    },
    start() {
      if (started) return;
      started = true;
      retryWake.attach(() => effectPool.poke());
      unsubscribe = store.subscribe?.((kind) => (kind === 'effect' ? effectPool : timerPool).poke());
      effectPool.start();
      timerPool.start();
      for (const runner of projectionRunners) runner.start();
      retention.start();
      if (settings.idempotencyRetentionMs !== undefined) {
        maintain();
        maintenance = setInterval(maintain, settings.maintenanceIntervalMs);
        maintenance.unref?.();
      }
    },
    async stop() {
      const drainMs = settings.shutdownTimeoutMs;
      // Leases kept by runUntilIdle are given back too.
      if (!started) return void (await Promise.all(projectionRunners.map((runner) => runner.stop(drainMs))));
      started = false;
      unsubscribe?.();
      clearInterval(maintenance);
      retryWake.detach();
      await Promise.all([effectPool.stop(drainMs), timerPool.stop(drainMs), retention.stop(), ...projectionRunners.map((runner) => runner.stop(drainMs))]);
    },
    health() {
      const effects = effectPool.health();
      const timers = timerPool.health();
      const projections = Object.fromEntries(projectionRunners.map((runner) => [runner.name, runner.health()]));
      const failing = effects.consecutiveFailures > 0 || timers.consecutiveFailures > 0 || projectionRunners.some((runner) => runner.health().consecutiveFailures > 0);
      const status = !started ? 'stopped' : failing ? 'degraded' : 'ok';
      return { status, effects, timers, projections };
    },
    metrics: () => metrics.snapshot(),
    async runUntilIdle(opts = {}) {
      if (started) throw invalidArgument('runUntilIdle() drives work by hand; call it on an engine that was not start()ed');
      const maxRounds = opts.maxRounds ?? 1000;
      let effects = 0;
      let timers = 0;
      let projected = 0;
      const heldElsewhere = new Set<string>();
      const report = (): IdleReport => {
        if (projectionRunners.length === 0) return { effects, timers };
        return heldElsewhere.size === 0 ? { effects, timers, projected } : { effects, timers, projected, heldElsewhere: [...heldElsewhere] };
      };
      for (let round = 0; round < maxRounds; round++) {
        // A recovered item comes back alone from its claim, so it runs alone here too.
        const claimedEffects = await claimEffects(settings.effects.batchSize);
        await Promise.all(claimedEffects.map((item) => traced(item, () => effectRunner.run(item, NEVER_CANCELLED))));
        const claimedTimers = await claimTimers(settings.timers.batchSize);
        await Promise.all(claimedTimers.map((item) => traced(item, () => timerRunner.run(item))));
        effects += claimedEffects.length;
        timers += claimedTimers.length;
        // Handlers may execute inputs, so a round is idle only when the projections handled nothing either.
        let handled = 0;
        for (const runner of projectionRunners) {
          const driven = await runner.drive();
          handled += driven.handled;
          if (driven.held) heldElsewhere.delete(runner.name);
          else heldElsewhere.add(runner.name);
        }
        projected += handled;
        if (claimedEffects.length === 0 && claimedTimers.length === 0 && handled === 0) return report();
      }
      throw new IronflowError('INVALID_ARGUMENT', `runUntilIdle() did not reach idle within ${maxRounds} rounds (a timer or effect loop at the same instant?)`);
    },
    on: lifecycle.on.bind(lifecycle),
  };
}
