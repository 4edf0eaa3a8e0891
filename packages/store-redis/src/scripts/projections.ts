// Projection checkpoints in one partition: a hash per projection (t token, o owner, x expiry,
// u updatedAt, p position), a hash per dead letter and lexicographic indexes of their ids. Every
// fenced write is one of these scripts, so the token check and the write are one atomic step.
import type { Fields, Reply } from '../reply.js';
import { defineScript } from '../script.js';

/** The fields a parked dead letter is sent as, in the save script's tail, per letter. */
export const LETTER_FIELDS = ['id', 'wt', 'wid', 'sq', 'et', 'ps', 'er', 'at'] as const;

/** A projection's stored record as the list script reads it. */
export interface ProjectionRow {
  readonly name: string;
  readonly token: number;
  readonly owner: string | undefined;
  readonly expiresAt: number | undefined;
  readonly updatedAt: number;
  readonly position: string | undefined;
  readonly deadLetters: number;
}

/** 1 when the write landed, 0 when the stored token is not the lease's (nothing written). */
const fenced = (reply: Reply): 'ok' | 'lease-lost' => (reply.integer() === 1 ? 'ok' : 'lease-lost');

/**
 * Takes the lease unless a holder's is unexpired at `now` (an owner and `x > now`): the token plus
 * one (1 on a first claim, which creates the projection without a position), the owner, the expiry
 * and `u`; the name joins the partition's registry in the same step. Answers {token, position or
 * nil}, or nil when the lease is held (nothing written).
 */
export const PROJECTION_CLAIM = defineScript({
  name: 'projection-claim',
  keys: ['record', 'registry'],
  args: ['name', 'owner', 'now', 'expiresAt'],
  decode: (reply: Reply): { token: number; position: string | undefined } | undefined =>
    reply.isNil() ? undefined : { token: reply.at(0).integer(), position: reply.at(1).optionalText() },
  body: String.raw`
local r = redis.call('HMGET', K_record, 'o', 'x', 'p')
if r[1] and r[2] and tonumber(r[2]) > tonumber(A_now) then return false end
local token = redis.call('HINCRBY', K_record, 't', 1)
redis.call('HSET', K_record, 'o', A_owner, 'x', A_expiresAt, 'u', A_now)
redis.call('ZADD', K_registry, 0, A_name)
return {token, r[3]}
`,
});

/** Sets the expiry (and the owner) when the stored token is the lease's, expired or not. */
export const PROJECTION_RENEW = defineScript({
  name: 'projection-renew',
  keys: ['record'],
  args: ['token', 'owner', 'expiresAt'],
  decode: fenced,
  body: String.raw`
if redis.call('HGET', K_record, 't') ~= A_token then return 0 end
redis.call('HSET', K_record, 'o', A_owner, 'x', A_expiresAt)
return 1
`,
});

/** Clears the owner and the expiry when the stored token is the lease's. */
export const PROJECTION_RELEASE = defineScript({
  name: 'projection-release',
  keys: ['record'],
  args: ['token'],
  decode: fenced,
  body: String.raw`
if redis.call('HGET', K_record, 't') ~= A_token then return 0 end
redis.call('HDEL', K_record, 'o', 'x')
return 1
`,
});

/**
 * When the stored token is the lease's: the position and the expiry (each '' to keep it), `u`,
 * the parked letters (the tail's first `parkedCount` groups of LETTER_FIELDS: each upserted by id,
 * status parked, parkedAt and updatedAt now) and the resolved ids (the rest of the tail) deleted.
 */
export const PROJECTION_SAVE = defineScript({
  name: 'projection-save',
  keys: ['record', 'letters', 'parked', 'redriven'],
  args: ['name', 'token', 'now', 'position', 'expiresAt', 'parkedCount'],
  variadic: 'args',
  decode: fenced,
  body: String.raw`
if redis.call('HGET', K_record, 't') ~= A_token then return 0 end
if A_position ~= '' then redis.call('HSET', K_record, 'p', A_position) end
if A_expiresAt ~= '' then redis.call('HSET', K_record, 'x', A_expiresAt) end
redis.call('HSET', K_record, 'u', A_now)
local i = ARGV_FROM
for _ = 1, tonumber(A_parkedCount) do
  local id = ARGV[i]
  redis.call('HSET', projectionLetterKey(A_name, id),
    'id', id, 'wt', ARGV[i + 1], 'wid', ARGV[i + 2], 'sq', ARGV[i + 3], 'et', ARGV[i + 4], 'ps', ARGV[i + 5], 'er', ARGV[i + 6], 'at', ARGV[i + 7],
    'st', 'parked', 'pa', A_now, 'ua', A_now)
  redis.call('ZADD', K_letters, 0, id)
  redis.call('ZADD', K_parked, 0, id)
  redis.call('ZREM', K_redriven, id)
  i = i + 8
end
for j = i, #ARGV do
  local id = ARGV[j]
  redis.call('DEL', projectionLetterKey(A_name, id))
  redis.call('ZREM', K_letters, id)
  redis.call('ZREM', K_parked, id)
  redis.call('ZREM', K_redriven, id)
end
return 1
`,
});

/**
 * Sets the position ('' for none: the start), clears the owner and the expiry, adds one to the
 * token (creating the projection, and registering it, when it does not exist), sets `u`, and
 * unless `keep` is 1 deletes every dead letter of the projection.
 */
export const PROJECTION_RESET = defineScript({
  name: 'projection-reset',
  keys: ['record', 'registry', 'letters', 'parked', 'redriven'],
  args: ['name', 'now', 'position', 'keep'],
  decode: (reply: Reply) => reply.integer(),
  body: String.raw`
redis.call('HINCRBY', K_record, 't', 1)
if A_position == '' then redis.call('HDEL', K_record, 'p') else redis.call('HSET', K_record, 'p', A_position) end
redis.call('HDEL', K_record, 'o', 'x')
redis.call('HSET', K_record, 'u', A_now)
redis.call('ZADD', K_registry, 0, A_name)
if A_keep ~= '1' then
  for _, id in ipairs(redis.call('ZRANGE', K_letters, 0, -1)) do redis.call('DEL', projectionLetterKey(A_name, id)) end
  redis.call('DEL', K_letters, K_parked, K_redriven)
end
return 1
`,
});

/**
 * Every projection registered in the partition, in name order (byte order of UTF-8, which is code
 * point order): name, then t, o, x, u, p of its record, then its count of dead letters.
 */
export const PROJECTION_LIST = defineScript({
  name: 'projection-list',
  keys: ['registry'],
  args: [],
  decode: (reply: Reply): ProjectionRow[] =>
    reply.list().map((row) => ({
      name: row.at(0).text(),
      token: row.at(1).integer(),
      owner: row.at(2).optionalText(),
      expiresAt: row.at(3).optionalInteger(),
      updatedAt: row.at(4).integer(),
      position: row.at(5).optionalText(),
      deadLetters: row.at(6).integer(),
    })),
  body: String.raw`
local out = {}
for _, name in ipairs(redis.call('ZRANGE', K_registry, 0, -1)) do
  local r = redis.call('HMGET', projectionKey(name), 't', 'o', 'x', 'u', 'p')
  table.insert(out, {name, r[1], r[2], r[3], r[4], r[5], redis.call('ZCARD', projectionLettersKey(name))})
end
return out
`,
});

/** Up to `limit` dead letters of the projection from one id index, with id after `after` ('' from the first), in id order: each its hash. */
export const PROJECTION_LETTERS = defineScript({
  name: 'projection-letters',
  keys: ['index'],
  args: ['name', 'after', 'limit'],
  decode: (reply: Reply): Fields[] => reply.list().map((row) => row.fields()),
  body: String.raw`
local limit = tonumber(A_limit)
if limit < 1 then return {} end
local min = '-'
if A_after ~= '' then min = '(' .. A_after end
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYLEX', K_index, min, '+', 'LIMIT', 0, limit)) do
  table.insert(out, redis.call('HGETALL', projectionLetterKey(A_name, id)))
end
return out
`,
});

/** A parked dead letter becomes redriven (updatedAt now); 0 when there is no parked one by that id. */
export const PROJECTION_REDRIVE = defineScript({
  name: 'projection-redrive',
  keys: ['parked', 'redriven'],
  args: ['name', 'id', 'now'],
  decode: (reply: Reply) => reply.integer() === 1,
  body: String.raw`
local lk = projectionLetterKey(A_name, A_id)
if redis.call('HGET', lk, 'st') ~= 'parked' then return 0 end
redis.call('HSET', lk, 'st', 'redriven', 'ua', A_now)
redis.call('ZREM', K_parked, A_id)
redis.call('ZADD', K_redriven, 0, A_id)
return 1
`,
});

/** Deletes a dead letter and its index entries; 0 when there is none by that id. */
export const PROJECTION_SKIP = defineScript({
  name: 'projection-skip',
  keys: ['letters', 'parked', 'redriven'],
  args: ['name', 'id'],
  decode: (reply: Reply) => reply.integer() === 1,
  body: String.raw`
if redis.call('DEL', projectionLetterKey(A_name, A_id)) == 0 then return 0 end
redis.call('ZREM', K_letters, A_id)
redis.call('ZREM', K_parked, A_id)
redis.call('ZREM', K_redriven, A_id)
return 1
`,
});
