// How values live in Redis. JSON arrives from the kit as text and is spliced into the stored forms
// (events as `[type, recordedAt, metadata, payload]`, plus the schema version when it is not 1,
// snapshots, observations) without being parsed again; reading back checks every stored form and
// decodes it to core's records.
import {
  StoreError,
  stripUndefined,
  type CheckedCommit,
  type CheckedEvent,
  type CheckedObservation,
  type EffectRecord,
  type EventMetadata,
  type IdempotencyRecord,
  type Observation,
  type Snapshot,
  type StoredEvent,
  type TimerRecord,
  type TraceCarrier,
  type WorkflowRef,
  type WorkKind,
  type WorkStatus,
} from '@ironflow/core/store';
import type { KindLetter } from './keys.js';
import { parseStoredJson, type Fields } from './reply.js';

/** The letter a kind has inside keys and Lua. */
export function kindLetter(kind: WorkKind): KindLetter {
  return kind === 'effect' ? 'e' : 't';
}

/**
 * An event as stored: `[type, recordedAt, metadata, payload]`, with its schema version as a fifth
 * element only when it is not 1 (so version-1 events are stored as before); the list index gives
 * its sequence.
 */
export function storedEvent(event: CheckedEvent): string {
  const version = event.schemaVersion === 1 ? '' : `,${event.schemaVersion}`;
  return `[${JSON.stringify(event.type)},${event.recordedAt},${event.metadata},${event.payload}${version}]`;
}

/** A snapshot as stored in the instance hash. */
export function storedSnapshot(snapshot: NonNullable<CheckedCommit['snapshot']>): string {
  return `{"version":${snapshot.version},"revision":${JSON.stringify(snapshot.revision)},"state":${snapshot.state}}`;
}

/** An observation as stored in its instance's list. */
export function storedObservation(o: CheckedObservation): string {
  const rejection = o.rejection === undefined ? '' : `,"rejection":${o.rejection}`;
  return (
    `{"workflowType":${JSON.stringify(o.workflowType)},"workflowId":${JSON.stringify(o.workflowId)},` +
    `"inputType":${JSON.stringify(o.inputType)},"input":${o.input},"outcome":${JSON.stringify(o.outcome)}${rejection},"observedAt":${o.observedAt}}`
  );
}

/** The idempotency record a commit with an idempotency key leaves. */
export function storedIdempotency(commit: CheckedCommit): string {
  return JSON.stringify({ version: commit.newVersion, eventCount: commit.events.length, committedAt: commit.now });
}

function fail(where: string, expected: string): StoreError {
  return new StoreError('integrity', `Redis store: ${where} should be ${expected}`, { details: { where } });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectOf(text: string, where: string): Record<string, unknown> {
  const value = parseStoredJson(text, where);
  if (!isObject(value)) throw fail(where, 'a JSON object');
  return value;
}

function whole(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw fail(where, 'a whole number');
  return value;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string') throw fail(where, 'a string');
  return value;
}

function isEventMetadata(value: unknown): value is EventMetadata {
  return isObject(value) && typeof value.decidedAt === 'number';
}

/** Rebuilds an event from its stored form. */
export function decodeEvent(ref: WorkflowRef, sequence: number, stored: string): StoredEvent {
  const where = `event ${sequence} of ${ref.type}:${ref.id}`;
  const value = parseStoredJson(stored, where);
  if (!Array.isArray(value) || (value.length !== 4 && value.length !== 5)) throw fail(where, 'a [type, recordedAt, metadata, payload, schemaVersion?] array');
  const [type, recordedAt, metadata, payload, schemaVersion] = value as unknown[];
  if (!isEventMetadata(metadata)) throw fail(`${where} metadata`, 'an object with decidedAt');
  const version = schemaVersion === undefined ? 1 : whole(schemaVersion, `${where} schemaVersion`);
  if (version < 1) throw fail(`${where} schemaVersion`, 'a whole number from 1');
  const event: StoredEvent = {
    workflowType: ref.type,
    workflowId: ref.id,
    sequence,
    type: text(type, `${where} type`),
    payload,
    metadata,
    recordedAt: whole(recordedAt, `${where} recordedAt`),
  };
  return version === 1 ? event : { ...event, schemaVersion: version };
}

/** Rebuilds a snapshot. */
export function decodeSnapshot(stored: string): Snapshot {
  const o = objectOf(stored, 'snapshot');
  return { version: whole(o.version, 'snapshot version'), revision: text(o.revision, 'snapshot revision'), state: o.state };
}

/** Rebuilds the idempotency record of `key`. */
export function decodeIdempotency(key: string, stored: string): IdempotencyRecord {
  const o = objectOf(stored, 'idempotency record');
  return {
    key,
    version: whole(o.version, 'idempotency record version'),
    eventCount: whole(o.eventCount, 'idempotency record eventCount'),
    committedAt: whole(o.committedAt, 'idempotency record committedAt'),
  };
}

const OUTCOMES: readonly Observation['outcome'][] = ['accepted', 'rejected', 'already-completed'];

function isOutcome(value: unknown): value is Observation['outcome'] {
  return OUTCOMES.some((outcome) => outcome === value);
}

/** Rebuilds an observation. */
export function decodeObservation(stored: string): Observation {
  const o = objectOf(stored, 'observation');
  if (!isOutcome(o.outcome)) throw fail('observation outcome', OUTCOMES.join(', '));
  return stripUndefined({
    workflowType: text(o.workflowType, 'observation workflowType'),
    workflowId: text(o.workflowId, 'observation workflowId'),
    inputType: text(o.inputType, 'observation inputType'),
    input: o.input,
    outcome: o.outcome,
    rejection: o.rejection,
    observedAt: whole(o.observedAt, 'observation observedAt'),
  });
}

const STATUSES: readonly WorkStatus[] = ['pending', 'leased', 'done', 'dead', 'fired', 'cancelled'];

/** A string field stored as JSON text (`le`, `lo`), or undefined when absent. */
function jsonText(fields: Fields, name: string): string | undefined {
  const stored = fields.get(name).optionalText();
  return stored === undefined ? undefined : text(parseStoredJson(stored, `${fields.where}.${name}`), `${fields.where}.${name}`);
}

/** The trace carrier (`tr`, JSON of string fields), or undefined when the row was written without one. */
function traceOf(fields: Fields): TraceCarrier | undefined {
  const stored = fields.get('tr').optionalText();
  if (stored === undefined) return undefined;
  const where = `${fields.where}.tr`;
  const carrier = objectOf(stored, where);
  for (const value of Object.values(carrier)) text(value, where);
  return carrier as TraceCarrier;
}

function decodeItemBase(fields: Fields) {
  return stripUndefined({
    id: fields.get('id').text(),
    workflowType: fields.get('wt').text(),
    workflowId: fields.get('wid').text(),
    status: fields.get('st').oneOf(STATUSES),
    attempts: fields.get('at').integer(),
    createdAt: fields.get('ca').integer(),
    updatedAt: fields.get('ua').integer(),
    availableAt: fields.get('aa').integer(),
    lastError: jsonText(fields, 'le'),
    leaseOwner: jsonText(fields, 'lo'),
    leaseExpiresAt: fields.get('lx').optionalInteger(),
    trace: traceOf(fields),
    version: positiveOrAbsent(fields, 'v', 2),
    releases: positiveOrAbsent(fields, 'rl', 1),
  });
}

/** A whole-number field, or undefined when absent or below `from` (the default a read leaves out: version 1, releases 0). */
function positiveOrAbsent(fields: Fields, name: string, from: number): number | undefined {
  const value = fields.get(name).optionalInteger();
  return value === undefined || value < from ? undefined : value;
}

/** Decodes an effect hash into core's record; optional fields are absent when unset, priority 0 when not stored. */
export function decodeEffect(fields: Fields): EffectRecord {
  const settings = fields.get('se').optionalText();
  return stripUndefined({
    kind: 'effect',
    ...decodeItemBase(fields),
    payload: parseStoredJson(fields.get('p').text(), `${fields.where}.p`),
    key: fields.get('k').optionalText(),
    tag: fields.get('g').optionalText(),
    priority: fields.get('pr').optionalInteger() ?? 0,
    settings: settings === undefined ? undefined : (objectOf(settings, `${fields.where}.se`) as EffectRecord['settings']),
  });
}

/** Decodes a timer hash into core's record; optional fields are absent when unset. */
export function decodeTimer(fields: Fields): TimerRecord {
  const base = decodeItemBase(fields);
  return stripUndefined({
    kind: 'timer',
    ...base,
    key: fields.get('k').optionalText(),
    // A timer is due at availableAt; `fa` keeps its fireAt once a retry, release or re-drive has
    // moved availableAt away from it (absent until then: the two are equal).
    fireAt: fields.get('fa').optionalInteger() ?? base.availableAt,
    input: parseStoredJson(fields.get('in').text(), `${fields.where}.in`),
  });
}

/** Decodes an effect or timer hash. */
export function decodeWorkItem(kind: WorkKind, fields: Fields): EffectRecord | TimerRecord {
  return kind === 'effect' ? decodeEffect(fields) : decodeTimer(fields);
}
