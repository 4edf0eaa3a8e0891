// An engine's own waits (conflict backoff, lease renewals, handler timeouts) on the simulation's
// clock instead of the process's timers: they fire only when the simulation moves time past them,
// in due order, so two runs of one tape wait and wake alike.
import type { ManualClock } from '@ironflow/core';

interface Waiting {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
}

/** Timers of one simulated process; a crash clears them with the process. */
export class VirtualTimeouts {
  readonly #waiting = new Map<number, Waiting>();
  #seq = 0;

  constructor(private readonly clock: ManualClock) {}

  readonly setTimeout = (fire: () => void, ms: number): unknown => {
    this.#seq += 1;
    this.#waiting.set(this.#seq, { at: this.clock.now() + Math.max(0, Math.floor(ms)), seq: this.#seq, fire });
    return this.#seq;
  };

  readonly clearTimeout = (handle: unknown): void => {
    this.#waiting.delete(handle as number);
  };

  /** The earliest time a timer waits for. */
  nextAt(): number | undefined {
    let next: number | undefined;
    for (const w of this.#waiting.values()) if (next === undefined || w.at < next) next = w.at;
    return next;
  }

  /** Fires every timer due now, earliest first (then in the order they were set); how many fired. */
  fireDue(): number {
    let fired = 0;
    for (;;) {
      let due: Waiting | undefined;
      for (const w of this.#waiting.values()) if (w.at <= this.clock.now() && (due === undefined || w.at < due.at || (w.at === due.at && w.seq < due.seq))) due = w;
      if (due === undefined) return fired;
      this.#waiting.delete(due.seq);
      due.fire();
      fired += 1;
    }
  }

  /** Forgets every timer (the process crashed). */
  clear(): void {
    this.#waiting.clear();
  }
}
