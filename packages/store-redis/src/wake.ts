// Cross-process wake-ups: a duplicate of the client in subscriber mode on the store's channel,
// which the kit's wake hub opens with the first listener and stops with the last.
import type { WakeSource, WakeUpListener } from '@ironflow/core/store';
import type { RedisContext } from './context.js';

/**
 * Subscribes to the wake-up channel. Scripts PUBLISH `effect` or `timer` when they make work
 * claimable; after a reconnect both kinds are woken once, since messages sent meanwhile are lost.
 */
export function listenForWakeUps(ctx: RedisContext, wake: WakeUpListener): WakeSource {
  const { channel } = ctx.layout;
  const connection = ctx.client.duplicate();
  let connections = 0;
  connection.on('message', (from, message) => {
    if (from === channel && (message === 'effect' || message === 'timer')) wake(message);
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
