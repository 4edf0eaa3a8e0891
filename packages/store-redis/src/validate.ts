// Argument checks run before anything is sent to Redis, so bad input gets a typed
// INVALID_ARGUMENT error and writes nothing.
import type { WorkflowRef } from '@ironflow/core';
import { parseKey, invalidArgument, type ClaimRequest, type CommitRequest, type Lease, type Observation, type WorkKind } from '@ironflow/core/store';

/**
 * Checks an id, type or key with core's rule (non-empty, at most 512 characters, no NUL, no unpaired
 * surrogate: Redis stores UTF-8, where a lone surrogate would not round-trip).
 */
export function checkName(value: unknown, what: string): string {
  return parseKey(value, what);
}

/** Checks an epoch-millisecond time: a safe, non-negative whole number. */
export function checkTime(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`${what} must be epoch milliseconds (a non-negative whole number), got ${String(value)}`, { what });
  }
  return value;
}

/** Checks a count, limit or offset: a non-negative whole number. */
export function checkCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`${what} must be a non-negative whole number, got ${String(value)}`, { what });
  }
  return value;
}

/** Checks a free-text field (an error message, a lease owner). */
export function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string') throw invalidArgument(`${what} must be a string, got ${typeof value}`, { what });
  return value;
}

/** Checks a workflow reference. */
export function checkRef(ref: unknown, what = 'ref'): WorkflowRef {
  if (typeof ref !== 'object' || ref === null) throw invalidArgument(`${what} must be { type, id }`);
  const { type, id } = ref as { type?: unknown; id?: unknown };
  return { type: checkName(type, `${what}.type`), id: checkName(id, `${what}.id`) };
}

/** Checks a work kind. */
export function checkKind(kind: unknown): WorkKind {
  if (kind !== 'effect' && kind !== 'timer') throw invalidArgument(`kind must be 'effect' or 'timer', got ${String(kind)}`);
  return kind;
}

/** Checks a lease's shape; an unknown token is not bad input but a lost lease, decided later. */
export function checkLease(lease: unknown): Lease {
  if (typeof lease !== 'object' || lease === null) throw invalidArgument('lease must be { kind, id, token }');
  const { kind, id, token } = lease as { kind?: unknown; id?: unknown; token?: unknown };
  return { kind: checkKind(kind), id: checkName(id, 'lease.id'), token: checkText(token, 'lease.token') };
}

/** Checks an observation. */
export function checkObservation(observation: unknown, what = 'observation'): Observation {
  if (typeof observation !== 'object' || observation === null) throw invalidArgument(`${what} must be an object`);
  const o = observation as Partial<Observation>;
  checkName(o.workflowType, `${what}.workflowType`);
  checkName(o.workflowId, `${what}.workflowId`);
  checkText(o.inputType, `${what}.inputType`);
  if (o.outcome !== 'accepted' && o.outcome !== 'rejected' && o.outcome !== 'already-completed') {
    throw invalidArgument(`${what}.outcome must be accepted, rejected or already-completed`);
  }
  checkTime(o.observedAt, `${what}.observedAt`);
  return o as Observation;
}

/** Checks a claim request; returns the distinct types. */
export function checkClaim(request: unknown): { request: ClaimRequest; types: string[] } {
  if (typeof request !== 'object' || request === null) throw invalidArgument('claim request must be an object');
  const r = request as ClaimRequest;
  checkTime(r.now, 'claim.now');
  checkCount(r.limit, 'claim.limit');
  checkCount(r.leaseMs, 'claim.leaseMs');
  checkTime(r.now + r.leaseMs, 'claim.now + claim.leaseMs');
  checkText(r.owner, 'claim.owner');
  if (!Array.isArray(r.types)) throw invalidArgument('claim.types must be an array of workflow types');
  const types = [...new Set(r.types.map((t, i) => checkName(t, `claim.types[${i}]`)))];
  return { request: r, types };
}

/** Checks everything about a commit request that can be checked without the server. */
export function checkCommit(request: unknown): CommitRequest {
  if (typeof request !== 'object' || request === null) throw invalidArgument('commit request must be an object');
  const r = request as CommitRequest;
  const ref = checkRef(r.ref);
  const expected = checkCount(r.expectedVersion, 'expectedVersion');
  checkTime(r.now, 'now');
  if (!Array.isArray(r.events) || r.events.length === 0) throw invalidArgument('a commit needs at least one event');
  r.events.forEach((event, i) => {
    if (typeof event !== 'object' || event === null) throw invalidArgument(`events[${i}] must be an object`);
    if (event.workflowType !== ref.type || event.workflowId !== ref.id) {
      throw invalidArgument(`events[${i}] belongs to ${String(event.workflowType)}:${String(event.workflowId)}, not to the committed instance`);
    }
    if (event.sequence !== expected + i + 1) {
      throw invalidArgument(`events[${i}].sequence must be ${expected + i + 1} (expectedVersion + ${i + 1}), got ${String(event.sequence)}`);
    }
    checkName(event.type, `events[${i}].type`);
    checkTime(event.recordedAt, `events[${i}].recordedAt`);
    if (typeof event.metadata !== 'object' || event.metadata === null) throw invalidArgument(`events[${i}].metadata must be an object`);
    if (event.payload === undefined) throw invalidArgument(`events[${i}].payload must be a JSON value`);
  });
  if (!Array.isArray(r.effects) || !Array.isArray(r.timers) || !Array.isArray(r.cancelTimers)) {
    throw invalidArgument('effects, timers and cancelTimers must be arrays');
  }
  const ids = new Set<string>();
  const fresh = (id: string, what: string) => {
    if (ids.has(id)) throw invalidArgument(`${what} ${JSON.stringify(id)} appears twice in one commit`);
    ids.add(id);
  };
  r.effects.forEach((effect, i) => {
    fresh(checkName(effect?.id, `effects[${i}].id`), 'effect id');
    if (effect.payload === undefined) throw invalidArgument(`effects[${i}].payload must be a JSON value`);
  });
  r.cancelTimers.forEach((key, i) => checkName(key, `cancelTimers[${i}]`));
  const keys = new Set<string>();
  r.timers.forEach((timer, i) => {
    fresh(checkName(timer?.id, `timers[${i}].id`), 'timer id');
    checkTime(timer.fireAt, `timers[${i}].fireAt`);
    if (timer.input === undefined) throw invalidArgument(`timers[${i}].input must be a JSON value`);
    if (timer.key !== undefined) {
      const key = checkName(timer.key, `timers[${i}].key`);
      if (keys.has(key)) throw invalidArgument(`timer key ${JSON.stringify(key)} is scheduled twice in one commit`);
      keys.add(key);
    }
  });
  if (typeof r.completed !== 'boolean') throw invalidArgument('completed must be a boolean');
  if (r.uniqueKey !== undefined) {
    checkName(r.uniqueKey, 'uniqueKey');
    if (expected !== 0) throw invalidArgument('uniqueKey is only claimed when an instance is created (expectedVersion 0)');
  }
  if (r.idempotencyKey !== undefined) checkName(r.idempotencyKey, 'idempotencyKey');
  if (r.snapshot !== undefined) {
    const s = r.snapshot;
    if (typeof s !== 'object' || s === null) throw invalidArgument('snapshot must be { version, revision, state }');
    const version = checkCount(s.version, 'snapshot.version');
    if (version < 1 || version > expected + r.events.length) {
      throw invalidArgument(`snapshot.version must be between 1 and the new version ${expected + r.events.length}, got ${version}`);
    }
    checkText(s.revision, 'snapshot.revision');
    if (s.state === undefined) throw invalidArgument('snapshot.state must be a JSON value');
  }
  if (r.ack !== undefined) {
    checkLease(r.ack);
    if (r.ack.outcome !== 'done' && r.ack.outcome !== 'dead') throw invalidArgument(`ack.outcome must be 'done' or 'dead'`);
    if (r.ack.error !== undefined) checkText(r.ack.error, 'ack.error');
  }
  if (r.observation !== undefined) {
    const o = checkObservation(r.observation);
    if (o.workflowType !== ref.type || o.workflowId !== ref.id) throw invalidArgument('observation must belong to the committed instance');
  }
  return r;
}
