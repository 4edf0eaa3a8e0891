// Retention of an ended instance: one script in its partition that checks it may go (exists, at
// the expected version, terminal, no live work) and then deletes it and everything it owns, its
// events' feed entries included, or writes nothing and says why.
import type { DeleteInstanceOutcome } from '@ironflow/core/store';
import type { Reply } from '../reply.js';
import { defineScript } from '../script.js';
import type { HandoffLeftovers } from './maintenance.js';

/** What DELETE_INSTANCE answered. */
export type DeleteReply =
  | {
      readonly outcome: 'deleted';
      /** The unique key the instance last held, when it had one (its holder record may live in another partition). */
      readonly uniqueKey: string | undefined;
      /** Deleted rows that left handoff records in other partitions. */
      readonly leftovers: readonly HandoffLeftovers[];
    }
  | { readonly outcome: Exclude<DeleteInstanceOutcome, 'deleted'> };

function decodeDelete(reply: Reply): DeleteReply {
  const outcome = reply.at(0).oneOf(['DELETED', 'MISSING', 'CHANGED', 'ACTIVE', 'BUSY']);
  if (outcome !== 'DELETED') return { outcome: outcome === 'MISSING' ? 'missing' : outcome === 'CHANGED' ? 'changed' : outcome === 'ACTIVE' ? 'active' : 'busy' };
  const rest = reply.at(2).list();
  const leftovers: HandoffLeftovers[] = [];
  for (let i = 0; i + 2 < rest.length; i += 3) {
    const partitions = rest[i + 2]!.text().split(',').filter(Boolean).map(Number);
    leftovers.push({ kind: rest[i]!.oneOf(['e', 't']), id: rest[i + 1]!.text(), partitions });
  }
  return { outcome: 'deleted', uniqueKey: reply.at(1).optionalText(), leftovers };
}

/**
 * Deletes an ended instance at `expectedVersion` with no pending or leased effect or timer, and
 * all it owns: its hash (snapshot included), events, their feed stream entries (XDEL of the ids
 * the commits recorded), idempotency records and their retention entries, observations, every
 * effect and timer row with its entries in the queues, leased sets, dead-letter, finished and
 * work indexes, its key and reservation-block hashes, its instance pause, its entries in the
 * listing and (type, id) indexes of its status and in its parent's children index. With one
 * partition it also frees its unique key's holder record if that still names it. Children of the
 * instance and their index are left as they are. Answers MISSING, CHANGED, ACTIVE or BUSY, having
 * written nothing, or DELETED with the unique key it held and the rows' handoff records elsewhere.
 */
export const DELETE_INSTANCE = defineScript({
  name: 'delete-instance',
  keys: ['instance', 'events', 'feedEntries', 'feed', 'idempotency', 'idempotencyTimes', 'observations', 'ownedEffects', 'ownedTimers', 'timerKeys', 'effectKeys', 'uniqueBlocks', 'pauses'],
  args: [
    'type',
    'id',
    'expectedVersion',
    /** 'local' (1 partition: the unique key's holder record is in this partition) or 'remote'. */
    'uniqueMode',
  ],
  decode: decodeDelete,
  body: String.raw`
local wt, wid = A_type, A_id
local r = redis.call('HMGET', K_instance, 'v', 's', 'lx', 'pt', 'pi', 'u')
if not r[1] then return {'MISSING'} end
if tonumber(r[1]) ~= tonumber(A_expectedVersion) then return {'CHANGED'} end
if r[2] ~= 'c' and r[2] ~= 'x' then return {'ACTIVE'} end
local owned = {e = redis.call('ZRANGE', K_ownedEffects, 0, -1), t = redis.call('ZRANGE', K_ownedTimers, 0, -1)}
for k, ids in pairs(owned) do
  for _, id in ipairs(ids) do
    local st = redis.call('HGET', itemKey(k, id), 'st')
    if st == 'pending' or st == 'leased' then return {'BUSY'} end
  end
end

-- Variadic commands in slices: Lua's stack limits how many arguments one unpack may pass.
local function inSlices(command, key, args)
  for from = 1, #args, 4000 do
    redis.call(command, key, unpack(args, from, math.min(#args, from + 3999)))
  end
end

-- Its rows, out of every index a row of theirs can be in (a settled row is in none of the queues
-- or leased sets, but removing it from them costs nothing and leaves no doubt).
local leftovers = {}
for k, ids in pairs(owned) do
  for _, id in ipairs(ids) do
    local rk = itemKey(k, id)
    local f = redis.call('HMGET', rk, 'wt', 'pr', 'g', 'dm', 'hps')
    if f[1] then
      dequeue(k, f[1], id, f[2], f[3])
      redis.call('ZREM', leasedKey(k, f[1]), id)
      if f[4] then
        redis.call('ZREM', deadAllKey(k), f[4])
        redis.call('ZREM', deadOfTypeKey(k, f[1]), f[4])
      end
      redis.call('ZREM', finishedKey(k), id)
      redis.call('ZREM', workKey(k), id)
      redis.call('DEL', rk)
      if f[5] then table.insert(leftovers, k); table.insert(leftovers, id); table.insert(leftovers, f[5]) end
    end
  end
end

-- Its events leave the feed: their entries are removed, the stream's last added id stays.
local entries = redis.call('LRANGE', K_feedEntries, 0, -1)
if #entries > 0 then inSlices('XDEL', K_feed, entries) end

local name = wt .. '\0' .. wid
local times = {}
for _, key in ipairs(redis.call('HKEYS', K_idempotency)) do times[#times + 1] = name .. '\0' .. key end
if #times > 0 then inSlices('ZREM', K_idempotencyTimes, times) end

if r[3] then
  redis.call('ZREM', instancesAllKey(r[2]), r[3])
  redis.call('ZREM', instancesOfTypeKey(r[2], wt), r[3])
end
redis.call('ZREM', namesKey(r[2]), name)
if r[4] then redis.call('ZREM', childrenKey(r[4], r[5]), name) end
redis.call('HDEL', K_pauses, name)
if r[6] and A_uniqueMode == 'local' then
  local uk = uniqueKey(wt, r[6])
  if redis.call('HGET', uk, 'id') == wid then redis.call('DEL', uk) end
end
-- UNLINK: the long lists are freed off the main thread.
redis.call('UNLINK', K_instance, K_events, K_feedEntries, K_idempotency, K_observations, K_ownedEffects, K_ownedTimers, K_timerKeys, K_effectKeys, K_uniqueBlocks)
return {'DELETED', r[6] or false, leftovers}
`,
});
