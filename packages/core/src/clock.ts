// Time as a port: the runtime reads `now()` and passes it to stores, so tests can use a manual
// clock and every store agrees on what is "due". Nothing here schedules work.

/** Source of the current time, in epoch milliseconds. */
export interface Clock {
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to; for tests. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms` milliseconds (never backwards). */
  advance(ms: number): number;
  /** Sets the time; it must not be earlier than the current time. */
  set(epochMs: number | Date): number;
}

/**
 * Creates a manual clock, starting at `start` (default 2026-01-01T00:00:00Z).
 * @example const clock = createManualClock(); clock.advance(60_000);
 */
export function createManualClock(start: number | Date = Date.UTC(2026, 0, 1)): ManualClock {
  let current = typeof start === 'number' ? start : start.getTime();
  return {
    now: () => current,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance() needs a non-negative duration, got ${ms}`);
      current += ms;
      return current;
    },
    set(epochMs) {
      const next = typeof epochMs === 'number' ? epochMs : epochMs.getTime();
      if (!Number.isFinite(next) || next < current) throw new RangeError('a manual clock never moves backwards');
      current = next;
      return current;
    },
  };
}
