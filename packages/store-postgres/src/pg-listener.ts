// The dedicated LISTEN connection of a `pg` store. It reconnects with capped, jittered backoff when
// the server drops it, pings it so a silently dead socket is noticed, and reports reconnects.
import { backoff } from '@ironflow/core/store';
import type { ListenHandle, ListenHandlers } from './driver.js';
import type { PgConnectionLike, PgNotificationLike } from './pg-client.js';

/** A connection for listening and how to get rid of it. */
export interface ListenConnection {
  readonly connection: PgConnectionLike;
  /** Closes or destroys the connection; it is never reused for queries. */
  dispose(): void;
}

/** Settings of a reconnecting listener. */
export interface PgListenerOptions {
  readonly channel: string;
  readonly connect: () => Promise<ListenConnection>;
  readonly handlers: ListenHandlers;
  /** Interval between `SELECT 1` pings on the connection; 0 turns them off. */
  readonly healthCheckMs: number;
  /** First reconnect delay; doubles per failure up to `reconnectCapMs`, with equal jitter. */
  readonly reconnectBaseMs: number;
  readonly reconnectCapMs: number;
}

const noop = (): void => {};

/** Starts listening in the background; `stop()` ends it and releases the connection. */
export function startPgListener(options: PgListenerOptions): ListenHandle {
  const { channel, handlers } = options;
  let stopped = false;
  let failures = 0;
  let connectedOnce = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let current: { detach: (dispose: boolean) => void } | undefined;

  const scheduleReconnect = (): void => {
    if (stopped) return;
    failures += 1;
    // Equal jitter: never reconnect at once, but spread many listeners that lost one server.
    const delay = backoff(failures, { baseMs: options.reconnectBaseMs, capMs: options.reconnectCapMs, jitter: 'equal' });
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delay);
    retryTimer.unref?.();
  };

  const connect = async (): Promise<void> => {
    if (stopped) return;
    let opened: ListenConnection;
    try {
      opened = await options.connect();
    } catch (error) {
      handlers.failed(error);
      scheduleReconnect();
      return;
    }
    const { connection } = opened;
    let alive = true;
    let pingTimer: ReturnType<typeof setInterval> | undefined;

    const onNotification = (message: PgNotificationLike): void => {
      if (message.channel === channel) handlers.notify(message.payload ?? '');
    };
    const detach = (dispose: boolean): void => {
      if (!alive) return;
      alive = false;
      if (pingTimer !== undefined) clearInterval(pingTimer);
      connection.removeListener('notification', onNotification);
      connection.removeListener('error', onFailure);
      connection.removeListener('end', onEnd);
      // A destroyed connection may still emit 'error'; an EventEmitter without a listener would throw.
      connection.on('error', noop);
      if (current?.detach === detach) current = undefined;
      if (dispose) opened.dispose();
    };
    function onFailure(error: unknown): void {
      if (!alive) return;
      detach(true);
      if (!stopped) {
        handlers.failed(error);
        scheduleReconnect();
      }
    }
    function onEnd(): void {
      onFailure(new Error('The LISTEN connection was closed'));
    }

    connection.on('notification', onNotification);
    connection.on('error', onFailure);
    connection.on('end', onEnd);
    current = { detach };
    if (stopped) {
      detach(true);
      return;
    }
    try {
      await connection.query(`LISTEN "${channel}"`);
    } catch (error) {
      onFailure(error);
      return;
    }
    if (!alive) return;
    failures = 0;
    if (options.healthCheckMs > 0) {
      pingTimer = setInterval(() => void ping(connection, options.healthCheckMs).catch(onFailure), options.healthCheckMs);
      pingTimer.unref?.();
    }
    if (connectedOnce) handlers.reconnected();
    connectedOnce = true;
  };

  void connect();
  return {
    async stop() {
      stopped = true;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      current?.detach(true);
    },
  };
}

/** `SELECT 1` that fails when the server does not answer within `timeoutMs`. */
async function ping(connection: PgConnectionLike, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`The LISTEN connection did not answer a ping within ${timeoutMs} ms`)), timeoutMs);
    timer.unref?.();
  });
  try {
    await Promise.race([connection.query('SELECT 1'), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
