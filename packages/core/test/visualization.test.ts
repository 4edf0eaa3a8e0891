// State-machine visualization: the machine a workflow declares, its Mermaid and DOT text (golden,
// in the Rust crate's format), the checks on names and labels, and an instance's path from events.
import { describe, expect, it } from 'vitest';
import { accept, defineStateMachine, defineWorkflow, instancePath, toDot, toMermaid, type StateMachine, type StoredEvent } from '../src/index.js';

/** The example of the crate's own docs: no effects or timers, two terminal states. */
const crateExample = defineStateMachine({
  initial: 'created',
  states: [{ name: 'created' }, { name: 'paid' }, { name: 'shipped' }, { name: 'completed', terminal: true }, { name: 'cancelled', terminal: true }],
  transitions: [
    { from: 'created', to: 'paid', input: 'Pay' },
    { from: 'created', to: 'cancelled', input: 'Cancel' },
    { from: 'paid', to: 'shipped', input: 'Ship' },
    { from: 'shipped', to: 'completed', input: 'Deliver' },
  ],
});

/** A ticket: effects and timers, each alone and together, a self-loop, two terminal states. */
const ticket = defineStateMachine({
  initial: 'New',
  states: [{ name: 'New' }, { name: 'Open', description: 'waiting for an agent' }, { name: 'Solved', terminal: true }, { name: 'Closed', terminal: true }],
  transitions: [
    { from: 'New', to: 'Open', input: 'Submit', effects: ['NotifyAgent', 'SendReceipt'], timers: ['sla'] },
    { from: 'Open', to: 'Open', input: 'Remind', timers: ['reminder', 'escalation'] },
    { from: 'Open', to: 'Solved', input: 'Solve', effects: ['SendSurvey'] },
    { from: 'Open', to: 'Closed', input: 'SlaBreached', effects: [], timers: [], description: 'the sla timer fired' },
  ],
});

const TICKET_MERMAID = `stateDiagram-v2
    [*] --> New
    New --> Open : Submit [NotifyAgent, SendReceipt] ⏱sla
    Open --> Open : Remind ⏱reminder, escalation
    Open --> Solved : Solve [SendSurvey]
    Open --> Closed : SlaBreached
    Solved --> [*]
    Closed --> [*]`;

const TICKET_DOT = `digraph workflow {
    rankdir=LR;
    node [shape=box];

    New -> Open [label="Submit\\n[NotifyAgent, SendReceipt]\\ntimer:sla"];
    Open -> Open [label="Remind\\ntimer:reminder, escalation"];
    Open -> Solved [label="Solve\\n[SendSurvey]"];
    Open -> Closed [label="SlaBreached"];

    Solved [shape=doublecircle];
    Closed [shape=doublecircle];
}`;

describe('rendering, in the Rust crate format', () => {
  it('toMermaid of the crate documentation example is its documented text', () => {
    expect(toMermaid(crateExample)).toBe(`stateDiagram-v2
    [*] --> created
    created --> paid : Pay
    created --> cancelled : Cancel
    paid --> shipped : Ship
    shipped --> completed : Deliver
    completed --> [*]
    cancelled --> [*]`);
  });

  it('toDot of the crate documentation example is its documented text', () => {
    expect(toDot(crateExample)).toBe(`digraph workflow {
    rankdir=LR;
    node [shape=box];

    created -> paid [label="Pay"];
    created -> cancelled [label="Cancel"];
    paid -> shipped [label="Ship"];
    shipped -> completed [label="Deliver"];

    completed [shape=doublecircle];
    cancelled [shape=doublecircle];
}`);
  });

  it('labels list effects in brackets and timers after ⏱ (Mermaid) or timer: (DOT); empty lists are left out', () => {
    expect(toMermaid(ticket)).toBe(TICKET_MERMAID);
    expect(toDot(ticket)).toBe(TICKET_DOT);
  });

  it('a machine with no terminal state and no transition still has every fixed line', () => {
    const lone = defineStateMachine({ initial: 'Only', states: [{ name: 'Only' }], transitions: [] });
    expect(toMermaid(lone)).toBe('stateDiagram-v2\n    [*] --> Only');
    expect(toDot(lone)).toBe('digraph workflow {\n    rankdir=LR;\n    node [shape=box];\n\n\n}');
  });

  it('DOT labels escape double quotes and backslashes; Mermaid keeps them as they are', () => {
    const quoted = defineStateMachine({
      initial: 'A',
      states: [{ name: 'A' }, { name: 'B' }],
      transitions: [{ from: 'A', to: 'B', input: 'say "hi"', effects: ['C\\temp'], timers: ['back\\slash'] }],
    });
    expect(toDot(quoted).split('\n')[4]).toBe('    A -> B [label="say \\"hi\\"\\n[C\\\\temp]\\ntimer:back\\\\slash"];');
    expect(toMermaid(quoted).split('\n')[2]).toBe('    A --> B : say "hi" [C\\temp] ⏱back\\slash');
  });
});

describe('defineStateMachine', () => {
  const base: StateMachine = { initial: 'A', states: [{ name: 'A' }, { name: 'B' }], transitions: [{ from: 'A', to: 'B', input: 'Go' }] };
  const invalid = (machine: unknown, message: RegExp) =>
    expect(() => defineStateMachine(machine as StateMachine)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) }));

  it('returns the machine checked and frozen, states and transitions included', () => {
    const machine = defineStateMachine(base);
    expect(machine).toEqual(base);
    expect(Object.isFrozen(machine) && Object.isFrozen(machine.states) && Object.isFrozen(machine.transitions[0])).toBe(true);
    expect(Object.isFrozen(ticket.transitions[0]?.effects)).toBe(true);
  });

  it('refuses transitions and an initial state naming undeclared states', () => {
    invalid({ ...base, initial: 'Z' }, /initial "Z" is not a declared state/);
    invalid({ ...base, transitions: [{ from: 'A', to: 'Z', input: 'Go' }] }, /transitions\[0\]\.to "Z" is not a declared state/);
    invalid({ ...base, transitions: [{ from: 'Y', to: 'B', input: 'Go' }] }, /transitions\[0\]\.from "Y" is not a declared state/);
  });

  it('refuses duplicate state names and duplicate transitions', () => {
    invalid({ ...base, states: [{ name: 'A' }, { name: 'B' }, { name: 'A' }] }, /State "A" is declared twice/);
    invalid({ ...base, transitions: [base.transitions[0], { from: 'A', to: 'B', input: 'Go', effects: ['x'] }] }, /A -> B on "Go" is declared twice/);
  });

  it('refuses state names that are empty, not identifier-like, or keywords of Mermaid or DOT', () => {
    for (const name of ['', '1st', 'has space', 'a-b', 'x:y', 'é', 'a.b', '[*]']) {
      invalid({ initial: name, states: [{ name }], transitions: [] }, /must match \[A-Za-z_\]/);
    }
    for (const name of ['state', 'Note', 'CLASS', 'classDef', 'style', 'click', 'scale', 'node', 'Edge', 'graph', 'digraph', 'subgraph', 'strict']) {
      invalid({ initial: name, states: [{ name }], transitions: [] }, /is a keyword of Mermaid or DOT/);
    }
    invalid({ initial: 'default', states: [{ name: 'default' }], transitions: [] }, /starts with "default"/);
    invalid({ initial: 'DefaultPath', states: [{ name: 'DefaultPath' }], transitions: [] }, /starts with "default"/);
    // Identifier-like names that merely contain a keyword are fine, and so are Mermaid's words that are not statements.
    const names = ['States', 'my_node', 'end', 'direction', 'fork', 'choice'];
    expect(defineStateMachine({ initial: 'States', states: names.map((name) => ({ name })), transitions: [] }).states).toHaveLength(names.length);
  });

  it('refuses input, effect and timer names that would break a Mermaid line', () => {
    const withLabel = (field: 'input' | 'effects' | 'timers', value: string) =>
      ({ ...base, transitions: [field === 'input' ? { from: 'A', to: 'B', input: value } : { from: 'A', to: 'B', input: 'Go', [field]: [value] }] });
    for (const [value, message] of [
      ['', /must not be blank/],
      ['   ', /must not be blank/],
      [' padded', /must not start or end with white space/],
      ['a:b', /control characters, ":", ";" or "%%"/],
      ['a;b', /control characters/],
      ['two\nlines', /control characters/],
      ['tab\there', /control characters/],
      ['50%% off', /"%%"/],
      ['set direction LR now', /direction TB\|BT\|RL\|LR/],
    ] as const) {
      invalid(withLabel('input', value), message);
      invalid(withLabel('effects', value), message);
      invalid(withLabel('timers', value), message);
    }
    invalid({ ...base, transitions: [{ from: 'A', to: 'B', input: 7 }] }, /transitions\[0\]\.input must be a string/);
    invalid({ ...base, transitions: [{ from: 'A', to: 'B', input: 'Go', effects: 'x' }] }, /effects must be an array/);
    // Spaces, quotes, brackets and other punctuation are fine.
    expect(defineStateMachine(withLabel('effects', 'start "shipment" (child) #1, [x]')).transitions[0]?.effects).toEqual(['start "shipment" (child) #1, [x]']);
  });

  it('refuses malformed definitions', () => {
    invalid(null, /must be an object/);
    invalid({ initial: 'A', states: 'A', transitions: [] }, /states must be an array/);
    invalid({ initial: 'A', states: [{ name: 'A' }] }, /transitions must be an array/);
    invalid({ initial: 'A', states: ['A'], transitions: [] }, /states\[0\] must be an object/);
    invalid({ initial: 'A', states: [{ name: 'A', terminal: 'yes' }], transitions: [] }, /terminal must be a boolean/);
    invalid({ ...base, transitions: [null] }, /transitions\[0\] must be an object/);
  });
});

// A counter that upcasts its old `Incremented` events; done at 3.
type CounterEvent = { type: 'Added'; by: number } | { type: 'Reset' };
const counterMachine = defineStateMachine({
  initial: 'Zero',
  states: [{ name: 'Zero' }, { name: 'Counting' }, { name: 'Done', terminal: true }],
  transitions: [
    { from: 'Zero', to: 'Counting', input: 'Add' },
    { from: 'Counting', to: 'Counting', input: 'Add' },
    { from: 'Counting', to: 'Done', input: 'Add' },
    { from: 'Counting', to: 'Zero', input: 'Reset' },
  ],
});
const statusOf = (state: { n: number }): string => (state.n === 0 ? 'Zero' : state.n >= 3 ? 'Done' : 'Counting');
const counter = defineWorkflow({
  type: 'counter',
  initialState: () => ({ n: 0 }),
  evolve: (s: { n: number }, e: CounterEvent) => ({ n: e.type === 'Reset' ? 0 : s.n + e.by }),
  decide: (input: { id: string; type: 'Add' | 'Reset' }) => accept<CounterEvent>(input.type === 'Add' ? { type: 'Added', by: 1 } : { type: 'Reset' }),
  workflowId: (input) => input.id,
  upcast: (stored: StoredEvent): CounterEvent =>
    stored.type === 'Incremented' ? { type: 'Added', by: (stored.payload as { amount: number }).amount } : (stored.payload as CounterEvent),
  stateMachine: { machine: counterMachine, statusOf },
});

function stored(sequence: number, type: string, payload: unknown, inputType?: string, workflowId = 'c-1'): StoredEvent {
  return { workflowType: 'counter', workflowId, sequence, type, payload, metadata: { decidedAt: 1_000 * sequence, ...(inputType ? { inputType } : {}) }, recordedAt: 1_000 * sequence + 7 };
}

/** Added 1, Added 1 (no status change), Reset, an old Incremented of 3 (upcast), with one event lacking its input kind. */
const EVENTS: readonly StoredEvent[] = [
  stored(1, 'Added', { type: 'Added', by: 1 }, 'Add'),
  stored(2, 'Added', { type: 'Added', by: 1 }, 'Add'),
  stored(3, 'Reset', { type: 'Reset' }, 'Reset'),
  stored(4, 'Incremented', { amount: 3 }),
];

describe('a workflow that declares its machine', () => {
  it('defineWorkflow keeps the declaration, with its machine checked', () => {
    expect(counter.stateMachine?.machine).toBe(counterMachine);
    expect(counter.stateMachine?.statusOf({ n: 2 })).toBe('Counting');
    expect(Object.isFrozen(counter.stateMachine)).toBe(true);
  });

  it('defineWorkflow refuses a statusOf whose initial state is not the machine initial state', () => {
    expect(() => defineWorkflow({ ...counter, type: 'off', stateMachine: { machine: counterMachine, statusOf: () => 'Counting' } })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: `stateMachine.statusOf(initialState()) is "Counting", but the machine's initial state is "Zero"` }),
    );
  });

  it('defineWorkflow checks a machine not made with defineStateMachine, and statusOf', () => {
    const unchecked = { initial: 'Zero', states: [{ name: 'Zero' }], transitions: [{ from: 'Zero', to: 'Nowhere', input: 'Add' }] };
    expect(() => defineWorkflow({ ...counter, stateMachine: { machine: unchecked, statusOf } })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('"Nowhere" is not a declared state') }));
    expect(() => defineWorkflow({ ...counter, stateMachine: { machine: counterMachine, statusOf: 'Zero' as unknown as typeof statusOf } })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'stateMachine.statusOf must be a function' }),
    );
  });
});

describe('instancePath', () => {
  it('has one step per event that changed the status, with the input kind and time of that event; upcast events fold as loading folds them', () => {
    expect(instancePath(counter, EVENTS)).toEqual({
      steps: [
        { sequence: 1, from: 'Zero', to: 'Counting', inputType: 'Add', eventType: 'Added', at: 1_007 },
        { sequence: 3, from: 'Counting', to: 'Zero', inputType: 'Reset', eventType: 'Reset', at: 3_007 },
        { sequence: 4, from: 'Zero', to: 'Done', eventType: 'Incremented', at: 4_007 },
      ],
      current: 'Done',
      terminal: true,
    });
  });

  it('an instance with no events is in the initial state, with no steps', () => {
    expect(instancePath(counter, [])).toEqual({ steps: [], current: 'Zero', terminal: false });
    expect(instancePath(counter, EVENTS.slice(0, 2))).toMatchObject({ current: 'Counting', terminal: false });
  });

  it('refuses a workflow without a machine, a statusOf outside the machine, and events of another workflow, instance or order', () => {
    const plain = defineWorkflow({ ...counter, stateMachine: undefined });
    expect(() => instancePath(plain, EVENTS)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'Workflow counter declares no stateMachine' }));
    const lying = defineWorkflow({ ...counter, stateMachine: { machine: counterMachine, statusOf: (s: { n: number }) => (s.n === 0 ? 'Zero' : 'Busy') } });
    expect(() => instancePath(lying, EVENTS)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('returned "Busy" after event 1') }));
    expect(() => instancePath(counter, [{ ...EVENTS[0]!, workflowType: 'other' }])).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => instancePath(counter, [EVENTS[1]!, EVENTS[0]!])).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('in sequence order') }));
    expect(() => instancePath(counter, [EVENTS[0]!, stored(2, 'Added', { type: 'Added', by: 1 }, 'Add', 'c-2')])).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('an event evolve cannot fold raises EVOLVE_FAILED, as loading does', () => {
    const broken = stored(1, 'Added', null, 'Add');
    const { upcast: _upcast, ...withoutUpcast } = counter;
    const strict = defineWorkflow(withoutUpcast);
    expect(() => instancePath(strict, [broken])).toThrowError(expect.objectContaining({ code: 'EVOLVE_FAILED' }));
  });
});

describe('rendering a path', () => {
  const path = instancePath(counter, EVENTS.slice(0, 2));

  it('Mermaid appends the classes visited and current, and the state each is on', () => {
    expect(toMermaid(counterMachine, { path })).toBe(`stateDiagram-v2
    [*] --> Zero
    Zero --> Counting : Add
    Counting --> Counting : Add
    Counting --> Done : Add
    Counting --> Zero : Reset
    Done --> [*]
    classDef visited fill:#eff6ff,stroke:#2563eb
    classDef current fill:#dbeafe,stroke:#2563eb,stroke-width:3px
    class Zero visited
    class Counting current`);
  });

  it('DOT draws the transitions taken blue and thick and fills the current state', () => {
    const full = instancePath(counter, EVENTS);
    expect(toDot(counterMachine, { path: full })).toBe(`digraph workflow {
    rankdir=LR;
    node [shape=box];

    Zero -> Counting [label="Add" color="#2563eb" penwidth=2];
    Counting -> Counting [label="Add"];
    Counting -> Done [label="Add"];
    Counting -> Zero [label="Reset" color="#2563eb" penwidth=2];

    Done [shape=doublecircle];

    Done [style=filled fillcolor="#dbeafe"];
}`);
  });

  it('a step without an input kind highlights every transition between its two states; one with a kind only those on that input', () => {
    const machine = defineStateMachine({
      initial: 'A',
      states: [{ name: 'A' }, { name: 'B' }],
      transitions: [{ from: 'A', to: 'B', input: 'X' }, { from: 'A', to: 'B', input: 'Y' }],
    });
    const step = { sequence: 1, from: 'A', to: 'B', eventType: 'E', at: 0 };
    const edges = (text: string) => text.split('\n').filter((line) => line.includes('->'));
    expect(edges(toDot(machine, { path: { steps: [step], current: 'B', terminal: false } })).map((line) => line.includes('penwidth'))).toEqual([true, true]);
    expect(edges(toDot(machine, { path: { steps: [{ ...step, inputType: 'Y' }], current: 'B', terminal: false } })).map((line) => line.includes('penwidth'))).toEqual([false, true]);
  });

  it('a path with no steps marks only the current state', () => {
    const start = instancePath(counter, []);
    expect(toMermaid(counterMachine, { path: start }).split('\n').slice(-3)).toEqual([
      '    classDef visited fill:#eff6ff,stroke:#2563eb',
      '    classDef current fill:#dbeafe,stroke:#2563eb,stroke-width:3px',
      '    class Zero current',
    ]);
    expect(toDot(counterMachine, { path: start })).not.toContain('penwidth');
  });

  it('without a path the text is the crate text; a path naming states the machine lacks is refused', () => {
    expect(toMermaid(ticket, {})).toBe(TICKET_MERMAID);
    expect(toDot(ticket, { path: undefined })).toBe(TICKET_DOT);
    expect(() => toMermaid(ticket, { path })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('"Counting"') }));
    expect(() => toDot(ticket, { path })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
