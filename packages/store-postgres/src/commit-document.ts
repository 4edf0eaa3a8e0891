// Encodes a checked commit as the json document commit_decisions (one per array element) reads. JSON
// values inside it stay JSON text (strings), so PostgreSQL never has to unescape a "\u0000" while
// it reads the document; the function casts each back to json.
import type { CheckedCommit } from '@ironflow/core/store';

/**
 * The document `commit_decisions` reads for one commit. The kit has checked every field and left
 * every JSON value as text, which is the form the function expects, so the parts are embedded as
 * they are.
 */
export function encodeCommit(commit: CheckedCommit): string {
  return JSON.stringify({
    workflowType: commit.ref.type,
    workflowId: commit.ref.id,
    expectedVersion: commit.expectedVersion,
    now: commit.now,
    completed: commit.completed,
    uniqueKey: commit.uniqueKey,
    idempotencyKey: commit.idempotencyKey,
    events: commit.events,
    effects: commit.effects,
    cancelTimers: commit.cancelTimers,
    timers: commit.timers,
    ack: commit.ack,
    snapshot: commit.snapshot,
    observation: commit.observation,
  });
}
