// Changes to one leased row after a claim, each fenced by the lease token, plus re-drive of a
// dead letter. One row, its queues and indexes: all in the row's partition.
import { defineScript } from '../script-runner.js';

/**
 * KEYS: the row. ARGV: 1 TAG, 2 kind letter, 3 id, 4 token, 5 now, 6 operation (renew |
 * complete | retry | dead | release), 7 new lease expiry (renew) or retryAt (retry), 8 error
 * JSON, 9 dead-letter member, 10 wake channel.
 * Returns {'OK'}, {'LEASE_LOST'}, or {'HANDOFF', kind, id, token, partition}.
 */
export const SETTLE = defineScript(
  'settle',
  String.raw`
local rk = KEYS[1]
local kind, id, token, nows, op = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local arg, err, member, channel = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local state, hoT, hoP = leaseState(rk, token, tonumber(nows))
if state == 'lost' then return {'LEASE_LOST'} end
if state == 'handoff' and op ~= 'renew' then return {'HANDOFF', kind, id, hoT, hoP} end
local wt = redis.call('HGET', rk, 'wt')
if op == 'renew' then
  redis.call('HSET', rk, 'lx', arg, 'ua', nows)
  redis.call('ZREM', pendingKey(kind, wt), id)
  redis.call('ZADD', leasedKey(kind, wt), arg, id)
elseif op == 'complete' then
  finish(kind, id, 'done', nows, '', '')
elseif op == 'dead' then
  finish(kind, id, 'dead', nows, err, member)
else
  local at = arg
  if op == 'release' then at = nows end
  redis.call('HDEL', rk, 'lo', 'lx', 'lt')
  redis.call('HSET', rk, 'st', 'pending', 'aa', at, 'ua', nows)
  if op == 'retry' then
    redis.call('HSET', rk, 'le', err)
  elseif tonumber(redis.call('HGET', rk, 'at') or '0') > 0 then
    redis.call('HINCRBY', rk, 'at', -1)
  end
  redis.call('ZREM', leasedKey(kind, wt), id)
  redis.call('ZADD', pendingKey(kind, wt), at, id)
  if op == 'release' then redis.call('PUBLISH', channel, wakeName(kind)) end
end
return {'OK'}
`,
);

/**
 * KEYS: the row. ARGV: 1 TAG, 2 kind letter, 3 id, 4 now, 5 wake channel.
 * Returns 'ok', 'refused' (not dead, or its timer key is held) or 'missing'.
 */
export const REDRIVE = defineScript(
  'redrive',
  String.raw`
local rk = KEYS[1]
local kind, id, nows, channel = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local r = redis.call('HMGET', rk, 'st', 'wt', 'wid', 'k', 'dm')
if not r[1] then return 'missing' end
if r[1] ~= 'dead' then return 'refused' end
if kind == 't' and r[4] then
  local tk = timerKeysKey(r[2], r[3])
  local holder = redis.call('HGET', tk, r[4])
  if holder and holder ~= id then
    local hs = redis.call('HGET', itemKey('t', holder), 'st')
    if hs == 'pending' or hs == 'leased' then return 'refused' end
  end
  redis.call('HSET', tk, r[4], id)
end
if r[5] then
  redis.call('ZREM', deadKey(kind), r[5])
  redis.call('ZREM', deadKey(kind, r[2]), r[5])
end
redis.call('HDEL', rk, 'dm')
redis.call('HSET', rk, 'st', 'pending', 'at', 0, 'aa', nows, 'ua', nows)
redis.call('ZADD', pendingKey(kind, r[2]), nows, id)
redis.call('PUBLISH', channel, wakeName(kind))
return 'ok'
`,
);
