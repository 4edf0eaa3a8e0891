// Wake-ups of one store: local listeners, fanned out on a microtask so a listener never runs
// inside a store call, and the backend's own notification source (LISTEN, pub/sub), which is
// opened with the first listener and closed with the last.
import { IronflowError, invalidArgument } from '../errors.js';
import type { InstanceEnded, InstanceEndedListener, WakeUpListener, WorkKind } from './port.js';

/** A running notification source of a backend. */
export interface WakeSource {
  stop(): Promise<void>;
}

/** Options of `createWakeHub`. */
export interface WakeHubOptions {
  /**
   * Opens the backend's notification source, which calls `wake` for every notification (and for
   * both kinds after a reconnect, since notifications sent meanwhile are lost).
   * @default none: only wake-ups of this process's own writes are delivered
   */
  readonly listen?: ((wake: WakeUpListener, ended: InstanceEndedListener) => WakeSource) | undefined;
  /** Receives what a listener threw; the hub keeps going either way. */
  readonly onListenerError?: ((error: unknown) => void) | undefined;
}

/** The listener set of a store. */
export interface WakeHub {
  /** Calls `listener` on every wake-up from now on; returns an unsubscribe. */
  subscribe(listener: WakeUpListener): () => void;
  /** Tells every listener that work of `kind` may be claimable. */
  wake(kind: WorkKind): void;
  /** Calls `listener` for every instance that becomes terminal from now on; returns an unsubscribe. */
  subscribeEnded(listener: InstanceEndedListener): () => void;
  /** Tells every ended-listener that an instance became terminal. */
  ended(ended: InstanceEnded): void;
  /** Drops every listener and stops the notification source; later subscriptions are refused. */
  close(): Promise<void>;
}

/**
 * Creates the wake-up hub a store built with `defineStore` uses.
 * @example const hub = createWakeHub({ listen: (wake) => startListening(wake) });
 */
export function createWakeHub(options: WakeHubOptions = {}): WakeHub {
  const listeners = new Set<WakeUpListener>();
  const endedListeners = new Set<InstanceEndedListener>();
  let source: WakeSource | undefined;
  let closed = false;

  function fanOut<T>(set: ReadonlySet<(value: T) => void>, value: T): void {
    for (const listener of [...set]) {
      void Promise.resolve()
        .then(() => listener(value))
        .catch((error: unknown) => options.onListenerError?.(error));
    }
  }
  const deliver = (kind: WorkKind): void => fanOut(listeners, kind);
  const deliverEnded = (ended: InstanceEnded): void => fanOut(endedListeners, ended);

  /** Adds a listener to `set`, opening the source with the first listener of either set and stopping it with the last. */
  function add<L>(set: Set<L>, listener: L, what: string): () => void {
    if (closed) throw new IronflowError('SHUTTING_DOWN', 'This store was closed; create a new one to subscribe');
    if (typeof listener !== 'function') throw invalidArgument(`${what} needs a listener function`);
    set.add(listener);
    if (source === undefined && options.listen !== undefined) source = options.listen(deliver, deliverEnded);
    return () => {
      if (!set.delete(listener) || listeners.size + endedListeners.size > 0 || source === undefined) return;
      const stopping = source;
      source = undefined;
      void stopping.stop().catch(() => undefined);
    };
  }

  return {
    subscribe: (listener) => add(listeners, listener, 'subscribe'),
    subscribeEnded: (listener) => add(endedListeners, listener, 'subscribeEnded'),
    wake: deliver,
    ended: deliverEnded,
    async close() {
      closed = true;
      listeners.clear();
      endedListeners.clear();
      const stopping = source;
      source = undefined;
      await stopping?.stop();
    },
  };
}
