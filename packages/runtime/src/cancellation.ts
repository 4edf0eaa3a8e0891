// A cancellation the runtime fires itself (shutdown, timeout, lost lease), without an EventTarget:
// creating an AbortController and adding and removing listeners cost more per effect than the rest
// of the pool's bookkeeping. A handler's `ctx.signal` is made from it only when the handler reads it.

/** Fired at most once, with a reason; callbacks added after it fired run at once. */
export class Cancellation {
  #reason: unknown;
  #cancelled = false;
  #callbacks: ((reason: unknown) => void)[] | undefined;
  #controller: AbortController | undefined;

  /** True once `cancel` was called. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** What `cancel` was called with. */
  get reason(): unknown {
    return this.#reason;
  }

  /** An AbortSignal that follows this cancellation, created on first use. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#cancelled) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Runs `callback` when cancelled (at once if it already is); returns a function that removes it. */
  onCancel(callback: (reason: unknown) => void): () => void {
    if (this.#cancelled) {
      callback(this.#reason);
      return () => undefined;
    }
    (this.#callbacks ??= []).push(callback);
    return () => {
      const index = this.#callbacks?.indexOf(callback) ?? -1;
      if (index >= 0) this.#callbacks!.splice(index, 1);
    };
  }

  /** Cancels with `reason`; later calls do nothing. */
  cancel(reason: unknown): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    for (const callback of callbacks ?? []) callback(reason);
  }
}

/** A cancellation that never fires (work driven by hand, `runUntilIdle`). */
export const NEVER_CANCELLED: Cancellation = new Cancellation();
