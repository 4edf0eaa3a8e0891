// Lua shared by every script, after its generated header: the key builders (generated from
// src/key-templates.ts), the lease check and the settlement of a leased row. Scripts derive keys
// only under TAG, the partition's hash tag.
import { luaKeyBuilders } from '../key-templates.js';

/**
 * Keys built here are derived inside a script (work item rows and their per-type queues are
 * known only after reading a row); they all start with TAG, so they hash to the same cluster
 * slot as the KEYS the script was given.
 */
export const PREAMBLE = `${luaKeyBuilders()}
${String.raw`
local function wakeName(k) if k == 'e' then return 'effect' end return 'timer' end

-- Wake-ups go through wake(): published at once, or, while a batch holds them (defineBatchScript),
-- published once per distinct message after its last item, so a batch sends one per kind.
local heldWakes = false
local function wake(channel, message)
  if not heldWakes then
    redis.call('PUBLISH', channel, message)
  elseif not heldWakes[channel .. '\n' .. message] then
    heldWakes[channel .. '\n' .. message] = true
    table.insert(heldWakes, {channel, message})
  end
end
local function holdWakes() heldWakes = {} end
local function publishHeldWakes()
  for _, w in ipairs(heldWakes) do redis.call('PUBLISH', w[1], w[2]) end
  heldWakes = false
end

-- 'held', 'lost', or 'handoff' plus the pending cross-partition acknowledgement (token, partition);
-- then the row's {type, instance id, timer key}, read in the same call, for finish().
local function leaseState(rk, token, now)
  local r = redis.call('HMGET', rk, 'st', 'lt', 'lx', 'hoT', 'hoP', 'wt', 'wid', 'k')
  local row = {r[6], r[7], r[8]}
  if r[1] ~= 'leased' or r[2] ~= token then return 'lost', nil, nil, row end
  local lx = tonumber(r[3])
  if lx == nil or lx <= now then return 'lost', nil, nil, row end
  if r[4] then return 'handoff', r[4], r[5], row end
  return 'held', nil, nil, row
end

-- Settles a leased row: outcome 'done' (effect done, timer fired) or 'dead' (err: JSON or ''). row
-- is {type, instance id, timer key} when the caller has read it (leaseState), else read here.
local function finish(k, id, outcome, nows, err, member, row)
  local rk = itemKey(k, id)
  local r = row or redis.call('HMGET', rk, 'wt', 'wid', 'k')
  local wt = r[1]
  redis.call('ZREM', pendingKey(k, wt), id)
  redis.call('ZREM', leasedKey(k, wt), id)
  redis.call('HDEL', rk, 'lo', 'lx', 'lt', 'hoT', 'hoP')
  if k == 't' and r[3] then
    local tk = timerKeysKey(wt, r[2])
    if redis.call('HGET', tk, r[3]) == id then redis.call('HDEL', tk, r[3]) end
  end
  if outcome == 'dead' then
    if err == '' then redis.call('HDEL', rk, 'le') else redis.call('HSET', rk, 'le', err) end
    redis.call('HSET', rk, 'st', 'dead', 'ua', nows, 'dm', member)
    redis.call('ZADD', deadAllKey(k), 0, member)
    redis.call('ZADD', deadOfTypeKey(k, wt), 0, member)
  else
    local st = 'fired'
    if k == 'e' then st = 'done' end
    redis.call('HSET', rk, 'st', st, 'ua', nows)
    redis.call('ZADD', finishedKey(k), nows, id)
  end
end
`}`;
