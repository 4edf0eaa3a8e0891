// Versioning of stored data (issue 13): event payloads carry a schema version and are upcast, one
// version at a time, to the shape the running code folds; snapshots carry the state version they
// were folded for; effects and timers carry the version of the code that wrote them.
import { IronflowError, invalidArgument } from './errors.js';
import type { StoredEvent } from './store/port.js';
import type { AnyWorkflow } from './workflow.js';

/** Highest version a workflow, an event schema or a state may declare (stores keep `integer`). */
const MAX_DECLARED_VERSION = 2 ** 31 - 1;

/**
 * How one event type's payload has changed: `version` is the schema the running code writes, and
 * `upcasters[n]` turns a payload of version n into version n + 1, for every n below `version`.
 */
export interface EventVersioning {
  readonly version: number;
  // The payloads of older versions have no type in the current code: upcasters take what was stored.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly upcasters?: Readonly<Record<number, (payload: any) => unknown>> | undefined;
}

/** Per event type (as stored: `eventType(event)` or `event.type`), its versioning. */
export type EventVersions = Readonly<Record<string, EventVersioning>>;

function checkVersion(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_DECLARED_VERSION) {
    throw invalidArgument(`${what} must be a whole number from 1 to ${MAX_DECLARED_VERSION}, got ${String(value)}`);
  }
  return value;
}

/** Checks a workflow's `version`, `stateVersion` and `eventVersions` when it is defined. */
export function checkVersioning(definition: { readonly type: string; readonly version?: unknown; readonly stateVersion?: unknown; readonly eventVersions?: unknown }): void {
  if (definition.version !== undefined) checkVersion(definition.version, `version of ${definition.type}`);
  if (definition.stateVersion !== undefined) checkVersion(definition.stateVersion, `stateVersion of ${definition.type}`);
  const versions = definition.eventVersions;
  if (versions === undefined) return;
  if (typeof versions !== 'object' || versions === null || Array.isArray(versions)) throw invalidArgument(`eventVersions of ${definition.type} must be an object keyed by event type`);
  for (const [type, entry] of Object.entries(versions as Record<string, unknown>)) {
    const what = `eventVersions.${type} of ${definition.type}`;
    if (typeof entry !== 'object' || entry === null) throw invalidArgument(`${what} must be { version, upcasters? }`);
    const { version, upcasters } = entry as { version?: unknown; upcasters?: unknown };
    const latest = checkVersion(version, `${what}.version`);
    const given = upcasters === undefined ? {} : upcasters;
    if (typeof given !== 'object' || given === null) throw invalidArgument(`${what}.upcasters must be an object keyed by the version each upcaster reads`);
    for (const key of Object.keys(given)) {
      const from = Number(key);
      if (!Number.isInteger(from) || from < 1 || from >= latest) throw invalidArgument(`${what}.upcasters[${key}] upcasts from a version that is not below ${latest}`);
    }
    for (let from = 1; from < latest; from++) {
      if (typeof (given as Record<number, unknown>)[from] !== 'function') {
        throw invalidArgument(`${what} is at version ${latest} but has no upcaster from version ${from} to ${from + 1}`);
      }
    }
  }
}

/** The schema version the running code writes for an event type: its declared version, else 1. */
export function schemaVersionOf(workflow: AnyWorkflow, eventType: string): number {
  return workflow.eventVersions?.[eventType]?.version ?? 1;
}

/**
 * A stored event's payload in the shape the running code folds: its upcasters applied from the
 * stored schema version up to the latest, then the workflow's `upcast` hook when it has one.
 * Throws EVENT_VERSION_UNKNOWN for a version newer than the code knows (written by newer code),
 * UPCAST_FAILED when an upcaster or the hook throws.
 */
export function upcastEvent(workflow: AnyWorkflow, stored: StoredEvent): unknown {
  const storedVersion = stored.schemaVersion ?? 1;
  const versioning = workflow.eventVersions?.[stored.type];
  const latest = versioning?.version ?? 1;
  const details = { workflowType: stored.workflowType, workflowId: stored.workflowId, sequence: stored.sequence, eventType: stored.type, schemaVersion: storedVersion, known: latest };
  if (storedVersion > latest) {
    throw new IronflowError(
      'EVENT_VERSION_UNKNOWN',
      `Event ${stored.sequence} (${stored.type}) of ${stored.workflowType}:${stored.workflowId} has schema version ${storedVersion}; this code knows versions up to ${latest} (it was written by newer code)`,
      { details },
    );
  }
  let payload = stored.payload;
  let at = storedVersion;
  try {
    for (; at < latest; at++) payload = versioning!.upcasters![at]!(payload);
    return workflow.upcast ? workflow.upcast(at === storedVersion ? stored : { ...stored, payload, schemaVersion: latest }) : payload;
  } catch (cause) {
    const step = at < latest ? `its upcaster from version ${at}` : 'upcast';
    throw new IronflowError('UPCAST_FAILED', `${step} failed for ${stored.workflowType}:${stored.workflowId} at event ${stored.sequence} (${stored.type})`, { cause, details });
  }
}

/** Snapshots are taken every this many events unless the workflow says otherwise. */
export const DEFAULT_SNAPSHOT_EVERY = 50;

/**
 * The revision a snapshot is stored with: the state version (which decides whether it can be
 * used), then `@` and the workflow's code version (a record of who wrote it). An explicit
 * `snapshot.revision` (the older way to say the state changed) is kept as it is.
 */
export function snapshotRevision(workflow: AnyWorkflow): string {
  const policy = workflow.snapshot;
  if (policy && policy.revision !== undefined) return policy.revision;
  return `${workflow.stateVersion ?? 1}@${workflow.version ?? 1}`;
}

/** True when a stored snapshot was folded for the state the running code folds. */
export function snapshotUsable(workflow: AnyWorkflow, revision: string): boolean {
  const policy = workflow.snapshot;
  if (policy && policy.revision !== undefined) return revision === policy.revision;
  const stateVersion = revision.includes('@') ? revision.slice(0, revision.indexOf('@')) : revision;
  return stateVersion === String(workflow.stateVersion ?? 1);
}

/** The snapshot interval in force: the workflow's, the default, or undefined when it turned them off. */
export function snapshotEvery(workflow: AnyWorkflow): number | undefined {
  if (workflow.snapshot === false) return undefined;
  return workflow.snapshot?.every ?? DEFAULT_SNAPSHOT_EVERY;
}

/**
 * True when a state survives a JSON round trip unchanged: plain objects and arrays of strings,
 * finite numbers, booleans and null. A default snapshot of anything else (a Date, a Map, a class)
 * would come back different, so it is not taken.
 */
export function isPlainJson(value: unknown, depth = 0): boolean {
  if (depth > 200) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isPlainJson(v, depth + 1));
  if (typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  for (const v of Object.values(value as Record<string, unknown>)) if (v === undefined || !isPlainJson(v, depth + 1)) return false;
  return true;
}
