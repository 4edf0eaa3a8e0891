// Encodes a checked commit as the json document commit_decisions (one per array element) reads. JSON
// values inside it stay JSON text (strings), so PostgreSQL never has to unescape a "\u0000" while
// it reads the document; the function casts each back to json.
import type { CheckedCommit } from '@ironflow/core/store';

/**
 * The document `commit_decisions` reads for one commit. The kit has checked every field and left
 * every JSON value as text, which is the form the function expects, so the parts are embedded as
 * they are. `origin` names the store object that sends a completing commit, so that its listener
 * can skip the notification of an ending its kit has announced already. An effect or timer has
 * `trace` only when it carries one (JSON.stringify drops absent fields), so documents stay as small
 * as before when tracing is off, and the functions read a missing one as NULL. Every event has its
 * `schemaVersion` and every effect and timer its `version` (1 by default), which the functions of
 * schema version 9 store as NULL when 1.
 */
export function encodeCommit(commit: CheckedCommit, origin?: string): string {
  return JSON.stringify({
    workflowType: commit.ref.type,
    workflowId: commit.ref.id,
    expectedVersion: commit.expectedVersion,
    now: commit.now,
    completed: commit.completed,
    uniqueKey: commit.uniqueKey,
    parent: commit.parent,
    idempotencyKey: commit.idempotencyKey,
    events: commit.events,
    effects: commit.effects,
    cancelEffects: commit.cancelEffects,
    cancelWork: commit.cancelWork,
    cancelTimers: commit.cancelTimers,
    timers: commit.timers,
    ack: commit.ack,
    snapshot: commit.snapshot,
    observation: commit.observation,
    origin: commit.completed ? origin : undefined,
  });
}
