// The global event feed of a Redis store: each partition's commits append one stream entry per
// event (atomic with the commit), so each stream is in commit order and cannot skip. Partitions
// have no order between them: a position is the vector of one stream id per partition, and a
// read merges the partitions' scans while keeping each partition's order.
import {
  badFeedPosition,
  MAX_FEED_POSITION,
  StoreError,
  stripUndefined,
  type CheckedFeedLagQuery,
  type CheckedFeedQuery,
  type FeedEvent,
  type FeedLag,
  type FeedPage,
  type FeedPosition,
} from '@ironflow/core/store';
import { decodeEvent } from './codec.js';
import type { RedisContext } from './context.js';
import { FEED_HEAD, FEED_LAG, FEED_SCAN, type FeedEntry } from './scripts/feed.js';

/** A stream id `<ms>-<seq>` as one number, `ms * 2^64 + seq`, so ids compare and step as bigints. */
type StreamId = bigint;

const SEQ_BITS = 64n;
const SEQ_MASK = (1n << SEQ_BITS) - 1n;
/** The largest stream id, `18446744073709551615-18446744073709551615`: no entry lies after it. */
const MAX_ID: StreamId = (SEQ_MASK << SEQ_BITS) | SEQ_MASK;
const ID_PATTERN = /^(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,19})$/;

/** Entries one scan of a partition examines at most, per event asked for: bounds a call however sparse the matches. */
const SCAN_PER_EVENT = 10;
const MIN_SCAN = 100;
const MAX_SCAN = 2000;

/** Parses a stream id as Redis writes it (no leading zeros), or undefined. */
export function parseStreamId(text: string): StreamId | undefined {
  const match = ID_PATTERN.exec(text);
  if (match === null) return undefined;
  const ms = BigInt(match[1]!);
  const seq = BigInt(match[2]!);
  return ms > SEQ_MASK || seq > SEQ_MASK ? undefined : (ms << SEQ_BITS) | seq;
}

/** A stream id as Redis writes it. */
export function formatStreamId(id: StreamId): string {
  return `${id >> SEQ_BITS}-${id & SEQ_MASK}`;
}

/**
 * Decodes a position of this store: one stream id per partition, joined by `,`; anything else is
 * bad input, reported as `what` (the argument it came in: `query.after`, `save.position`, …).
 */
export function decodeFeedPosition(position: string, partitions: number, what?: string): StreamId[] {
  const parts = position.split(',');
  if (parts.length !== partitions) {
    throw badFeedPosition(position, `a position of this store has ${partitions} stream id${partitions === 1 ? '' : 's'}, one per partition; this has ${parts.length}`, what);
  }
  return parts.map((part, partition) => {
    const id = parseStreamId(part);
    if (id === undefined) throw badFeedPosition(position, `partition ${partition} is not a stream id <ms>-<seq>`, what);
    return id;
  });
}

/** Encodes a vector of stream ids, in partition order. */
export function encodeFeedPosition(ids: readonly StreamId[]): FeedPosition {
  const position = ids.map(formatStreamId).join(',');
  if (position.length > MAX_FEED_POSITION) {
    throw new StoreError(
      'configuration',
      `A feed position of ${ids.length} partitions takes ${position.length} characters, more than the ${MAX_FEED_POSITION} a position may hold; read the feed of a store with fewer partitions`,
      { details: { partitions: ids.length } },
    );
  }
  return position;
}

/** What a read learnt of one partition: its events to merge and how far it examined. */
interface PartitionScan {
  readonly after: StreamId;
  /** The events found, in stream order, each with its parsed id. */
  readonly entries: readonly (FeedEntry & { readonly at: StreamId })[];
  /** The last entry examined; undefined when none was. */
  readonly last: StreamId | undefined;
  readonly complete: boolean;
}

function scanSize(limit: number): number {
  return Math.min(MAX_SCAN, Math.max(MIN_SCAN, SCAN_PER_EVENT * limit));
}

async function scanPartition(ctx: RedisContext, partition: number, after: StreamId, query: CheckedFeedQuery, position: string): Promise<PartitionScan> {
  const keys = ctx.layout.partition(partition);
  // Nothing can follow the largest id; Redis would refuse it as an exclusive start.
  if (after === MAX_ID) throw badFeedPosition(position, `partition ${partition} lies past its last event`);
  const types = query.workflowTypes ?? [];
  const prefixes = (query.eventTypes ?? []).map((type) => `[${JSON.stringify(type)},`);
  const reply = await ctx.callScript(
    FEED_SCAN,
    keys.tag,
    { feed: keys.feed() },
    { after: formatStreamId(after), scan: scanSize(query.limit), limit: query.limit, typeCount: types.length },
    [...types, ...prefixes],
  );
  if (reply.kind === 'past') throw badFeedPosition(position, `partition ${partition} lies past its last event`);
  const entries = reply.entries.map((entry) => ({ ...entry, at: streamIdOf(entry.id) }));
  return { after, entries, last: reply.last === undefined ? undefined : streamIdOf(reply.last), complete: reply.complete };
}

function streamIdOf(text: string): StreamId {
  const id = parseStreamId(text);
  if (id === undefined) throw new StoreError('integrity', `Redis store: the feed answered a stream id ${JSON.stringify(text)}`, { details: { where: 'feed-scan reply' } });
  return id;
}

const max = (a: StreamId, b: StreamId): StreamId => (a > b ? a : b);

/**
 * Up to `query.limit` events after `query.after` that pass the filters, and where to resume.
 *
 * Each partition is scanned from its component of `after`. Partitions advance together in stream
 * id order (microseconds of the server clock): a scan that stopped short sets a cutoff, and events
 * of other partitions past it wait for a later read, so one partition never runs far ahead of the
 * others. The events up to the cutoff are merged by (stream id, partition), one total order that
 * does not depend on where pages end. The component of a partition, after an event, is just
 * before its next event not yet returned, or once it has none left, as far as its scan went
 * (never past the cutoff unless its own entries reach that far, so a later entry of it cannot
 * land behind the position).
 */
export async function readFeed(ctx: RedisContext, query: CheckedFeedQuery): Promise<FeedPage> {
  await ctx.ready();
  const n = ctx.layout.partitions;
  const from = query.after === undefined ? Array.from({ length: n }, () => 0n) : decodeFeedPosition(query.after, n);
  const scans = await Promise.all(from.map((after, p) => scanPartition(ctx, p, after, query, query.after ?? '')));

  let cutoff = MAX_ID;
  for (const scan of scans) if (!scan.complete && scan.last !== undefined && scan.last < cutoff) cutoff = scan.last;
  const queues = scans.map((scan) => scan.entries.filter((entry) => entry.at <= cutoff));
  // How far each partition's scan reached, up to the cutoff: all of its events before it are in its queue.
  const reach = scans.map((scan) => (scan.last === undefined ? scan.after : scan.last <= cutoff ? scan.last : max(scan.after, cutoff)));
  const taken = scans.map(() => 0);
  const componentOf = (p: number): StreamId => {
    const next = queues[p]![taken[p]!];
    return next === undefined ? reach[p]! : max(scans[p]!.after, next.at - 1n);
  };

  const events: FeedEvent[] = [];
  while (events.length < query.limit) {
    let best = -1;
    for (let p = 0; p < n; p++) {
      const head = queues[p]![taken[p]!];
      // A tie of ids stays with the lower partition, checked first.
      if (head !== undefined && (best < 0 || head.at < queues[best]![taken[best]!]!.at)) best = p;
    }
    if (best < 0) break;
    const entry = queues[best]![taken[best]!]!;
    taken[best] = taken[best]! + 1;
    const event = decodeEvent({ type: entry.type, id: entry.workflowId }, entry.sequence, entry.stored);
    events.push({ ...event, position: encodeFeedPosition(from.map((_, p) => componentOf(p))) });
  }
  const next = from.map((_, p) => componentOf(p));
  // Nothing read from the start yet: no position to hand back.
  if (query.after === undefined && next.every((id) => id === 0n)) return { events };
  return { events, next: encodeFeedPosition(next) };
}

/**
 * Decodes a position given as `what` and refuses one past a partition's last entry, as a read
 * would: one FEED_HEAD call per partition whose component is not 0-0. A stream's last added id
 * only grows (deleteInstance's XDEL leaves it), so a position within it stays within it.
 */
export async function checkFeedPosition(ctx: RedisContext, position: string, what: string): Promise<void> {
  const ids = decodeFeedPosition(position, ctx.layout.partitions, what);
  await ctx.ready();
  await Promise.all(
    ids.map(async (id, partition) => {
      if (id === 0n) return;
      const keys = ctx.layout.partition(partition);
      const last = await ctx.callScript(FEED_HEAD, keys.tag, { feed: keys.feed() }, {});
      if (last === undefined || streamIdOf(last) < id) throw badFeedPosition(position, `partition ${partition} lies past its last event`, what);
    }),
  );
}

/**
 * The vector of the last id ever added to each partition's stream (`0-0` for one never written),
 * or undefined while no stream was ever written. Entries deleteInstance removed still count, so
 * the head never moves back and a head taken earlier stays a valid position.
 */
export async function feedHead(ctx: RedisContext): Promise<FeedPosition | undefined> {
  await ctx.ready();
  const lasts = await Promise.all(ctx.allPartitions().map((keys) => ctx.callScript(FEED_HEAD, keys.tag, { feed: keys.feed() }, {})));
  if (lasts.every((last) => last === undefined)) return undefined;
  return encodeFeedPosition(lasts.map((last) => (last === undefined ? 0n : streamIdOf(last))));
}

/**
 * The events after `query.after`, counted up to `query.limit`, and when the first was recorded.
 * Each partition counts its stream after its component in one script call (up to limit + 1, so a
 * sum over the limit says `capped`); the first event after the position is the earliest of the
 * partitions' first ones. Every stream entry is readable: a commit appends them atomically with
 * its events, and deleteInstance removes them atomically with the events, so deleted events are
 * not counted.
 */
export async function feedLag(ctx: RedisContext, query: CheckedFeedLagQuery): Promise<FeedLag> {
  await ctx.ready();
  const n = ctx.layout.partitions;
  const position = query.after ?? '';
  const from = query.after === undefined ? Array.from({ length: n }, () => 0n) : decodeFeedPosition(query.after, n);
  const counts = await Promise.all(
    from.map(async (after, partition) => {
      // Nothing can follow the largest id; Redis would refuse it as an exclusive start.
      if (after === MAX_ID) throw badFeedPosition(position, `partition ${partition} lies past its last event`);
      const keys = ctx.layout.partition(partition);
      const reply = await ctx.callScript(FEED_LAG, keys.tag, { feed: keys.feed() }, { after: formatStreamId(after), count: query.limit + 1 });
      if (reply.kind === 'past') throw badFeedPosition(position, `partition ${partition} lies past its last event`);
      const { first } = reply;
      if (first === undefined) return { count: 0, recordedAt: undefined };
      if (first.stored === undefined) {
        throw new StoreError('integrity', `Redis store: the feed of partition ${partition} names event ${first.sequence} of ${first.type}:${first.workflowId}, which is missing`, {
          details: { where: 'feed-lag reply' },
        });
      }
      return { count: reply.count, recordedAt: decodeEvent({ type: first.type, id: first.workflowId }, first.sequence, first.stored).recordedAt };
    }),
  );
  const total = counts.reduce((sum, c) => sum + c.count, 0);
  const dates = counts.flatMap((c) => (c.recordedAt === undefined ? [] : [c.recordedAt]));
  const lag: FeedLag = { events: Math.min(total, query.limit), capped: total > query.limit, oldestRecordedAt: dates.length === 0 ? undefined : Math.min(...dates) };
  return stripUndefined(lag);
}
