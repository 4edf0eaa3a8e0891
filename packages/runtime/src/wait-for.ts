// engine.waitFor: resolves when an instance is terminal (or a predicate over its state holds),
// woken by what can change it — this process's own commits and every store's terminal
// notifications — with a slow re-check for notifications lost while a connection was down.
import { IronflowError, type WorkflowRef } from '@ironflow/core';
import { invalidArgument, type InstanceEnded, type InstanceStatus } from '@ironflow/core/store';

/** What `waitFor` resolves with. */
export interface WaitResult<S> {
  readonly state: S;
  readonly version: number;
  readonly status: InstanceStatus;
}

/** Options of `waitFor`. */
export interface WaitForOptions<S> {
  /**
   * Resolve as soon as this holds (checked on every change this process sees, on terminal
   * notifications from any process, and at each re-check); by default, when the instance is
   * completed or cancelled.
   */
  until?: ((current: WaitResult<S>) => boolean) | undefined;
  /** Reject with WAIT_TIMEOUT after this long (wall-clock ms). */
  timeoutMs: number;
  /** Reject with the signal's reason when it aborts. */
  signal?: AbortSignal | undefined;
  /**
   * Re-read the instance this often even without a notification (wall-clock ms): notifications
   * sent while a listening connection was down are lost, and another process's commits that do
   * not end an instance send none.
   * @default 5000
   */
  recheckMs?: number | undefined;
}

/** What `waitFor` needs from the engine. */
export interface WaitDependencies<S> {
  read(ref: WorkflowRef): Promise<WaitResult<S>>;
  /** Calls back on every terminal notification; returns an unsubscribe. */
  onEnded(listener: (ended: InstanceEnded) => void): () => void;
  /** Calls back when this process committed a decision to `ref`; returns an unsubscribe. */
  onCommitted(ref: WorkflowRef, listener: () => void): () => void;
}

const isTerminal = (current: WaitResult<unknown>): boolean => current.status !== 'active';

/** Waits for `ref` as `options` say; rejects with INVALID_ARGUMENT on bad options, before subscribing. */
export function waitFor<S>(deps: WaitDependencies<S>, ref: WorkflowRef, options: WaitForOptions<S>): Promise<WaitResult<S>> {
  if (typeof options !== 'object' || options === null) return Promise.reject(invalidArgument('waitFor needs options with timeoutMs'));
  const { timeoutMs, signal } = options;
  const recheckMs = options.recheckMs ?? 5000;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) return Promise.reject(invalidArgument(`waitFor: timeoutMs must be a number of ms >= 0, got ${String(timeoutMs)}`));
  if (!Number.isFinite(recheckMs) || recheckMs < 1) return Promise.reject(invalidArgument(`waitFor: recheckMs must be a number of ms >= 1, got ${String(recheckMs)}`));
  if (options.until !== undefined && typeof options.until !== 'function') return Promise.reject(invalidArgument('waitFor: until must be a function of the current state'));
  const until = options.until ?? isTerminal;
  if (signal?.aborted) return Promise.reject(signal.reason);

  return new Promise<WaitResult<S>>((resolve, reject) => {
    let settled = false;
    let checking = false;
    let again = false;
    const cleanups: Array<() => void> = [];
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      for (const cleanup of cleanups) cleanup();
      outcome();
    };

    // One read at a time; a change seen during a read asks for one more read after it.
    const check = (): void => {
      if (settled) return;
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      deps
        .read(ref)
        .then((current) => {
          let done: boolean;
          try {
            done = until(current);
          } catch (error) {
            finish(() => reject(error));
            return;
          }
          // A terminal instance never changes again: a predicate that does not hold now never will.
          if (done) finish(() => resolve(current));
          else if (isTerminal(current)) finish(() => reject(new IronflowError('WAIT_UNSATISFIABLE', `${ref.type}:${ref.id} is ${current.status}, and the condition waited for does not hold`, { details: { workflowType: ref.type, workflowId: ref.id, status: current.status } })));
        })
        .catch((error: unknown) => finish(() => reject(error)))
        .finally(() => {
          checking = false;
          if (again) {
            again = false;
            check();
          }
        });
    };

    cleanups.push(deps.onEnded((ended) => {
      if (ended.type === ref.type && ended.id === ref.id) check();
    }));
    cleanups.push(deps.onCommitted(ref, check));
    const timeout = setTimeout(() => finish(() => reject(new IronflowError('WAIT_TIMEOUT', `${ref.type}:${ref.id} did not reach the awaited state within ${timeoutMs} ms`, { details: { workflowType: ref.type, workflowId: ref.id, timeoutMs } }))), timeoutMs);
    cleanups.push(() => clearTimeout(timeout));
    const recheck = setInterval(check, recheckMs);
    cleanups.push(() => clearInterval(recheck));
    if (signal) {
      const onAbort = (): void => finish(() => reject(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
    // Subscribed first, then read: a change between the two is not missed.
    check();
  });
}
