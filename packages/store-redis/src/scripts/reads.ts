// Reads that need more than one key at a consistent point: loading an instance for a decision,
// the rows of one instance, the next pending timer of a set of types.
import type { InstanceStatus, WorkflowRef } from '@ironflow/core/store';
import type { Fields, Reply } from '../reply.js';
import { defineScript } from '../script.js';

/** An instance as LOAD reads it: stored forms, decoded by the caller. */
export interface LoadReply {
  readonly version: number;
  readonly status: InstanceStatus;
  readonly parent: WorkflowRef | undefined;
  /** Version of the latest snapshot; events are read after it. */
  readonly snapshotVersion: number | undefined;
  readonly snapshot: string | undefined;
  readonly idempotencyRecord: string | undefined;
  readonly events: readonly string[];
}

/** The status an instance hash's `s` letter stands for. */
export const STATUS_OF_LETTER: Readonly<Record<'a' | 'c' | 'x', InstanceStatus>> = { a: 'active', c: 'completed', x: 'cancelled' };

/** Version, status, parent, latest snapshot, events after it, and the idempotency record asked for. */
export const LOAD = defineScript({
  name: 'load',
  keys: ['instance', 'events', 'idempotency'],
  args: ['idempotencyKey'],
  decode: (reply: Reply): LoadReply => ({
    version: reply.at(0).integer(),
    status: STATUS_OF_LETTER[reply.at(1).oneOf(['a', 'c', 'x'])],
    snapshotVersion: reply.at(2).optionalInteger(),
    snapshot: reply.at(3).optionalText(),
    idempotencyRecord: reply.at(4).optionalText(),
    events: reply.at(5).list().map((event) => event.text()),
    parent: reply.at(6).isNil() ? undefined : { type: reply.at(6).text(), id: reply.at(7).text() },
  }),
  body: String.raw`
local r = redis.call('HMGET', K_instance, 'v', 's', 'sv', 'sn', 'pt', 'pi')
local events = redis.call('LRANGE', K_events, tonumber(r[3] or '0'), -1)
local idem = false
if A_idempotencyKey ~= '' then idem = redis.call('HGET', K_idempotency, A_idempotencyKey) end
return {r[1] or '0', r[2] or 'a', r[3] or false, r[4] or false, idem, events, r[5] or false, r[6] or false}
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
 * The smallest availableAt of a pending timer of the given types (the variadic ARGV), or nil.
 * Paused types are passed over, and so are timers of paused instances (read a page at a time).
 */
export const NEXT_TIMER = defineScript({
  name: 'next-timer',
  keys: ['pauses'],
  args: [],
  variadic: 'args',
  decode: (reply: Reply) => reply.optionalInteger(),
  body: String.raw`
local paused = readPauses(K_pauses)
local best = false
for i = ARGV_FROM, #ARGV do
  local wt = ARGV[i]
  if not (paused and paused[wt .. '\0']) then
    -- The first row is almost always the answer: read it alone, then pages of 100.
    local q, offset, size, found = pendingKey('t', wt), 0, 1, false
    while not found do
      local page = redis.call('ZRANGE', q, offset, offset + size - 1, 'WITHSCORES')
      if #page == 0 then break end
      for j = 1, #page, 2 do
        local r = redis.call('HMGET', itemKey('t', page[j]), 'st', 'wid')
        if r[1] == 'pending' and not (paused and paused[wt .. '\0' .. r[2]]) then
          if best == false or tonumber(page[j + 1]) < tonumber(best) then best = page[j + 1] end
          found = true
          break
        end
      end
      offset, size = offset + size, 100
    end
  end
end
return best
`,
});
