// The decision commit as one Lua script: checks (acknowledgement, version, unique key, new ids)
// before any write, then events, effects, timer cancels and schedules, instance, extras, wake-ups.
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
  /** Timers or the acknowledged row are mid-way through a cross-partition acknowledgement: resolve, retry. */
  | { readonly kind: 'handoff'; readonly handoffs: readonly HandoffRef[] };

function decodeCommit(reply: Reply): CommitReply {
  const items = reply.list();
  const at = (i: number) => reply.at(i);
  switch (at(0).oneOf(['OK', 'LEASE_LOST', 'VERSION_CONFLICT', 'UNIQUE_KEY_CONFLICT', 'DUPLICATE_ID', 'HANDOFF'])) {
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
    case 'HANDOFF':
      return { kind: 'handoff', handoffs: handoffsIn(items.slice(1)) };
  }
}

/**
 * The commit. The variadic ARGV tail holds, in this order: `eventCount` event JSON strings,
 * `effectCount` (id, payload JSON) pairs, `cancelCount` timer keys, and `timerCount`
 * (id, key or '', fireAt, input JSON) quadruples. A call that ioredis re-sends after a reconnect
 * finds its own nonce and answers OK instead of a conflict.
 */
export const COMMIT = defineScript({
  name: 'commit',
  keys: [
    'instance',
    'events',
    'idempotency',
    'observations',
    'ownedEffects',
    'ownedTimers',
    'timerKeys',
    'activeAll',
    'activeOfType',
    'completedAll',
    'completedOfType',
    'pendingEffects',
    'pendingTimers',
    'leasedTimers',
    'finishedTimers',
    /** The unique key's holder record (1 partition) or this instance's reservation blocks. */
    'unique',
    /** The handoff record of the acknowledged row in this partition (remote acknowledgements). */
    'handoffs',
  ],
  args: [
    'type',
    'id',
    'expectedVersion',
    'newVersion',
    'now',
    /** '1' or '0'. */
    'completed',
    /** The instance's listing member after this commit. */
    'member',
    'channel',
    /** '' | claim (1 partition) | check (reserved: the block must not hold the token) | conflict. */
    'uniqueMode',
    'uniqueKey',
    /** The reservation token (check) or the holder's id (conflict). */
    'uniqueArg',
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
local nE, nF, nC, nT = tonumber(A_eventCount), tonumber(A_effectCount), tonumber(A_cancelCount), tonumber(A_timerCount)

-- 0. a re-sent call of a commit that already landed
if redis.call('HGET', K_instance, 'lc') == A_nonce then return {'OK', false} end

-- 1. the acknowledged lease
local ackRow = nil
if A_ackMode == 'local' then
  local state, hoT, hoP, row = leaseState(itemKey(A_ackKind, A_ackId), A_ackToken, now)
  ackRow = row
  if state == 'lost' then return {'LEASE_LOST'} end
  if state == 'handoff' then return {'HANDOFF', A_ackKind, A_ackId, hoT, hoP} end
elseif A_ackMode == 'remote' then
  if redis.call('HEXISTS', K_handoffs, A_ackToken) == 1 then return {'LEASE_LOST'} end
end

-- 2. the expected version
local current = tonumber(redis.call('HGET', K_instance, 'v') or '0')
if current ~= expected then return {'VERSION_CONFLICT', tostring(current)} end

-- 3. the unique key
if A_uniqueMode == 'claim' then
  local holder = redis.call('HGET', K_unique, 'id')
  if holder and holder ~= wid then return {'UNIQUE_KEY_CONFLICT', holder} end
elseif A_uniqueMode == 'check' then
  if redis.call('HGET', K_unique, A_uniqueKey) == A_uniqueArg then return {'UNIQUE_KEY_CONFLICT'} end
elseif A_uniqueMode == 'conflict' then
  return {'UNIQUE_KEY_CONFLICT', A_uniqueArg}
end

-- 4. new rows must not exist; timers this commit changes must not be mid-acknowledgement elsewhere
local pos = ARGV_FROM
local evFirst = pos
pos = pos + nE
local effects, cancels, timers = {}, {}, {}
for i = 1, nF do effects[i] = {ARGV[pos], ARGV[pos + 1]}; pos = pos + 2 end
for i = 1, nC do cancels[i] = ARGV[pos]; pos = pos + 1 end
for i = 1, nT do timers[i] = {ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3]}; pos = pos + 4 end
for _, f in ipairs(effects) do
  if redis.call('EXISTS', itemKey('e', f[1])) == 1 then return {'DUPLICATE_ID', 'effect', f[1]} end
end
for _, t in ipairs(timers) do
  if redis.call('EXISTS', itemKey('t', t[1])) == 1 then return {'DUPLICATE_ID', 'timer', t[1]} end
end
local busy = {}
local function guard(key)
  local tid = redis.call('HGET', K_timerKeys, key)
  if tid then
    local h = redis.call('HMGET', itemKey('t', tid), 'hoT', 'hoP')
    if h[1] then
      table.insert(busy, 't'); table.insert(busy, tid); table.insert(busy, h[1]); table.insert(busy, h[2])
    end
  end
end
for _, key in ipairs(cancels) do guard(key) end
for _, t in ipairs(timers) do if t[2] ~= '' then guard(t[2]) end end
if #busy > 0 then return {'HANDOFF', unpack(busy)} end

-- writes: acknowledgement first, so a fired timer frees its key for a re-schedule below
if A_ackMode == 'local' then
  finish(A_ackKind, A_ackId, A_ackOutcome, nows, A_ackError, A_ackMember, ackRow)
elseif A_ackMode == 'remote' then
  redis.call('HSET', K_handoffs, A_ackToken, A_handoffRecord)
end

for i = evFirst, evFirst + nE - 1 do redis.call('RPUSH', K_events, ARGV[i]) end

for _, f in ipairs(effects) do
  redis.call('HSET', itemKey('e', f[1]), 'id', f[1], 'wt', wt, 'wid', wid, 'st', 'pending', 'at', 0,
    'ca', nows, 'ua', nows, 'aa', nows, 'p', f[2])
  redis.call('ZADD', K_pendingEffects, nows, f[1])
  redis.call('ZADD', K_ownedEffects, nows, f[1])
end

for _, key in ipairs(cancels) do
  local tid = redis.call('HGET', K_timerKeys, key)
  if tid then
    local rk = itemKey('t', tid)
    local st = redis.call('HGET', rk, 'st')
    if st == 'pending' or st == 'leased' then
      redis.call('ZREM', K_pendingTimers, tid)
      redis.call('ZREM', K_leasedTimers, tid)
      redis.call('HDEL', rk, 'lo', 'lx', 'lt')
      redis.call('HSET', rk, 'st', 'cancelled', 'ua', nows)
      redis.call('ZADD', K_finishedTimers, nows, tid)
    end
    redis.call('HDEL', K_timerKeys, key)
  end
end

for _, t in ipairs(timers) do
  local id, key, fireAt, input = t[1], t[2], t[3], t[4]
  local holder = false
  if key ~= '' then
    local tid = redis.call('HGET', K_timerKeys, key)
    if tid then
      local st = redis.call('HGET', itemKey('t', tid), 'st')
      if st == 'pending' or st == 'leased' then holder = tid end
    end
  end
  if holder then
    local rk = itemKey('t', holder)
    redis.call('HDEL', rk, 'lo', 'lx', 'lt', 'le')
    redis.call('HSET', rk, 'st', 'pending', 'at', 0, 'aa', fireAt, 'in', input, 'ca', nows, 'ua', nows)
    redis.call('ZREM', K_leasedTimers, holder)
    redis.call('ZADD', K_pendingTimers, fireAt, holder)
    redis.call('ZADD', K_ownedTimers, nows, holder)
  else
    local rk = itemKey('t', id)
    redis.call('HSET', rk, 'id', id, 'wt', wt, 'wid', wid, 'st', 'pending', 'at', 0,
      'ca', nows, 'ua', nows, 'aa', fireAt, 'in', input)
    if key ~= '' then
      redis.call('HSET', rk, 'k', key)
      redis.call('HSET', K_timerKeys, key, id)
    end
    redis.call('ZADD', K_pendingTimers, fireAt, id)
    redis.call('ZADD', K_ownedTimers, nows, id)
  end
end

local old = redis.call('HMGET', K_instance, 'lx', 'c', 'u')
if current == 0 then redis.call('HSET', K_instance, 't', wt, 'id', wid, 'ca', nows) end
if old[1] then
  redis.call('ZREM', K_activeAll, old[1])
  redis.call('ZREM', K_activeOfType, old[1])
  redis.call('ZREM', K_completedAll, old[1])
  redis.call('ZREM', K_completedOfType, old[1])
end
local wasCompleted = old[2] == '1'
if completed or wasCompleted then
  redis.call('ZADD', K_completedAll, 0, A_member)
  redis.call('ZADD', K_completedOfType, 0, A_member)
  redis.call('HSET', K_instance, 'c', '1')
else
  redis.call('ZADD', K_activeAll, 0, A_member)
  redis.call('ZADD', K_activeOfType, 0, A_member)
end
redis.call('HSET', K_instance, 'v', A_newVersion, 'ua', nows, 'lx', A_member, 'lc', A_nonce)
if A_uniqueMode ~= '' and not completed then
  redis.call('HSET', K_instance, 'u', A_uniqueKey)
  if A_uniqueMode == 'claim' then redis.call('HSET', K_unique, 'id', wid) end
end
local released = false
if completed and not wasCompleted and old[3] then
  released = old[3]
  local uk = uniqueKey(wt, old[3])
  if redis.call('HGET', uk, 'id') == wid then redis.call('DEL', uk) end
end

if A_idempotencyKey ~= '' then redis.call('HSET', K_idempotency, A_idempotencyKey, A_idempotencyRecord) end
if A_snapshotVersion ~= '' then redis.call('HSET', K_instance, 'sv', A_snapshotVersion, 'sn', A_snapshot) end
if A_observation ~= '' then redis.call('RPUSH', K_observations, A_observation) end
if nF > 0 then wake(A_channel, 'effect') end
if nT > 0 then wake(A_channel, 'timer') end
return {'OK', released}
`,
});
