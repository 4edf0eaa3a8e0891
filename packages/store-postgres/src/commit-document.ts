// Checks a CommitRequest and encodes it as the one json argument of the commit_decision SQL
// function. JSON values inside it are embedded as JSON text (strings), so PostgreSQL never has to
// unescape a "\u0000" while it reads the document; the function casts each back to json.
import { invalidArgument, type CommitRequest } from '@ironflow/core/store';
import { freeText, integer, json, key } from './arguments.js';

/**
 * Validates `request` and returns the document for `commit_decision`; INVALID_ARGUMENT (nothing
 * written) when the request is malformed.
 */
export function encodeCommit(request: CommitRequest): string {
  if (typeof request !== 'object' || request === null) throw invalidArgument('commit needs a request object');
  const type = key(request.ref?.type, 'ref.type');
  const id = key(request.ref?.id, 'ref.id');
  const expectedVersion = integer(request.expectedVersion, 'expectedVersion', 0);
  const now = integer(request.now, 'now');
  if (!Array.isArray(request.events) || request.events.length === 0) throw invalidArgument('A commit needs at least one event');
  if (typeof request.completed !== 'boolean') throw invalidArgument('completed must be a boolean');

  const events = request.events.map((event, index) => {
    const what = `events[${index}]`;
    if (event.workflowType !== type || event.workflowId !== id) {
      throw invalidArgument(`${what} belongs to another instance than ref`, { index });
    }
    if (event.sequence !== expectedVersion + index + 1) {
      throw invalidArgument(`${what}.sequence must be ${expectedVersion + index + 1}, got ${String(event.sequence)}`, { index });
    }
    return {
      type: key(event.type, `${what}.type`),
      payload: json(event.payload, `${what}.payload`),
      metadata: json(event.metadata, `${what}.metadata`),
      recordedAt: integer(event.recordedAt, `${what}.recordedAt`),
    };
  });

  const effectIds = new Set<string>();
  const effects = list(request.effects, 'effects').map((effect, index) => {
    const effectId = key(effect.id, `effects[${index}].id`);
    if (effectIds.has(effectId)) throw invalidArgument(`Effect id "${effectId}" appears twice in one commit`);
    effectIds.add(effectId);
    return { id: effectId, payload: json(effect.payload, `effects[${index}].payload`) };
  });

  const cancelTimers = list(request.cancelTimers, 'cancelTimers').map((k, index) => key(k, `cancelTimers[${index}]`));

  const timerIds = new Set<string>();
  const timerKeys = new Set<string>();
  const timers = list(request.timers, 'timers').map((timer, index) => {
    const what = `timers[${index}]`;
    const timerId = key(timer.id, `${what}.id`);
    if (timerIds.has(timerId)) throw invalidArgument(`Timer id "${timerId}" appears twice in one commit`);
    timerIds.add(timerId);
    const timerKey = timer.key === undefined ? undefined : key(timer.key, `${what}.key`);
    if (timerKey !== undefined) {
      if (timerKeys.has(timerKey)) throw invalidArgument(`Timer key "${timerKey}" is scheduled twice in one commit`);
      timerKeys.add(timerKey);
    }
    return { id: timerId, key: timerKey, fireAt: integer(timer.fireAt, `${what}.fireAt`), input: json(timer.input, `${what}.input`) };
  });

  const ack = request.ack === undefined ? undefined : encodeAck(request.ack);
  const snapshot =
    request.snapshot === undefined
      ? undefined
      : {
          version: integer(request.snapshot.version, 'snapshot.version', 1),
          revision: key(request.snapshot.revision, 'snapshot.revision'),
          state: json(request.snapshot.state, 'snapshot.state'),
        };
  const observation = request.observation === undefined ? undefined : encodeObservation(request.observation);

  return JSON.stringify({
    workflowType: type,
    workflowId: id,
    expectedVersion,
    now,
    completed: request.completed,
    // A unique key is claimed only when the instance is created.
    uniqueKey: request.uniqueKey === undefined || expectedVersion > 0 ? undefined : key(request.uniqueKey, 'uniqueKey'),
    idempotencyKey: request.idempotencyKey === undefined ? undefined : key(request.idempotencyKey, 'idempotencyKey'),
    events,
    effects,
    cancelTimers,
    timers,
    ack,
    snapshot,
    observation,
  });
}

/** The acknowledgement part of a commit document. */
function encodeAck(ack: NonNullable<CommitRequest['ack']>): Record<string, unknown> {
  if (ack.kind !== 'effect' && ack.kind !== 'timer') throw invalidArgument(`ack.kind must be 'effect' or 'timer'`);
  if (ack.outcome !== 'done' && ack.outcome !== 'dead') throw invalidArgument(`ack.outcome must be 'done' or 'dead'`);
  return {
    kind: ack.kind,
    id: key(ack.id, 'ack.id'),
    token: key(ack.token, 'ack.token'),
    outcome: ack.outcome,
    error: ack.error === undefined ? undefined : freeText(ack.error, 'ack.error'),
  };
}

/** Checks an observation and encodes it for the commit document or a plain insert. */
export function encodeObservation(observation: NonNullable<CommitRequest['observation']>): {
  workflowType: string;
  workflowId: string;
  inputType: string;
  input: string;
  outcome: string;
  rejection: string | undefined;
  observedAt: number;
} {
  if (typeof observation !== 'object' || observation === null) throw invalidArgument('observation must be an object');
  const outcome: unknown = observation.outcome;
  if (outcome !== 'accepted' && outcome !== 'rejected' && outcome !== 'already-completed') {
    throw invalidArgument(`observation.outcome must be accepted, rejected or already-completed, got ${String(outcome)}`);
  }
  if (typeof observation.inputType !== 'string') throw invalidArgument('observation.inputType must be a string');
  if (observation.inputType.includes('\u0000')) throw invalidArgument('observation.inputType must not contain NUL');
  return {
    workflowType: key(observation.workflowType, 'observation.workflowType'),
    workflowId: key(observation.workflowId, 'observation.workflowId'),
    inputType: freeText(observation.inputType, 'observation.inputType'),
    input: json(observation.input, 'observation.input'),
    outcome,
    rejection: observation.rejection === undefined ? undefined : json(observation.rejection, 'observation.rejection'),
    observedAt: integer(observation.observedAt, 'observation.observedAt'),
  };
}

function list<T>(value: readonly T[] | undefined, what: string): readonly T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidArgument(`${what} must be an array`);
  return value;
}
