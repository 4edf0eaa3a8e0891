// The malformed calls of the bad-input family, one table per port method, derived from the kit's
// rules (packages/core/src/store/rules.ts). Each case is a well-formed call with one thing broken.
import { MAX_VERSION, type Lease, type ProjectionLease, type WorkflowRef, type WorkflowStore } from '@ironflow/core/store';
import { eventsFor } from './context.js';

/** The port methods that take arguments. */
export type PortMethod = Exclude<keyof WorkflowStore, 'name' | 'close' | 'projectionTransactions'>;

/** What the cases are built on: rows seeded by the family, at a time when their leases are live. */
export interface BadInputWorld {
  readonly type: string;
  /** At version `mainVersion`; holds unique key `held-by-main`, idempotency key `idem-1`, a pending timer keyed `pending-key`. */
  readonly main: WorkflowRef;
  readonly mainVersion: number;
  /** Holds unique key `held-by-other`. */
  readonly other: WorkflowRef;
  /** Does not exist; commits that create an instance target it. */
  readonly fresh: WorkflowRef;
  /** A live lease on an effect of `main`, and one on a timer of `main`. */
  readonly effectLease: Lease;
  readonly timerLease: Lease;
  /** A dead effect of `main`. */
  readonly deadEffect: string;
  /** A time at which both leases are live and a pending effect and timer are claimable. */
  readonly now: number;
  /** A projection held by `projectionLease` (live at `now`), with one parked dead letter. */
  readonly projection: string;
  readonly projectionLease: ProjectionLease;
  readonly projectionDeadLetter: string;
  /** A position of the store's feed (the head when the world was seeded). */
  readonly position: string;
}

/** One malformed call: `method` refuses `name`. */
export interface BadCase {
  readonly method: PortMethod;
  readonly name: string;
  readonly args: (w: BadInputWorld) => readonly unknown[];
}

/** Calls that cannot write, so only their answer is checked. */
export const READ_ONLY: ReadonlySet<PortMethod> = new Set<PortMethod>([
  'load', 'nextTimerAt', 'listDeadLetters', 'countDeadLetters', 'readEvents', 'listInstances', 'listEffects', 'listTimers', 'listObservations', 'subscribe',
  'listPaused', 'backlog', 'listWork', 'pageInstances', 'subscribeEnded', 'readFeed', 'feedHead',
  'feedLag', 'listProjections', 'listProjectionDeadLetters',
]);

type Fields = Record<string, unknown>;
/** A bad value, named for the test title, built for a world when it needs one. */
type Bad = readonly [name: string, value: (w: BadInputWorld) => unknown];

const fixed = (values: readonly (readonly [string, unknown])[]): Bad[] => values.map(([name, value]) => [name, () => value]);
const named = (prefix: string, values: readonly Bad[]): Bad[] => values.map(([name, value]) => [`${prefix} ${name}`, value]);

function cycle(): Fields {
  const value: Fields = { name: 'loop' };
  value.self = value;
  return value;
}

/** What the id/type/key rule refuses, besides absence (optional keys may be absent). */
const KEYS = fixed([
  ['an empty string', ''],
  ['a string with NUL', 'a\u0000b'],
  ['a lone high surrogate', 'a\uD800'],
  ['a lone low surrogate', '\uDC00b'],
  ['513 characters', 'x'.repeat(513)],
  ['a number', 42],
  ['null', null],
  ['an object', { id: 'x' }],
]);
const REQUIRED_KEYS = [...KEYS, ...fixed([['missing', undefined]])];

/** What the time rule refuses: epoch milliseconds are whole numbers from 0 to 2^53 - 1. */
const TIMES = fixed([
  ['-5', -5],
  ['NaN', Number.NaN],
  ['1.5', 1.5],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['2^53', 2 ** 53],
  ['a numeric string', '1000'],
  ['null', null],
  ['missing', undefined],
]);

/** What the count rule refuses (limits, offsets, versions, durations), besides absence. */
const COUNTS = fixed([
  ['-1', -1],
  ['NaN', Number.NaN],
  ['2.5', 2.5],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['2^53', 2 ** 53],
  ['a numeric string', '10'],
  ['null', null],
]);

/** What a version (an event's schema, work's code version) refuses: whole numbers from 1 to 2^31 - 1. */
const SCHEMA_VERSIONS = [...COUNTS, ...fixed([['0', 0], ['2^31', 2 ** 31]])];

/** What the JSON rule refuses. */
const NOT_JSON = fixed([
  ['a BigInt', 10n],
  ['an object holding a BigInt', { amount: 10n }],
  ['a cycle', cycle()],
  ['undefined', undefined],
  ['a function', () => 1],
  ['a symbol', Symbol('x')],
]);

/** Trace carriers (TraceCarrier) a store must refuse. */
const BAD_CARRIERS = fixed([
  ['empty', {}],
  ['holding a number', { traceparent: 7 }],
  ['holding null', { traceparent: null }],
  ['holding an object', { traceparent: { v: '00' } }],
  ['with a field name holding a space', { 'trace parent': 'x' }],
  ['with a field name of 65 characters', { ['t'.repeat(65)]: 'x' }],
  ['with a value of 1025 characters', { tracestate: 'x'.repeat(1025) }],
  ['with 9 fields', Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`f${i}`, 'x']))],
]);

const NOT_OBJECTS = fixed([
  ['null', null],
  ['a string', 'x'],
  ['a number', 7],
  ['an array', []],
]);

const NOT_ARRAYS = fixed([
  ['missing', undefined],
  ['null', null],
  ['a string', 'x'],
  ['an object', { 0: 'x' }],
]);

const REFS: Bad[] = [
  ...named('a ref that is', [...NOT_OBJECTS, ...fixed([['missing', undefined]])]),
  ...REQUIRED_KEYS.map(([name, value]): Bad => [`a ref whose type is ${name}`, (w) => ({ type: value(w), id: w.fresh.id })]),
  ...REQUIRED_KEYS.map(([name, value]): Bad => [`a ref whose id is ${name}`, (w) => ({ type: w.type, id: value(w) })]),
];

const LEASES: Bad[] = [
  ...named('a lease that is', NOT_OBJECTS),
  ['a lease of kind "job"', (w) => ({ ...w.effectLease, kind: 'job' })],
  ['a lease without a kind', (w) => ({ id: w.effectLease.id, token: w.effectLease.token })],
  ...REQUIRED_KEYS.map(([name, value]): Bad => [`a lease whose id is ${name}`, (w) => ({ ...w.effectLease, id: value(w) })]),
  ...REQUIRED_KEYS.map(([name, value]): Bad => [`a lease whose token is ${name}`, (w) => ({ ...w.effectLease, token: value(w) })]),
];

/** Cases of `method`: the well-formed call `valid` with argument `index` replaced by each bad value. */
function vary(method: PortMethod, valid: (w: BadInputWorld) => readonly unknown[], index: number, values: readonly Bad[]): BadCase[] {
  return values.map(([name, value]) => ({ method, name, args: (w) => valid(w).map((arg, i) => (i === index ? value(w) : arg)) }));
}

/** Cases of `method`: the well-formed options object at argument `index` with `field` set to each bad value. */
function varyField(method: PortMethod, valid: (w: BadInputWorld) => readonly unknown[], index: number, field: string, values: readonly Bad[]): BadCase[] {
  return values.map(([name, value]) => ({
    method,
    name: `${field} = ${name}`,
    args: (w) => valid(w).map((arg, i) => (i === index ? { ...(arg as Fields), [field]: value(w) } : arg)),
  }));
}

// ---- commit ----

interface ValidCommit extends Fields {
  readonly events: Fields[];
  readonly effects: Fields[];
  readonly timers: Fields[];
  readonly snapshot: Fields;
  readonly ack: Fields;
  readonly observation: Fields;
}

/** A well-formed commit to `main`: an event, an effect, a cancel, a keyed timer, keys, a snapshot, an ack and an observation. */
export function validCommit(w: BadInputWorld): ValidCommit {
  return {
    ref: w.main,
    expectedVersion: w.mainVersion,
    now: w.now,
    events: eventsFor(w.main, w.mainVersion, 1, w.now).map((e) => ({ ...e })),
    effects: [{ id: `${w.type}/effect`, payload: { n: 1 } }],
    cancelTimers: ['pending-key'],
    timers: [{ id: `${w.type}/timer`, key: 'new-key', fireAt: w.now + 10, input: { n: 1 } }],
    completed: false,
    idempotencyKey: 'idem-2',
    snapshot: { version: w.mainVersion + 1, revision: 'r1', state: { n: 1 } },
    ack: { ...w.effectLease, outcome: 'done' },
    observation: { workflowType: w.type, workflowId: w.main.id, inputType: 'Poke', input: { n: 1 }, outcome: 'accepted', observedAt: w.now },
  };
}

/** A well-formed commit that creates the instance `ref`, its event belonging to `ref`, whatever `ref` is. */
function creating(w: BadInputWorld, ref: unknown): Fields {
  const { type, id } = typeof ref === 'object' && ref !== null ? (ref as Fields) : {};
  const events = eventsFor(w.fresh, 0, 1, w.now).map((e) => ({ ...e, workflowType: type, workflowId: id }));
  return { ref, expectedVersion: 0, now: w.now, events, effects: [], cancelTimers: [], timers: [], completed: false };
}

/** Commit cases: each bad value placed into the well-formed commit by `place`. */
function commitCases(prefix: string, values: readonly Bad[], place: (c: ValidCommit, value: unknown, w: BadInputWorld) => Fields): BadCase[] {
  return values.map(([name, value]) => ({ method: 'commit', name: `${prefix} ${name}`, args: (w) => [place(validCommit(w), value(w), w)] }));
}
const one = (name: string, build: (w: BadInputWorld) => Fields): BadCase => ({ method: 'commit', name, args: (w) => [build(w)] });
const patched = (name: string, patch: (c: ValidCommit, w: BadInputWorld) => Fields): BadCase => one(name, (w) => {
  const c = validCommit(w);
  return { ...c, ...patch(c, w) };
});
const firstEvent = (c: ValidCommit, change: Fields): Fields => ({ ...c, events: [{ ...c.events[0], ...change }] });
const firstEffect = (c: ValidCommit, change: Fields): Fields => ({ ...c, effects: [{ ...c.effects[0], ...change }] });
const firstTimer = (c: ValidCommit, change: Fields): Fields => ({ ...c, timers: [{ ...c.timers[0], ...change }] });
const without = (fields: Fields, ...names: string[]): Fields => Object.fromEntries(Object.entries(fields).filter(([k]) => !names.includes(k)));

const COMMIT: BadCase[] = [
  // The five requests the stores used to answer differently (store-layer review, P1).
  one('an empty workflow id', (w) => creating(w, { type: w.type, id: '' })),
  patched('an effect id equal to a timer id', (c) => ({ effects: [{ id: 'same-id', payload: {} }], timers: [{ ...c.timers[0], id: 'same-id' }] })),
  patched('now = -5', () => ({ now: -5 })),
  patched('a unique key after creation (expectedVersion 2), even one another instance holds', () => ({ uniqueKey: 'held-by-other' })),
  patched('an event of another instance', (c, w) => firstEvent(c, { workflowId: w.other.id })),

  ...named('a request that is', [...NOT_OBJECTS, ...fixed([['missing', undefined]])]).map(([name, value]): BadCase => ({ method: 'commit', name, args: (w) => [value(w)] })),
  ...REFS.filter(([name]) => name !== 'a ref whose id is an empty string').map(([name, value]) => one(name, (w) => creating(w, value(w)))),
  ...commitCases('expectedVersion =', [...COUNTS, ...fixed([['2^31, past the highest version', 2 ** 31], ['missing', undefined]])], (c, v) => ({ ...c, expectedVersion: v })),
  one('a new version past 2^31 - 1 (expectedVersion 2^31 - 1 and one event)', (w) => ({ ...creating(w, w.fresh), expectedVersion: MAX_VERSION, events: eventsFor(w.fresh, MAX_VERSION, 1, w.now) })),
  ...commitCases('now =', TIMES.filter(([name]) => name !== '-5'), (c, v) => ({ ...c, now: v })),

  ...commitCases('events that are', NOT_ARRAYS, (c, v) => ({ ...c, events: v })),
  patched('no events', () => ({ events: [] })),
  ...commitCases('an event that is', NOT_OBJECTS, (c, v) => ({ ...c, events: [v] })),
  patched('an event of another workflow type', (c) => firstEvent(c, { workflowType: 'another-type' })),
  patched('an event without its instance', (c) => ({ events: [without(c.events[0]!, 'workflowType', 'workflowId')] })),
  patched('an event sequence that skips one', (c, w) => firstEvent(c, { sequence: w.mainVersion + 2 })),
  patched('an event sequence that repeats the current version', (c, w) => firstEvent(c, { sequence: w.mainVersion })),
  patched('an event sequence as a string', (c, w) => firstEvent(c, { sequence: String(w.mainVersion + 1) })),
  patched('a fractional event sequence', (c, w) => firstEvent(c, { sequence: w.mainVersion + 1.5 })),
  patched('two events with the same sequence', (c) => ({ events: [c.events[0], c.events[0]] })),
  ...commitCases('an event type that is', REQUIRED_KEYS, (c, v) => firstEvent(c, { type: v })),
  ...commitCases('an event payload that is', NOT_JSON, (c, v) => firstEvent(c, { payload: v })),
  ...commitCases('event metadata that is', [...NOT_OBJECTS, ...fixed([['missing', undefined]])], (c, v) => firstEvent(c, { metadata: v })),
  patched('event metadata holding a BigInt', (c) => firstEvent(c, { metadata: { decidedAt: 10n } })),
  ...commitCases('an event recordedAt =', TIMES, (c, v) => firstEvent(c, { recordedAt: v })),
  ...commitCases('an event schemaVersion =', SCHEMA_VERSIONS, (c, v) => firstEvent(c, { schemaVersion: v })),

  ...commitCases('effects that are', NOT_ARRAYS, (c, v) => ({ ...c, effects: v })),
  ...commitCases('an effect that is', NOT_OBJECTS, (c, v) => ({ ...c, effects: [v] })),
  ...commitCases('an effect id that is', REQUIRED_KEYS, (c, v) => ({ ...c, effects: [{ id: v, payload: {} }] })),
  patched('two effects with one id', (c) => ({ effects: [c.effects, c.effects].flat() })),
  ...commitCases('an effect payload that is', NOT_JSON, (c, v) => ({ ...c, effects: [{ id: 'bad-payload', payload: v }] })),
  ...commitCases('an effect key that is', KEYS, (c, v) => firstEffect(c, { key: v })),
  patched('two effects with one key', (c, w) => ({ effects: [{ ...c.effects[0], key: 'k' }, { id: `${w.type}/effect-2`, payload: {}, key: 'k' }] })),
  ...commitCases('an effect tag that is', KEYS, (c, v) => firstEffect(c, { tag: v })),
  ...commitCases('an effect priority =', fixed([['1001', 1001], ['-1001', -1001], ['2.5', 2.5], ['NaN', Number.NaN], ['a numeric string', '3'], ['null', null]]), (c, v) => firstEffect(c, { priority: v })),
  ...commitCases('effect settings that are', NOT_OBJECTS, (c, v) => firstEffect(c, { settings: v })),
  ...commitCases('an effect timeoutMs =', [...COUNTS, ...fixed([['0', 0]])], (c, v) => firstEffect(c, { settings: { timeoutMs: v } })),
  ...commitCases('an effect deadline =', TIMES.filter(([name]) => name !== 'missing'), (c, v) => firstEffect(c, { settings: { deadline: v } })),
  ...commitCases('an effect retry policy that is', NOT_OBJECTS, (c, v) => firstEffect(c, { settings: { retry: v } })),
  ...commitCases('effect settings holding', NOT_JSON.filter(([name]) => name !== 'undefined' && name !== 'a function' && name !== 'a symbol'), (c, v) => firstEffect(c, { settings: { extra: v } })),
  ...commitCases('an effect trace carrier that is', [...NOT_OBJECTS, ...BAD_CARRIERS], (c, v) => firstEffect(c, { trace: v })),
  ...commitCases('an effect version =', SCHEMA_VERSIONS, (c, v) => firstEffect(c, { version: v })),

  ...commitCases('cancelEffects that are', NOT_ARRAYS.filter(([name]) => name !== 'missing'), (c, v) => ({ ...c, cancelEffects: v })),
  ...commitCases('an effect key to cancel that is', REQUIRED_KEYS, (c, v) => ({ ...c, cancelEffects: [v] })),
  ...commitCases('cancelWork =', fixed([['the string "true"', 'true'], ['1', 1], ['null', null]]), (c, v) => ({ ...c, cancelWork: v })),
  patched('cancelWork without completed', () => ({ cancelWork: true })),
  patched('a parent after creation', (_, w) => ({ parent: w.other })),
  ...REFS.filter(([name]) => name !== 'a ref that is missing').map(([name, value]) => one(`a parent that is ${name.replace(/^a ref (that is )?/, '')}`, (w) => ({ ...creating(w, w.fresh), parent: value(w) }))),

  ...commitCases('cancelTimers that are', NOT_ARRAYS, (c, v) => ({ ...c, cancelTimers: v })),
  ...commitCases('a timer key to cancel that is', REQUIRED_KEYS, (c, v) => ({ ...c, cancelTimers: [v] })),

  ...commitCases('timers that are', NOT_ARRAYS, (c, v) => ({ ...c, timers: v })),
  ...commitCases('a timer that is', NOT_OBJECTS, (c, v) => ({ ...c, timers: [v] })),
  ...commitCases('a timer id that is', REQUIRED_KEYS, (c, v) => firstTimer(c, { id: v })),
  ...commitCases('a timer key that is', KEYS, (c, v) => firstTimer(c, { key: v })),
  patched('two timers with one id', (c) => ({ timers: [c.timers[0], { ...c.timers[0], key: 'other-key' }] })),
  patched('two timers with one key', (c, w) => ({ timers: [c.timers[0], { ...c.timers[0], id: `${w.type}/timer-2` }] })),
  ...commitCases('a timer fireAt =', TIMES, (c, v) => firstTimer(c, { fireAt: v })),
  ...commitCases('a timer input that is', NOT_JSON, (c, v) => firstTimer(c, { input: v })),
  ...commitCases('a timer trace carrier that is', [...NOT_OBJECTS, ...BAD_CARRIERS], (c, v) => firstTimer(c, { trace: v })),
  ...commitCases('a timer version =', SCHEMA_VERSIONS, (c, v) => firstTimer(c, { version: v })),

  ...commitCases('completed =', fixed([['missing', undefined], ['the string "true"', 'true'], ['1', 1], ['null', null]]), (c, v) => ({ ...c, completed: v })),
  ...KEYS.map(([name, value]) => one(`a unique key that is ${name}`, (w) => ({ ...creating(w, w.fresh), uniqueKey: value(w) }))),
  patched('a unique key after creation that nobody holds', () => ({ uniqueKey: 'free-key' })),
  ...commitCases('an idempotency key that is', KEYS, (c, v) => ({ ...c, idempotencyKey: v })),

  ...commitCases('a snapshot that is', NOT_OBJECTS, (c, v) => ({ ...c, snapshot: v })),
  patched('a snapshot at version 0', (c) => ({ snapshot: { ...c.snapshot, version: 0 } })),
  patched('a snapshot past the new version', (c, w) => ({ snapshot: { ...c.snapshot, version: w.mainVersion + 2 } })),
  ...commitCases('a snapshot version =', COUNTS, (c, v) => ({ ...c, snapshot: { ...c.snapshot, version: v } })),
  ...commitCases('a snapshot revision that is', REQUIRED_KEYS, (c, v) => ({ ...c, snapshot: { ...c.snapshot, revision: v } })),
  ...commitCases('a snapshot state that is', NOT_JSON, (c, v) => ({ ...c, snapshot: { ...c.snapshot, state: v } })),

  ...commitCases('an acknowledgement that is', NOT_OBJECTS, (c, v) => ({ ...c, ack: v })),
  patched('an acknowledgement of kind "job"', (c) => ({ ack: { ...c.ack, kind: 'job' } })),
  ...commitCases('an acknowledgement whose id is', REQUIRED_KEYS, (c, v) => ({ ...c, ack: { ...c.ack, id: v } })),
  ...commitCases('an acknowledgement whose token is', REQUIRED_KEYS, (c, v) => ({ ...c, ack: { ...c.ack, token: v } })),
  ...commitCases('an acknowledgement outcome', fixed([['"ok"', 'ok'], ['"DONE"', 'DONE'], ['missing', undefined], ['null', null]]), (c, v) => ({ ...c, ack: { ...c.ack, outcome: v } })),
  ...commitCases('an acknowledgement error that is', fixed([['a number', 42], ['null', null], ['an object', { message: 'x' }]]), (c, v) => ({ ...c, ack: { ...c.ack, outcome: 'dead', error: v } })),

  patched('an observation of another instance', (c, w) => ({ observation: { ...c.observation, workflowId: w.other.id } })),
  patched('an observation of another workflow type', (c) => ({ observation: { ...c.observation, workflowType: 'another-type' } })),
  ...commitCases('an observation that is', NOT_OBJECTS, (c, v) => ({ ...c, observation: v })),
  patched('an observation outcome "maybe"', (c) => ({ observation: { ...c.observation, outcome: 'maybe' } })),
  ...commitCases('an observation input that is', NOT_JSON, (c, v) => ({ ...c, observation: { ...c.observation, input: v } })),
  ...commitCases('an observation observedAt =', TIMES, (c, v) => ({ ...c, observation: { ...c.observation, observedAt: v } })),
];

// ---- every other method ----

/** The well-formed call of each method, on the world. */
export const VALID_CALLS: { readonly [M in PortMethod]: (w: BadInputWorld) => readonly unknown[] } = {
  load: (w) => [w.main, { idempotencyKey: 'idem-1' }],
  commit: (w) => [validCommit(w)],
  commitMany: (w) => [[validCommit(w)]],
  recordObservation: (w) => [{ workflowType: w.type, workflowId: w.main.id, inputType: 'Poke', input: { n: 1 }, outcome: 'rejected', rejection: { why: 'x' }, observedAt: w.now }],
  claimEffects: (w) => [{ now: w.now, limit: 10, types: [w.type], leaseMs: 1000, owner: 'bad-input' }],
  claimTimers: (w) => [{ now: w.now, limit: 10, types: [w.type], leaseMs: 1000, owner: 'bad-input' }],
  nextTimerAt: (w) => [[w.type]],
  renewLease: (w) => [w.effectLease, w.now, 1000],
  complete: (w) => [w.effectLease, w.now],
  retry: (w) => [w.effectLease, w.now, w.now + 1, 'try again'],
  deadLetter: (w) => [w.effectLease, w.now, 'gave up'],
  release: (w) => [w.timerLease, w.now, { reason: 'written by newer code', availableAt: w.now + 10 }],
  settleMany: (w) => [[{ op: 'complete', lease: w.effectLease, now: w.now }]],
  listDeadLetters: (w) => [{ kind: 'effect', workflowType: w.type, workflowId: w.main.id, limit: 10, offset: 0 }],
  countDeadLetters: (w) => [{ kind: 'effect', workflowType: w.type, workflowId: w.main.id }],
  redrive: (w) => ['effect', w.deadEffect, w.now],
  purge: () => [0],
  deleteInstance: (w) => [{ ref: w.other, expectedVersion: 1, now: w.now }],
  readEvents: (w) => [w.main, { fromSequence: 1 }],
  listInstances: (w) => [{ workflowType: w.type, status: 'active', limit: 10, offset: 0 }],
  listEffects: (w) => [w.main],
  listTimers: (w) => [w.main],
  listObservations: (w) => [w.main],
  subscribe: () => [() => undefined],
  cancelInstance: (w) => [{ ref: w.main, now: w.now, reason: 'operator' }],
  setPaused: (w) => [{ type: w.type, id: w.main.id }, true, w.now],
  listPaused: () => [],
  backlog: (w) => [w.now],
  purgeIdempotencyKeys: () => [0],
  listWork: (w) => [{ kind: 'effect', workflowType: w.type, workflowId: w.main.id, status: 'pending', tag: 't', createdFrom: 0, createdBefore: w.now, limit: 10 }],
  pageInstances: (w) => [{ workflowType: w.type, status: 'active', parent: w.other, updatedFrom: 0, updatedBefore: w.now, limit: 10 }],
  subscribeEnded: () => [() => undefined],
  readFeed: (w) => [{ workflowTypes: [w.type], eventTypes: ['Poked'], limit: 10 }],
  feedHead: () => [],
  feedLag: (w) => [{ after: w.position, limit: 10 }],
  claimProjection: (w) => [{ name: `${w.projection}.other`, owner: 'bad-input', now: w.now, leaseMs: 1000 }],
  renewProjection: (w) => [w.projectionLease, w.now, 1000],
  saveProjection: (w) => [w.projectionLease, { now: w.now, position: w.position, leaseMs: 1000, parked: [validDeadLetter(w)], resolved: [w.projectionDeadLetter] }],
  releaseProjection: (w) => [w.projectionLease, w.now],
  resetProjection: (w) => [{ name: w.projection, position: w.position, now: w.now, keepDeadLetters: true }],
  listProjections: () => [],
  listProjectionDeadLetters: (w) => [{ projection: w.projection, status: 'parked', limit: 10 }],
  redriveProjectionDeadLetter: (w) => [w.projection, w.projectionDeadLetter, w.now],
  skipProjectionDeadLetter: (w) => [w.projection, w.projectionDeadLetter],
};

/** A well-formed new projection dead letter of the world's main instance. */
function validDeadLetter(w: BadInputWorld): Fields {
  return { id: 'dl-new', workflowType: w.type, workflowId: w.main.id, sequence: 1, eventType: 'Poked', position: w.position, error: 'boom', attempts: 3 };
}
const call = VALID_CALLS;

const TYPE_LISTS: Bad[] = [
  ...named('types that are', NOT_ARRAYS),
  ...REQUIRED_KEYS.map(([name, value]): Bad => [`a type that is ${name}`, (w) => [w.type, value(w)]]),
];
const KINDS = fixed([['"job"', 'job'], ['"Effect"', 'Effect'], ['missing', undefined], ['null', null]]);
const ERRORS = fixed([['a number', 42], ['null', null], ['missing', undefined], ['an object', { message: 'x' }]]);
const QUERIES = named('a query that is', [...NOT_OBJECTS, ...fixed([['missing', undefined]])]);
const OPTIONS = named('options that are', fixed([['null', null], ['a string', 'x'], ['a number', 7]]));

function claimCases(method: 'claimEffects' | 'claimTimers'): BadCase[] {
  return [
    ...vary(method, call[method], 0, named('a request that is', [...NOT_OBJECTS, ...fixed([['missing', undefined]])])),
    ...varyField(method, call[method], 0, 'now', TIMES),
    ...varyField(method, call[method], 0, 'limit', [...COUNTS, ...fixed([['missing', undefined]])]),
    ...varyField(method, call[method], 0, 'types', [...NOT_ARRAYS, ...REQUIRED_KEYS.map(([name, value]): Bad => [`[${name}]`, (w) => [w.type, value(w)]])]),
    ...varyField(method, call[method], 0, 'leaseMs', [...COUNTS, ...fixed([['0', 0], ['missing', undefined]])]),
    ...varyField(method, call[method], 0, 'owner', fixed([['a number', 42], ['null', null], ['missing', undefined], ['an object', {}]])),
    ...varyField(method, call[method], 0, 'tags', [...NOT_ARRAYS.filter(([name]) => name !== 'missing'), ...KEYS.map(([name, value]): Bad => [`[${name}]`, (w) => [value(w)]])]),
    { method, name: 'now + leaseMs past 2^53 - 1', args: (w) => [{ ...(call[method](w)[0] as Fields), now: Number.MAX_SAFE_INTEGER - 10, leaseMs: 100 }] },
  ];
}

function deadLetterQueryCases(method: 'listDeadLetters' | 'countDeadLetters'): BadCase[] {
  return [
    ...vary(method, call[method], 0, QUERIES),
    ...varyField(method, call[method], 0, 'kind', KINDS),
    ...varyField(method, call[method], 0, 'workflowType', KEYS),
    ...varyField(method, call[method], 0, 'workflowId', KEYS),
    ...(method === 'listDeadLetters' ? [...varyField(method, call[method], 0, 'limit', COUNTS), ...varyField(method, call[method], 0, 'offset', COUNTS)] : []),
  ];
}

/** Every case of the family, grouped by method in port order. */
// ---- projections ----

/** Positions no store accepts: not text, empty, too long, or text no store writes. */
const POSITIONS = fixed([
  ['a number', 1],
  ['null', null],
  ['an empty string', ''],
  ['text no store writes', 'not a position \u0000'],
  ['4097 characters', '9'.repeat(4097)],
]);

const LEASE_MS = [...COUNTS, ...fixed([['0', 0], ['a day and 1 ms', 86_400_001], ['missing', undefined]])];

const PROJECTION_LEASES: Bad[] = [
  ...named('a lease that is', [...NOT_OBJECTS, ...fixed([['missing', undefined]])]),
  ...REQUIRED_KEYS.map(([name, value]): Bad => [`a lease whose name is ${name}`, (w) => ({ ...w.projectionLease, name: value(w) })]),
  ...REQUIRED_KEYS.map(([name, value]): Bad => [`a lease whose owner is ${name}`, (w) => ({ ...w.projectionLease, owner: value(w) })]),
  ...[...COUNTS, ...fixed([['0', 0], ['missing', undefined]])].map(([name, value]): Bad => [`a lease whose token is ${name}`, (w) => ({ ...w.projectionLease, token: value(w) })]),
];

const DEAD_LETTER_FIELDS: Bad[] = [
  ...named('a dead letter that is', NOT_OBJECTS).map(([name, value]): Bad => [name, (w) => [value(w)]]),
  ...(['id', 'workflowType', 'workflowId', 'eventType'] as const).flatMap((field) =>
    REQUIRED_KEYS.map(([name, value]): Bad => [`a dead letter whose ${field} is ${name}`, (w) => [{ ...validDeadLetter(w), [field]: value(w) }]]),
  ),
  ...(['sequence', 'attempts'] as const).flatMap((field) =>
    [...COUNTS, ...fixed([['0', 0], ['missing', undefined], ['2^31', MAX_VERSION + 1]])].map(([name, value]): Bad => [`a dead letter whose ${field} is ${name}`, (w) => [{ ...validDeadLetter(w), [field]: value(w) }]]),
  ),
  ...[...POSITIONS, ...fixed([['missing', undefined]])].map(([name, value]): Bad => [`a dead letter whose position is ${name}`, (w) => [{ ...validDeadLetter(w), position: value(w) }]]),
  ...ERRORS.map(([name, value]): Bad => [`a dead letter whose error is ${name}`, (w) => [{ ...validDeadLetter(w), error: value(w) }]]),
  ['two dead letters with one id', (w) => [validDeadLetter(w), { ...validDeadLetter(w), sequence: 2 }]],
  ['1001 dead letters', (w) => Array.from({ length: 1001 }, (_, i) => ({ ...validDeadLetter(w), id: `dl-${i}` }))],
];

const PROJECTIONS: BadCase[] = [
  ...vary('claimProjection', call.claimProjection, 0, named('a request that is', [...NOT_OBJECTS, ...fixed([['missing', undefined]])])),
  ...varyField('claimProjection', call.claimProjection, 0, 'name', REQUIRED_KEYS),
  ...varyField('claimProjection', call.claimProjection, 0, 'owner', REQUIRED_KEYS),
  ...varyField('claimProjection', call.claimProjection, 0, 'now', TIMES),
  ...varyField('claimProjection', call.claimProjection, 0, 'leaseMs', LEASE_MS),
  ...vary('renewProjection', call.renewProjection, 0, PROJECTION_LEASES),
  ...vary('renewProjection', call.renewProjection, 1, TIMES),
  ...vary('renewProjection', call.renewProjection, 2, LEASE_MS),
  ...vary('saveProjection', call.saveProjection, 0, PROJECTION_LEASES),
  ...vary('saveProjection', call.saveProjection, 1, named('a save that is', [...NOT_OBJECTS, ...fixed([['missing', undefined]])])),
  ...varyField('saveProjection', call.saveProjection, 1, 'now', TIMES),
  ...varyField('saveProjection', call.saveProjection, 1, 'position', POSITIONS),
  ...varyField('saveProjection', call.saveProjection, 1, 'leaseMs', LEASE_MS.filter(([name]) => name !== 'missing')),
  ...varyField('saveProjection', call.saveProjection, 1, 'parked', [...NOT_ARRAYS.filter(([name]) => name !== 'missing'), ...DEAD_LETTER_FIELDS]),
  ...varyField('saveProjection', call.saveProjection, 1, 'resolved', [
    ...NOT_ARRAYS.filter(([name]) => name !== 'missing'),
    ...REQUIRED_KEYS.map(([name, value]): Bad => [`holding an id that is ${name}`, (w) => [value(w)]]),
    ['an id twice', (w) => [w.projectionDeadLetter, w.projectionDeadLetter]],
    ['the id of a dead letter it also parks', () => ['dl-new']],
  ]),
  ...named('an apply that is', fixed([['null', null], ['a string', 'UPDATE x'], ['an object', { apply: () => undefined }]])).map(([name, value]): BadCase => ({
    method: 'saveProjection',
    name,
    args: (w) => [...call.saveProjection(w), value(w)],
  })),
  ...vary('releaseProjection', call.releaseProjection, 0, PROJECTION_LEASES),
  ...vary('releaseProjection', call.releaseProjection, 1, TIMES),
  ...vary('resetProjection', call.resetProjection, 0, named('a reset that is', [...NOT_OBJECTS, ...fixed([['missing', undefined]])])),
  ...varyField('resetProjection', call.resetProjection, 0, 'name', REQUIRED_KEYS),
  ...varyField('resetProjection', call.resetProjection, 0, 'position', POSITIONS),
  ...varyField('resetProjection', call.resetProjection, 0, 'now', TIMES),
  ...varyField('resetProjection', call.resetProjection, 0, 'keepDeadLetters', fixed([['"yes"', 'yes'], ['1', 1], ['null', null]])),
  ...vary('listProjectionDeadLetters', call.listProjectionDeadLetters, 0, QUERIES),
  ...varyField('listProjectionDeadLetters', call.listProjectionDeadLetters, 0, 'projection', REQUIRED_KEYS),
  ...varyField('listProjectionDeadLetters', call.listProjectionDeadLetters, 0, 'status', fixed([['"dead"', 'dead'], ['null', null]])),
  ...varyField('listProjectionDeadLetters', call.listProjectionDeadLetters, 0, 'after', fixed([['a number', 1], ['a cursor of instances', '["a","b"]'], ['a cursor with an empty id', '[""]']])),
  ...varyField('listProjectionDeadLetters', call.listProjectionDeadLetters, 0, 'limit', [...COUNTS, ...fixed([['1001', 1001]])]),
  ...vary('redriveProjectionDeadLetter', call.redriveProjectionDeadLetter, 0, REQUIRED_KEYS),
  ...vary('redriveProjectionDeadLetter', call.redriveProjectionDeadLetter, 1, REQUIRED_KEYS),
  ...vary('redriveProjectionDeadLetter', call.redriveProjectionDeadLetter, 2, TIMES),
  ...vary('skipProjectionDeadLetter', call.skipProjectionDeadLetter, 0, REQUIRED_KEYS),
  ...vary('skipProjectionDeadLetter', call.skipProjectionDeadLetter, 1, REQUIRED_KEYS),
];

export const BAD_CASES: readonly BadCase[] = [
  ...vary('load', call.load, 0, REFS),
  ...vary('load', call.load, 1, OPTIONS),
  ...varyField('load', call.load, 1, 'idempotencyKey', KEYS),
  ...COMMIT,
  ...vary('commitMany', call.commitMany, 0, named('requests that are', NOT_ARRAYS)),
  ...vary('recordObservation', call.recordObservation, 0, named('an observation that is', [...NOT_OBJECTS, ...fixed([['missing', undefined]])])),
  ...varyField('recordObservation', call.recordObservation, 0, 'workflowType', REQUIRED_KEYS),
  ...varyField('recordObservation', call.recordObservation, 0, 'workflowId', REQUIRED_KEYS),
  ...varyField('recordObservation', call.recordObservation, 0, 'inputType', REQUIRED_KEYS),
  ...varyField('recordObservation', call.recordObservation, 0, 'input', NOT_JSON),
  ...varyField('recordObservation', call.recordObservation, 0, 'outcome', fixed([['"maybe"', 'maybe'], ['missing', undefined], ['null', null]])),
  ...varyField('recordObservation', call.recordObservation, 0, 'rejection', NOT_JSON.filter(([name]) => name !== 'undefined')),
  ...varyField('recordObservation', call.recordObservation, 0, 'observedAt', TIMES),
  ...claimCases('claimEffects'),
  ...claimCases('claimTimers'),
  ...vary('nextTimerAt', call.nextTimerAt, 0, TYPE_LISTS),
  ...vary('renewLease', call.renewLease, 0, LEASES),
  ...vary('renewLease', call.renewLease, 1, named('now =', TIMES)),
  ...vary('renewLease', call.renewLease, 2, named('leaseMs =', [...COUNTS, ...fixed([['0', 0], ['missing', undefined]])])),
  { method: 'renewLease', name: 'now + leaseMs past 2^53 - 1', args: (w) => [w.effectLease, Number.MAX_SAFE_INTEGER - 10, 100] },
  ...vary('complete', call.complete, 0, LEASES),
  ...vary('complete', call.complete, 1, named('now =', TIMES)),
  ...vary('retry', call.retry, 0, LEASES),
  ...vary('retry', call.retry, 1, named('now =', TIMES)),
  ...vary('retry', call.retry, 2, named('retryAt =', TIMES)),
  ...vary('retry', call.retry, 3, named('an error that is', ERRORS)),
  ...vary('deadLetter', call.deadLetter, 0, LEASES),
  ...vary('deadLetter', call.deadLetter, 1, named('now =', TIMES)),
  ...vary('deadLetter', call.deadLetter, 2, named('an error that is', ERRORS)),
  ...vary('release', call.release, 0, LEASES),
  ...vary('release', call.release, 1, named('now =', TIMES)),
  ...varyField('release', call.release, 2, 'availableAt', [...TIMES.filter(([name]) => name !== 'missing'), ['before now', (w) => w.now - 1]]),
  ...varyField('release', call.release, 2, 'reason', ERRORS.filter(([name]) => name !== 'missing')),
  ...vary('settleMany', call.settleMany, 0, named('changes that are', NOT_ARRAYS)),
  ...deadLetterQueryCases('listDeadLetters'),
  ...deadLetterQueryCases('countDeadLetters'),
  ...vary('redrive', call.redrive, 0, named('kind', KINDS)),
  ...vary('redrive', call.redrive, 1, named('an id that is', REQUIRED_KEYS)),
  ...vary('redrive', call.redrive, 2, named('now =', TIMES)),
  ...vary('purge', call.purge, 0, named('olderThan =', TIMES)),
  ...vary('deleteInstance', call.deleteInstance, 0, named('a request that is', [...NOT_OBJECTS, ...fixed([['missing', undefined]])])),
  ...varyField('deleteInstance', call.deleteInstance, 0, 'ref', REFS),
  ...varyField('deleteInstance', call.deleteInstance, 0, 'expectedVersion', [...COUNTS, ...fixed([['0', 0], ['missing', undefined], ['2^31', 2 ** 31]])]),
  ...varyField('deleteInstance', call.deleteInstance, 0, 'now', TIMES),
  ...vary('readEvents', call.readEvents, 0, REFS),
  ...vary('readEvents', call.readEvents, 1, OPTIONS),
  ...varyField('readEvents', call.readEvents, 1, 'fromSequence', [...COUNTS, ...fixed([['2^31, past the highest sequence', 2 ** 31]])]),
  ...vary('listInstances', call.listInstances, 0, named('a query that is', NOT_OBJECTS)),
  ...varyField('listInstances', call.listInstances, 0, 'workflowType', KEYS),
  ...varyField('listInstances', call.listInstances, 0, 'status', fixed([['"done"', 'done'], ['"ACTIVE"', 'ACTIVE'], ['null', null], ['a number', 1]])),
  ...varyField('listInstances', call.listInstances, 0, 'limit', COUNTS),
  ...varyField('listInstances', call.listInstances, 0, 'offset', COUNTS),
  ...vary('listEffects', call.listEffects, 0, REFS),
  ...vary('listTimers', call.listTimers, 0, REFS),
  ...vary('listObservations', call.listObservations, 0, REFS),
  ...vary('cancelInstance', call.cancelInstance, 0, named('a request that is', [...NOT_OBJECTS, ...fixed([['missing', undefined]])])),
  ...varyField('cancelInstance', call.cancelInstance, 0, 'ref', REFS),
  ...varyField('cancelInstance', call.cancelInstance, 0, 'now', TIMES),
  ...varyField('cancelInstance', call.cancelInstance, 0, 'reason', ERRORS),
  ...vary('setPaused', call.setPaused, 0, named('a target that is', [...NOT_OBJECTS, ...fixed([['missing', undefined]])])),
  ...varyField('setPaused', call.setPaused, 0, 'type', REQUIRED_KEYS),
  ...varyField('setPaused', call.setPaused, 0, 'id', KEYS),
  ...vary('setPaused', call.setPaused, 1, named('paused =', fixed([['missing', undefined], ['null', null], ['1', 1], ['the string "true"', 'true']]))),
  ...vary('setPaused', call.setPaused, 2, named('now =', TIMES)),
  ...vary('backlog', call.backlog, 0, named('now =', TIMES)),
  ...vary('purgeIdempotencyKeys', call.purgeIdempotencyKeys, 0, named('olderThan =', TIMES)),
  ...vary('listWork', call.listWork, 0, named('a query that is', [...NOT_OBJECTS, ...fixed([['missing', undefined]])])),
  ...varyField('listWork', call.listWork, 0, 'kind', KINDS),
  ...varyField('listWork', call.listWork, 0, 'workflowType', KEYS),
  ...varyField('listWork', call.listWork, 0, 'workflowId', KEYS),
  ...varyField('listWork', call.listWork, 0, 'status', fixed([['"finished"', 'finished'], ['null', null], ['a number', 1]])),
  ...varyField('listWork', call.listWork, 0, 'tag', KEYS),
  ...varyField('listWork', call.listWork, 0, 'createdFrom', TIMES.filter(([name]) => name !== 'missing')),
  ...varyField('listWork', call.listWork, 0, 'createdBefore', TIMES.filter(([name]) => name !== 'missing')),
  ...varyField('listWork', call.listWork, 0, 'after', fixed([['a number', 1], ['a string that is no cursor', 'x'], ['a cursor of instances', '["a","b"]'], ['null', null]])),
  ...varyField('listWork', call.listWork, 0, 'limit', [...COUNTS, ...fixed([['1001', 1001]])]),
  ...vary('pageInstances', call.pageInstances, 0, named('a query that is', NOT_OBJECTS)),
  ...varyField('pageInstances', call.pageInstances, 0, 'workflowType', KEYS),
  ...varyField('pageInstances', call.pageInstances, 0, 'status', fixed([['"done"', 'done'], ['null', null]])),
  ...varyField('pageInstances', call.pageInstances, 0, 'parent', REFS.filter(([name]) => name !== 'a ref that is missing')),
  ...varyField('pageInstances', call.pageInstances, 0, 'updatedFrom', TIMES.filter(([name]) => name !== 'missing')),
  ...varyField('pageInstances', call.pageInstances, 0, 'after', fixed([['a number', 1], ['a cursor of effects', '["a"]'], ['a cursor with an empty id', '["a",""]']])),
  ...varyField('pageInstances', call.pageInstances, 0, 'limit', [...COUNTS, ...fixed([['1001', 1001]])]),
  ...vary('readFeed', call.readFeed, 0, named('a query that is', NOT_OBJECTS)),
  ...varyField('readFeed', call.readFeed, 0, 'after', fixed([
    ['a number', 1],
    ['null', null],
    ['an empty string', ''],
    ['text no store writes', 'not a position \u0000'],
    ['4097 characters', '9'.repeat(4097)],
  ])),
  ...varyField('readFeed', call.readFeed, 0, 'workflowTypes', [...NOT_ARRAYS.filter(([name]) => name !== 'missing'), ...fixed([['empty', []]]), ...REQUIRED_KEYS.map(([name, value]): Bad => [`holding a type that is ${name}`, (w) => [value(w)]])]),
  ...varyField('readFeed', call.readFeed, 0, 'eventTypes', [...NOT_ARRAYS.filter(([name]) => name !== 'missing'), ...fixed([['empty', []]])]),
  ...varyField('readFeed', call.readFeed, 0, 'limit', [...COUNTS, ...fixed([['0', 0], ['1001', 1001]])]),
  ...vary('feedLag', call.feedLag, 0, named('a query that is', NOT_OBJECTS)),
  ...varyField('feedLag', call.feedLag, 0, 'after', POSITIONS),
  ...varyField('feedLag', call.feedLag, 0, 'limit', [...COUNTS, ...fixed([['0', 0], ['100001', 100_001]])]),
  ...PROJECTIONS,
  ...vary('subscribeEnded', call.subscribeEnded, 0, named('a listener that is', fixed([['missing', undefined], ['null', null], ['a string', 'listener']]))),
  ...vary('subscribe', call.subscribe, 0, named('a listener that is', fixed([['missing', undefined], ['null', null], ['a string', 'listener'], ['an object', { call: () => undefined }]]))),
];

/** The lease-change form of a single lease call's arguments, so its bad cases can go through `settleMany`. */
export const AS_LEASE_CHANGE: Partial<Record<PortMethod, (args: readonly unknown[]) => unknown>> = {
  renewLease: ([lease, now, leaseMs]) => ({ op: 'renew', lease, now, leaseMs }),
  complete: ([lease, now]) => ({ op: 'complete', lease, now }),
  retry: ([lease, now, retryAt, error]) => ({ op: 'retry', lease, now, retryAt, error }),
  deadLetter: ([lease, now, error]) => ({ op: 'deadLetter', lease, now, error }),
  release: ([lease, now, options]) => ({ op: 'release', lease, now, ...(options as object) }),
};
