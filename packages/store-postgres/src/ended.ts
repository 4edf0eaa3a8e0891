// The NOTIFY payload of an instance that ended (a completing commit, a cancellation), as schema
// version 4's functions send it next to the work wake-ups 'effect' and 'timer'.
import type { InstanceEnded } from '@ironflow/core/store';

/** An ending as notified, with the origin of the store object that caused it. */
export interface NotifiedEnding {
  readonly instance: InstanceEnded;
  readonly from?: string | undefined;
}

/** The ending a notification tells of, or undefined when the payload is not such a notification. */
export function endedOf(payload: string): NotifiedEnding | undefined {
  if (!payload.startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { ended, type, id, from } = parsed as Record<string, unknown>;
  if ((ended !== 'completed' && ended !== 'cancelled') || typeof type !== 'string' || typeof id !== 'string') return undefined;
  return { instance: { type, id, status: ended }, from: typeof from === 'string' ? from : undefined };
}
