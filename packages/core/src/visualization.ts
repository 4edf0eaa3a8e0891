// State-machine visualization: the machine a workflow declares (states, terminal states, transitions
// labelled with their input, effects and timers), rendered as Mermaid or DOT in the text format of
// the Rust crate, and the path one instance took through it, folded from its stored events.
import { invalidArgument } from './errors.js';
import { foldEvents } from './execute.js';
import type { StoredEvent } from './store/port.js';
import type { Workflow } from './workflow.js';

/** One state of a machine; `name` is what `statusOf` returns for it. */
export interface StateDefinition {
  /** Identifier-like: `[A-Za-z_][A-Za-z0-9_]*`, and not a keyword of Mermaid or DOT. */
  readonly name: string;
  /**
   * The instance is finished in this state.
   * @default false
   */
  readonly terminal?: boolean | undefined;
  /** For readers of the definition; not rendered. */
  readonly description?: string | undefined;
}

/** One transition `decide` can take: on `input` from `from` to `to`, with what it schedules. */
export interface TransitionDefinition {
  readonly from: string;
  readonly to: string;
  /** The input kind, as the events' `metadata.inputType` records it (`input.type` by default). */
  readonly input: string;
  /** Names of the effects the transition may write. */
  readonly effects?: readonly string[] | undefined;
  /** Names of the timers the transition may schedule. */
  readonly timers?: readonly string[] | undefined;
  /** For readers of the definition; not rendered. */
  readonly description?: string | undefined;
}

/** A workflow's state machine, as `defineStateMachine` checks it: a UI view; `decide` stays the truth. */
export interface StateMachine {
  /** The state of an instance with no events. */
  readonly initial: string;
  readonly states: readonly StateDefinition[];
  readonly transitions: readonly TransitionDefinition[];
}

/** What a workflow declares as `stateMachine`: the machine, and which of its states a folded state is in. */
export interface WorkflowStateMachine<S> {
  readonly machine: StateMachine;
  /** The name of the machine's state that `state` is in; `statusOf(initialState())` must be `machine.initial`. */
  statusOf(state: S): string;
}

/** One event of an instance after which its status differed from the status before it. */
export interface PathStep {
  /** The event's sequence in the instance (1, 2, 3…). */
  readonly sequence: number;
  readonly from: string;
  readonly to: string;
  /** The kind of the input decided, from the event's `metadata.inputType`; absent when not recorded. */
  readonly inputType?: string | undefined;
  /** The event's stored type. */
  readonly eventType: string;
  /** When the event was recorded (epoch ms). */
  readonly at: number;
}

/** The path one instance took through its workflow's machine: its status changes, and where it is now. */
export interface InstancePath {
  readonly steps: readonly PathStep[];
  /** The state the instance is in after its last event. */
  readonly current: string;
  /** Whether the machine marks `current` terminal. */
  readonly terminal: boolean;
}

/** Options of `toMermaid` and `toDot`. */
export interface RenderOptions {
  /**
   * Highlights an instance's path (from `instancePath`): the states it went through and the one it
   * is in, and in DOT the transitions it took. Without it the output is the Rust crate's, byte for byte.
   */
  readonly path?: InstancePath | undefined;
}

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Words a state may not be named, whatever their case: Mermaid's state-diagram keywords (a line
 * starting with one is read as that statement) and DOT's keywords (not valid as bare node ids).
 */
const RESERVED_NAMES: ReadonlySet<string> = new Set(['state', 'note', 'class', 'classdef', 'style', 'click', 'scale', 'node', 'edge', 'graph', 'digraph', 'subgraph', 'strict']);

/** Why `name` cannot be a state name, or undefined when it can. */
function nameProblem(name: string): string | undefined {
  if (!NAME_PATTERN.test(name)) return 'must match [A-Za-z_][A-Za-z0-9_]* (Mermaid and DOT node ids)';
  const lower = name.toLowerCase();
  if (RESERVED_NAMES.has(lower)) return 'is a keyword of Mermaid or DOT';
  // Mermaid reads `default` as a keyword, and before version 11 wherever a token starts with it.
  if (lower.startsWith('default')) return 'starts with "default", a Mermaid keyword';
  return undefined;
}

// Control characters end a Mermaid line (and have no place in a label); `;` ends a Mermaid
// statement, and `:` a transition label before Mermaid 11; `%%` starts a comment or directive.
const LABEL_FORBIDDEN = /[\u0000-\u001f\u007f:;]|%%/;
// Mermaid reads any line containing "direction TB" (or BT, RL, LR) as a direction statement.
const MERMAID_DIRECTION = /direction\s+(?:tb|bt|rl|lr)/i;

/** Why `label` cannot be an input, effect or timer name, or undefined when it can. */
function labelProblem(label: string): string | undefined {
  if (label.trim() === '') return 'must not be blank';
  if (label !== label.trim()) return 'must not start or end with white space';
  if (LABEL_FORBIDDEN.test(label)) return 'must not contain control characters, ":", ";" or "%%" (they end a Mermaid label)';
  if (MERMAID_DIRECTION.test(label)) return 'must not contain "direction TB|BT|RL|LR" (Mermaid reads the line as a direction)';
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value !== undefined && typeof value !== 'string') throw invalidArgument(`${what} must be a string, got ${typeof value}`);
  return value;
}

function label(value: unknown, what: string): string {
  if (typeof value !== 'string') throw invalidArgument(`${what} must be a string, got ${typeof value}`);
  const problem = labelProblem(value);
  if (problem !== undefined) throw invalidArgument(`${what} ${JSON.stringify(value)} ${problem}`);
  return value;
}

function labels(value: unknown, what: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw invalidArgument(`${what} must be an array of names`);
  return Object.freeze(value.map((entry: unknown, index) => label(entry, `${what}[${index}]`)));
}

function checkState(value: unknown, index: number): StateDefinition {
  const what = `states[${index}]`;
  if (!isObject(value)) throw invalidArgument(`${what} must be an object`);
  if (typeof value.name !== 'string') throw invalidArgument(`${what}.name must be a string, got ${typeof value.name}`);
  const problem = nameProblem(value.name);
  if (problem !== undefined) throw invalidArgument(`State name ${JSON.stringify(value.name)} ${problem}`);
  if (value.terminal !== undefined && typeof value.terminal !== 'boolean') throw invalidArgument(`${what}.terminal must be a boolean`);
  const description = optionalString(value.description, `${what}.description`);
  return Object.freeze({
    name: value.name,
    ...(value.terminal === true ? { terminal: true } : {}),
    ...(description === undefined ? {} : { description }),
  });
}

function checkTransition(value: unknown, index: number, states: ReadonlySet<string>): TransitionDefinition {
  const what = `transitions[${index}]`;
  if (!isObject(value)) throw invalidArgument(`${what} must be an object`);
  for (const end of ['from', 'to'] as const) {
    const name = value[end];
    if (typeof name !== 'string' || !states.has(name)) {
      throw invalidArgument(`${what}.${end} ${JSON.stringify(name)} is not a declared state`, { transition: index });
    }
  }
  const input = label(value.input, `${what}.input`);
  const effects = labels(value.effects, `${what}.effects`);
  const timers = labels(value.timers, `${what}.timers`);
  const description = optionalString(value.description, `${what}.description`);
  return Object.freeze({
    from: value.from as string,
    to: value.to as string,
    input,
    ...(effects === undefined ? {} : { effects }),
    ...(timers === undefined ? {} : { timers }),
    ...(description === undefined ? {} : { description }),
  });
}

/** Machines `defineStateMachine` returned: frozen, so there is no need to check them again. */
const checked = new WeakSet<StateMachine>();

/**
 * Checks a state machine and returns it frozen. Unknown states, duplicate or badly formed names
 * and labels Mermaid or DOT cannot carry throw `INVALID_ARGUMENT`.
 * @example
 * const machine = defineStateMachine({
 *   initial: 'New',
 *   states: [{ name: 'New' }, { name: 'Placed' }, { name: 'Paid', terminal: true }],
 *   transitions: [
 *     { from: 'New', to: 'Placed', input: 'Place', effects: ['charge'], timers: ['expiry'] },
 *     { from: 'Placed', to: 'Paid', input: 'Paid' },
 *   ],
 * });
 */
export function defineStateMachine(definition: StateMachine): StateMachine {
  if (!isObject(definition)) throw invalidArgument('A state machine must be an object');
  if (!Array.isArray(definition.states)) throw invalidArgument('states must be an array');
  if (!Array.isArray(definition.transitions)) throw invalidArgument('transitions must be an array');
  const states = definition.states.map(checkState);
  const names = new Set<string>();
  for (const state of states) {
    if (names.has(state.name)) throw invalidArgument(`State ${JSON.stringify(state.name)} is declared twice`);
    names.add(state.name);
  }
  if (typeof definition.initial !== 'string' || !names.has(definition.initial)) {
    throw invalidArgument(`initial ${JSON.stringify(definition.initial)} is not a declared state`);
  }
  const transitions = definition.transitions.map((transition, index) => checkTransition(transition, index, names));
  const seen = new Set<string>();
  for (const { from, to, input } of transitions) {
    const key = JSON.stringify([from, to, input]);
    if (seen.has(key)) throw invalidArgument(`The transition ${from} -> ${to} on ${JSON.stringify(input)} is declared twice`);
    seen.add(key);
  }
  const machine = Object.freeze({ initial: definition.initial, states: Object.freeze(states), transitions: Object.freeze(transitions) });
  checked.add(machine);
  return machine;
}

/**
 * Checks what a workflow declares as `stateMachine` against its initial state; `defineWorkflow`
 * calls it. Returns the declaration with its machine checked and frozen.
 */
export function checkWorkflowStateMachine<S>(declared: WorkflowStateMachine<S>, initialState: S): WorkflowStateMachine<S> {
  if (!isObject(declared)) throw invalidArgument('stateMachine must be an object { machine, statusOf }');
  if (typeof declared.statusOf !== 'function') throw invalidArgument('stateMachine.statusOf must be a function');
  const machine = checked.has(declared.machine) ? declared.machine : defineStateMachine(declared.machine);
  const initial = declared.statusOf(initialState);
  if (initial !== machine.initial) {
    throw invalidArgument(
      `stateMachine.statusOf(initialState()) is ${JSON.stringify(initial)}, but the machine's initial state is ${JSON.stringify(machine.initial)}`,
    );
  }
  const statusOf = declared.statusOf.bind(declared);
  return Object.freeze({ machine, statusOf });
}

/** The crate's label parts of a transition: the input, then `[effects]`, then the timers after `timerPrefix`. */
function labelParts(transition: TransitionDefinition, timerPrefix: string): string[] {
  const parts = [transition.input];
  if (transition.effects !== undefined && transition.effects.length > 0) parts.push(`[${transition.effects.join(', ')}]`);
  if (transition.timers !== undefined && transition.timers.length > 0) parts.push(`${timerPrefix}${transition.timers.join(', ')}`);
  return parts;
}

/** What a path highlights: the states it passed through, where it is, and the transitions it took. */
interface Highlight {
  readonly visited: ReadonlySet<string>;
  readonly current: string;
  readonly took: (transition: TransitionDefinition) => boolean;
}

function highlightOf(machine: StateMachine, path: InstancePath): Highlight {
  const names = new Set(machine.states.map((state) => state.name));
  const foreign = [path.current, ...path.steps.flatMap((step) => [step.from, step.to])].find((name) => !names.has(name));
  if (foreign !== undefined) throw invalidArgument(`The path names state ${JSON.stringify(foreign)}, which this machine does not declare`);
  const visited = new Set(path.steps.flatMap((step) => [step.from, step.to]));
  visited.delete(path.current);
  return {
    visited,
    current: path.current,
    // A step without a recorded input kind matches every transition between its two states.
    took: (transition) =>
      path.steps.some(
        (step) => step.from === transition.from && step.to === transition.to && (step.inputType === undefined || step.inputType === transition.input),
      ),
  };
}

/**
 * Renders the machine as a Mermaid `stateDiagram-v2`, in the Rust crate's format. With `path`,
 * states the instance went through get class `visited` and the state it is in class `current`
 * (Mermaid state diagrams cannot style transitions).
 * @example const text = toMermaid(machine, { path: instancePath(workflow, await engine.getEvents(ref)) });
 */
export function toMermaid(machine: StateMachine, options: RenderOptions = {}): string {
  const lines = ['stateDiagram-v2', `    [*] --> ${machine.initial}`];
  for (const transition of machine.transitions) {
    lines.push(`    ${transition.from} --> ${transition.to} : ${labelParts(transition, '⏱').join(' ')}`);
  }
  for (const state of machine.states) if (state.terminal === true) lines.push(`    ${state.name} --> [*]`);
  if (options.path !== undefined) {
    const highlight = highlightOf(machine, options.path);
    lines.push('    classDef visited fill:#eff6ff,stroke:#2563eb', '    classDef current fill:#dbeafe,stroke:#2563eb,stroke-width:3px');
    for (const state of machine.states) if (highlight.visited.has(state.name)) lines.push(`    class ${state.name} visited`);
    lines.push(`    class ${highlight.current} current`);
  }
  return lines.join('\n');
}

/** A DOT double-quoted string's content: `\` and `"` escaped. */
function dotEscape(text: string): string {
  return text.replace(/[\\"]/g, (c) => `\\${c}`);
}

/**
 * Renders the machine as a Graphviz DOT digraph, in the Rust crate's format (labels escaped). With
 * `path`, the transitions the instance took are drawn blue and thick and the state it is in filled.
 * @example writeFileSync('order.dot', toDot(machine));
 */
export function toDot(machine: StateMachine, options: RenderOptions = {}): string {
  const highlight = options.path === undefined ? undefined : highlightOf(machine, options.path);
  const lines = ['digraph workflow {', '    rankdir=LR;', '    node [shape=box];', ''];
  for (const transition of machine.transitions) {
    // The parts are joined by a literal backslash-n, DOT's line break inside a label.
    const text = labelParts(transition, 'timer:').map(dotEscape).join('\\n');
    const style = highlight?.took(transition) === true ? ' color="#2563eb" penwidth=2' : '';
    lines.push(`    ${transition.from} -> ${transition.to} [label="${text}"${style}];`);
  }
  lines.push('');
  for (const state of machine.states) if (state.terminal === true) lines.push(`    ${state.name} [shape=doublecircle];`);
  if (highlight !== undefined) lines.push('', `    ${highlight.current} [style=filled fillcolor="#dbeafe"];`);
  lines.push('}');
  return lines.join('\n');
}

/**
 * The path an instance took through its workflow's declared machine, from its stored events (for
 * example `engine.getEvents(ref)`, on any store). The events are folded as loading folds them
 * (upcast first); a step is one event after which `statusOf` differs from before it, labelled
 * with the input kind recorded with the event. Events that leave the status as it was make no
 * step, so self-loops do not show; a decision whose events move the status twice makes two steps.
 * @example const path = instancePath(orders, await engine.getEvents({ type: 'order', id: 'o-1' }));
 */
export function instancePath<S>(workflow: Workflow<S, unknown, unknown, unknown, unknown>, events: readonly StoredEvent[]): InstancePath {
  const declared = workflow.stateMachine;
  if (declared === undefined) throw invalidArgument(`Workflow ${workflow.type} declares no stateMachine`);
  const { machine, statusOf } = declared;
  const terminal = new Map(machine.states.map((state) => [state.name, state.terminal === true]));
  const statusIn = (state: S, sequence: number): string => {
    const status = statusOf(state);
    if (!terminal.has(status)) {
      throw invalidArgument(`stateMachine.statusOf of ${workflow.type} returned ${JSON.stringify(status)}${sequence > 0 ? ` after event ${sequence}` : ''}, which the machine does not declare`);
    }
    return status;
  };
  let state = workflow.initialState();
  let status = statusIn(state, 0);
  const steps: PathStep[] = [];
  let previous: StoredEvent | undefined;
  for (const event of events) {
    if (event.workflowType !== workflow.type) throw invalidArgument(`Event ${event.sequence} belongs to workflow type ${event.workflowType}, not ${workflow.type}`);
    if (previous !== undefined && (event.workflowId !== previous.workflowId || event.sequence <= previous.sequence)) {
      throw invalidArgument(`Events must be one instance's, in sequence order; event ${event.sequence} of ${event.workflowId} follows ${previous.sequence} of ${previous.workflowId}`);
    }
    previous = event;
    state = foldEvents(workflow, state, [event]);
    const next = statusIn(state, event.sequence);
    if (next !== status) {
      const { inputType } = event.metadata;
      steps.push({ sequence: event.sequence, from: status, to: next, ...(inputType === undefined ? {} : { inputType }), eventType: event.type, at: event.recordedAt });
      status = next;
    }
  }
  return { steps, current: status, terminal: terminal.get(status) === true };
}
