// The workflow model: a pure decider (`decide` + `evolve` + `initialState`) with an id per input,
// and the Decision values `decide` returns. No I/O here; the engine runs these functions.
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { RetryPolicy } from './retry.js';
import type { StoredEvent } from './store/port.js';
import { invalidArgument } from './errors.js';
import type { ChildNotice, ChildStart } from './children.js';
import { isEffectRequest, type EffectOptions, type EffectRequest, type PayloadOf } from './effect-options.js';
import { checkWorkflowStateMachine, type WorkflowStateMachine } from './visualization.js';
import { checkVersioning, type EventVersions } from './versions.js';

/** Names one workflow instance: its type and its business id. */
export interface WorkflowRef {
  readonly type: string;
  readonly id: string;
}

/** A request to deliver `input` to the workflow later: `after` ms from now, or `at` an instant. */
export type TimerRequest<I> = {
  /** One pending timer per (instance, key): scheduling the key again replaces it. */
  readonly key?: string | undefined;
  readonly input: I;
} & ({ readonly after: number; readonly at?: undefined } | { readonly at: Date | number; readonly after?: undefined });

/**
 * What accepting an input writes, besides its events. `X` is what `effects` holds: payloads, or
 * `effect(payload, options)` for payloads with options (the effect type is the payloads' union).
 */
export interface AcceptExtras<X, I> {
  /**
   * Side effects to run after the commit, through the outbox: plain payloads, or
   * `effect(payload, options)` to give one a key, tag, priority, retry policy, timeout or deadline.
   */
  // NoInfer: the effect type is inferred from the entries as given; an `effect()` entry must not
  // add a second, competing candidate for it.
  readonly effects?: readonly (X | NoInfer<EffectRequest<PayloadOf<X>>>)[] | undefined;
  /** Timers to schedule. */
  readonly timers?: readonly TimerRequest<I>[] | undefined;
  /** Keys of pending timers to cancel; cancels apply before this decision's schedules. */
  readonly cancelTimers?: readonly string[] | undefined;
  /**
   * Keys of live (pending or running) effects of this instance to cancel: a pending one never runs,
   * a running handler's signal is aborted (CANCELLED) and its result dropped. Applied before this
   * decision's effects, so cancelling key K and writing a new effect K replaces it. Unknown keys are ignored.
   */
  readonly cancelEffects?: readonly string[] | undefined;
  /**
   * Child workflows to start, each made with `startChild(workflow, input)`: committed with this
   * decision, created right after by the runtime with this instance as their parent; how each
   * ends comes back to this workflow's `onChild`.
   */
  readonly start?: readonly ChildStart[] | undefined;
}

/** An accepted input: at least one event, plus effects, timers and cancellations. */
export interface Accept<E, F = never, I = never> {
  readonly kind: 'accept';
  readonly events: readonly E[];
  /** Effect payloads, as handlers will receive them. */
  readonly effects: readonly F[];
  /** The options of `effects[i]` when it was given with `effect()`; absent when none was. */
  readonly effectOptions?: readonly (EffectOptions | undefined)[] | undefined;
  readonly timers: readonly TimerRequest<I>[];
  readonly cancelTimers: readonly string[];
  readonly cancelEffects: readonly string[];
  /** Children to start; absent when none. */
  readonly start?: readonly ChildStart[] | undefined;
}

/** A rejected input: nothing is written; the reason is returned to the caller. */
export interface Reject<R> {
  readonly kind: 'reject';
  readonly reason: R;
}

/** What `decide` returns. */
export type Decision<E, F = never, I = never, R = never> = Accept<E, F, I> | Reject<R>;

/**
 * Accepts an input with one event or a non-empty list of events.
 * @example return accept({ type: 'OrderPlaced', orderId }, { effects: [{ type: 'reserve', orderId }] });
 */
export function accept<E, X = never, I = never>(
  events: E | readonly [E, ...E[]],
  extras: AcceptExtras<X, I> = {},
): Accept<E, PayloadOf<X>, I> {
  const effects: PayloadOf<X>[] = [];
  let effectOptions: (EffectOptions | undefined)[] | undefined;
  for (const [index, entry] of (extras.effects ?? []).entries()) {
    if (isEffectRequest(entry)) {
      (effectOptions ??= new Array<EffectOptions | undefined>(index).fill(undefined)).push(entry.options);
      effects.push(entry.payload as PayloadOf<X>);
    } else {
      effectOptions?.push(undefined);
      // Not an effect() entry, so X is the payload type itself.
      effects.push(entry as PayloadOf<X>);
    }
  }
  return {
    kind: 'accept',
    events: Array.isArray(events) ? [...(events as readonly E[])] : [events as E],
    effects,
    ...(effectOptions === undefined ? {} : { effectOptions }),
    timers: extras.timers ?? [],
    cancelTimers: extras.cancelTimers ?? [],
    cancelEffects: extras.cancelEffects ?? [],
    ...(extras.start === undefined || extras.start.length === 0 ? {} : { start: [...extras.start] }),
  };
}

/** Rejects an input with a typed reason; nothing is written. */
export function reject<R>(reason: R): Reject<R> {
  return { kind: 'reject', reason };
}

/** What `decide` knows besides the input and the state. */
export interface DecideContext {
  /** The engine clock's time for this decision; recorded in each event's metadata. */
  readonly now: Date;
  readonly workflowType: string;
  readonly workflowId: string;
  /** The instance's version before this decision (0 for a new instance). */
  readonly version: number;
}

/** Given to `onDeadLetter` when an effect or timer of the workflow is dead-lettered. */
export type DeadLetterNotice<F, I> =
  | { readonly kind: 'effect'; readonly id: string; readonly effect: F; readonly attempts: number; readonly error: string }
  | { readonly kind: 'timer'; readonly id: string; readonly input: I; readonly attempts: number; readonly error: string };

/** Given to `onCancel` when an operator cancels an instance with `engine.cancel(ref, reason)`. */
export interface CancelNotice {
  readonly workflowType: string;
  readonly workflowId: string;
  /** The reason given to `engine.cancel`. */
  readonly reason: string;
}

/**
 * What happens to the effects and timers an instance still has pending or running when a decision
 * completes it: `cancel` cancels them (running handlers are aborted, their results dropped);
 * `run` lets them run, their results then answered `already-completed`. Effects and timers the
 * completing decision writes itself always run.
 */
export type TerminalPolicy = 'cancel' | 'run';

/** When to store a snapshot of the folded state, so loading skips most events. */
export interface SnapshotPolicy {
  /** Take a snapshot each time the version crosses a multiple of this number. */
  readonly every: number;
  /**
   * Snapshots taken with another revision are ignored; change it when `evolve` or the state shape changes.
   * @default '1'
   */
  readonly revision?: string | undefined;
}

/** A workflow: a pure decider plus routing and policies. Create with `defineWorkflow`. */
export interface Workflow<S, I, E, F = never, R = never> {
  /** Stable key of the workflow; never change it across deployments. */
  readonly type: string;
  /** State of an instance with no events. */
  initialState(): S;
  /** Pure fold of one event into the state. */
  evolve(state: S, event: E): S;
  /** Pure decision on an input, given the current state. */
  decide(input: I, state: S, context: DecideContext): Decision<E, F, I, R>;
  /** The instance every input belongs to (effect results and timer inputs included). */
  workflowId(input: I): string;
  /** True once the instance is finished; later inputs get `already-completed`. */
  isTerminal?(state: S): boolean;
  /** At most one active instance per key: a second instance with the same key is refused. */
  uniqueKey?(input: I): string | undefined;
  /** Validates every input before `decide` sees it (typed, `executeDynamic`, timers, routed results). */
  readonly schema?: StandardSchemaV1<unknown, I> | undefined;
  /** Validates stored effect payloads before a handler runs; a failure dead-letters the effect. */
  readonly effectSchema?: StandardSchemaV1<unknown, F> | undefined;
  /** Retry policy for this workflow's effects and timers; unset fields use the runtime's. */
  readonly retry?: Partial<RetryPolicy> | undefined;
  /**
   * When to store a snapshot of the folded state. Default: every 50 events (a state that does not
   * survive JSON, such as one holding a Date or a Map, is never snapshotted by default); `false`
   * turns snapshots off.
   */
  readonly snapshot?: SnapshotPolicy | false | undefined;
  /**
   * The version of this workflow's code. Raise it when a deploy writes effects, timers or events
   * that older code cannot handle: work records the version that wrote it, and a process running
   * an older version gives such work back for a newer process instead of failing it.
   * @default 1
   */
  readonly version?: number | undefined;
  /**
   * The version of the state's shape. Raise it when `evolve` or the state changes: snapshots of
   * another state version are ignored and the state is folded again from the events.
   * @default 1
   */
  readonly stateVersion?: number | undefined;
  /**
   * Schema versions of event payloads, per event type, with upcasters from each older version to
   * the next: `evolve` and projections always see the latest shape, and decisions write it.
   */
  readonly eventVersions?: EventVersions | undefined;
  /** Name of the input kind, for observations and logs; defaults to `input.type` when it is a string. */
  inputType?(input: I): string;
  /** Name stored with an event; defaults to `event.type` when it is a string. */
  eventType?(event: E): string;
  /**
   * Turns a stored event into the current event type before it is folded, after the upcasters of
   * `eventVersions` (prefer those: they are per type and per version, and checked).
   */
  upcast?(event: StoredEvent): E;
  /** Maps a dead-lettered effect or timer to an input, delivered atomically with the dead-lettering. */
  onDeadLetter?(notice: DeadLetterNotice<F, I>): I | undefined;
  /**
   * Opts in to handling `engine.cancel` itself: the input returned is decided like any other (run
   * compensations, then complete the instance) instead of the instance being cancelled at once.
   * Returning undefined cancels at once.
   */
  onCancel?(notice: CancelNotice): I | undefined;
  /**
   * Maps how a child this workflow started ended (completed, cancelled, failed) to an input of
   * this workflow; undefined ignores it. Without it, children's endings are not routed.
   */
  onChild?(notice: ChildNotice): I | undefined;
  /**
   * What happens to pending effects and timers when a decision completes the instance.
   * @default 'cancel'
   */
  readonly terminalPolicy?: TerminalPolicy | undefined;
  /**
   * The workflow's state machine, for diagrams (`toMermaid`, `toDot`) and instance paths
   * (`instancePath`): a view for people; `decide` stays the source of truth.
   */
  readonly stateMachine?: WorkflowStateMachine<S> | undefined;
}

/** A workflow with its types erased, as stores, registries and workers see it. */
// Method syntax keeps parameters bivariant, so every Workflow<...> is assignable to this.
export type AnyWorkflow = Workflow<unknown, unknown, unknown, unknown, unknown>;

/** The state type of a workflow. */
export type StateOf<W> = W extends Workflow<infer S, infer _I, infer _E, infer _F, infer _R> ? S : never;
/** The input type of a workflow. */
export type InputOf<W> = W extends Workflow<infer _S, infer I, infer _E, infer _F, infer _R> ? I : never;
/** The event type of a workflow. */
export type EventOf<W> = W extends Workflow<infer _S, infer _I, infer E, infer _F, infer _R> ? E : never;
/** The effect type of a workflow. */
export type EffectOf<W> = W extends Workflow<infer _S, infer _I, infer _E, infer F, infer _R> ? F : never;
/** The rejection type of a workflow. */
export type RejectionOf<W> = W extends Workflow<infer _S, infer _I, infer _E, infer _F, infer R> ? R : never;

/** The effect type carried by the accept branches of a decision type. */
export type EffectsIn<D> = D extends Accept<unknown, infer F, unknown> ? F : never;
/** The reason type carried by the reject branches of a decision type. */
export type RejectionIn<D> = D extends Reject<infer R> ? R : never;

/**
 * What `defineWorkflow` takes: a workflow whose `decide` may return any mix of accepts and
 * rejects; the effect and rejection types are read off its return type `D`.
 */
export interface WorkflowDefinition<S, I, E, D extends Decision<E, unknown, I, unknown>>
  extends Omit<Workflow<S, I, E, EffectsIn<D>, RejectionIn<D>>, 'decide'> {
  decide(input: I, state: S, context: DecideContext): D;
}

const TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/;

/**
 * Declares a workflow. State comes from `initialState`, inputs and events from the parameters of
 * `decide`/`evolve`; effect and rejection types are inferred from everything `decide` returns. The
 * type keeps its literal (`'counter'`), so unions of several workflows' records (a projection's
 * batch) narrow on `workflowType`.
 * @example
 * const counter = defineWorkflow({
 *   type: 'counter',
 *   initialState: () => ({ n: 0 }),
 *   evolve: (s, e: { type: 'Added'; by: number }) => ({ n: s.n + e.by }),
 *   decide: (input: { id: string; by: number }) => (input.by > 0 ? accept({ type: 'Added', by: input.by }) : reject('not positive')),
 *   workflowId: (input) => input.id,
 * });
 */
export function defineWorkflow<S, I, E, D extends Decision<E, unknown, I, unknown>, const T extends string = string>(
  definition: WorkflowDefinition<S, I, E, D> & { readonly type: T },
): Workflow<S, I, E, EffectsIn<D>, RejectionIn<D>> & { readonly type: T } {
  if (typeof definition.type !== 'string' || !TYPE_PATTERN.test(definition.type)) {
    throw invalidArgument(
      `Workflow type ${JSON.stringify(definition.type)} must start with a letter and use at most 128 of A-Z a-z 0-9 _ . : -`,
    );
  }
  const policy: unknown = definition.terminalPolicy;
  if (policy !== undefined && policy !== 'cancel' && policy !== 'run') {
    throw invalidArgument(`terminalPolicy must be 'cancel' or 'run', got ${JSON.stringify(policy)}`);
  }
  checkVersioning(definition);
  if (definition.snapshot !== undefined && definition.snapshot !== false) {
    const { every } = definition.snapshot;
    if (!Number.isInteger(every) || every < 1) throw invalidArgument(`snapshot.every must be a whole number >= 1, got ${every}`);
  }
  const stateMachine =
    definition.stateMachine === undefined ? undefined : checkWorkflowStateMachine(definition.stateMachine, definition.initialState());
  // D is a union of Accept<E, F_i, I> and Reject<R_j>; EffectsIn/RejectionIn collect exactly those
  // F_i and R_j, so D is a Decision<E, EffectsIn<D>, I, RejectionIn<D>>. TypeScript cannot relate a
  // generic to its own conditional types, hence the widening through unknown.
  const workflow: unknown = Object.freeze({ ...definition, ...(stateMachine === undefined ? {} : { stateMachine }) });
  return workflow as Workflow<S, I, E, EffectsIn<D>, RejectionIn<D>> & { readonly type: T };
}

/** Checks the workflow-type pattern; exported so stores and the runtime reject the same strings. */
export function isValidWorkflowType(type: unknown): type is string {
  return typeof type === 'string' && TYPE_PATTERN.test(type);
}
