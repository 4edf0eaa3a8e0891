// The decision algorithm of DESIGN §3, written once over the store port: load, already-completed,
// fold, decide, one conditional atomic commit, bounded retry with jitter on version conflicts.
import { IronflowError, isIronflowError } from './errors.js';
import type { Clock } from './clock.js';
import { isEffectRequest, toNewEffect } from './effect-options.js';
import { backoff, type BackoffOptions } from './retry.js';
import { validateWithSchema } from './schema.js';
import { parseKey } from './store/rules.js';
import { stripUndefined } from './store/support.js';
import type {
  Acknowledgement,
  CommitRequest,
  LoadedInstance,
  NewEffect,
  NewTimer,
  Observation,
  Snapshot,
  StoredEvent,
  TraceCarrier,
  WorkflowStore,
} from './store/port.js';
import { childEndedPayload, isChildStart, startPayload } from './children.js';
import { testBugs } from './test-bugs.js';
import { isPlainJson, schemaVersionOf, snapshotEvery, snapshotRevision, snapshotUsable, upcastEvent } from './versions.js';
import type { AnyWorkflow, RejectionOf, Workflow, WorkflowRef } from './workflow.js';

/** What `executeInput` needs from its caller (the runtime, or a test). */
export interface ExecuteDependencies {
  readonly store: WorkflowStore;
  readonly clock: Clock;
  /** Returns a fresh, unique id for effects and timers (the runtime uses UUID v7). */
  readonly newId: () => string;
  /** Waits between conflict retries; without it, retries follow at once. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** @default Math.random */
  readonly random?: (() => number) | undefined;
  /**
   * Decisions retried after version conflicts before CONFLICT_RETRIES_EXHAUSTED.
   * @default 20
   */
  readonly maxConflictRetries?: number | undefined;
  /**
   * Record an observation of every input's outcome.
   * @default false
   */
  readonly observeInputs?: boolean | undefined;
  /**
   * Folded states of recently decided instances. A decision on a cached instance skips the load
   * and commits at the cached version; if another writer moved the instance on, the commit is a
   * version conflict, the entry is dropped and the decision is retried from a fresh load.
   */
  readonly cache?: InstanceCache | undefined;
  /**
   * Commit an input to an instance not in the cache as the instance's creation, without a load
   * first, when `decide` accepts it on the initial state; an existing instance makes that commit a
   * version conflict (nothing written), and the input is decided again after a load.
   * @default false
   */
  readonly speculateNewInstances?: boolean | undefined;
  /**
   * Called after each commit the store applied, with what it wrote: the runtime aborts the running
   * handlers of effects the commit cancelled (`cancelEffects`, `cancelWork`).
   */
  readonly onCommitted?: ((request: CommitRequest) => void) | undefined;
  /**
   * A monotonic clock in ms for the durations reported to `ExecuteOptions.onCommit` (real time
   * even when `clock` is a manual one).
   * @default performance.now
   */
  readonly elapsed?: (() => number) | undefined;
}

/** One store commit an input's decision made, as `ExecuteOptions.onCommit` is told of it. */
export interface CommitAttempt {
  /** How long the store took, in ms (`ExecuteDependencies.elapsed`). */
  readonly durationMs: number;
  /**
   * `applied`; `conflict` (another writer moved the instance on: decided again, or given up);
   * `speculation-missed` (a commit as the instance's creation found it existing: decided again on
   * its real state, not a conflict); `failed` (any other error).
   */
  readonly outcome: 'applied' | 'conflict' | 'speculation-missed' | 'failed';
}

/** What the instance cache keeps per instance; `state` must be treated as immutable. */
export interface CachedInstance {
  readonly version: number;
  /** True when the instance is terminal: completed or cancelled. */
  readonly completed: boolean;
  /** True when the instance was cancelled (terminal without completing). */
  readonly cancelled?: boolean | undefined;
  /** The instance that started this one as a child. */
  readonly parent?: WorkflowRef | undefined;
  readonly state: unknown;
}

/** A cache of folded instance states, keyed by `instanceKey(ref)`; the runtime bounds it (LRU). */
export interface InstanceCache {
  get(key: string): CachedInstance | undefined;
  set(key: string, entry: CachedInstance): void;
  delete(key: string): void;
}

/** The cache key of an instance. */
export function instanceKey(ref: WorkflowRef): string {
  return `${ref.type}\u0000${ref.id}`;
}

/** Per-call options of `executeInput`. */
export interface ExecuteOptions {
  /** A repeated key returns the first outcome as `duplicate` and writes nothing. */
  readonly idempotencyKey?: string | undefined;
  /** Settles a leased effect or timer in the same commit (used by workers). */
  readonly ack?: Acknowledgement | undefined;
  /** Records this parent when the input creates the instance (the runtime starting a child). */
  readonly parent?: WorkflowRef | undefined;
  /** Stored with every effect and timer the decision writes (the trace context of this execute). */
  readonly trace?: TraceCarrier | undefined;
  /** Told of each store commit this input's decision makes, conflicts and retries included. */
  readonly onCommit?: ((attempt: CommitAttempt) => void) | undefined;
}

/** The outcome of one input. Rejection and completion are outcomes, not errors. */
export type ExecuteResult<R = unknown> =
  | {
      readonly status: 'accepted';
      readonly workflowId: string;
      readonly version: number;
      readonly events: readonly StoredEvent[];
      /** Effects and timers the decision wrote. */
      readonly effects: number;
      readonly timers: number;
      readonly completed: boolean;
    }
  | { readonly status: 'rejected'; readonly workflowId: string; readonly version: number; readonly reason: R }
  | { readonly status: 'already-completed'; readonly workflowId: string; readonly version: number }
  /** The instance was cancelled (`engine.cancel`); `decide` was not called and nothing was written. */
  | { readonly status: 'cancelled'; readonly workflowId: string; readonly version: number }
  | {
      readonly status: 'duplicate';
      readonly workflowId: string;
      /** Version right after the original commit. */
      readonly version: number;
      readonly eventCount: number;
      /** The events the original commit wrote (absent when the instance was purged since). */
      readonly events: readonly StoredEvent[];
    };

/** Waits between version-conflict retries: short, since the competing commit has already landed. */
const CONFLICT_BACKOFF: BackoffOptions = { baseMs: 1, capMs: 100, jitter: 'full' };

/** The name of an input's kind: the workflow's `inputType`, else its `type` field, else `input`. */
export function inputTypeOf(workflow: AnyWorkflow, input: unknown): string {
  return workflow.inputType ? workflow.inputType(input) : kindOf(input, 'input');
}

/** The kind of an input or event: its `type` field when that is a string. */
function kindOf(value: unknown, fallback: string): string {
  if (typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string') {
    return (value as { type: string }).type;
  }
  return fallback;
}

/** Folds stored events into a state, upcast to the latest shape first (events just decided are already in it). */
export function foldEvents<S>(
  workflow: Workflow<S, unknown, unknown, unknown, unknown>,
  state: S,
  events: readonly StoredEvent[],
  options: { readonly fresh?: boolean } = {},
): S {
  let current = state;
  for (const stored of events) {
    // EVENT_VERSION_UNKNOWN and UPCAST_FAILED say what went wrong themselves.
    const event = options.fresh ? stored.payload : upcastEvent(workflow as AnyWorkflow, stored);
    try {
      current = workflow.evolve(current, event);
    } catch (cause) {
      throw new IronflowError(
        'EVOLVE_FAILED',
        `evolve failed for ${workflow.type}:${stored.workflowId} at event ${stored.sequence} (${stored.type})`,
        { cause, details: { workflowType: workflow.type, workflowId: stored.workflowId, sequence: stored.sequence } },
      );
    }
  }
  return current;
}

/** Rebuilds an instance's state from a load result (from its snapshot when that was folded for this state version). */
export async function stateOf<S>(
  store: WorkflowStore,
  workflow: Workflow<S, unknown, unknown, unknown, unknown>,
  ref: WorkflowRef,
  loaded: LoadedInstance,
): Promise<S> {
  if (loaded.snapshot === undefined) return foldEvents(workflow, workflow.initialState(), loaded.events);
  if (snapshotUsable(workflow as AnyWorkflow, loaded.snapshot.revision)) {
    return foldEvents(workflow, loaded.snapshot.state as S, loaded.events);
  }
  // The snapshot was folded for another state version: fold the whole stream instead.
  return foldEvents(workflow, workflow.initialState(), await store.readEvents(ref));
}

/**
 * Runs one input through a workflow and commits the decision.
 * @example const result = await executeInput({ store, clock, newId }, orderWorkflow, { type: 'Place', orderId: 'o-1' });
 */
export async function executeInput<W extends AnyWorkflow>(
  deps: ExecuteDependencies,
  workflow: W,
  rawInput: unknown,
  options: ExecuteOptions = {},
): Promise<ExecuteResult<RejectionOf<W>>> {
  const wf = workflow as AnyWorkflow;
  const input = wf.schema ? await validateWithSchema(wf.schema, rawInput, `Input of ${wf.type}`) : rawInput;
  let workflowId: string;
  try {
    workflowId = wf.workflowId(input);
  } catch (cause) {
    throw new IronflowError('VALIDATION_FAILED', `workflowId() of ${wf.type} threw for this input`, { cause });
  }
  parseKey(workflowId, `workflowId of ${wf.type}`, 'INVALID_ARGUMENT');
  if (options.idempotencyKey !== undefined) parseKey(options.idempotencyKey, 'idempotencyKey');
  const ref: WorkflowRef = { type: wf.type, id: workflowId };
  const inputType = inputTypeOf(wf, input);
  const maxRetries = deps.maxConflictRetries ?? 20;
  const random = deps.random ?? Math.random;

  const cacheKey = instanceKey(ref);
  // An input to an instance this process has not seen (and not a worker's result, which goes to an
  // instance that exists) is first decided as the instance's creation and committed at version 0,
  // with no load: for a new instance that saves the round trip of a load that finds nothing. If
  // the instance exists, that commit is a version conflict that wrote nothing, and the input is
  // decided again after a load. A rejection, a throw or an invalid decision on the initial state
  // proves nothing about the real state, so those also go to the load.
  let speculate = deps.speculateNewInstances === true && options.ack === undefined && deps.cache?.get(cacheKey) === undefined;
  for (let attempt = 0; ; attempt++) {
    // An idempotency key needs the store's answer, so only keyless inputs may skip the load.
    const cached = options.idempotencyKey === undefined ? deps.cache?.get(cacheKey) : undefined;
    // Another process may have moved the instance on since this one cached it: a commit would find
    // out (a version conflict), but a rejection writes nothing, so it is confirmed on a fresh load.
    const fromCache = !speculate && cached !== undefined;
    let current: CachedInstance;
    if (speculate) {
      current = { version: 0, completed: false, state: wf.initialState(), ...(options.parent === undefined ? {} : { parent: options.parent }) };
    } else if (cached !== undefined) {
      current = cached;
    } else {
      const loaded = await deps.store.load(ref, { idempotencyKey: options.idempotencyKey });
      if (loaded.idempotent !== undefined) {
        const { version, eventCount } = loaded.idempotent;
        // The original outcome, events included: one more read, for repeats only.
        const events = (await deps.store.readEvents(ref, { fromSequence: version - eventCount + 1 })).slice(0, eventCount);
        return { status: 'duplicate', workflowId, version, eventCount, events };
      }
      const cancelled = loaded.status === 'cancelled';
      current = stripUndefined({
        version: loaded.version,
        completed: loaded.completed,
        cancelled: cancelled || undefined,
        parent: loaded.parent,
        state: loaded.completed ? undefined : await stateOf(deps.store, wf, ref, loaded),
      });
      if (loaded.version > 0) deps.cache?.set(cacheKey, current);
    }
    const now = deps.clock.now();
    if (current.completed) {
      // Observations know one terminal outcome; a cancelled instance is recorded as already completed.
      await observe(deps, { ref, inputType, input, outcome: 'already-completed', now });
      return { status: current.cancelled === true ? 'cancelled' : 'already-completed', workflowId, version: current.version };
    }
    const state = current.state;
    let decision: ReturnType<AnyWorkflow['decide']>;
    let built: { request: CommitRequest; state: unknown };
    try {
      decision = decideOnce(wf, input, state, { now, workflowId, version: current.version });
      if (decision.kind === 'reject') {
        if (speculate || fromCache) throw SPECULATION_FAILED;
        await observe(deps, { ref, inputType, input, outcome: 'rejected', rejection: decision.reason, now });
        return { status: 'rejected', workflowId, version: current.version, reason: decision.reason as RejectionOf<W> };
      }
      built = buildCommit(deps, wf, ref, current.version, state, decision, { input, inputType, now, options, parent: current.version === 0 ? options.parent : current.parent });
    } catch (error) {
      if (!speculate && !fromCache) throw error;
      // Decided on a state that may not be the stored one (a speculation, or a cached state another
      // process may have moved on): decide again on a fresh load before refusing or failing.
      if (fromCache) deps.cache?.delete(cacheKey);
      speculate = false;
      attempt -= 1; // the load that follows is this attempt, not a retry
      continue;
    }
    const { request, state: next } = built;
    const elapsed = deps.elapsed ?? defaultElapsed;
    const commitStarted = options.onCommit === undefined ? 0 : elapsed();
    try {
      await deps.store.commit(request);
      options.onCommit?.({ durationMs: elapsed() - commitStarted, outcome: 'applied' });
    } catch (error) {
      if (options.onCommit !== undefined) {
        const conflict = isIronflowError(error, 'VERSION_CONFLICT');
        options.onCommit({ durationMs: elapsed() - commitStarted, outcome: conflict ? (speculate ? 'speculation-missed' : 'conflict') : 'failed' });
      }
      // Whatever went wrong, the cached entry may be stale (or its state touched by evolve): drop it.
      deps.cache?.delete(cacheKey);
      if (speculate && isIronflowError(error, 'VERSION_CONFLICT')) {
        // The instance exists: nothing was written; decide again on its real state.
        speculate = false;
        attempt -= 1;
        continue;
      }
      if (isIronflowError(error, 'VERSION_CONFLICT') && attempt < maxRetries) {
        if (deps.sleep) await deps.sleep(backoff(attempt + 1, CONFLICT_BACKOFF, random));
        continue;
      }
      if (isIronflowError(error, 'VERSION_CONFLICT')) {
        throw new IronflowError('CONFLICT_RETRIES_EXHAUSTED', `Gave up on ${wf.type}:${workflowId} after ${attempt + 1} version conflicts`, {
          cause: error,
          details: { workflowType: wf.type, workflowId, attempts: attempt + 1 },
        });
      }
      throw error;
    }
    deps.onCommitted?.(request);
    const parent = request.parent ?? current.parent;
    deps.cache?.set(cacheKey, { version: request.expectedVersion + request.events.length, completed: request.completed, state: next, ...(parent === undefined ? {} : { parent }) });
    return {
      status: 'accepted',
      workflowId,
      version: request.expectedVersion + request.events.length,
      events: request.events,
      effects: request.effects.length,
      timers: request.timers.length,
      completed: request.completed,
    };
  }
}

// Core is built without platform types; every runtime it targets (Node 20, browsers, Deno, Bun) has it.
const { performance } = globalThis as unknown as { performance: { now(): number } };
const defaultElapsed = (): number => performance.now();

/** Thrown inside executeInput only: a speculative or cached decision that must be redone on the loaded state. */
const SPECULATION_FAILED = new Error('speculative decision not applicable');

/** Calls `decide` and checks the shape of what it returned. */
function decideOnce(
  wf: AnyWorkflow,
  input: unknown,
  state: unknown,
  at: { readonly now: number; readonly workflowId: string; readonly version: number },
): ReturnType<AnyWorkflow['decide']> {
  let decision: ReturnType<AnyWorkflow['decide']>;
  try {
    decision = wf.decide(input, state, { now: new Date(at.now), workflowType: wf.type, workflowId: at.workflowId, version: at.version });
  } catch (cause) {
    throw new IronflowError('DECIDE_FAILED', `decide threw for ${wf.type}:${at.workflowId}`, {
      cause,
      details: { workflowType: wf.type, workflowId: at.workflowId },
    });
  }
  if (decision === null || typeof decision !== 'object' || (decision.kind !== 'accept' && decision.kind !== 'reject')) {
    throw new IronflowError('INVALID_DECISION', `decide of ${wf.type} must return accept(...) or reject(...)`);
  }
  return decision;
}

function buildCommit(
  deps: ExecuteDependencies,
  wf: AnyWorkflow,
  ref: WorkflowRef,
  version: number,
  state: unknown,
  decision: Extract<ReturnType<AnyWorkflow['decide']>, { kind: 'accept' }>,
  call: { input: unknown; inputType: string; now: number; options: ExecuteOptions; parent: WorkflowRef | undefined },
): { request: CommitRequest; state: unknown } {
  const { now, options } = call;
  if (!Array.isArray(decision.events) || decision.events.length === 0) {
    throw new IronflowError('INVALID_DECISION', `An accepted decision of ${wf.type} needs at least one event`);
  }
  const causedBy = options.ack ? { kind: options.ack.kind, id: options.ack.id } : undefined;
  const events: StoredEvent[] = decision.events.map((payload, index) => ({
    workflowType: ref.type,
    workflowId: ref.id,
    sequence: version + index + 1,
    type: parseKey(wf.eventType ? wf.eventType(payload) : kindOf(payload, 'event'), 'event type', 'INVALID_DECISION'),
    payload,
    metadata: stripUndefined({ decidedAt: now, inputType: call.inputType, idempotencyKey: options.idempotencyKey, causedBy }),
    recordedAt: now,
  })).map((event) => {
    // Decisions write the latest schema of each event type; 1 is left implicit, as stores return it.
    const schemaVersion = schemaVersionOf(wf, event.type);
    return schemaVersion === 1 ? event : { ...event, schemaVersion };
  });
  let next = state;
  next = foldEvents(wf, next, events, { fresh: true });
  const completed = wf.isTerminal ? wf.isTerminal(next) === true : false;

  // The execute's trace context goes with all the work it writes, so that work continues its trace.
  const trace = options.trace;
  // Work records the code version that wrote it (1 is left implicit), so older processes give it back.
  const codeVersion = wf.version ?? 1;
  const traced = <T extends NewEffect | NewTimer>(work: T): T => {
    const versioned = codeVersion === 1 ? work : { ...work, version: codeVersion };
    return trace === undefined ? versioned : { ...versioned, trace };
  };
  const effectKeys = new Set<string>();
  const effects: NewEffect[] = decision.effects.map((entry, i) =>
    traced(
      // An effect() entry put into a decision built without accept() carries its own options.
      isEffectRequest(entry)
        ? toNewEffect(wf.type, deps.newId(), entry.payload, entry.options, effectKeys)
        : toNewEffect(wf.type, deps.newId(), entry, decision.effectOptions?.[i], effectKeys),
    ),
  );
  // Children to start are effects of this instance, committed with the decision (ADR 0009).
  for (const start of decision.start ?? []) {
    if (!isChildStart(start)) throw new IronflowError('INVALID_DECISION', `start entries of ${wf.type} must be made with startChild(workflow, input)`);
    parseKey(start.workflowType, 'child workflow type', 'INVALID_DECISION');
    effects.push(traced({ id: deps.newId(), payload: startPayload(start) }));
  }
  // A child that completes tells its parent, in the same commit.
  if (completed && call.parent !== undefined) {
    effects.push(traced({ id: deps.newId(), payload: childEndedPayload(call.parent, { outcome: 'completed', workflowType: ref.type, workflowId: ref.id, state: next }) }));
  }
  // Decisions built by hand before cancelEffects existed have no such field.
  const cancelEffects = [...new Set((decision.cancelEffects ?? []).map((key) => parseKey(key, 'cancelled effect key', 'INVALID_DECISION')))];
  const cancelTimers = decision.cancelTimers.map((key) => parseKey(key, 'cancelled timer key', 'INVALID_DECISION'));
  const timers: NewTimer[] = decision.timers.map((raw) => traced(toNewTimer(deps, wf, now, raw)));
  const keys = new Set<string>();
  for (const t of timers) {
    if (t.key === undefined) continue;
    if (keys.has(t.key)) throw new IronflowError('INVALID_DECISION', `Timer key "${t.key}" is scheduled twice in one decision`);
    keys.add(t.key);
  }

  let uniqueKey: string | undefined;
  if (version === 0 && wf.uniqueKey) {
    const key = wf.uniqueKey(call.input);
    if (key !== undefined) uniqueKey = parseKey(key, `uniqueKey of ${wf.type}`);
  }

  let snapshot: Snapshot | undefined;
  const every = snapshotEvery(wf);
  const newVersion = version + events.length;
  if (every !== undefined && Math.floor(newVersion / every) > Math.floor(version / every)) {
    // A default snapshot is only taken of a state JSON keeps as it is; an explicit policy is the author's word.
    if (wf.snapshot !== undefined || isPlainJson(next)) snapshot = { version: newVersion, revision: snapshotRevision(wf), state: next };
  }

  const observation: Observation | undefined = deps.observeInputs
    ? { workflowType: ref.type, workflowId: ref.id, inputType: call.inputType, input: call.input, outcome: 'accepted', observedAt: now }
    : undefined;

  const request: CommitRequest = {
    ref,
    expectedVersion: version,
    now,
    events,
    effects,
    ...(cancelEffects.length > 0 ? { cancelEffects } : {}),
    cancelTimers,
    timers,
    completed,
    // The terminal policy: by default a completing decision cancels the work left behind.
    ...(completed && wf.terminalPolicy !== 'run' ? { cancelWork: true } : {}),
    uniqueKey,
    ...(version === 0 && call.parent !== undefined ? { parent: call.parent } : {}),
    idempotencyKey: options.idempotencyKey,
    snapshot,
    // testBugs.unfencedRouting: the bug the simulator's demonstration reintroduces (see test-bugs.ts).
    ack: testBugs.unfencedRouting ? undefined : options.ack,
    observation,
  };
  return { request, state: next };
}

function toNewTimer(deps: ExecuteDependencies, wf: AnyWorkflow, now: number, raw: unknown): NewTimer {
  if (typeof raw !== 'object' || raw === null) throw new IronflowError('INVALID_DECISION', `A timer of ${wf.type} must be an object`);
  const t = raw as { key?: unknown; after?: unknown; at?: unknown; input?: unknown };
  let fireAt: number;
  if (t.after !== undefined && t.at === undefined) {
    if (typeof t.after !== 'number' || !Number.isFinite(t.after) || t.after < 0) {
      throw new IronflowError('INVALID_DECISION', `Timer "after" must be a non-negative number of milliseconds, got ${String(t.after)}`);
    }
    fireAt = now + t.after;
  } else if (t.at !== undefined && t.after === undefined) {
    const at = t.at instanceof Date ? t.at.getTime() : t.at;
    if (typeof at !== 'number' || !Number.isFinite(at)) throw new IronflowError('INVALID_DECISION', `Timer "at" must be a Date or epoch milliseconds`);
    fireAt = Math.max(at, now);
  } else {
    throw new IronflowError('INVALID_DECISION', `A timer of ${wf.type} needs exactly one of "after" or "at"`);
  }
  if (t.input === undefined) throw new IronflowError('INVALID_DECISION', `A timer of ${wf.type} needs an input`);
  const key = t.key === undefined ? undefined : parseKey(t.key, 'timer key', 'INVALID_DECISION');
  return stripUndefined({ id: deps.newId(), key, fireAt: Math.floor(fireAt), input: t.input });
}

async function observe(
  deps: ExecuteDependencies,
  o: { ref: WorkflowRef; inputType: string; input: unknown; outcome: 'rejected' | 'already-completed'; rejection?: unknown; now: number },
): Promise<void> {
  if (!deps.observeInputs) return;
  await deps.store.recordObservation(
    stripUndefined({
      workflowType: o.ref.type,
      workflowId: o.ref.id,
      inputType: o.inputType,
      input: o.input,
      outcome: o.outcome,
      rejection: o.rejection,
      observedAt: o.now,
    }),
  );
}
