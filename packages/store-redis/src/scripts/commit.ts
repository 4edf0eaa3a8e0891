// The decision commit as one Lua script: checks (acknowledgement, version, unique key, new ids)
// before any write, then events, effects, timer cancels and schedules, instance, extras, wake-ups.
import { defineScript } from '../script-runner.js';

/** Positions of the commit script's KEYS (1-based, as Lua sees them). */
export const COMMIT_KEYS = [
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
  'unique',
  'handoffs',
] as const;

/**
 * ARGV: 1 TAG, 2 type, 3 id, 4 expected version, 5 new version, 6 now, 7 completed (1/0),
 * 8 instance index member, 9 wake channel, 10 unique mode ('' | claim | check | conflict),
 * 11 unique key, 12 unique token or holder, 13 idempotency key (''), 14 its record JSON,
 * 15 snapshot version (''), 16 snapshot JSON, 17 observation JSON (''), 18 ack mode
 * ('' | local | remote), 19 ack kind letter, 20 ack id, 21 ack token, 22 ack outcome,
 * 23 ack error JSON (''), 24 ack dead-letter member, 25 handoff record value, 26 commit nonce,
 * 27-30 counts of events, effects, cancels, timers; then event JSON…, (effect id, payload)…,
 * cancel key…, (timer id, key or '', fireAt, input)….
 * Returns {'OK', released unique key or false} or {code, …} when a check fails. A call that
 * ioredis re-sends after a reconnect finds its own nonce and answers OK instead of a conflict.
 */
export const COMMIT = defineScript(
  'commit',
  String.raw`
local K_INST, K_EV, K_IDEM, K_OBS, K_IE, K_IT, K_TK = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local K_XA, K_XAT, K_XC, K_XCT = KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local K_QE, K_QT, K_LT, K_FT, K_UNIQ, K_HAND = KEYS[12], KEYS[13], KEYS[14], KEYS[15], KEYS[16], KEYS[17]
local wt, wid = ARGV[2], ARGV[3]
local expected = tonumber(ARGV[4])
local newVersion, nows = ARGV[5], ARGV[6]
local now = tonumber(nows)
local completed = ARGV[7] == '1'
local member, channel = ARGV[8], ARGV[9]
local uMode, uKey, uArg = ARGV[10], ARGV[11], ARGV[12]
local idemKey, idemJson = ARGV[13], ARGV[14]
local snapV, snapJson, obsJson = ARGV[15], ARGV[16], ARGV[17]
local aMode, aKind, aId, aToken = ARGV[18], ARGV[19], ARGV[20], ARGV[21]
local aOutcome, aErr, aMember, aRecord = ARGV[22], ARGV[23], ARGV[24], ARGV[25]
local nonce = ARGV[26]
local nE, nF, nC, nT = tonumber(ARGV[27]), tonumber(ARGV[28]), tonumber(ARGV[29]), tonumber(ARGV[30])

-- 0. a re-sent call of a commit that already landed
if redis.call('HGET', K_INST, 'lc') == nonce then return {'OK', false} end

-- 1. the acknowledged lease
if aMode == 'local' then
  local state, hoT, hoP = leaseState(itemKey(aKind, aId), aToken, now)
  if state == 'lost' then return {'LEASE_LOST'} end
  if state == 'handoff' then return {'HANDOFF', aKind, aId, hoT, hoP} end
elseif aMode == 'remote' then
  if redis.call('HEXISTS', K_HAND, aToken) == 1 then return {'LEASE_LOST'} end
end

-- 2. the expected version
local current = tonumber(redis.call('HGET', K_INST, 'v') or '0')
if current ~= expected then return {'VERSION_CONFLICT', tostring(current)} end

-- 3. the unique key
if uMode == 'claim' then
  local holder = redis.call('HGET', K_UNIQ, 'id')
  if holder and holder ~= wid then return {'UNIQUE_KEY_CONFLICT', holder} end
elseif uMode == 'check' then
  if redis.call('HGET', K_UNIQ, uKey) == uArg then return {'UNIQUE_KEY_CONFLICT'} end
elseif uMode == 'conflict' then
  return {'UNIQUE_KEY_CONFLICT', uArg}
end

-- 4. new rows must not exist; timers this commit changes must not be mid-acknowledgement elsewhere
local pos = 31
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
  local tid = redis.call('HGET', K_TK, key)
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
if aMode == 'local' then
  finish(aKind, aId, aOutcome, nows, aErr, aMember)
elseif aMode == 'remote' then
  redis.call('HSET', K_HAND, aToken, aRecord)
end

for i = evFirst, evFirst + nE - 1 do redis.call('RPUSH', K_EV, ARGV[i]) end

for _, f in ipairs(effects) do
  redis.call('HSET', itemKey('e', f[1]), 'id', f[1], 'wt', wt, 'wid', wid, 'st', 'pending', 'at', 0,
    'ca', nows, 'ua', nows, 'aa', nows, 'p', f[2])
  redis.call('ZADD', K_QE, nows, f[1])
  redis.call('ZADD', K_IE, nows, f[1])
end

for _, key in ipairs(cancels) do
  local tid = redis.call('HGET', K_TK, key)
  if tid then
    local rk = itemKey('t', tid)
    local st = redis.call('HGET', rk, 'st')
    if st == 'pending' or st == 'leased' then
      redis.call('ZREM', K_QT, tid)
      redis.call('ZREM', K_LT, tid)
      redis.call('HDEL', rk, 'lo', 'lx', 'lt')
      redis.call('HSET', rk, 'st', 'cancelled', 'ua', nows)
      redis.call('ZADD', K_FT, nows, tid)
    end
    redis.call('HDEL', K_TK, key)
  end
end

for _, t in ipairs(timers) do
  local id, key, fireAt, input = t[1], t[2], t[3], t[4]
  local holder = false
  if key ~= '' then
    local tid = redis.call('HGET', K_TK, key)
    if tid then
      local st = redis.call('HGET', itemKey('t', tid), 'st')
      if st == 'pending' or st == 'leased' then holder = tid end
    end
  end
  if holder then
    local rk = itemKey('t', holder)
    redis.call('HDEL', rk, 'lo', 'lx', 'lt', 'le')
    redis.call('HSET', rk, 'st', 'pending', 'at', 0, 'aa', fireAt, 'in', input, 'ca', nows, 'ua', nows)
    redis.call('ZREM', K_LT, holder)
    redis.call('ZADD', K_QT, fireAt, holder)
    redis.call('ZADD', K_IT, nows, holder)
  else
    local rk = itemKey('t', id)
    redis.call('HSET', rk, 'id', id, 'wt', wt, 'wid', wid, 'st', 'pending', 'at', 0,
      'ca', nows, 'ua', nows, 'aa', fireAt, 'in', input)
    if key ~= '' then
      redis.call('HSET', rk, 'k', key)
      redis.call('HSET', K_TK, key, id)
    end
    redis.call('ZADD', K_QT, fireAt, id)
    redis.call('ZADD', K_IT, nows, id)
  end
end

local old = redis.call('HMGET', K_INST, 'lx', 'c', 'u')
if current == 0 then redis.call('HSET', K_INST, 't', wt, 'id', wid, 'ca', nows) end
if old[1] then
  redis.call('ZREM', K_XA, old[1])
  redis.call('ZREM', K_XAT, old[1])
  redis.call('ZREM', K_XC, old[1])
  redis.call('ZREM', K_XCT, old[1])
end
local wasCompleted = old[2] == '1'
if completed or wasCompleted then
  redis.call('ZADD', K_XC, 0, member)
  redis.call('ZADD', K_XCT, 0, member)
  redis.call('HSET', K_INST, 'c', '1')
else
  redis.call('ZADD', K_XA, 0, member)
  redis.call('ZADD', K_XAT, 0, member)
end
redis.call('HSET', K_INST, 'v', newVersion, 'ua', nows, 'lx', member, 'lc', nonce)
if uMode ~= '' and not completed then
  redis.call('HSET', K_INST, 'u', uKey)
  if uMode == 'claim' then redis.call('HSET', K_UNIQ, 'id', wid) end
end
local released = false
if completed and not wasCompleted and old[3] then
  released = old[3]
  local uk = uniqueKey(wt, old[3])
  if redis.call('HGET', uk, 'id') == wid then redis.call('DEL', uk) end
end

if idemKey ~= '' then redis.call('HSET', K_IDEM, idemKey, idemJson) end
if snapV ~= '' then redis.call('HSET', K_INST, 'sv', snapV, 'sn', snapJson) end
if obsJson ~= '' then redis.call('RPUSH', K_OBS, obsJson) end
if nF > 0 then redis.call('PUBLISH', channel, 'effect') end
if nT > 0 then redis.call('PUBLISH', channel, 'timer') end
return {'OK', released}
`,
);
