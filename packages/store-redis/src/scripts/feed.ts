// Reads of a partition's feed stream: a bounded scan after a stream id that answers the events
// passing the filters (read from their instances' lists), and the stream's last id (the head).
// deleteInstance removes its events' entries from the stream, so no read meets them again.
import type { Reply } from '../reply.js';
import { defineScript } from '../script.js';

/** One event a feed scan found: its stream id, instance, sequence and stored form. */
export interface FeedEntry {
  readonly id: string;
  readonly type: string;
  readonly workflowId: string;
  readonly sequence: number;
  readonly stored: string;
}

/** What one feed scan of a partition answered. */
export type FeedScanReply =
  /** `after` lies past the stream's last entry: no position this store wrote. */
  | { readonly kind: 'past' }
  | {
      readonly kind: 'ok';
      /** The last entry examined; undefined when none was. */
      readonly last: string | undefined;
      /** True when the scan examined every entry of the stream after `after`. */
      readonly complete: boolean;
      readonly entries: readonly FeedEntry[];
    };

function decodeScan(reply: Reply): FeedScanReply {
  if (reply.at(0).oneOf(['OK', 'PAST']) === 'PAST') return { kind: 'past' };
  return {
    kind: 'ok',
    last: reply.at(1).optionalText(),
    complete: reply.at(2).integer() === 1,
    entries: reply
      .at(3)
      .list()
      .map((e) => ({ id: e.at(0).text(), type: e.at(1).text(), workflowId: e.at(2).text(), sequence: e.at(3).integer(), stored: e.at(4).text() })),
  };
}

/**
 * Examines up to `scan` entries of the feed stream after `after` (exclusive) and answers the
 * events among them of the workflow types (the first `typeCount` of the variadic ARGV; none: every
 * type) and event types (the rest, each as the `["<type>",` its stored form starts with; none:
 * every type), stopping at `limit` of them. `last` is the last entry examined: every entry up to
 * it was examined. An `after` past the stream's last entry answers PAST.
 */
export const FEED_SCAN = defineScript({
  name: 'feed-scan',
  keys: ['feed'],
  args: ['after', 'scan', 'limit', 'typeCount'],
  variadic: 'args',
  decode: decodeScan,
  body: String.raw`
local scan, limit, nTypes = tonumber(A_scan), tonumber(A_limit), tonumber(A_typeCount)
local types = false
if nTypes > 0 then
  types = {}
  for i = ARGV_FROM, ARGV_FROM + nTypes - 1 do types[ARGV[i]] = true end
end
local prefixes = {}
for i = ARGV_FROM + nTypes, #ARGV do table.insert(prefixes, ARGV[i]) end
local entries = redis.call('XRANGE', K_feed, '(' .. A_after, '+', 'COUNT', scan)
if #entries == 0 and pastFeedEnd(K_feed, A_after) then return {'PAST'} end
local out, last, examined = {}, false, 0
for _, entry in ipairs(entries) do
  local f = entry[2]
  -- fields as the commit writes them: t, i, s
  local wt, wid, seq = f[2], f[4], f[6]
  last, examined = entry[1], examined + 1
  if not types or types[wt] then
    local stored = redis.call('LINDEX', eventsKey(wt, wid), tonumber(seq) - 1)
    -- A missing event is answered too, so the caller reports it rather than skips it.
    local pass = #prefixes == 0 or not stored
    if not pass then
      for _, prefix in ipairs(prefixes) do
        if string.sub(stored, 1, #prefix) == prefix then pass = true; break end
      end
    end
    if pass then
      table.insert(out, {entry[1], wt, wid, seq, stored})
      if #out == limit then break end
    end
  end
end
local complete = 0
if #entries < scan and examined == #entries then complete = 1 end
return {'OK', last, complete, out}
`,
});

/**
 * The id of the last entry ever added to the feed stream, or nil while none was: an entry
 * deleteInstance removed still counts, so the head never moves back.
 */
export const FEED_HEAD = defineScript({
  name: 'feed-head',
  keys: ['feed'],
  args: [],
  decode: (reply: Reply) => reply.optionalText(),
  body: String.raw`
return feedLastId(K_feed)
`,
});

/** What a lag count of one partition answered. */
export type FeedLagReply =
  /** `after` lies past the stream's last entry: no position this store wrote. */
  | { readonly kind: 'past' }
  | {
      readonly kind: 'ok';
      /** Entries after `after`, counted up to the `count` asked for. */
      readonly count: number;
      /** The first of them: its instance, sequence and stored event (undefined when the event is missing); undefined when none. */
      readonly first: { readonly type: string; readonly workflowId: string; readonly sequence: number; readonly stored: string | undefined } | undefined;
    };

function decodeLag(reply: Reply): FeedLagReply {
  if (reply.at(0).oneOf(['OK', 'PAST']) === 'PAST') return { kind: 'past' };
  const count = reply.at(1).integer();
  if (count === 0) return { kind: 'ok', count, first: undefined };
  return {
    kind: 'ok',
    count,
    first: { type: reply.at(2).text(), workflowId: reply.at(3).text(), sequence: reply.at(4).integer(), stored: reply.at(5).optionalText() },
  };
}

/**
 * Counts the feed stream's entries after `after` (exclusive), up to `count`, in steps of at most
 * 1000 so the script never holds more than a step of entries (from `0-0`, the stream's length),
 * and answers the first one's instance, sequence and stored event. An `after` past the stream's
 * last entry answers PAST.
 */
export const FEED_LAG = defineScript({
  name: 'feed-lag',
  keys: ['feed'],
  args: ['after', 'count'],
  decode: decodeLag,
  body: String.raw`
local want = tonumber(A_count)
local counted, first = 0, false
if A_after == '0-0' then
  -- From the start every entry counts (no entry has id 0-0): the stream's length, not a walk.
  local head = redis.call('XRANGE', K_feed, '-', '+', 'COUNT', 1)
  if #head > 0 then first, counted = head[1], math.min(want, redis.call('XLEN', K_feed)) end
else
  local from = '(' .. A_after
  while counted < want do
    local step = redis.call('XRANGE', K_feed, from, '+', 'COUNT', math.min(1000, want - counted))
    if #step == 0 then break end
    if not first then first = step[1] end
    counted = counted + #step
    from = '(' .. step[#step][1]
  end
end
if not first then
  if pastFeedEnd(K_feed, A_after) then return {'PAST'} end
  return {'OK', 0}
end
-- fields as the commit writes them: t, i, s
local f = first[2]
local stored = redis.call('LINDEX', eventsKey(f[2], f[4]), tonumber(f[6]) - 1)
return {'OK', counted, f[2], f[4], f[6], stored}
`,
});
