// Control of live work, each a script in one partition: cancelling an instance with its live
// work, adding or removing a pause, and counting a partition's backlog from its queues and indexes.
import type { Reply } from '../reply.js';
import { defineScript } from '../script.js';
import { handoffsIn, type HandoffRef } from './cross-partition.js';

/** What CANCEL_INSTANCE answered. */
export type CancelReply =
  | { readonly kind: 'ok'; readonly effects: number; readonly timers: number; readonly releasedUniqueKey: string | undefined }
  /** Missing or terminal: nothing written. */
  | { readonly kind: 'not-active' }
  /** An effect to write reuses the id of a stored one: nothing written. */
  | { readonly kind: 'duplicate-id'; readonly id: string }
  /** Live rows of the instance are mid-way through a cross-partition acknowledgement: resolve, retry. */
  | { readonly kind: 'handoff'; readonly handoffs: readonly HandoffRef[] };

/**
 * Cancels an active instance: status `x` with its reason, out of the active indexes into the
 * cancelled ones, its unique key released (here with 1 partition; `releasedUniqueKey` tells the
 * caller to release it in its own partition otherwise), every live effect and timer cancelled
 * with the reason as last error, then the given effects written, pending (the variadic ARGV tail:
 * `effectCount` octuples as in COMMIT). No event, no new version; the end is published. A call
 * that ioredis re-sends after a reconnect finds its nonce and answers what it did the first time.
 */
export const CANCEL_INSTANCE = defineScript({
  name: 'cancel-instance',
  keys: ['instance', 'ownedEffects', 'ownedTimers', 'activeAll', 'activeOfType', 'cancelledAll', 'cancelledOfType', 'namesActive', 'namesCancelled'],
  args: [
    'type',
    'id',
    'now',
    /** The reason as given (the instance's `cr`). */
    'reason',
    /** The reason as JSON text (the rows' last error). */
    'error',
    /** The instance's listing member after the cancellation. */
    'member',
    /** 'local' (1 partition: the holder record is here) or 'remote'. */
    'uniqueMode',
    'channel',
    /** The cancelling store object, named in the end notification. */
    'origin',
    'nonce',
    'effectCount',
  ],
  variadic: 'args',
  decode(reply: Reply): CancelReply {
    switch (reply.at(0).oneOf(['OK', 'NOT_ACTIVE', 'DUPLICATE_ID', 'HANDOFF'])) {
      case 'OK':
        return { kind: 'ok', effects: reply.at(1).integer(), timers: reply.at(2).integer(), releasedUniqueKey: reply.at(3).optionalText() };
      case 'NOT_ACTIVE':
        return { kind: 'not-active' };
      case 'DUPLICATE_ID':
        return { kind: 'duplicate-id', id: reply.at(1).text() };
      case 'HANDOFF':
        return { kind: 'handoff', handoffs: handoffsIn(reply.list().slice(1)) };
    }
  },
  body: String.raw`
local wt, wid, nows = A_type, A_id, A_now
local r = redis.call('HMGET', K_instance, 'v', 's', 'u', 'lx', 'cn')
if r[5] then
  local nonce, e, t = string.match(r[5], '^(.*):(%d+):(%d+)$')
  if nonce == A_nonce then return {'OK', e, t, false} end
end
if not r[1] or r[2] ~= 'a' then return {'NOT_ACTIVE'} end
local effects = {}
for i = 1, tonumber(A_effectCount) do
  local at = ARGV_FROM + 8 * (i - 1)
  effects[i] = {ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], ARGV[at + 4], ARGV[at + 5], ARGV[at + 6], ARGV[at + 7]}
  if redis.call('EXISTS', itemKey('e', effects[i][1])) == 1 then return {'DUPLICATE_ID', effects[i][1]} end
end

local owned = {e = redis.call('ZRANGE', K_ownedEffects, 0, -1), t = redis.call('ZRANGE', K_ownedTimers, 0, -1)}
local busy = {}
for k, ids in pairs(owned) do
  for _, id in ipairs(ids) do guardRow(busy, k, id) end
end
if #busy > 0 then return {'HANDOFF', unpack(busy)} end

local counts = {e = 0, t = 0}
for k, ids in pairs(owned) do
  for _, id in ipairs(ids) do
    if cancelRow(k, id, nows, A_error) then counts[k] = counts[k] + 1 end
  end
end
if r[4] then
  redis.call('ZREM', K_activeAll, r[4])
  redis.call('ZREM', K_activeOfType, r[4])
end
redis.call('ZADD', K_cancelledAll, 0, A_member)
redis.call('ZADD', K_cancelledOfType, 0, A_member)
redis.call('ZREM', K_namesActive, wt .. '\0' .. wid)
redis.call('ZADD', K_namesCancelled, 0, wt .. '\0' .. wid)
redis.call('HSET', K_instance, 's', 'x', 'cr', A_reason, 'ua', nows, 'lx', A_member, 'cn', A_nonce .. ':' .. counts.e .. ':' .. counts.t)
local released = false
if r[3] then
  released = r[3]
  if A_uniqueMode == 'local' then
    local uk = uniqueKey(wt, r[3])
    if redis.call('HGET', uk, 'id') == wid then redis.call('DEL', uk) end
  end
end
local effectIndexes = {owned = K_ownedEffects, pending = pendingKey('e', wt), work = workKey('e')}
for _, f in ipairs(effects) do addEffect(wt, wid, nows, f, effectIndexes) end
if #effects > 0 then wake(A_channel, 'effect') end
ended(A_channel, 'cancelled', wt, wid, A_origin)
return {'OK', counts.e, counts.t, released}
`,
});

/** Adds (`paused` '1') or removes a pause; 1 when that changed something. A resume wakes claimers. */
export const SET_PAUSE = defineScript({
  name: 'set-pause',
  keys: ['pauses'],
  args: ['member', 'paused', 'now', 'channel'],
  decode: (reply: Reply) => reply.integer() === 1,
  body: String.raw`
if A_paused == '1' then return redis.call('HSETNX', K_pauses, A_member, A_now) end
local changed = redis.call('HDEL', K_pauses, A_member)
if changed == 1 then
  wake(A_channel, 'effect')
  wake(A_channel, 'timer')
end
return changed
`,
});

/** One partition's counts for a workflow type and kind. */
export interface BacklogRow {
  readonly workflowType: string;
  readonly kind: 'e' | 't';
  readonly pending: number;
  readonly due: number;
  readonly leased: number;
  readonly paused: number;
  readonly dead: number;
  readonly oldestDueAt: number | undefined;
}

/**
 * Counts a partition's work per type and kind from its queues (pending rows, by availableAt),
 * leased sets and dead-letter indexes: ZCARD and ZCOUNT, no row read; the types are found in the
 * (type, id) indexes of instances, one lookup per type. A paused type's pending rows
 * all count as paused; a paused instance's are found through its own row index (few instances,
 * few rows). Types with nothing pending, leased or dead are left out.
 */
export const BACKLOG = defineScript({
  name: 'backlog',
  keys: ['pauses', 'namesActive', 'namesCompleted', 'namesCancelled'],
  args: ['now'],
  decode: (reply: Reply): BacklogRow[] =>
    reply.list().map((row) => ({
      workflowType: row.at(0).text(),
      kind: row.at(1).oneOf(['e', 't']),
      pending: row.at(2).integer(),
      due: row.at(3).integer(),
      leased: row.at(4).integer(),
      paused: row.at(5).integer(),
      dead: row.at(6).integer(),
      oldestDueAt: row.at(7).optionalInteger(),
    })),
  body: String.raw`
local nows = A_now
local now = tonumber(nows)
local paused, instancesOf = {}, {}
local all = redis.call('HGETALL', K_pauses)
for i = 1, #all, 2 do
  local member = all[i]
  paused[member] = true
  local nul = string.find(member, '\0', 1, true)
  local wt, wid = string.sub(member, 1, nul - 1), string.sub(member, nul + 1)
  if wid ~= '' then
    if not instancesOf[wt] then instancesOf[wt] = {} end
    table.insert(instancesOf[wt], wid)
  end
end

-- The types of the partition's instances (every row belongs to one): the (type, id) indexes
-- are read one type at a time, skipping from each type to the next.
local types, seen = {}, {}
for _, index in ipairs({K_namesActive, K_namesCompleted, K_namesCancelled}) do
  local min = '-'
  while true do
    local m = redis.call('ZRANGEBYLEX', index, min, '+', 'LIMIT', 0, 1)[1]
    if not m then break end
    local wt = string.sub(m, 1, string.find(m, '\0', 1, true) - 1)
    if not seen[wt] then seen[wt] = true; table.insert(types, wt) end
    min = '[' .. wt .. '\1'
  end
end

local out = {}
for _, wt in ipairs(types) do
  for _, k in ipairs({'e', 't'}) do
    local queues = {pendingKey(k, wt)}
    if k == 'e' then
      for _, p in ipairs(redis.call('SMEMBERS', prioritiesKey(wt))) do table.insert(queues, rankedKey(p, wt)) end
    end
    local pending, due, held, heldIds = 0, 0, 0, false
    for _, q in ipairs(queues) do
      pending = pending + redis.call('ZCARD', q)
      due = due + redis.call('ZCOUNT', q, '-inf', nows)
    end
    if paused[wt .. '\0'] then
      held, pending, due = pending, 0, 0
    elseif instancesOf[wt] then
      heldIds = {}
      for _, wid in ipairs(instancesOf[wt]) do
        for _, id in ipairs(redis.call('ZRANGE', ownedKey(k, wt, wid), 0, -1)) do
          local r = redis.call('HMGET', itemKey(k, id), 'st', 'aa')
          if r[1] == 'pending' then
            held, pending = held + 1, pending - 1
            if tonumber(r[2]) <= now then due = due - 1 end
            heldIds[id] = true
          end
        end
      end
    end
    -- The oldest due row of each queue that no pause holds; it skips at most the held rows.
    local oldest = false
    if due > 0 then
      for _, q in ipairs(queues) do
        local offset = 0
        while true do
          local page = redis.call('ZRANGEBYSCORE', q, '-inf', nows, 'WITHSCORES', 'LIMIT', offset, 100)
          if #page == 0 then break end
          local hit = false
          for j = 1, #page, 2 do
            if not (heldIds and heldIds[page[j]]) then hit = page[j + 1] break end
          end
          if hit then
            if not oldest or tonumber(hit) < tonumber(oldest) then oldest = hit end
            break
          end
          offset = offset + 100
        end
      end
    end
    local leased = redis.call('ZCARD', leasedKey(k, wt))
    local dead = redis.call('ZCARD', deadOfTypeKey(k, wt))
    if pending + held + leased + dead > 0 then table.insert(out, {wt, k, pending, due, leased, held, dead, oldest}) end
  end
end
return out
`,
});
