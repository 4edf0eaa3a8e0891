// Builders and waits shared by this package's tests: a one-event commit with defaults, a bounded
// poll for asynchronous wake-ups and reconnects, and a rejection catcher.
import type { CommitRequest } from '@ironflow/core/store';

/** Base time of the tests: stores never read a clock. */
export const T0 = Date.UTC(2026, 0, 1);

/** A one-event commit with defaults, for tests that drive the store directly. */
export function commit(ref: { type: string; id: string }, expectedVersion: number, fields: Partial<CommitRequest> = {}): CommitRequest {
  const now = fields.now ?? T0;
  return {
    ref,
    expectedVersion,
    now,
    events: [
      { workflowType: ref.type, workflowId: ref.id, sequence: expectedVersion + 1, type: 'Happened', payload: { n: expectedVersion + 1 }, metadata: { decidedAt: now }, recordedAt: now },
    ],
    effects: [],
    cancelTimers: [],
    timers: [],
    completed: false,
    ...fields,
  };
}

/** Polls `probe` until it returns a value (bounded): for asynchronous wake-ups and reconnects only. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The error `promise` rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
