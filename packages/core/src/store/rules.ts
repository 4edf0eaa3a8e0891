// The argument rules of the store port, written once: every store built with `defineStore` runs
// each call through these parsers before its backend sees it, so the same bad request gets the
// same INVALID_ARGUMENT from every store and writes nothing. JSON values leave here as JSON text.
import { IronflowError, invalidArgument } from '../errors.js';
import type { WorkflowRef } from '../workflow.js';
import type { LeaseOperation } from './backend.js';
import {
  MAX_BATCH,
  MAX_PRIORITY,
  MAX_TRACE_FIELDS,
  MAX_TRACE_VALUE,
  MIN_PRIORITY,
  type CancelInstanceRequest,
  type DeleteInstanceRequest,
  type InstancePageQuery,
  type InstanceStatus,
  type PauseTarget,
  type WorkQuery,
  type WorkStatus,
  type FeedQuery,
  type Acknowledgement, type ClaimRequest, type CommitRequest, type DeadLetterQuery, type InstanceQuery, type Lease, type LeaseChange, type Observation, type WorkKind } from './port.js';

/** The longest id, type or key a store indexes, in UTF-16 code units. */
export const MAX_KEY_LENGTH = 512;

/** The highest version or event sequence: PostgreSQL keeps them as `integer`, so every store stops there. */
export const MAX_VERSION = 2 ** 31 - 1;

// An unpaired surrogate cannot be stored as UTF-8: PostgreSQL and Redis would replace it, and two ids could collide.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** Serialised JSON, as stores keep it; produced only by `toJsonText`. */
export type JsonText = string;

/** A short, safe description of a bad value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

/**
 * The id/type/key rule: a non-empty string of at most 512 characters, without NUL or unpaired
 * surrogates. `code` lets the decision algorithm report a bad key in a decision as INVALID_DECISION.
 */
export function parseKey(value: unknown, what: string, code: 'INVALID_ARGUMENT' | 'INVALID_DECISION' = 'INVALID_ARGUMENT'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_LENGTH || value.includes('\u0000') || LONE_SURROGATE.test(value)) {
    throw new IronflowError(
      code,
      `${what} must be a non-empty string of at most ${MAX_KEY_LENGTH} characters, without NUL or unpaired surrogates, got ${describe(value)}`,
      { details: { what } },
    );
  }
  return value;
}

/** An epoch-millisecond time: a whole number from 0 to 2^53 - 1. */
export function parseTime(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`${what} must be epoch milliseconds (a whole number >= 0), got ${describe(value)}`, { what });
  }
  return value;
}

/** A count, limit, offset, version or duration: a whole number from `min` (default 0) to `max` (default 2^53 - 1). */
export function parseCount(value: unknown, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw invalidArgument(`${what} must be a whole number ${range}, got ${describe(value)}`, { what });
  }
  return value;
}

/** Free text (error messages, owners): any string; NUL and unpaired surrogates become U+FFFD, as no store can keep them. */
export function parseText(value: unknown, what: string): string {
  if (typeof value !== 'string') throw invalidArgument(`${what} must be a string, got ${describe(value)}`, { what });
  return value.replace(/\u0000/g, '\uFFFD').replace(LONE_SURROGATES, '\uFFFD');
}

/** Serialises a JSON value; INVALID_ARGUMENT (nothing written) for `undefined`, functions, BigInt or cycles. */
export function toJsonText(value: unknown, what: string): JsonText {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw invalidArgument(`${what} must be a JSON value: ${cause instanceof Error ? cause.message : String(cause)}`, { what });
  }
  if (text === undefined) throw invalidArgument(`${what} must be a JSON value, got ${typeof value}`, { what });
  return text;
}

/** `effect` or `timer`. */
export function parseKind(value: unknown, what = 'kind'): WorkKind {
  if (value !== 'effect' && value !== 'timer') throw invalidArgument(`${what} must be 'effect' or 'timer', got ${describe(value)}`, { what });
  return value;
}

export function parseObject<T extends object>(value: unknown, what: string, shape: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidArgument(`${what} must be ${shape}, got ${describe(value)}`, { what });
  return value as T;
}

export function parseArray(value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) throw invalidArgument(`${what} must be an array, got ${describe(value)}`, { what });
  return value;
}

export function parseOptions<T extends object>(value: unknown, what: string): Partial<T> {
  return value === undefined ? {} : parseObject<Partial<T>>(value, what, 'an options object');
}

/** A workflow reference `{ type, id }`. */
export function parseRef(value: unknown, what = 'ref'): WorkflowRef {
  const ref = parseObject<{ type?: unknown; id?: unknown }>(value, what, '{ type, id }');
  return { type: parseKey(ref.type, `${what}.type`), id: parseKey(ref.id, `${what}.id`) };
}

/** A list of workflow types, without repeats, in the order given. */
export function parseTypes(value: unknown, what = 'types'): string[] {
  return [...new Set(parseArray(value, what).map((type, i) => parseKey(type, `${what}[${i}]`)))];
}

/** A lease `{ kind, id, token }`; an unknown token is not bad input but a lost lease, which the store decides. */
export function parseLease(value: unknown, what = 'lease'): Lease {
  const lease = parseObject<Partial<Lease>>(value, what, '{ kind, id, token }');
  return { kind: parseKind(lease.kind, `${what}.kind`), id: parseKey(lease.id, `${what}.id`), token: parseKey(lease.token, `${what}.token`) };
}

/** A claim, checked: `types` without repeats, `expiresAt` = now + leaseMs. */
export interface CheckedClaim {
  readonly now: number;
  readonly limit: number;
  readonly types: readonly string[];
  readonly leaseMs: number;
  readonly expiresAt: number;
  readonly owner: string;
  /** Effects only: tags without repeats; undefined claims any effect. */
  readonly tags?: readonly string[] | undefined;
}

/** Checks a claim request. */
export function parseClaim(value: unknown): CheckedClaim {
  const r = parseObject<Partial<ClaimRequest>>(value, 'claim request', '{ now, limit, types, leaseMs, owner }');
  const now = parseTime(r.now, 'claim.now');
  const leaseMs = parseCount(r.leaseMs, 'claim.leaseMs', 1);
  return {
    now,
    limit: parseCount(r.limit, 'claim.limit'),
    types: parseTypes(r.types, 'claim.types'),
    leaseMs,
    expiresAt: parseTime(now + leaseMs, 'claim.now + claim.leaseMs'),
    owner: parseText(r.owner, 'claim.owner'),
    tags: r.tags === undefined ? undefined : parseTypes(r.tags, 'claim.tags'),
  };
}

/** An observation, checked, with its JSON values as text. */
export interface CheckedObservation {
  readonly workflowType: string;
  readonly workflowId: string;
  readonly inputType: string;
  readonly input: JsonText;
  readonly outcome: Observation['outcome'];
  readonly rejection?: JsonText | undefined;
  readonly observedAt: number;
}

/** Checks an observation. */
export function parseObservation(value: unknown, what = 'observation'): CheckedObservation {
  const o = parseObject<Partial<Observation>>(value, what, 'an observation object');
  const outcome: unknown = o.outcome;
  if (outcome !== 'accepted' && outcome !== 'rejected' && outcome !== 'already-completed') {
    throw invalidArgument(`${what}.outcome must be 'accepted', 'rejected' or 'already-completed', got ${describe(outcome)}`);
  }
  return {
    workflowType: parseKey(o.workflowType, `${what}.workflowType`),
    workflowId: parseKey(o.workflowId, `${what}.workflowId`),
    inputType: parseKey(o.inputType, `${what}.inputType`),
    input: toJsonText(o.input, `${what}.input`),
    outcome,
    rejection: o.rejection === undefined ? undefined : toJsonText(o.rejection, `${what}.rejection`),
    observedAt: parseTime(o.observedAt, `${what}.observedAt`),
  };
}

/** An event of a commit, checked; the instance is the commit's `ref`. */
export interface CheckedEvent {
  readonly sequence: number;
  readonly type: string;
  readonly payload: JsonText;
  readonly metadata: JsonText;
  readonly recordedAt: number;
  /** 1 when the request gave none; stores return it on reads only when it is not 1. */
  readonly schemaVersion: number;
}

/** A new effect, checked. */
export interface CheckedEffect {
  readonly id: string;
  readonly payload: JsonText;
  readonly key?: string | undefined;
  readonly tag?: string | undefined;
  /** 0 when the request gave none. */
  readonly priority: number;
  /** `payload`'s settings as JSON text, absent when none were given. */
  readonly settings?: JsonText | undefined;
  /** The trace carrier as JSON text, absent when none was given. */
  readonly trace?: JsonText | undefined;
  /** 1 when the request gave none; stores return it on reads only when it is not 1. */
  readonly version: number;
}

/** A new timer, checked. */
export interface CheckedTimer {
  readonly id: string;
  readonly key?: string | undefined;
  readonly fireAt: number;
  readonly input: JsonText;
  /** The trace carrier as JSON text, absent when none was given. */
  readonly trace?: JsonText | undefined;
  /** 1 when the request gave none; stores return it on reads only when it is not 1. */
  readonly version: number;
}

/** The acknowledgement of a commit, checked; its error is free text. */
export interface CheckedAck extends Lease {
  readonly outcome: Acknowledgement['outcome'];
  readonly error?: string | undefined;
}

/** A commit request, checked: what a backend applies atomically. */
export interface CheckedCommit {
  readonly ref: WorkflowRef;
  readonly expectedVersion: number;
  /** `expectedVersion + events.length`. */
  readonly newVersion: number;
  readonly now: number;
  readonly events: readonly CheckedEvent[];
  readonly effects: readonly CheckedEffect[];
  /** Effect keys to cancel, without repeats. */
  readonly cancelEffects: readonly string[];
  readonly cancelTimers: readonly string[];
  readonly timers: readonly CheckedTimer[];
  readonly completed: boolean;
  /** Only true with `completed`. */
  readonly cancelWork: boolean;
  /** Only ever set on a creating commit (`expectedVersion` 0). */
  readonly uniqueKey?: string | undefined;
  /** Only ever set on a creating commit (`expectedVersion` 0). */
  readonly parent?: WorkflowRef | undefined;
  readonly idempotencyKey?: string | undefined;
  readonly snapshot?: { readonly version: number; readonly revision: string; readonly state: JsonText } | undefined;
  readonly ack?: CheckedAck | undefined;
  readonly observation?: CheckedObservation | undefined;
}

/**
 * Checks a whole commit request. Ids of new effects and timers are unique within the commit,
 * timer keys too; events belong to `ref` and run from `expectedVersion + 1`; a unique key is only
 * claimed when the instance is created.
 */
export function parseCommit(value: unknown): CheckedCommit {
  const r = parseObject<Partial<CommitRequest>>(value, 'commit request', 'a CommitRequest object');
  const ref = parseRef(r.ref);
  const expectedVersion = parseCount(r.expectedVersion, 'expectedVersion', 0, MAX_VERSION);
  const now = parseTime(r.now, 'now');
  const rawEvents = parseArray(r.events, 'events');
  if (rawEvents.length === 0) throw invalidArgument('A commit needs at least one event');
  const events = rawEvents.map((raw, i): CheckedEvent => {
    const what = `events[${i}]`;
    const event = parseObject<Record<string, unknown>>(raw, what, 'a StoredEvent object');
    if (event.workflowType !== ref.type || event.workflowId !== ref.id) {
      throw invalidArgument(`${what} belongs to ${describe(event.workflowType)}:${describe(event.workflowId)}, not to the committed instance`, { what });
    }
    if (event.sequence !== expectedVersion + i + 1) {
      throw invalidArgument(`${what}.sequence must be ${expectedVersion + i + 1} (expectedVersion + ${i + 1}), got ${describe(event.sequence)}`, { what });
    }
    return {
      sequence: expectedVersion + i + 1,
      type: parseKey(event.type, `${what}.type`),
      payload: toJsonText(event.payload, `${what}.payload`),
      metadata: toJsonText(parseObject(event.metadata, `${what}.metadata`, 'an EventMetadata object'), `${what}.metadata`),
      recordedAt: parseTime(event.recordedAt, `${what}.recordedAt`),
      schemaVersion: event.schemaVersion === undefined ? 1 : parseCount(event.schemaVersion, `${what}.schemaVersion`, 1, MAX_VERSION),
    };
  });
  const newVersion = parseCount(expectedVersion + events.length, 'expectedVersion + events.length', 1, MAX_VERSION);

  const ids = new Set<string>();
  const fresh = (id: string, what: string): string => {
    if (ids.has(id)) throw invalidArgument(`${what} ${JSON.stringify(id)} is used twice in one commit (effect and timer ids must be unique)`, { what });
    ids.add(id);
    return id;
  };
  const effectKeys = new Set<string>();
  const effects = parseArray(r.effects, 'effects').map((raw, i): CheckedEffect => parseNewEffect(raw, `effects[${i}]`, fresh, effectKeys));
  const cancelEffects = r.cancelEffects === undefined ? [] : [...new Set(parseArray(r.cancelEffects, 'cancelEffects').map((k, i) => parseKey(k, `cancelEffects[${i}]`)))];
  const cancelTimers = [...new Set(parseArray(r.cancelTimers, 'cancelTimers').map((k, i) => parseKey(k, `cancelTimers[${i}]`)))];
  const timerKeys = new Set<string>();
  const timers = parseArray(r.timers, 'timers').map((raw, i): CheckedTimer => {
    const what = `timers[${i}]`;
    const t = parseObject<{ id?: unknown; key?: unknown; fireAt?: unknown; input?: unknown; trace?: unknown; version?: unknown }>(raw, what, '{ id, key?, fireAt, input, trace?, version? }');
    const key = t.key === undefined ? undefined : parseKey(t.key, `${what}.key`);
    if (key !== undefined) {
      if (timerKeys.has(key)) throw invalidArgument(`Timer key ${JSON.stringify(key)} is scheduled twice in one commit`, { what });
      timerKeys.add(key);
    }
    return {
      id: fresh(parseKey(t.id, `${what}.id`), `${what}.id`),
      key,
      fireAt: parseTime(t.fireAt, `${what}.fireAt`),
      input: toJsonText(t.input, `${what}.input`),
      trace: parseTrace(t.trace, `${what}.trace`),
      version: parseWorkVersion(t.version, `${what}.version`),
    };
  });
  if (typeof r.completed !== 'boolean') throw invalidArgument(`completed must be a boolean, got ${describe(r.completed)}`);
  if (r.cancelWork !== undefined && typeof r.cancelWork !== 'boolean') throw invalidArgument(`cancelWork must be a boolean, got ${describe(r.cancelWork)}`);
  if (r.cancelWork === true && !r.completed) throw invalidArgument('cancelWork is only given with completed: a commit cancels the work it leaves behind when it completes the instance');
  let uniqueKey: string | undefined;
  if (r.uniqueKey !== undefined) {
    uniqueKey = parseKey(r.uniqueKey, 'uniqueKey');
    if (expectedVersion !== 0) throw invalidArgument('uniqueKey is only claimed when an instance is created (expectedVersion 0)');
  }
  let parent: WorkflowRef | undefined;
  if (r.parent !== undefined) {
    parent = parseRef(r.parent, 'parent');
    if (expectedVersion !== 0) throw invalidArgument('parent is only recorded when an instance is created (expectedVersion 0)');
  }
  const idempotencyKey = r.idempotencyKey === undefined ? undefined : parseKey(r.idempotencyKey, 'idempotencyKey');
  let snapshot: CheckedCommit['snapshot'];
  if (r.snapshot !== undefined) {
    const s = parseObject<{ version?: unknown; revision?: unknown; state?: unknown }>(r.snapshot, 'snapshot', '{ version, revision, state }');
    const version = parseCount(s.version, 'snapshot.version', 1);
    if (version > newVersion) throw invalidArgument(`snapshot.version must be at most the new version ${newVersion}, got ${version}`);
    snapshot = { version, revision: parseKey(s.revision, 'snapshot.revision'), state: toJsonText(s.state, 'snapshot.state') };
  }
  let ack: CheckedAck | undefined;
  if (r.ack !== undefined) {
    const lease = parseLease(r.ack, 'ack');
    const outcome: unknown = r.ack.outcome;
    if (outcome !== 'done' && outcome !== 'dead') throw invalidArgument(`ack.outcome must be 'done' or 'dead', got ${describe(outcome)}`);
    ack = { ...lease, outcome, error: r.ack.error === undefined ? undefined : parseText(r.ack.error, 'ack.error') };
  }
  let observation: CheckedObservation | undefined;
  if (r.observation !== undefined) {
    observation = parseObservation(r.observation);
    if (observation.workflowType !== ref.type || observation.workflowId !== ref.id) {
      throw invalidArgument('observation must belong to the committed instance');
    }
  }
  return {
    ref, expectedVersion, newVersion, now, events, effects, cancelEffects, cancelTimers, timers,
    completed: r.completed, cancelWork: r.cancelWork === true, uniqueKey, parent, idempotencyKey, snapshot, ack, observation,
  };
}

/** A priority: a whole number from MIN_PRIORITY to MAX_PRIORITY. */
export function parsePriority(value: unknown, what: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < MIN_PRIORITY || value > MAX_PRIORITY) {
    throw invalidArgument(`${what} must be a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY}, got ${describe(value)}`, { what });
  }
  return value;
}

/** One effect of a commit: fresh id, key unique within the commit, settings a JSON object. */
function parseNewEffect(raw: unknown, what: string, fresh: (id: string, what: string) => string, keys: Set<string>): CheckedEffect {
  const e = parseObject<Record<string, unknown>>(raw, what, '{ id, payload, key?, tag?, priority?, settings?, trace?, version? }');
  const key = e.key === undefined ? undefined : parseKey(e.key, `${what}.key`);
  if (key !== undefined) {
    if (keys.has(key)) throw invalidArgument(`Effect key ${JSON.stringify(key)} is used twice in one commit`, { what });
    keys.add(key);
  }
  let settings: JsonText | undefined;
  if (e.settings !== undefined) {
    const s = parseObject<Record<string, unknown>>(e.settings, `${what}.settings`, '{ retry?, timeoutMs?, deadline? }');
    if (s.timeoutMs !== undefined) parseCount(s.timeoutMs, `${what}.settings.timeoutMs`, 1);
    if (s.deadline !== undefined) parseTime(s.deadline, `${what}.settings.deadline`);
    if (s.retry !== undefined) parseObject(s.retry, `${what}.settings.retry`, 'a retry policy object');
    settings = toJsonText(s, `${what}.settings`);
  }
  return {
    id: fresh(parseKey(e.id, `${what}.id`), `${what}.id`),
    payload: toJsonText(e.payload, `${what}.payload`),
    key,
    tag: e.tag === undefined ? undefined : parseKey(e.tag, `${what}.tag`),
    priority: parsePriority(e.priority, `${what}.priority`),
    settings,
    trace: parseTrace(e.trace, `${what}.trace`),
    version: parseWorkVersion(e.version, `${what}.version`),
  };
}

const TRACE_FIELD = /^[A-Za-z0-9_.-]{1,64}$/;

/** The code version of new work: a whole number from 1 (the default) to MAX_VERSION. */
function parseWorkVersion(value: unknown, what: string): number {
  return value === undefined ? 1 : parseCount(value, what, 1, MAX_VERSION);
}

/** A trace carrier: a small object of short strings (see TraceCarrier), kept as JSON text. */
export function parseTrace(value: unknown, what: string): JsonText | undefined {
  if (value === undefined) return undefined;
  const carrier = parseObject<Record<string, unknown>>(value, what, 'a TraceCarrier ({ traceparent, tracestate? })');
  const fields = Object.entries(carrier);
  if (fields.length === 0 || fields.length > MAX_TRACE_FIELDS) {
    throw invalidArgument(`${what} must have 1 to ${MAX_TRACE_FIELDS} fields, got ${fields.length}`, { what });
  }
  for (const [name, field] of fields) {
    if (!TRACE_FIELD.test(name)) throw invalidArgument(`${what} field names are 1–64 letters, digits, '-', '_' or '.', got ${describe(name)}`, { what });
    if (typeof field !== 'string' || field.length > MAX_TRACE_VALUE) {
      throw invalidArgument(`${what}.${name} must be a string of at most ${MAX_TRACE_VALUE} characters, got ${describe(field)}`, { what });
    }
  }
  return toJsonText(carrier, what);
}

/** A dead-letter query, checked, with its defaults (limit 100, offset 0). */
export interface CheckedDeadLetterQuery {
  readonly kind: WorkKind;
  readonly workflowType?: string | undefined;
  readonly workflowId?: string | undefined;
  readonly limit: number;
  readonly offset: number;
}

/** Checks a dead-letter query (for listing; counting ignores limit and offset). */
export function parseDeadLetterQuery(value: unknown): CheckedDeadLetterQuery {
  const q = parseObject<Partial<DeadLetterQuery>>(value, 'dead-letter query', '{ kind, workflowType?, workflowId?, limit?, offset? }');
  return {
    kind: parseKind(q.kind, 'query.kind'),
    workflowType: q.workflowType === undefined ? undefined : parseKey(q.workflowType, 'query.workflowType'),
    workflowId: q.workflowId === undefined ? undefined : parseKey(q.workflowId, 'query.workflowId'),
    limit: q.limit === undefined ? 100 : parseCount(q.limit, 'query.limit'),
    offset: q.offset === undefined ? 0 : parseCount(q.offset, 'query.offset'),
  };
}

/** An instance query, checked, with its defaults (limit 100, offset 0). */
export interface CheckedInstanceQuery {
  readonly workflowType?: string | undefined;
  readonly status?: 'active' | 'completed' | 'cancelled' | undefined;
  readonly limit: number;
  readonly offset: number;
}

/** Checks an instance query; `undefined` lists everything. */
export function parseInstanceQuery(value: unknown): CheckedInstanceQuery {
  const q = parseOptions<InstanceQuery>(value, 'instance query');
  const status: unknown = q.status;
  if (status !== undefined && status !== 'active' && status !== 'completed' && status !== 'cancelled') {
    throw invalidArgument(`query.status must be 'active', 'completed' or 'cancelled', got ${describe(status)}`);
  }
  return {
    workflowType: q.workflowType === undefined ? undefined : parseKey(q.workflowType, 'query.workflowType'),
    status,
    limit: q.limit === undefined ? 100 : parseCount(q.limit, 'query.limit'),
    offset: q.offset === undefined ? 0 : parseCount(q.offset, 'query.offset'),
  };
}

/** The options of `load`: an optional idempotency key. */
export function parseLoadOptions(value: unknown): { idempotencyKey?: string | undefined } {
  const o = parseOptions<{ idempotencyKey: string }>(value, 'load options');
  return { idempotencyKey: o.idempotencyKey === undefined ? undefined : parseKey(o.idempotencyKey, 'idempotencyKey') };
}

/** The options of `readEvents`: the first sequence to read (default 1). */
export function parseReadOptions(value: unknown): { fromSequence: number } {
  const o = parseOptions<{ fromSequence: number }>(value, 'readEvents options');
  return { fromSequence: o.fromSequence === undefined ? 1 : Math.max(1, parseCount(o.fromSequence, 'fromSequence', 0, MAX_VERSION)) };
}

/** The items of a `commitMany` or `settleMany` call: an array of at most MAX_BATCH items (each checked on its own). */
export function parseBatch(value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) throw invalidArgument(`${what} must be an array, got ${describe(value)}`, { what });
  if (value.length > MAX_BATCH) throw invalidArgument(`${what} holds ${value.length} items; at most ${MAX_BATCH} go in one call`, { what, limit: MAX_BATCH });
  return value;
}

/** One change of `settleMany`, as the backend's lease operation. */
export function parseLeaseChange(value: unknown): LeaseOperation {
  const change = parseObject<Partial<Record<keyof LeaseChange, unknown>> & Record<string, unknown>>(value, 'lease change', 'a LeaseChange object');
  const lease = parseLease(change.lease);
  const now = parseTime(change.now, 'now');
  switch (change.op) {
    case 'renew':
      return { op: 'renew', lease, now, expiresAt: parseTime(now + parseCount(change.leaseMs, 'leaseMs', 1), 'now + leaseMs') };
    case 'complete':
      return { op: 'complete', lease, now };
    case 'retry':
      return { op: 'retry', lease, now, retryAt: parseTime(change.retryAt, 'retryAt'), error: parseText(change.error, 'error') };
    case 'deadLetter':
      return { op: 'dead', lease, now, error: parseText(change.error, 'error') };
    case 'release':
      return parseRelease(lease, now, change);
    default:
      throw invalidArgument(`lease change op must be 'renew', 'complete', 'retry', 'deadLetter' or 'release', got ${describe(change.op)}`);
  }
}

/** A release's options: `availableAt` at or after `now` (default `now`), `reason` free text. */
export function parseRelease(lease: Lease, now: number, options: unknown): LeaseOperation {
  const o = parseOptions<{ reason?: unknown; availableAt?: unknown }>(options, 'release options');
  const availableAt = o.availableAt === undefined ? now : parseTime(o.availableAt, 'availableAt');
  if (availableAt < now) throw invalidArgument(`availableAt must be at or after now (${now}), got ${availableAt}`, { what: 'availableAt' });
  return { op: 'release', lease, now, availableAt, ...(o.reason === undefined ? {} : { reason: parseText(o.reason, 'reason') }) };
}

/** A deletion: the instance, the version its caller saw, the time. */
export function parseDeleteInstance(value: unknown): DeleteInstanceRequest {
  const r = parseObject<Partial<DeleteInstanceRequest>>(value, 'delete request', '{ ref, expectedVersion, now }');
  return { ref: parseRef(r.ref), expectedVersion: parseCount(r.expectedVersion, 'expectedVersion', 1, MAX_VERSION), now: parseTime(r.now, 'now') };
}

/** A cancellation, checked: the instance, the time, the reason as free text, effects to add. */
export interface CheckedCancelInstance {
  readonly ref: WorkflowRef;
  readonly now: number;
  readonly reason: string;
  readonly effects: readonly CheckedEffect[];
}

/** A cancellation: the instance, the time, the reason as free text, and effects to write with it. */
export function parseCancelInstance(value: unknown): CheckedCancelInstance {
  const r = parseObject<Partial<CancelInstanceRequest>>(value, 'cancel request', '{ ref, now, reason, effects? }');
  const ids = new Set<string>();
  const fresh = (id: string, what: string): string => {
    if (ids.has(id)) throw invalidArgument(`${what} ${JSON.stringify(id)} is used twice in one request`, { what });
    ids.add(id);
    return id;
  };
  const keys = new Set<string>();
  const effects = r.effects === undefined ? [] : parseArray(r.effects, 'effects').map((raw, i) => parseNewEffect(raw, `effects[${i}]`, fresh, keys));
  return { ref: parseRef(r.ref), now: parseTime(r.now, 'now'), reason: parseText(r.reason, 'reason'), effects };
}

/** Most rows one page returns. */
export const MAX_PAGE = 1000;

// A cursor is the JSON of the last row's sort key: opaque to callers, readable in logs.
export function toCursor(parts: readonly string[]): string {
  return JSON.stringify(parts);
}

export function fromCursor(value: unknown, length: number): string[] {
  if (typeof value !== 'string') throw invalidArgument(`after must be the next cursor of an earlier page, got ${describe(value)}`);
  let parts: unknown;
  try {
    parts = JSON.parse(value);
  } catch {
    parts = undefined;
  }
  if (!Array.isArray(parts) || parts.length !== length || !parts.every((p) => typeof p === 'string')) {
    throw invalidArgument(`after is not a cursor this store gave out: ${describe(value)}`);
  }
  return parts.map((p: string, i) => parseKey(p, `after[${i}]`));
}

/** The `next` cursor of a page of effects or timers ending at `id`. */
export const workCursor = (id: string): string => toCursor([id]);
/** The `next` cursor of a page of instances ending at `ref`. */
export const instanceCursor = (ref: { readonly workflowType: string; readonly workflowId: string }): string => toCursor([ref.workflowType, ref.workflowId]);

export function parseStatus(value: unknown, what: string, allowed: readonly string[]): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !allowed.includes(value)) throw invalidArgument(`${what} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
  return value;
}

export const optional = <T>(value: unknown, parse: (v: unknown) => T): T | undefined => (value === undefined ? undefined : parse(value));

/** A page query of effects or timers, checked: the cursor decoded to the last id seen, `limit` the rows wanted. */
export interface CheckedWorkQuery {
  readonly kind: WorkKind;
  readonly workflowType?: string | undefined;
  readonly workflowId?: string | undefined;
  readonly status?: WorkStatus | undefined;
  readonly tag?: string | undefined;
  readonly createdFrom?: number | undefined;
  readonly createdBefore?: number | undefined;
  readonly after?: string | undefined;
  readonly limit: number;
}

/** Checks a work page query. */
export function parseWorkQuery(value: unknown): CheckedWorkQuery {
  const q = parseObject<Partial<Record<keyof WorkQuery, unknown>>>(value, 'work query', '{ kind, workflowType?, workflowId?, status?, tag?, createdFrom?, createdBefore?, after?, limit? }');
  return {
    kind: parseKind(q.kind, 'query.kind'),
    workflowType: optional(q.workflowType, (v) => parseKey(v, 'query.workflowType')),
    workflowId: optional(q.workflowId, (v) => parseKey(v, 'query.workflowId')),
    status: parseStatus(q.status, 'query.status', ['pending', 'leased', 'done', 'dead', 'fired', 'cancelled']) as WorkStatus | undefined,
    tag: optional(q.tag, (v) => parseKey(v, 'query.tag')),
    createdFrom: optional(q.createdFrom, (v) => parseTime(v, 'query.createdFrom')),
    createdBefore: optional(q.createdBefore, (v) => parseTime(v, 'query.createdBefore')),
    after: optional(q.after, (v) => fromCursor(v, 1)[0]),
    limit: q.limit === undefined ? 100 : parseCount(q.limit, 'query.limit', 0, MAX_PAGE),
  };
}

/** A page query of instances, checked: the cursor decoded to the last (type, id) seen. */
export interface CheckedInstancePageQuery {
  readonly workflowType?: string | undefined;
  readonly status?: InstanceStatus | undefined;
  readonly parent?: WorkflowRef | undefined;
  readonly updatedFrom?: number | undefined;
  readonly updatedBefore?: number | undefined;
  readonly after?: { readonly type: string; readonly id: string } | undefined;
  readonly limit: number;
}

/** Checks an instance page query; `undefined` pages through everything. */
export function parseInstancePageQuery(value: unknown): CheckedInstancePageQuery {
  const q = parseOptions<Record<keyof InstancePageQuery, unknown>>(value, 'instance page query');
  return {
    workflowType: optional(q.workflowType, (v) => parseKey(v, 'query.workflowType')),
    status: parseStatus(q.status, 'query.status', ['active', 'completed', 'cancelled']) as InstanceStatus | undefined,
    parent: optional(q.parent, (v) => parseRef(v, 'query.parent')),
    updatedFrom: optional(q.updatedFrom, (v) => parseTime(v, 'query.updatedFrom')),
    updatedBefore: optional(q.updatedBefore, (v) => parseTime(v, 'query.updatedBefore')),
    after: optional(q.after, (v) => {
      const [type = '', id = ''] = fromCursor(v, 2);
      return { type, id };
    }),
    limit: q.limit === undefined ? 100 : parseCount(q.limit, 'query.limit', 0, MAX_PAGE),
  };
}

/** A pause target: a workflow type, or one instance of it. */
export function parsePauseTarget(value: unknown): PauseTarget {
  const t = parseObject<Partial<PauseTarget>>(value, 'pause target', '{ type, id? }');
  const type = parseKey(t.type, 'target.type');
  return t.id === undefined ? { type } : { type, id: parseKey(t.id, 'target.id') };
}

/** Longest feed position a store writes (a vector of partition positions stays far below). */
export const MAX_FEED_POSITION = 4096;

/** A feed query, checked; `after` is still the store's opaque text, which its backend decodes. */
export interface CheckedFeedQuery {
  readonly after?: string | undefined;
  readonly workflowTypes?: readonly string[] | undefined;
  readonly eventTypes?: readonly string[] | undefined;
  readonly limit: number;
}

/** Checks a feed query; `undefined` reads from the start. */
export function parseFeedQuery(value: unknown): CheckedFeedQuery {
  const q = parseOptions<FeedQuery>(value, 'feed query');
  const after: unknown = q.after;
  if (after !== undefined && (typeof after !== 'string' || after.length === 0 || after.length > MAX_FEED_POSITION)) {
    throw invalidArgument(`query.after must be a feed position (a string from readFeed), got ${describe(after)}`);
  }
  const types = (v: unknown, what: string): string[] | undefined => {
    if (v === undefined) return undefined;
    const list = parseTypes(v, what);
    if (list.length === 0) throw invalidArgument(`${what} must name at least one type; leave it out to read every one`);
    return list;
  };
  return {
    after,
    workflowTypes: types(q.workflowTypes, 'query.workflowTypes'),
    eventTypes: types(q.eventTypes, 'query.eventTypes'),
    limit: q.limit === undefined ? 100 : parseCount(q.limit, 'query.limit', 1, MAX_PAGE),
  };
}

/** The error of a feed position a backend cannot decode: bad input, like every other. */
export function badFeedPosition(position: string, why: string, what = 'query.after'): IronflowError {
  return invalidArgument(`${what} is not a feed position of this store (${why}): ${describe(position.length > 80 ? `${position.slice(0, 80)}…` : position)}`, { what });
}
