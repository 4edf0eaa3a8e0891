// Cross-process wake-ups: a duplicate of the client in subscriber mode on the store's channel,
// which the kit's wake hub opens with the first listener and stops with the last.
import type { InstanceEndedListener, WakeSource, WakeUpListener } from '@ironflow/core/store';
import type { RedisContext } from './context.js';

/**
 * Reads `ended\0<status>\0<type>\0<id>\0<origin>`, as scripts publish the end of an instance;
 * undefined for anything else, and for ends this store object wrote (the kit delivered those).
 */
function endedOf(message: string, self: string): Parameters<InstanceEndedListener>[0] | undefined {
  const [head, status, type, id, origin, ...rest] = message.split('\u0000');
  if (head !== 'ended' || (status !== 'completed' && status !== 'cancelled') || type === undefined || id === undefined || origin === undefined || rest.length > 0) return undefined;
  return origin === self ? undefined : { type, id, status };
}

/**
 * Subscribes to the wake-up channel. Scripts PUBLISH `effect` or `timer` when they make work
 * claimable, and `ended\0<status>\0<type>\0<id>\0<origin>` when a commit completes an instance
 * or it is cancelled (the kit delivers a store's own ends, so it skips those); after a reconnect both kinds of work are woken once, since messages sent meanwhile
 * are lost (so are ends: their listeners re-check now and then).
 */
export function listenForWakeUps(ctx: RedisContext, wake: WakeUpListener, ended: InstanceEndedListener): WakeSource {
  const { channel } = ctx.layout;
  const connection = ctx.client.duplicate();
  let connections = 0;
  connection.on('message', (from, message) => {
    if (from !== channel) return;
    if (message === 'effect' || message === 'timer') wake(message);
    else {
      const end = endedOf(message, ctx.origin);
      if (end !== undefined) ended(end);
    }
  });
  connection.on('ready', () => {
    connections += 1;
    if (connections > 1) {
      wake('effect');
      wake('timer');
    }
  });
  connection.on('error', (error) => ctx.logger?.warn({ err: error }, 'ironflow redis store: wake-up connection error (it reconnects)'));
  connection.subscribe(channel).catch((error: unknown) =>
    ctx.logger?.warn({ err: error }, 'ironflow redis store: subscribing to wake-ups failed; workers fall back to polling'),
  );
  return {
    async stop() {
      try {
        await connection.quit();
      } catch {
        connection.disconnect();
      }
    },
  };
}
