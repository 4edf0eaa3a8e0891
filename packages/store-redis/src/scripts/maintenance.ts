// Housekeeping scripts: retention (purge) of finished rows, and the deployment settings record
// that guards the partition count.
import { defineScript } from '../script-runner.js';

/**
 * KEYS: finished effects, finished timers. ARGV: 1 TAG, 2 olderThan, 3 batch size.
 * Returns {effects deleted, timers deleted, effects examined, timers examined,
 * {kind, id, handoff partitions}…} — the last for rows that left handoff records elsewhere.
 */
export const PURGE = defineScript(
  'purge',
  String.raw`
local olderThan = ARGV[2]
local cut, batch = tonumber(olderThan), tonumber(ARGV[3])
local kinds = {'e', 't'}
local deleted, examined, elsewhere = {0, 0}, {0, 0}, {}
for i = 1, 2 do
  local k = kinds[i]
  local ids = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', '(' .. olderThan, 'LIMIT', 0, batch)
  examined[i] = #ids
  for _, id in ipairs(ids) do
    local rk = itemKey(k, id)
    local r = redis.call('HMGET', rk, 'st', 'ua', 'wt', 'wid', 'hps')
    if (r[1] == 'done' or r[1] == 'fired' or r[1] == 'cancelled') and tonumber(r[2]) < cut then
      redis.call('DEL', rk)
      redis.call('ZREM', ownedKey(k, r[3], r[4]), id)
      deleted[i] = deleted[i] + 1
      if r[5] then table.insert(elsewhere, k); table.insert(elsewhere, id); table.insert(elsewhere, r[5]) end
    end
    redis.call('ZREM', KEYS[i], id)
  end
end
return {deleted[1], deleted[2], examined[1], examined[2], elsewhere}
`,
);

/** KEYS: the meta hash. ARGV: 1 unused tag, 2 partition count. Returns the count recorded first. */
export const CLAIM_SETTINGS = defineScript(
  'settings',
  String.raw`
redis.call('HSETNX', KEYS[1], 'partitions', ARGV[2])
return redis.call('HGET', KEYS[1], 'partitions')
`,
);
