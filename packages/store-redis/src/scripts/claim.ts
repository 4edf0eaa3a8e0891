// Batched claims of one partition: expired leases go back to their type's queue at their
// availableAt, then the oldest claimable rows across the requested types' queues are leased.
import { defineScript } from '../script-runner.js';

/**
 * KEYS: (pending queue, leased set) per requested workflow type, all of one kind.
 * ARGV: 1 TAG, 2 kind letter, 3 now, 4 limit, 5 lease expiry, 6 owner JSON, 7 token base,
 * 8 dry run (1: only report the claimable ids and availableAt, for a cross-partition merge).
 * Returns {rows or {id, availableAt} pairs, {id, handoff token, handoff partition}…}.
 */
export const CLAIM = defineScript(
  'claim',
  String.raw`
local kind, nows = ARGV[2], ARGV[3]
local now, limit = tonumber(nows), tonumber(ARGV[4])
local expires, owner, base, dry = ARGV[5], ARGV[6], ARGV[7], ARGV[8] == '1'
local nTypes = #KEYS / 2
local handoffs = {}

-- Expired leases rejoin their pending queue, scored by availableAt, so one ordered queue per
-- type serves both kinds of claimable rows. Each expired row moves once (amortised).
for i = 1, nTypes do
  local q, l = KEYS[2 * i - 1], KEYS[2 * i]
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', l, '-inf', nows, 'LIMIT', 0, 1000)) do
    local r = redis.call('HMGET', itemKey(kind, id), 'st', 'lx', 'aa', 'hoT', 'hoP')
    if r[1] ~= 'leased' then
      redis.call('ZREM', l, id)
    elseif tonumber(r[2]) <= now then
      if r[4] then
        -- its acknowledgement may have landed in another partition: resolved by the caller first
        if #handoffs < 300 then
          table.insert(handoffs, id); table.insert(handoffs, r[4]); table.insert(handoffs, r[5])
        end
      else
        redis.call('ZREM', l, id)
        redis.call('ZADD', q, r[3], id)
      end
    end
  end
end

-- Byte-wise comparison: Lua's '<' on strings follows the server locale (strcoll).
local function bytesLess(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- k-way merge of the types' queues in (availableAt, id) order.
local heads, skipped = {}, {}
for i = 1, nTypes do skipped[i] = 0 end
local function head(i)
  if heads[i] == nil then
    local r = redis.call('ZRANGEBYSCORE', KEYS[2 * i - 1], '-inf', nows, 'WITHSCORES', 'LIMIT', skipped[i], 1)
    if r[1] then heads[i] = {r[1], tonumber(r[2])} else heads[i] = false end
  end
  return heads[i]
end

local out, taken = {}, 0
while taken < limit do
  local best, bi = nil, 0
  for i = 1, nTypes do
    local h = head(i)
    if h and (best == nil or h[2] < best[2] or (h[2] == best[2] and bytesLess(h[1], best[1]))) then
      best, bi = h, i
    end
  end
  if best == nil then break end
  heads[bi] = nil
  local id = best[1]
  local rk = itemKey(kind, id)
  local r = redis.call('HMGET', rk, 'st', 'aa', 'lx', 'hoT')
  local claimable = (r[1] == 'pending' and tonumber(r[2]) <= now)
    or (r[1] == 'leased' and tonumber(r[3]) <= now and not r[4])
  if claimable then
    taken = taken + 1
    if dry then
      skipped[bi] = skipped[bi] + 1
      table.insert(out, {id, r[2]})
    else
      redis.call('HSET', rk, 'st', 'leased', 'lt', base .. '.' .. taken, 'lo', owner, 'lx', expires, 'ua', nows)
      redis.call('HINCRBY', rk, 'at', 1)
      redis.call('ZREM', KEYS[2 * bi - 1], id)
      redis.call('ZADD', KEYS[2 * bi], expires, id)
      table.insert(out, redis.call('HGETALL', rk))
    end
  elseif r[1] == 'pending' or r[1] == 'leased' then
    skipped[bi] = skipped[bi] + 1
  else
    redis.call('ZREM', KEYS[2 * bi - 1], id)
  end
end
return {out, handoffs}
`,
);
