// Reads that need more than one key at a consistent point: loading an instance for a decision,
// the rows of one instance, the next pending timer of a set of types.
import { defineScript } from '../script-runner.js';

/**
 * KEYS: instance, events, idempotency. ARGV: 1 TAG, 2 idempotency key or ''.
 * Returns {version, completed, snapshot version or false, snapshot JSON or false, idempotency
 * record JSON or false, events after the snapshot}.
 */
export const LOAD = defineScript(
  'load',
  String.raw`
local r = redis.call('HMGET', KEYS[1], 'v', 'c', 'sv', 'sn')
local events = redis.call('LRANGE', KEYS[2], tonumber(r[3] or '0'), -1)
local idem = false
if ARGV[2] ~= '' then idem = redis.call('HGET', KEYS[3], ARGV[2]) end
return {r[1] or '0', r[2] or '0', r[3] or false, r[4] or false, idem, events}
`,
);

/** KEYS: an instance's effect or timer index. ARGV: 1 TAG, 2 kind letter. Returns the rows in index order. */
export const OWNED_ROWS = defineScript(
  'owned-rows',
  String.raw`
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local row = redis.call('HGETALL', itemKey(ARGV[2], id))
  if #row > 0 then table.insert(out, row) end
end
return out
`,
);

/**
 * KEYS: pending timer queues of the requested types. ARGV: 1 TAG.
 * Returns the smallest availableAt of a pending timer, or false. Queued rows whose lease merely
 * expired (status still leased) are skipped: they are claimable but not pending.
 */
export const NEXT_TIMER = defineScript(
  'next-timer',
  String.raw`
local best = false
for i = 1, #KEYS do
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
);
