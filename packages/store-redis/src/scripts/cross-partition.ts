// Scripts for the two things a commit can need from another partition when partitions > 1:
// the acknowledged effect or timer (handoff protocol) and the unique key (reservation protocol).
// Each script touches one partition; src/cross-partition.ts sequences them and says why it is safe.
import { defineScript } from '../script-runner.js';

/**
 * In the row's partition: checks the lease and records that its acknowledgement is on its way to
 * the target partition. KEYS: the row. ARGV: 1 TAG, 2 token, 3 now, 4 target partition.
 * Returns {'OK'}, {'LEASE_LOST'}, or {'HANDOFF', token, partition} for an earlier, other target.
 */
export const PREPARE_HANDOFF = defineScript(
  'prepare-handoff',
  String.raw`
local rk, token, target = KEYS[1], ARGV[2], ARGV[4]
local state, hoT, hoP = leaseState(rk, token, tonumber(ARGV[3]))
if state == 'lost' then return {'LEASE_LOST'} end
if state == 'handoff' and hoP ~= target then return {'HANDOFF', hoT, hoP} end
redis.call('HSET', rk, 'hoT', token, 'hoP', target)
local hps = redis.call('HGET', rk, 'hps') or ','
if not string.find(hps, ',' .. target .. ',', 1, true) then redis.call('HSET', rk, 'hps', hps .. target .. ',') end
return {'OK'}
`,
);

/**
 * In the target partition: the outcome of a handed-off acknowledgement. Once asked, an
 * acknowledgement that has not landed never will ('r', revoked): the target's commit checks it.
 * KEYS: the handoff record. ARGV: 1 TAG, 2 token. Returns 'r', 'd' (done) or 'x<error JSON>' (dead).
 */
export const RESOLVE_HANDOFF = defineScript(
  'resolve-handoff',
  String.raw`
local v = redis.call('HGET', KEYS[1], ARGV[2])
if v then return v end
redis.call('HSET', KEYS[1], ARGV[2], 'r')
return 'r'
`,
);

/**
 * In the row's partition: settles a row whose acknowledgement landed, if the same lease still
 * holds it (expired or not: the acknowledgement was in time). KEYS: the row.
 * ARGV: 1 TAG, 2 kind letter, 3 id, 4 token, 5 now, 6 outcome, 7 error JSON or '', 8 dead member.
 */
export const FINALIZE_HANDOFF = defineScript(
  'finalize-handoff',
  String.raw`
local r = redis.call('HMGET', KEYS[1], 'st', 'lt', 'hoT')
if r[1] == 'leased' and r[2] == ARGV[4] and r[3] == ARGV[4] then
  finish(ARGV[2], ARGV[3], ARGV[6], ARGV[5], ARGV[7], ARGV[8])
  return 1
end
return 0
`,
);

/** In the row's partition: forgets a revoked handoff. KEYS: the row. ARGV: 1 TAG, 2 token. */
export const CLEAR_HANDOFF = defineScript(
  'clear-handoff',
  String.raw`
if redis.call('HGET', KEYS[1], 'hoT') == ARGV[2] then
  redis.call('HDEL', KEYS[1], 'hoT', 'hoP')
  return 1
end
return 0
`,
);

/**
 * In the unique key's partition: reserves the key for an instance, or names the current holder.
 * KEYS: the unique record. ARGV: 1 TAG, 2 instance id, 3 new token.
 * Returns {'ok', token} or {'held', holder id, holder token}.
 */
export const RESERVE_UNIQUE = defineScript(
  'reserve-unique',
  String.raw`
local r = redis.call('HMGET', KEYS[1], 'id', 'tok')
if not r[1] then
  redis.call('HSET', KEYS[1], 'id', ARGV[2], 'tok', ARGV[3])
  return {'ok', ARGV[3]}
end
if r[1] == ARGV[2] then return {'ok', r[2] or ''} end
return {'held', r[1], r[2] or ''}
`,
);

/**
 * In the holder's partition: does the holder still hold the key? If the holder does not exist,
 * its reservation token is blocked there first, so a late commit with it fails.
 * KEYS: holder instance, holder's unique blocks. ARGV: 1 TAG, 2 unique key, 3 holder token.
 * Returns 'active' or 'free'.
 */
export const PROBE_UNIQUE = defineScript(
  'probe-unique',
  String.raw`
local r = redis.call('HMGET', KEYS[1], 'v', 'c', 'u')
if r[1] then
  if r[2] ~= '1' and r[3] == ARGV[2] then return 'active' end
  return 'free'
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 'free'
`,
);

/**
 * In the unique key's partition: hands the key to a new instance if the holder is still the one
 * probed. KEYS: the unique record. ARGV: 1 TAG, 2 old id, 3 old token, 4 new id, 5 new token.
 */
export const TAKE_UNIQUE = defineScript(
  'take-unique',
  String.raw`
local r = redis.call('HMGET', KEYS[1], 'id', 'tok')
if r[1] == ARGV[2] and (r[2] or '') == ARGV[3] then
  redis.call('HSET', KEYS[1], 'id', ARGV[4], 'tok', ARGV[5])
  return 1
end
return 0
`,
);

/** In the unique key's partition: releases the key if this instance holds it. KEYS: the record. ARGV: 1 TAG, 2 id. */
export const RELEASE_UNIQUE = defineScript(
  'release-unique',
  String.raw`
if redis.call('HGET', KEYS[1], 'id') == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`,
);
