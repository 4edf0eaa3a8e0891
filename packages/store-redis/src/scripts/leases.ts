// Changes to one leased row after a claim, each fenced by the lease token, plus re-drive of a
// dead letter. One row, its queues and indexes: all in the row's partition.
import type { Reply } from '../reply.js';
import { defineScript } from '../script.js';
import { handoffsIn, type HandoffRef } from './cross-partition.js';

/** What a fenced change answered. */
export type SettleReply =
  | { readonly kind: 'ok' }
  | { readonly kind: 'lease-lost' }
  /** Lost because the row was cancelled (by a decision, its instance's completion or cancellation). */
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'handoff'; readonly handoffs: readonly HandoffRef[] };

/**
 * A fenced change: renew | complete | retry | dead | release. Retry and release put the row back
 * in its claim queues scored by the new availableAt (`at`); a timer's fireAt is kept in `fa` the
 * first time its availableAt moves away from it. A release with a reason (`error` not '') counts
 * one more release and makes the reason the last error; without one (shutdown) it changes neither.
 */
export const SETTLE = defineScript({
  name: 'settle',
  keys: ['row'],
  args: [
    'kind',
    'id',
    'token',
    'now',
    'op',
    /** The new lease expiry (renew), retryAt (retry) or availableAt (release); '' otherwise. */
    'at',
    /** Error JSON (retry, dead), the reason as JSON (release with a reason) or ''. */
    'error',
    'deadMember',
    'channel',
  ],
  decode(reply: Reply): SettleReply {
    switch (reply.at(0).oneOf(['OK', 'LEASE_LOST', 'CANCELLED', 'HANDOFF'])) {
      case 'OK':
        return { kind: 'ok' };
      case 'LEASE_LOST':
        return { kind: 'lease-lost' };
      case 'CANCELLED':
        return { kind: 'cancelled' };
      case 'HANDOFF':
        return { kind: 'handoff', handoffs: handoffsIn(reply.list().slice(1)) };
    }
  },
  body: String.raw`
local kind, id, nows, op = A_kind, A_id, A_now, A_op
local state, hoT, hoP, row = leaseState(K_row, A_token, tonumber(nows))
if state == 'lost' then return {'LEASE_LOST'} end
if state == 'cancelled' then return {'CANCELLED'} end
if state == 'handoff' and op ~= 'renew' then return {'HANDOFF', kind, id, hoT, hoP} end
local wt = row[1]
if op == 'renew' then
  redis.call('HSET', K_row, 'lx', A_at, 'ua', nows)
  redis.call('ZADD', leasedKey(kind, wt), A_at, id)
elseif op == 'complete' then
  finish(kind, id, 'done', nows, '', '', row)
elseif op == 'dead' then
  finish(kind, id, 'dead', nows, A_error, A_deadMember, row)
else
  local at = A_at
  if kind == 't' then
    local aa = redis.call('HGET', K_row, 'aa')
    if tonumber(aa) ~= tonumber(at) then redis.call('HSETNX', K_row, 'fa', aa) end
  end
  redis.call('HDEL', K_row, 'lo', 'lx', 'lt')
  redis.call('HSET', K_row, 'st', 'pending', 'aa', at, 'ua', nows)
  if op == 'retry' then
    redis.call('HSET', K_row, 'le', A_error)
  else
    if tonumber(redis.call('HGET', K_row, 'at') or '0') > 0 then redis.call('HINCRBY', K_row, 'at', -1) end
    if A_error ~= '' then
      redis.call('HINCRBY', K_row, 'rl', 1)
      redis.call('HSET', K_row, 'le', A_error)
    end
  end
  redis.call('ZREM', leasedKey(kind, wt), id)
  enqueue(kind, wt, id, at, row[4], row[5])
  if op == 'release' then wake(A_channel, wakeName(kind)) end
end
return {'OK'}
`,
});

/** Makes a dead letter pending again with its attempts and releases reset: 'ok', 'refused' (not dead, or its key is held by a live row) or 'missing'. */
export const REDRIVE = defineScript({
  name: 'redrive',
  keys: ['row'],
  args: ['kind', 'id', 'now', 'channel'],
  decode: (reply: Reply) => reply.oneOf(['ok', 'refused', 'missing']),
  body: String.raw`
local kind, id, nows = A_kind, A_id, A_now
local r = redis.call('HMGET', K_row, 'st', 'wt', 'wid', 'k', 'dm', 'pr', 'g', 'aa')
if not r[1] then return 'missing' end
if r[1] ~= 'dead' then return 'refused' end
if r[4] then
  local keys
  if kind == 't' then keys = timerKeysKey(r[2], r[3]) else keys = effectKeysKey(r[2], r[3]) end
  local holder = redis.call('HGET', keys, r[4])
  if holder and holder ~= id then
    local hs = redis.call('HGET', itemKey(kind, holder), 'st')
    if hs == 'pending' or hs == 'leased' then return 'refused' end
  end
  redis.call('HSET', keys, r[4], id)
end
if r[5] then
  redis.call('ZREM', deadAllKey(kind), r[5])
  redis.call('ZREM', deadOfTypeKey(kind, r[2]), r[5])
end
if kind == 't' and tonumber(r[8]) ~= tonumber(nows) then redis.call('HSETNX', K_row, 'fa', r[8]) end
redis.call('HDEL', K_row, 'dm', 'rl')
redis.call('HSET', K_row, 'st', 'pending', 'at', 0, 'aa', nows, 'ua', nows)
enqueue(kind, r[2], id, nows, r[6], r[7])
wake(A_channel, wakeName(kind))
return 'ok'
`,
});
