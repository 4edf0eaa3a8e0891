// Housekeeping scripts: retention (purge) of finished rows and of idempotency records, and the
// deployment settings record that guards the partition count.
import type { Reply } from '../reply.js';
import { defineScript } from '../script.js';

/** A purged row that left handoff records in other partitions. */
export interface HandoffLeftovers {
  readonly kind: 'e' | 't';
  readonly id: string;
  readonly partitions: readonly number[];
}

/** What one PURGE batch did. */
export interface PurgeReply {
  readonly effectsDeleted: number;
  readonly timersDeleted: number;
  readonly effectsExamined: number;
  readonly timersExamined: number;
  readonly leftovers: readonly HandoffLeftovers[];
}

/** Deletes up to `batch` finished effects and timers last changed before `olderThan`. */
export const PURGE = defineScript({
  name: 'purge',
  keys: ['finishedEffects', 'finishedTimers'],
  args: ['olderThan', 'batch'],
  decode(reply: Reply): PurgeReply {
    const leftovers = reply.at(4).list();
    const out: HandoffLeftovers[] = [];
    for (let i = 0; i + 2 < leftovers.length; i += 3) {
      const partitions = leftovers[i + 2]!.text().split(',').filter(Boolean).map(Number);
      out.push({ kind: leftovers[i]!.oneOf(['e', 't']), id: leftovers[i + 1]!.text(), partitions });
    }
    return {
      effectsDeleted: reply.at(0).integer(),
      timersDeleted: reply.at(1).integer(),
      effectsExamined: reply.at(2).integer(),
      timersExamined: reply.at(3).integer(),
      leftovers: out,
    };
  },
  body: String.raw`
local cut, batch = tonumber(A_olderThan), tonumber(A_batch)
local sets = {K_finishedEffects, K_finishedTimers}
local kinds = {'e', 't'}
local deleted, examined, elsewhere = {0, 0}, {0, 0}, {}
for i = 1, 2 do
  local k = kinds[i]
  local ids = redis.call('ZRANGEBYSCORE', sets[i], '-inf', '(' .. A_olderThan, 'LIMIT', 0, batch)
  examined[i] = #ids
  for _, id in ipairs(ids) do
    local rk = itemKey(k, id)
    local r = redis.call('HMGET', rk, 'st', 'ua', 'wt', 'wid', 'hps')
    if (r[1] == 'done' or r[1] == 'fired' or r[1] == 'cancelled') and tonumber(r[2]) < cut then
      redis.call('DEL', rk)
      redis.call('ZREM', ownedKey(k, r[3], r[4]), id)
      redis.call('ZREM', workKey(k), id)
      deleted[i] = deleted[i] + 1
      if r[5] then table.insert(elsewhere, k); table.insert(elsewhere, id); table.insert(elsewhere, r[5]) end
    end
    redis.call('ZREM', sets[i], id)
  end
end
return {deleted[1], deleted[2], examined[1], examined[2], elsewhere}
`,
});

/** What one PURGE_IDEMPOTENCY batch did. */
export interface IdempotencyPurgeReply {
  readonly deleted: number;
  readonly examined: number;
}

/** Deletes up to `batch` idempotency records committed before `olderThan`, found by their commit time. */
export const PURGE_IDEMPOTENCY = defineScript({
  name: 'purge-idempotency',
  keys: ['times'],
  args: ['olderThan', 'batch'],
  decode: (reply: Reply): IdempotencyPurgeReply => ({ deleted: reply.at(0).integer(), examined: reply.at(1).integer() }),
  body: String.raw`
local members = redis.call('ZRANGEBYSCORE', K_times, '-inf', '(' .. A_olderThan, 'LIMIT', 0, tonumber(A_batch))
local deleted = 0
for _, m in ipairs(members) do
  -- '<type>\0<id>\0<key>': no type or id holds a NUL
  local a = string.find(m, '\0', 1, true)
  local b = string.find(m, '\0', a + 1, true)
  deleted = deleted + redis.call('HDEL', idempotencyKey(string.sub(m, 1, a - 1), string.sub(m, a + 1, b - 1)), string.sub(m, b + 1))
  redis.call('ZREM', K_times, m)
end
return {deleted, #members}
`,
});

/** Records the partition count on first setup; answers the count recorded first. */
export const RECORD_SETTINGS = defineScript({
  name: 'settings',
  keys: ['meta'],
  args: ['partitions'],
  decode: (reply: Reply) => reply.integer(),
  body: String.raw`
redis.call('HSETNX', K_meta, 'partitions', A_partitions)
return redis.call('HGET', K_meta, 'partitions')
`,
});
