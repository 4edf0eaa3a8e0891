// Probes for the batch cases: a connection of their own that LISTENs on a store's channel and reads
// the catalog, on a PostgreSQL server (a pg.Client) or on the PGlite database the stores share.
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { ChannelProbe } from './batch-cases.js';
import { eventually } from './support.js';

/** Payloads heard on a channel, with flush markers kept apart. */
function recorder(): { heard: string[]; markers: Set<string>; hear(payload: string): void; nextMarker(): string } {
  const heard: string[] = [];
  const markers = new Set<string>();
  let flushes = 0;
  return {
    heard,
    markers,
    hear(payload) {
      if (payload.startsWith('flush:')) markers.add(payload);
      else heard.push(payload);
    },
    nextMarker: () => `flush:${(flushes += 1)}`,
  };
}

/**
 * A probe on a connection of its own. Notifications reach a listener in commit order, so once a
 * marker sent after a commit is heard, everything that commit notified has been heard too.
 */
export async function pgChannelProbe(url: string, channel: string): Promise<ChannelProbe> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const record = recorder();
  client.on('notification', (message) => {
    if (message.channel === channel) record.hear(message.payload ?? '');
  });
  await client.query(`LISTEN "${channel}"`);
  return {
    heard: record.heard,
    async flush() {
      const marker = record.nextMarker();
      await client.query('SELECT pg_notify($1, $2)', [channel, marker]);
      await eventually(`the marker ${marker}`, () => (record.markers.has(marker) ? true : undefined));
    },
    async query(text, values) {
      return (await client.query<Record<string, unknown>>(text, values)).rows;
    },
    close: () => client.end(),
  };
}

/** The same probe on a PGlite database (one in-process connection; listeners are callbacks). */
export async function pgliteChannelProbe(db: PGlite, channel: string): Promise<ChannelProbe> {
  const record = recorder();
  const unlisten = await db.listen(channel, (payload) => record.hear(payload));
  return {
    heard: record.heard,
    async flush() {
      const marker = record.nextMarker();
      await db.query('SELECT pg_notify($1, $2)', [channel, marker]);
      await eventually(`the marker ${marker}`, () => (record.markers.has(marker) ? true : undefined));
    },
    async query(text, values) {
      return (await db.query<Record<string, unknown>>(text, values)).rows;
    },
    close: () => unlisten(),
  };
}
