// How values live in Redis: payloads as JSON strings that Lua never parses, events as compact
// JSON arrays, work items as hashes with short field names, decoded back to core's records.
import type { StoredEvent, WorkflowRef } from '@ironflow/core';
import { invalidArgument, StoreError, toJsonText, type EffectRecord, type EventMetadata, type TimerRecord, type WorkKind, type WorkStatus } from '@ironflow/core/store';
import type { KindLetter } from './keys.js';

/** The letter a kind has inside keys and Lua. */
export function kindLetter(kind: WorkKind): KindLetter {
  return kind === 'effect' ? 'e' : 't';
}

/** Serialises a JSON value; INVALID_ARGUMENT when it cannot be (cycles, BigInt, undefined). */
export const encodeJson = toJsonText;

/** Parses JSON written by this store; a failure means someone else wrote under the prefix. */
export function decodeJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new StoreError('integrity', `Stored ${what} is not valid JSON`, { cause });
  }
}

/** An event as stored: `[type, recordedAt, metadata, payload]`; the list index gives its sequence. */
export function encodeEvent(event: StoredEvent, index: number): string {
  return encodeJson([event.type, event.recordedAt, event.metadata, event.payload], `events[${index}]`);
}

/** Rebuilds an event from its stored form. */
export function decodeEvent(ref: WorkflowRef, sequence: number, text: string): StoredEvent {
  const value = decodeJson(text, 'event');
  if (!Array.isArray(value) || value.length !== 4) throw new StoreError('integrity', `Stored event ${sequence} of ${ref.type}:${ref.id} has an unexpected shape`);
  const [type, recordedAt, metadata, payload] = value as [string, number, EventMetadata, unknown];
  return { workflowType: ref.type, workflowId: ref.id, sequence, type, payload, metadata, recordedAt };
}

/** Turns a flat HGETALL reply (`[field, value, …]`) into an object. */
export function fieldsOf(flat: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

const STATUSES = new Set<WorkStatus>(['pending', 'leased', 'done', 'dead', 'fired', 'cancelled']);

function required(fields: Record<string, string>, name: string, kind: WorkKind): string {
  const value = fields[name];
  if (value === undefined) throw new StoreError('integrity', `A stored ${kind} row lacks its "${name}" field`);
  return value;
}

/** Decodes an effect or timer hash into core's record; optional fields are absent when unset. */
export function decodeWorkItem(kind: WorkKind, fields: Record<string, string>): EffectRecord | TimerRecord {
  const status = required(fields, 'st', kind) as WorkStatus;
  if (!STATUSES.has(status)) throw new StoreError('integrity', `A stored ${kind} has the unknown status "${status}"`);
  const availableAt = Number(required(fields, 'aa', kind));
  const base = {
    id: required(fields, 'id', kind),
    workflowType: required(fields, 'wt', kind),
    workflowId: required(fields, 'wid', kind),
    status,
    attempts: Number(required(fields, 'at', kind)),
    createdAt: Number(required(fields, 'ca', kind)),
    updatedAt: Number(required(fields, 'ua', kind)),
    availableAt,
    ...(fields.le === undefined ? {} : { lastError: decodeJson(fields.le, 'lastError') as string }),
    ...(fields.lo === undefined ? {} : { leaseOwner: decodeJson(fields.lo, 'leaseOwner') as string }),
    ...(fields.lx === undefined ? {} : { leaseExpiresAt: Number(fields.lx) }),
  };
  if (kind === 'effect') return { kind: 'effect', ...base, payload: decodeJson(required(fields, 'p', kind), 'effect payload') };
  return {
    kind: 'timer',
    ...base,
    ...(fields.k === undefined ? {} : { key: fields.k }),
    // A timer is due at availableAt: a retry or re-drive moves both, as in the reference store.
    fireAt: availableAt,
    input: decodeJson(required(fields, 'in', kind), 'timer input'),
  };
}
