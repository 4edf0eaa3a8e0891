// The offline replay check (issue 13): before a deploy, fold every stored instance of a workflow type
// (or a sample, or the active ones) with the new code — upcasters, evolve, the terminal check and,
// on request, decide on the recorded inputs — and report each instance the new code cannot replay.
import { IronflowError, isIronflowError, type AnyWorkflow, type StoredEvent, type Workflow, type WorkflowRef } from '@ironflow/core';
import { foldEvents, isValidWorkflowType, snapshotUsable, upcastEvent, validateWithSchema } from '@ironflow/core/engine';
import { invalidArgument, type InstanceSummary, type LoadedInstance, type Observation, type WorkflowStore } from '@ironflow/core/store';

/**
 * What went wrong with one instance: `fold-failed` (an upcaster, `upcast` or `evolve` threw),
 * `unknown-version` (an event was written by newer code), `snapshot-differs` (the state folded from
 * the events differs from the stored snapshot), `terminal-differs` (the instance is stored completed
 * but the new code does not find its state terminal, or it is active and the new code does),
 * `decide-failed` / `decision-differs` (with `decide`: a recorded input now throws, is refused or
 * decides other events).
 */
export type ReplayProblemKind = 'fold-failed' | 'unknown-version' | 'snapshot-differs' | 'terminal-differs' | 'decide-failed' | 'decision-differs';

/** One instance the new code does not replay as the stored data says it should. */
export interface ReplayProblem {
  readonly workflowId: string;
  readonly kind: ReplayProblemKind;
  readonly message: string;
  /** The event where it went wrong (the first event of a decision for the decide kinds). */
  readonly sequence?: number | undefined;
  /** The error code, when the problem is an error (UPCAST_FAILED, EVOLVE_FAILED, EVENT_VERSION_UNKNOWN, DECIDE_FAILED …). */
  readonly code?: string | undefined;
}

/** What `replayCheck` found. */
export interface ReplayReport {
  readonly workflowType: string;
  /** Instances checked. */
  readonly checked: number;
  /** Instances with at least one problem. */
  readonly failed: number;
  /** Problems in the order the instances were checked, at most `maxProblems` of them. */
  readonly problems: readonly ReplayProblem[];
  /** True when problems were found beyond `maxProblems` and left out of `problems`. */
  readonly truncated: boolean;
  readonly elapsedMs: number;
}

/** Where a running check is, given to `onProgress` after each page. */
export interface ReplayProgress {
  readonly checked: number;
  readonly failed: number;
  /** With `sample`: how many instances the check will look at (the set may change while it runs). */
  readonly total?: number | undefined;
}

/** Options of `replayCheck`. */
export interface ReplayCheckOptions<S = unknown, I = unknown, E = unknown, F = unknown, R = unknown> {
  /** The store holding the histories (the production data, or a copy of it). */
  readonly store: WorkflowStore;
  /** The new code of the workflow; its `type` names the instances checked. */
  readonly workflow: Workflow<S, I, E, F, R>;
  /**
   * `all` instances, or only the `active` ones (those new code will go on deciding).
   * @default 'all'
   */
  readonly select?: 'all' | 'active' | undefined;
  /**
   * Check about this many instances, spread evenly over the whole set in (type, id) order: a first
   * pass counts the instances, then every (count / sample)-th is checked. Absent: every instance.
   */
  readonly sample?: number | undefined;
  /**
   * Also run `decide` again on each recorded accepted input (the workflow must record
   * observations: `observeInputs`), on the state before it and at the time it was decided, and
   * compare the events it returns with the stored ones.
   * @default false
   */
  readonly decide?: boolean | undefined;
  /**
   * Instances read per page (1 to 1000).
   * @default 100
   */
  readonly pageSize?: number | undefined;
  /**
   * Most problems kept in the report; every failed instance is still counted.
   * @default 100
   */
  readonly maxProblems?: number | undefined;
  /**
   * Instances checked at the same time (1 to 64).
   * @default 4
   */
  readonly concurrency?: number | undefined;
  /** Called after each page (at least once). */
  readonly onProgress?: ((progress: ReplayProgress) => void) | undefined;
  /** Stops the check between instances; it then rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

const MAX_PAGE = 1000;
const MAX_CONCURRENCY = 64;

/**
 * Replays stored instances of `workflow.type` with the given (new) code and reports each one it
 * cannot replay. Streams: reads one page of instances at a time and one instance's events at a
 * time, so memory stays bounded whatever the number of instances. Reads only; writes nothing.
 * @example
 * const report = await replayCheck({ store, workflow: orderV2, decide: true });
 * if (report.failed > 0) process.exitCode = 1;
 */
export async function replayCheck<S, I, E, F, R>(options: ReplayCheckOptions<S, I, E, F, R>): Promise<ReplayReport> {
  const started = performance.now();
  const settings = checkOptions(options as ReplayCheckOptions);
  const { store, workflow, signal } = settings;
  const status = settings.select === 'active' ? 'active' : undefined;
  const pages = async function* (): AsyncGenerator<InstanceSummary[]> {
    let after: string | undefined;
    do {
      signal?.throwIfAborted();
      const page = await store.pageInstances({ workflowType: workflow.type, status, after, limit: settings.pageSize });
      yield page.items;
      after = page.next;
    } while (after !== undefined);
  };

  let pick: (index: number) => boolean = () => true;
  let total: number | undefined;
  if (settings.sample !== undefined) {
    let count = 0;
    for await (const items of pages()) count += items.length;
    const wanted = Math.min(settings.sample, count);
    total = wanted;
    // Index j is taken when the running share j * wanted / count passes a whole number: exactly
    // `wanted` of the first `count` indices, evenly spaced, the first one included (j = 0 passes 0).
    pick = (j) => wanted > 0 && Math.floor((j * wanted) / count) !== Math.floor(((j - 1) * wanted) / count);
  }

  const problems: ReplayProblem[] = [];
  let checked = 0;
  let failed = 0;
  let truncated = false;
  let index = 0;
  for await (const items of pages()) {
    const chosen = items.filter(() => pick(index++));
    for (let from = 0; from < chosen.length; from += settings.concurrency) {
      signal?.throwIfAborted();
      const batch = chosen.slice(from, from + settings.concurrency);
      const found = await Promise.all(batch.map((instance) => checkInstance(store, workflow, instance, settings.decide)));
      for (const instanceProblems of found) {
        checked += 1;
        if (instanceProblems.length === 0) continue;
        failed += 1;
        for (const problem of instanceProblems) {
          if (problems.length < settings.maxProblems) problems.push(problem);
          else truncated = true;
        }
      }
    }
    settings.onProgress?.({ checked, failed, ...(total === undefined ? {} : { total }) });
  }
  return { workflowType: workflow.type, checked, failed, problems, truncated, elapsedMs: performance.now() - started };
}

interface Settings {
  readonly store: WorkflowStore;
  readonly workflow: AnyWorkflow;
  readonly select: 'all' | 'active';
  readonly sample: number | undefined;
  readonly decide: boolean;
  readonly pageSize: number;
  readonly maxProblems: number;
  readonly concurrency: number;
  readonly onProgress: ((progress: ReplayProgress) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

function wholeNumber(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(`replayCheck: ${name} must be a whole number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function checkOptions(options: ReplayCheckOptions): Settings {
  if (typeof options !== 'object' || options === null) throw invalidArgument('replayCheck needs an options object { store, workflow }');
  const { store, workflow } = options;
  const methods = ['pageInstances', 'load', 'readEvents', 'listObservations'] as const;
  if (typeof store !== 'object' || store === null || methods.some((m) => typeof (store as Partial<WorkflowStore>)[m] !== 'function')) {
    throw invalidArgument('replayCheck: store must be a WorkflowStore');
  }
  const w = workflow as Partial<Record<keyof AnyWorkflow, unknown>> | null | undefined;
  if (typeof w !== 'object' || w === null || !isValidWorkflowType(w.type) || typeof w.initialState !== 'function' || typeof w.evolve !== 'function' || typeof w.decide !== 'function') {
    throw invalidArgument('replayCheck: workflow must be a workflow made by defineWorkflow');
  }
  const select: unknown = options.select ?? 'all';
  if (select !== 'all' && select !== 'active') throw invalidArgument(`replayCheck: select must be 'all' or 'active', got ${JSON.stringify(select)}`);
  const decide: unknown = options.decide ?? false;
  if (typeof decide !== 'boolean') throw invalidArgument(`replayCheck: decide must be a boolean, got ${typeof decide}`);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw invalidArgument('replayCheck: onProgress must be a function');
  const signal: unknown = options.signal;
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof (signal as AbortSignal).throwIfAborted !== 'function')) {
    throw invalidArgument('replayCheck: signal must be an AbortSignal');
  }
  return {
    store,
    workflow: workflow as AnyWorkflow,
    select,
    sample: options.sample === undefined ? undefined : wholeNumber(options.sample, 'sample', 1, Number.MAX_SAFE_INTEGER, 1),
    decide,
    pageSize: wholeNumber(options.pageSize, 'pageSize', 1, MAX_PAGE, 100),
    maxProblems: wholeNumber(options.maxProblems, 'maxProblems', 0, Number.MAX_SAFE_INTEGER, 100),
    concurrency: wholeNumber(options.concurrency, 'concurrency', 1, MAX_CONCURRENCY, 4),
    onProgress: options.onProgress,
    signal: signal as AbortSignal | undefined,
  };
}

/** Replays one instance; its problems, none when the new code replays it as stored. */
async function checkInstance(store: WorkflowStore, workflow: AnyWorkflow, instance: InstanceSummary, decide: boolean): Promise<ReplayProblem[]> {
  const ref: WorkflowRef = { type: instance.workflowType, id: instance.workflowId };
  const problem = (kind: ReplayProblemKind, message: string, extra: { sequence?: number | undefined; code?: string | undefined } = {}): ReplayProblem => ({
    workflowId: ref.id,
    kind,
    message,
    ...(extra.sequence === undefined ? {} : { sequence: extra.sequence }),
    ...(extra.code === undefined ? {} : { code: extra.code }),
  });
  // The load gives the snapshot and the status at one version; the events are read whole (a load
  // returns only those after the snapshot) and cut at that version, should a commit land meanwhile.
  const loaded: LoadedInstance = await store.load(ref);
  const events = (loaded.snapshot === undefined ? loaded.events : await store.readEvents(ref)).filter((e) => e.sequence <= loaded.version);
  const snapshot = loaded.snapshot !== undefined && snapshotUsable(workflow, loaded.snapshot.revision) ? loaded.snapshot : undefined;
  const decisions = decide ? new DecisionReplay(workflow, ref, events, (await store.listObservations(ref)).filter((o) => o.outcome === 'accepted')) : undefined;

  const found: ReplayProblem[] = [];
  let state: unknown;
  try {
    state = workflow.initialState();
  } catch (error) {
    return [problem('fold-failed', `initialState threw: ${messageOf(error)}`)];
  }
  for (const [index, event] of events.entries()) {
    if (decisions !== undefined && !decisions.done) {
      const differs = await decisions.at(index, state);
      if (differs !== undefined) found.push(problem(differs.kind, differs.message, { sequence: event.sequence, code: differs.code }));
    }
    try {
      state = foldEvents(workflow, state, [event]);
    } catch (error) {
      const code = isIronflowError(error) ? error.code : undefined;
      found.push(problem(code === 'EVENT_VERSION_UNKNOWN' ? 'unknown-version' : 'fold-failed', messageOf(error), { sequence: event.sequence, code }));
      return found;
    }
    if (snapshot !== undefined && event.sequence === snapshot.version) {
      const folded = canonicalJson(state);
      if (folded !== canonicalJson(snapshot.state)) {
        found.push(problem('snapshot-differs', `the state folded from events 1..${snapshot.version} differs from the stored snapshot: ${clip(folded)} (folded) against ${clip(canonicalJson(snapshot.state))} (stored)`, { sequence: snapshot.version }));
      }
    }
  }
  if (loaded.status !== 'cancelled') {
    let terminal: boolean;
    try {
      terminal = workflow.isTerminal ? workflow.isTerminal(state) === true : false;
    } catch (error) {
      found.push(problem('fold-failed', `isTerminal threw: ${messageOf(error)}`));
      return found;
    }
    if (loaded.status === 'completed' && !terminal) found.push(problem('terminal-differs', 'the instance is stored completed, but isTerminal of its folded state is false'));
    if (loaded.status === 'active' && terminal) found.push(problem('terminal-differs', 'the instance is stored active, but isTerminal of its folded state is true'));
  }
  return found;
}

/**
 * Replays the recorded accepted inputs of one instance, in order, as the fold reaches the events
 * each produced. An input is matched to its events by the time and input kind recorded with both
 * (`observedAt` is the decision's `now`, stored as each event's `decidedAt`). Only the first
 * decision that differs is reported: one is enough to fail the instance.
 */
class DecisionReplay {
  private next = 0;
  /** Events before this index belong to a decision already replayed. */
  private resumeAt = 0;
  done = false;

  constructor(
    private readonly workflow: AnyWorkflow,
    private readonly ref: WorkflowRef,
    private readonly events: readonly StoredEvent[],
    private readonly observations: readonly Observation[],
  ) {
    this.done = observations.length === 0;
  }

  /** Before folding events[index] into `state`: the decision's difference, when an input's events start here. */
  async at(index: number, state: unknown): Promise<{ kind: ReplayProblemKind; message: string; code?: string | undefined } | undefined> {
    if (index < this.resumeAt) return undefined;
    const event = this.events[index]!;
    // Inputs observed before this event whose events were never found are passed over.
    while (this.next < this.observations.length && this.observations[this.next]!.observedAt < event.metadata.decidedAt) this.next += 1;
    const observation = this.observations[this.next];
    if (observation === undefined) {
      this.done = true;
      return undefined;
    }
    if (observation.observedAt !== event.metadata.decidedAt || observation.inputType !== event.metadata.inputType) return undefined;
    this.next += 1;
    const result = await this.replay(observation, index, state);
    if (result !== undefined) this.done = true;
    return result;
  }

  private async replay(observation: Observation, index: number, state: unknown) {
    const { workflow, ref, events } = this;
    const first = events[index]!;
    let input = observation.input;
    try {
      if (workflow.schema) input = await validateWithSchema(workflow.schema, input, `Input of ${workflow.type}`);
    } catch (error) {
      return { kind: 'decide-failed' as const, message: `the recorded ${observation.inputType} input no longer passes the schema: ${messageOf(error)}`, code: codeOf(error) };
    }
    let decision: ReturnType<AnyWorkflow['decide']>;
    try {
      decision = workflow.decide(input, state, { now: new Date(first.metadata.decidedAt), workflowType: workflow.type, workflowId: ref.id, version: first.sequence - 1 });
    } catch (error) {
      return { kind: 'decide-failed' as const, message: `decide threw on the recorded ${observation.inputType} input: ${messageOf(error)}`, code: 'DECIDE_FAILED' };
    }
    if (decision === null || typeof decision !== 'object' || (decision.kind !== 'accept' && decision.kind !== 'reject')) {
      return { kind: 'decide-failed' as const, message: `decide returned neither accept(...) nor reject(...) on the recorded ${observation.inputType} input`, code: 'INVALID_DECISION' };
    }
    if (decision.kind === 'reject') {
      return { kind: 'decision-differs' as const, message: `the recorded ${observation.inputType} input was accepted, and is now rejected: ${clip(canonicalJson(decision.reason))}` };
    }
    const decided = Array.isArray(decision.events) ? decision.events : [];
    const count = this.storedCount(index, decided.length);
    this.resumeAt = index + count;
    const stored = events.slice(index, index + count);
    const ours = decided.map((payload) => `${eventTypeOf(workflow, payload)} ${canonicalJson(payload)}`);
    let theirs: string[];
    try {
      theirs = stored.map((e) => `${e.type} ${canonicalJson(upcastEvent(workflow, e))}`);
    } catch {
      // The fold reaches this event next and reports why it cannot be upcast.
      return undefined;
    }
    const at = ours.findIndex((text, i) => text !== theirs[i]);
    if (at === -1 && ours.length === theirs.length) return undefined;
    const position = at === -1 ? Math.min(ours.length, theirs.length) : at;
    return {
      kind: 'decision-differs' as const,
      message: `the recorded ${observation.inputType} input decides other events: ${ours.length} now, ${theirs.length} stored; event ${position + 1} is ${clip(ours[position] ?? 'missing')} now, ${clip(theirs[position] ?? 'missing')} stored`,
    };
  }

  /**
   * How many stored events the decision starting at `index` wrote: the run of events with its
   * metadata, unless the next recorded input has the same time and kind (two decisions the run
   * cannot tell apart), when the new decision's count is taken.
   */
  private storedCount(index: number, decided: number): number {
    const first = this.events[index]!;
    const key = metadataKey(first);
    let run = 1;
    while (index + run < this.events.length && metadataKey(this.events[index + run]!) === key) run += 1;
    const following = this.observations[this.next];
    const ambiguous = following !== undefined && following.observedAt === first.metadata.decidedAt && following.inputType === first.metadata.inputType;
    return ambiguous ? Math.min(decided, run) : run;
  }
}

function metadataKey(event: StoredEvent): string {
  return canonicalJson(event.metadata);
}

/** The stored type of an event payload, as a decision would write it. */
function eventTypeOf(workflow: AnyWorkflow, payload: unknown): string {
  try {
    if (workflow.eventType) return workflow.eventType(payload);
  } catch {
    return '(eventType threw)';
  }
  const type = typeof payload === 'object' && payload !== null ? (payload as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? type : 'event';
}

/**
 * A value as JSON with object keys sorted: stores keep JSON (PostgreSQL's jsonb reorders keys), so
 * a folded state and a stored one are compared by what JSON keeps of them.
 */
function canonicalJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return 'undefined';
  return JSON.stringify(sortKeys(JSON.parse(text) as unknown));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof IronflowError && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${message}${cause}`;
}

function codeOf(error: unknown): string | undefined {
  return isIronflowError(error) ? error.code : undefined;
}

function clip(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
