// Reads that need more than one key at a consistent point: loading an instance for a decision,
// the rows of one instance, the next pending timer of a set of types.
import type { Fields, Reply } from '../reply.js';
import { defineScript } from '../script.js';

/** An instance as LOAD reads it: stored forms, decoded by the caller. */
export interface LoadReply {
  readonly version: number;
  readonly completed: boolean;
  /** Version of the latest snapshot; events are read after it. */
  readonly snapshotVersion: number | undefined;
  readonly snapshot: string | undefined;
  readonly idempotencyRecord: string | undefined;
  readonly events: readonly string[];
}

/** Version, completion, latest snapshot, events after it, and the idempotency record asked for. */
export const LOAD = defineScript({
  name: 'load',
  keys: ['instance', 'events', 'idempotency'],
  args: ['idempotencyKey'],
  decode: (reply: Reply): LoadReply => ({
    version: reply.at(0).integer(),
    completed: reply.at(1).oneOf(['0', '1']) === '1',
    snapshotVersion: reply.at(2).optionalInteger(),
    snapshot: reply.at(3).optionalText(),
    idempotencyRecord: reply.at(4).optionalText(),
    events: reply.at(5).list().map((event) => event.text()),
  }),
  body: String.raw`
local r = redis.call('HMGET', K_instance, 'v', 'c', 'sv', 'sn')
local events = redis.call('LRANGE', K_events, tonumber(r[3] or '0'), -1)
local idem = false
if A_idempotencyKey ~= '' then idem = redis.call('HGET', K_idempotency, A_idempotencyKey) end
return {r[1] or '0', r[2] or '0', r[3] or false, r[4] or false, idem, events}
`,
});

/** The effect or timer rows of one instance, in index order (createdAt, then id). */
export const OWNED_ROWS = defineScript({
  name: 'owned-rows',
  keys: ['owned'],
  args: ['kind'],
  decode: (reply: Reply): Fields[] => reply.list().map((row) => row.fields()),
  body: String.raw`
local out = {}
for _, id in ipairs(redis.call('ZRANGE', K_owned, 0, -1)) do
  local row = redis.call('HGETALL', itemKey(A_kind, id))
  if #row > 0 then table.insert(out, row) end
end
return out
`,
});

/**
 * The smallest availableAt of a pending timer in the given queues (the variadic KEYS), or nil.
 * Queued rows whose lease merely expired (status still leased) are skipped: they are claimable
 * but not pending.
 */
export const NEXT_TIMER = defineScript({
  name: 'next-timer',
  keys: [],
  args: [],
  variadic: 'keys',
  decode: (reply: Reply) => reply.optionalInteger(),
  body: String.raw`
local best = false
for i = KEYS_FROM, #KEYS do
  local offset = 0
  while true do
    local r = redis.call('ZRANGE', KEYS[i], offset, offset, 'WITHSCORES')
    if not r[1] then break end
    if redis.call('HGET', itemKey('t', r[1]), 'st') == 'pending' then
      if best == false or tonumber(r[2]) < tonumber(best) then best = r[2] end
      break
    end
    offset = offset + 1
  end
end
return best
`,
});
