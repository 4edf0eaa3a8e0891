// Scripts for the two things a commit can need from another partition when partitions > 1:
// the acknowledged effect or timer (handoff protocol) and the unique key (reservation protocol).
// Each script touches one partition; src/cross-partition.ts sequences them and says why it is safe.
import type { KindLetter } from '../keys.js';
import type { Reply } from '../reply.js';
import { defineScript } from '../script.js';

/** A row of this partition whose acknowledgement was handed to another partition. */
export interface HandoffRef {
  readonly kind: KindLetter;
  readonly id: string;
  readonly token: string;
  /** The partition the acknowledgement went to. */
  readonly target: number;
}

/** Reads (kind, id, token, target) quadruples, as scripts report rows stuck mid-handoff. */
export function handoffsIn(items: readonly Reply[]): HandoffRef[] {
  const out: HandoffRef[] = [];
  for (let i = 0; i + 3 < items.length; i += 4) {
    out.push({ kind: items[i]!.oneOf(['e', 't']), id: items[i + 1]!.text(), token: items[i + 2]!.text(), target: items[i + 3]!.integer() });
  }
  return out;
}

/**
 * In the row's partition: checks the lease and records that its acknowledgement is on its way to
 * the target partition. Answers ok, lease-lost, or an earlier handoff of the same lease to another target.
 */
export const PREPARE_HANDOFF = defineScript({
  name: 'prepare-handoff',
  keys: ['row'],
  args: ['token', 'now', 'target'],
  decode(reply: Reply): { kind: 'ok' } | { kind: 'lease-lost' } | { kind: 'elsewhere'; token: string; target: number } {
    switch (reply.at(0).oneOf(['OK', 'LEASE_LOST', 'HANDOFF'])) {
      case 'OK':
        return { kind: 'ok' };
      case 'LEASE_LOST':
        return { kind: 'lease-lost' };
      case 'HANDOFF':
        return { kind: 'elsewhere', token: reply.at(1).text(), target: reply.at(2).integer() };
    }
  },
  body: String.raw`
local state, hoT, hoP = leaseState(K_row, A_token, tonumber(A_now))
if state == 'lost' or state == 'cancelled' then return {'LEASE_LOST'} end
if state == 'handoff' and hoP ~= A_target then return {'HANDOFF', hoT, hoP} end
redis.call('HSET', K_row, 'hoT', A_token, 'hoP', A_target)
local hps = redis.call('HGET', K_row, 'hps') or ','
if not string.find(hps, ',' .. A_target .. ',', 1, true) then redis.call('HSET', K_row, 'hps', hps .. A_target .. ',') end
return {'OK'}
`,
});

/**
 * In the target partition: the outcome of a handed-off acknowledgement. Once asked, an
 * acknowledgement that has not landed never will ('r', revoked): the target's commit checks it.
 * Answers 'r', 'd' (done) or 'x<error JSON>' (dead).
 */
export const RESOLVE_HANDOFF = defineScript({
  name: 'resolve-handoff',
  keys: ['record'],
  args: ['token'],
  decode: (reply: Reply) => reply.text(),
  body: String.raw`
local v = redis.call('HGET', K_record, A_token)
if v then return v end
redis.call('HSET', K_record, A_token, 'r')
return 'r'
`,
});

/** In the row's partition: settles a row whose acknowledgement landed, if the same lease still holds it (expired or not: it was in time). */
export const FINALIZE_HANDOFF = defineScript({
  name: 'finalize-handoff',
  keys: ['row'],
  args: ['kind', 'id', 'token', 'now', 'outcome', 'error', 'deadMember'],
  decode: (reply: Reply) => reply.integer() === 1,
  body: String.raw`
local r = redis.call('HMGET', K_row, 'st', 'lt', 'hoT')
if r[1] == 'leased' and r[2] == A_token and r[3] == A_token then
  finish(A_kind, A_id, A_outcome, A_now, A_error, A_deadMember)
  return 1
end
return 0
`,
});

/** In the row's partition: forgets a revoked handoff. */
export const CLEAR_HANDOFF = defineScript({
  name: 'clear-handoff',
  keys: ['row'],
  args: ['token'],
  decode: (reply: Reply) => reply.integer() === 1,
  body: String.raw`
if redis.call('HGET', K_row, 'hoT') == A_token then
  redis.call('HDEL', K_row, 'hoT', 'hoP')
  return 1
end
return 0
`,
});

/** In the unique key's partition: reserves the key for an instance, or names the current holder and its token. */
export const RESERVE_UNIQUE = defineScript({
  name: 'reserve-unique',
  keys: ['record'],
  args: ['id', 'token'],
  decode(reply: Reply): { kind: 'ok'; token: string } | { kind: 'held'; holder: string; holderToken: string } {
    return reply.at(0).oneOf(['ok', 'held']) === 'ok'
      ? { kind: 'ok', token: reply.at(1).text() }
      : { kind: 'held', holder: reply.at(1).text(), holderToken: reply.at(2).text() };
  },
  body: String.raw`
local r = redis.call('HMGET', K_record, 'id', 'tok')
if not r[1] then
  redis.call('HSET', K_record, 'id', A_id, 'tok', A_token)
  return {'ok', A_token}
end
if r[1] == A_id then return {'ok', r[2] or ''} end
return {'held', r[1], r[2] or ''}
`,
});

/**
 * In the holder's partition: does the holder still hold the key (active, neither completed nor
 * cancelled)? If the holder does not exist,
 * its reservation token is blocked there first, so a late commit with it fails.
 */
export const PROBE_UNIQUE = defineScript({
  name: 'probe-unique',
  keys: ['holder', 'blocks'],
  args: ['uniqueKey', 'holderToken'],
  decode: (reply: Reply) => reply.oneOf(['active', 'free']),
  body: String.raw`
local r = redis.call('HMGET', K_holder, 'v', 's', 'u')
if r[1] then
  if r[2] == 'a' and r[3] == A_uniqueKey then return 'active' end
  return 'free'
end
redis.call('HSET', K_blocks, A_uniqueKey, A_holderToken)
return 'free'
`,
});

/** In the unique key's partition: hands the key to a new instance if the holder is still the one probed. */
export const TAKE_UNIQUE = defineScript({
  name: 'take-unique',
  keys: ['record'],
  args: ['oldId', 'oldToken', 'newId', 'newToken'],
  decode: (reply: Reply) => reply.integer() === 1,
  body: String.raw`
local r = redis.call('HMGET', K_record, 'id', 'tok')
if r[1] == A_oldId and (r[2] or '') == A_oldToken then
  redis.call('HSET', K_record, 'id', A_newId, 'tok', A_newToken)
  return 1
end
return 0
`,
});

/** In the unique key's partition: releases the key if this instance holds it. */
export const RELEASE_UNIQUE = defineScript({
  name: 'release-unique',
  keys: ['record'],
  args: ['id'],
  decode: (reply: Reply) => reply.integer() === 1,
  body: String.raw`
if redis.call('HGET', K_record, 'id') == A_id then
  redis.call('DEL', K_record)
  return 1
end
return 0
`,
});
