// The decision commit as one Lua script: checks (acknowledgement, version and status, unique key,
// new ids, effect keys) before any write, then events, their feed entries and the record of those
// entries' ids (what deleteInstance removes from the feed), effect cancels,
// effects, timer cancels and schedules, instance (status, parent, indexes), extras, wake-ups and
// the end notification.
import type { Reply } from '../reply.js';
import { defineScript } from '../script.js';
import { handoffsIn, type HandoffRef } from './cross-partition.js';

/** What the commit script answered. */
export type CommitReply =
  | { readonly kind: 'ok'; readonly releasedUniqueKey: string | undefined }
  | { readonly kind: 'lease-lost' }
  | { readonly kind: 'version-conflict'; readonly actualVersion: number }
  /** `holder` is absent when the reservation was refused by a block (partitions > 1): look it up. */
  | { readonly kind: 'unique-key-conflict'; readonly holder: string | undefined }
  | { readonly kind: 'duplicate-id'; readonly what: 'effect' | 'timer'; readonly id: string }
  /** A new keyed effect meets a live effect of the instance with that key. */
  | { readonly kind: 'effect-key-conflict'; readonly key: string }
  /** Timers or the acknowledged row are mid-way through a cross-partition acknowledgement: resolve, retry. */
  | { readonly kind: 'handoff'; readonly handoffs: readonly HandoffRef[] };

function decodeCommit(reply: Reply): CommitReply {
  const items = reply.list();
  const at = (i: number) => reply.at(i);
  switch (at(0).oneOf(['OK', 'LEASE_LOST', 'VERSION_CONFLICT', 'UNIQUE_KEY_CONFLICT', 'DUPLICATE_ID', 'EFFECT_KEY_CONFLICT', 'HANDOFF'])) {
    case 'OK':
      return { kind: 'ok', releasedUniqueKey: at(1).optionalText() };
    case 'LEASE_LOST':
      return { kind: 'lease-lost' };
    case 'VERSION_CONFLICT':
      return { kind: 'version-conflict', actualVersion: at(1).integer() };
    case 'UNIQUE_KEY_CONFLICT':
      return { kind: 'unique-key-conflict', holder: items.length > 1 ? at(1).text() : undefined };
    case 'DUPLICATE_ID':
      return { kind: 'duplicate-id', what: at(1).oneOf(['effect', 'timer']), id: at(2).text() };
    case 'EFFECT_KEY_CONFLICT':
      return { kind: 'effect-key-conflict', key: at(1).text() };
    case 'HANDOFF':
      return { kind: 'handoff', handoffs: handoffsIn(items.slice(1)) };
  }
}

/**
 * The commit. The variadic ARGV tail holds, in this order: `eventCount` event JSON strings,
 * `effectCount` (id, payload JSON, key or '', tag or '', priority, settings JSON or '', trace JSON
 * or '', code version or '') octuples, `cancelEffectCount` effect keys, `cancelCount` timer keys,
 * and `timerCount` (id, key or '', fireAt, input JSON, trace JSON or '', code version or '')
 * sextuples; a code version is '' when it is 1. A call that ioredis re-sends after a reconnect
 * finds its own nonce and answers OK instead of a conflict.
 */
export const COMMIT = defineScript({
  name: 'commit',
  keys: [
    'instance',
    'events',
    'idempotency',
    'idempotencyTimes',
    'observations',
    'ownedEffects',
    'ownedTimers',
    'timerKeys',
    'effectKeys',
    'activeAll',
    'activeOfType',
    'completedAll',
    'completedOfType',
    'namesActive',
    'namesCompleted',
    /** The index of the parent's children in this partition (the instance key when there is no parent). */
    'children',
    'pendingTimers',
    'leasedTimers',
    'pendingEffects',
    'workEffects',
    'workTimers',
    /** The unique key's holder record (1 partition) or this instance's reservation blocks. */
    'unique',
    /** The handoff record of the acknowledged row in this partition (remote acknowledgements). */
    'handoffs',
    /** The partition's stream of committed events: one entry per event, in this same call. */
    'feed',
    /** The instance's list of its events' feed stream ids. */
    'feedEntries',
  ],
  args: [
    'type',
    'id',
    'expectedVersion',
    'newVersion',
    'now',
    /** '1' or '0'. */
    'completed',
    /** '1' (cancel every live effect and timer written before, but the acknowledged row) or '0'. */
    'cancelWork',
    /** The instance's listing member after this commit. */
    'member',
    'channel',
    /** The committing store object, named in the end notification. */
    'origin',
    /** '' | claim (1 partition) | check (reserved: the block must not hold the token) | conflict. */
    'uniqueMode',
    'uniqueKey',
    /** The reservation token (check) or the holder's id (conflict). */
    'uniqueArg',
    /** The parent's type and id, or ''; only on a creating commit. */
    'parentType',
    'parentId',
    'idempotencyKey',
    'idempotencyRecord',
    'snapshotVersion',
    'snapshot',
    'observation',
    /** '' | local (the row is in this partition) | remote (prepared in its own partition). */
    'ackMode',
    'ackKind',
    'ackId',
    'ackToken',
    'ackOutcome',
    'ackError',
    'ackMember',
    'handoffRecord',
    'nonce',
    'eventCount',
    'effectCount',
    'cancelEffectCount',
    'cancelCount',
    'timerCount',
  ],
  variadic: 'args',
  decode: decodeCommit,
  body: String.raw`
local wt, wid = A_type, A_id
local expected = tonumber(A_expectedVersion)
local nows = A_now
local now = tonumber(nows)
local completed = A_completed == '1'
local cancelWork = A_cancelWork == '1'
local nE, nF, nX, nC, nT = tonumber(A_eventCount), tonumber(A_effectCount), tonumber(A_cancelEffectCount), tonumber(A_cancelCount), tonumber(A_timerCount)

-- 0. a re-sent call of a commit that already landed
if redis.call('HGET', K_instance, 'lc') == A_nonce then return {'OK', false} end

-- 1. the acknowledged lease
local ackRow = nil
if A_ackMode == 'local' then
  local state, hoT, hoP, row = leaseState(itemKey(A_ackKind, A_ackId), A_ackToken, now)
  ackRow = row
  if state == 'lost' or state == 'cancelled' then return {'LEASE_LOST'} end
  if state == 'handoff' then return {'HANDOFF', A_ackKind, A_ackId, hoT, hoP} end
elseif A_ackMode == 'remote' then
  if redis.call('HEXISTS', K_handoffs, A_ackToken) == 1 then return {'LEASE_LOST'} end
end

-- 2. the expected version, on an active instance (cancelling does not move the version)
local inst = redis.call('HMGET', K_instance, 'v', 's')
local current = tonumber(inst[1] or '0')
if current ~= expected or (inst[2] and inst[2] ~= 'a') then return {'VERSION_CONFLICT', tostring(current)} end

-- 3. the unique key
if A_uniqueMode == 'claim' then
  local holder = redis.call('HGET', K_unique, 'id')
  if holder and holder ~= wid then return {'UNIQUE_KEY_CONFLICT', holder} end
elseif A_uniqueMode == 'check' then
  if redis.call('HGET', K_unique, A_uniqueKey) == A_uniqueArg then return {'UNIQUE_KEY_CONFLICT'} end
elseif A_uniqueMode == 'conflict' then
  return {'UNIQUE_KEY_CONFLICT', A_uniqueArg}
end

-- 4. new rows must not exist; a new keyed effect must not meet a live one it does not cancel
local pos = ARGV_FROM
local evFirst = pos
pos = pos + nE
local effects, cancelEffects, cancels, timers = {}, {}, {}, {}
for i = 1, nF do
  effects[i] = {ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3], ARGV[pos + 4], ARGV[pos + 5], ARGV[pos + 6], ARGV[pos + 7]}
  pos = pos + 8
end
local cancelled = {}
for i = 1, nX do cancelEffects[i] = ARGV[pos]; cancelled[ARGV[pos]] = true; pos = pos + 1 end
for i = 1, nC do cancels[i] = ARGV[pos]; pos = pos + 1 end
for i = 1, nT do timers[i] = {ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3], ARGV[pos + 4], ARGV[pos + 5]}; pos = pos + 6 end
for _, f in ipairs(effects) do
  if redis.call('EXISTS', itemKey('e', f[1])) == 1 then return {'DUPLICATE_ID', 'effect', f[1]} end
end
for _, t in ipairs(timers) do
  if redis.call('EXISTS', itemKey('t', t[1])) == 1 then return {'DUPLICATE_ID', 'timer', t[1]} end
end
-- The acknowledged effect is settled first by this very commit, so its key is free for a new one.
local ackedEffect = A_ackKind == 'e' and A_ackId or false
if not cancelWork then
  for _, f in ipairs(effects) do
    local key = f[3]
    if key ~= '' and not cancelled[key] then
      local holder = redis.call('HGET', K_effectKeys, key)
      if holder and holder ~= ackedEffect then
        local st = redis.call('HGET', itemKey('e', holder), 'st')
        if st == 'pending' or st == 'leased' then return {'EFFECT_KEY_CONFLICT', key} end
      end
    end
  end
end

-- 5. rows this commit changes must not be mid-way through an acknowledgement in another partition
local busy = {}
for _, key in ipairs(cancelEffects) do
  local id = redis.call('HGET', K_effectKeys, key)
  if id then guardRow(busy, 'e', id) end
end
for _, key in ipairs(cancels) do
  local id = redis.call('HGET', K_timerKeys, key)
  if id then guardRow(busy, 't', id) end
end
for _, t in ipairs(timers) do
  local id = t[2] ~= '' and redis.call('HGET', K_timerKeys, t[2])
  if id then guardRow(busy, 't', id) end
end
local owned = {}
if cancelWork then
  owned = {e = redis.call('ZRANGE', K_ownedEffects, 0, -1), t = redis.call('ZRANGE', K_ownedTimers, 0, -1)}
  for k, ids in pairs(owned) do
    for _, id in ipairs(ids) do
      if not (A_ackMode == 'local' and k == A_ackKind and id == A_ackId) then guardRow(busy, k, id) end
    end
  end
end
if #busy > 0 then return {'HANDOFF', unpack(busy)} end

-- writes: acknowledgement first, so a fired timer frees its key for a re-schedule below
if A_ackMode == 'local' then
  finish(A_ackKind, A_ackId, A_ackOutcome, nows, A_ackError, A_ackMember, ackRow)
elseif A_ackMode == 'remote' then
  redis.call('HSET', K_handoffs, A_ackToken, A_handoffRecord)
end

-- Each event also gets an entry in the partition's feed, in this same call, so an entry exists
-- only for a committed event and the stream's ids grow in commit order. The entry names the
-- event (RPUSH answers its sequence); the feed reads the event itself from the instance's list.
-- Ids are <microseconds of the server clock>-<n>, so commits made one after another keep their
-- order across partitions when the feed merges them; an id Redis refuses (not after the stream's
-- last, as when the clock went back) falls back to '*', which always is. The ids are kept in
-- the instance's feedEntries list, so deleting the instance can remove exactly its entries.
local feedUs = false
local feedIds = {}
if nE > 0 then
  local t = redis.call('TIME')
  feedUs = t[1] .. string.sub('00000' .. t[2], -6)
end
for i = evFirst, evFirst + nE - 1 do
  local seq = redis.call('RPUSH', K_events, ARGV[i])
  local added = redis.pcall('XADD', K_feed, feedUs .. '-' .. (i - evFirst), 't', wt, 'i', wid, 's', seq)
  if type(added) == 'table' and added.err then added = redis.call('XADD', K_feed, '*', 't', wt, 'i', wid, 's', seq) end
  feedIds[#feedIds + 1] = added
end
if nE > 0 then redis.call('RPUSH', K_feedEntries, unpack(feedIds)) end

-- effect cancels: by key, then every live row written before (the acknowledged one is settled)
for _, key in ipairs(cancelEffects) do
  local id = redis.call('HGET', K_effectKeys, key)
  if id then cancelRow('e', id, nows, false) end
end
if cancelWork then
  for k, ids in pairs(owned) do
    for _, id in ipairs(ids) do cancelRow(k, id, nows, false) end
  end
end

local effectIndexes = {owned = K_ownedEffects, pending = K_pendingEffects, work = K_workEffects}
for _, f in ipairs(effects) do addEffect(wt, wid, nows, f, effectIndexes) end

for _, key in ipairs(cancels) do
  local tid = redis.call('HGET', K_timerKeys, key)
  if tid then
    cancelRow('t', tid, nows, false)
    redis.call('HDEL', K_timerKeys, key)
  end
end

for _, t in ipairs(timers) do
  local id, key, fireAt, input, trace, version = t[1], t[2], t[3], t[4], t[5], t[6]
  local holder = false
  if key ~= '' then
    local tid = redis.call('HGET', K_timerKeys, key)
    local st = tid and redis.call('HGET', itemKey('t', tid), 'st')
    if st == 'pending' or st == 'leased' then holder = tid end
  end
  if holder then
    local rk = itemKey('t', holder)
    -- It takes the new decision's trace and code version, or none: the old ones would tie it to
    -- a finished trace and to code that did not write it. Its fireAt is availableAt again.
    redis.call('HDEL', rk, 'lo', 'lx', 'lt', 'le', 'fa', 'rl')
    redis.call('HSET', rk, 'st', 'pending', 'at', 0, 'aa', fireAt, 'in', input, 'ca', nows, 'ua', nows)
    if trace == '' then redis.call('HDEL', rk, 'tr') else redis.call('HSET', rk, 'tr', trace) end
    if version == '' then redis.call('HDEL', rk, 'v') else redis.call('HSET', rk, 'v', version) end
    redis.call('ZREM', K_leasedTimers, holder)
    redis.call('ZADD', K_pendingTimers, fireAt, holder)
    redis.call('ZADD', K_ownedTimers, nows, holder)
  else
    local rk = itemKey('t', id)
    redis.call('HSET', rk, 'id', id, 'wt', wt, 'wid', wid, 'st', 'pending', 'at', 0,
      'ca', nows, 'ua', nows, 'aa', fireAt, 'in', input)
    if trace ~= '' then redis.call('HSET', rk, 'tr', trace) end
    if version ~= '' then redis.call('HSET', rk, 'v', version) end
    if key ~= '' then
      redis.call('HSET', rk, 'k', key)
      redis.call('HSET', K_timerKeys, key, id)
    end
    redis.call('ZADD', K_pendingTimers, fireAt, id)
    redis.call('ZADD', K_ownedTimers, nows, id)
    redis.call('ZADD', K_workTimers, 0, id)
  end
end

-- the instance: it was active (checked above)
local old = redis.call('HMGET', K_instance, 'lx', 'u')
local name = wt .. '\0' .. wid
if current == 0 then
  redis.call('HSET', K_instance, 't', wt, 'id', wid, 'ca', nows)
  if A_parentType ~= '' then
    redis.call('HSET', K_instance, 'pt', A_parentType, 'pi', A_parentId)
    redis.call('ZADD', K_children, 0, name)
  end
  if not completed then redis.call('ZADD', K_namesActive, 0, name) end
end
if old[1] then
  redis.call('ZREM', K_activeAll, old[1])
  redis.call('ZREM', K_activeOfType, old[1])
end
local status = 'a'
if completed then
  status = 'c'
  redis.call('ZADD', K_completedAll, 0, A_member)
  redis.call('ZADD', K_completedOfType, 0, A_member)
  redis.call('ZREM', K_namesActive, name)
  redis.call('ZADD', K_namesCompleted, 0, name)
else
  redis.call('ZADD', K_activeAll, 0, A_member)
  redis.call('ZADD', K_activeOfType, 0, A_member)
end
redis.call('HSET', K_instance, 'v', A_newVersion, 's', status, 'ua', nows, 'lx', A_member, 'lc', A_nonce)
if A_uniqueMode ~= '' and not completed then
  redis.call('HSET', K_instance, 'u', A_uniqueKey)
  if A_uniqueMode == 'claim' then redis.call('HSET', K_unique, 'id', wid) end
end
local released = false
if completed and old[2] then
  released = old[2]
  local uk = uniqueKey(wt, old[2])
  if redis.call('HGET', uk, 'id') == wid then redis.call('DEL', uk) end
end

if A_idempotencyKey ~= '' then
  redis.call('HSET', K_idempotency, A_idempotencyKey, A_idempotencyRecord)
  redis.call('ZADD', K_idempotencyTimes, nows, name .. '\0' .. A_idempotencyKey)
end
if A_snapshotVersion ~= '' then redis.call('HSET', K_instance, 'sv', A_snapshotVersion, 'sn', A_snapshot) end
if A_observation ~= '' then redis.call('RPUSH', K_observations, A_observation) end
if nF > 0 then wake(A_channel, 'effect') end
if nT > 0 then wake(A_channel, 'timer') end
if completed then ended(A_channel, 'completed', wt, wid, A_origin) end
return {'OK', released}
`,
});
