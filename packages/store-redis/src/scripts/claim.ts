// Claims of one partition. Expired leases go back to their type's queue at their availableAt;
// then claimable rows are walked in (availableAt, id) order across the requested types' queues,
// under the poison-isolation rule: a row whose lease expired unsettled is claimed alone.
import type { Fields, Reply } from '../reply.js';
import { defineScript } from '../script.js';
import { handoffsIn, type HandoffRef } from './cross-partition.js';

/**
 * The sweep and the ordered walk, shared by PEEK and CLAIM. KEYS (the variadic tail) are
 * (pending queue, leased set) pairs, one per requested workflow type, all of one kind.
 * `walk(visit)` calls `visit(i, id, availableAt, recovered, attempts)` for each claimable row in
 * order; visit answers 'skip' (the row stays queued), 'taken' (it calls drop) or 'stop'. Queue
 * removals are deferred: a script calls `flush()` after its walk.
 */
const WALK = String.raw`
local kind, nows = A_kind, A_now
local now, limit = tonumber(nows), tonumber(A_limit)
local nTypes = (#KEYS - KEYS_FROM + 1) / 2
local function queueOf(i) return KEYS[KEYS_FROM + 2 * i - 2] end
local function leasedOf(i) return KEYS[KEYS_FROM + 2 * i - 1] end
local handoffs = {}

-- Expired leases rejoin their pending queue, scored by availableAt, so one ordered queue per
-- type serves both kinds of claimable rows. Each expired row moves once (amortised).
for i = 1, nTypes do
  local q, l = queueOf(i), leasedOf(i)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', l, '-inf', nows, 'LIMIT', 0, 1000)) do
    local r = redis.call('HMGET', itemKey(kind, id), 'st', 'lx', 'aa', 'hoT', 'hoP')
    if r[1] ~= 'leased' then
      redis.call('ZREM', l, id)
    elseif tonumber(r[2]) <= now then
      if r[4] then
        -- its acknowledgement may have landed in another partition: resolved by the caller first
        if #handoffs < 400 then
          table.insert(handoffs, kind); table.insert(handoffs, id); table.insert(handoffs, r[4]); table.insert(handoffs, r[5])
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

-- k-way merge of the types' queues in (availableAt, id) order. Each queue is read a page at a
-- time, and rows leave their queue only when the walk ends (drop/flush), so a page's offset is
-- simply how many rows of that queue the walk has consumed.
local pageSize = math.max(limit, 16)
local heads, consumed, pages, at, ended, drops = {}, {}, {}, {}, {}, {}
for i = 1, nTypes do consumed[i] = 0; at[i] = 0; ended[i] = false; drops[i] = {} end
local function head(i)
  if heads[i] == nil then
    local page = pages[i]
    if page == nil or at[i] >= #page then
      if ended[i] then heads[i] = false return false end
      page = redis.call('ZRANGEBYSCORE', queueOf(i), '-inf', nows, 'WITHSCORES', 'LIMIT', consumed[i], pageSize)
      pages[i], at[i] = page, 0
      ended[i] = #page < 2 * pageSize
    end
    if at[i] >= #page then heads[i] = false return false end
    heads[i] = {page[at[i] + 1], tonumber(page[at[i] + 2])}
    at[i] = at[i] + 2
  end
  return heads[i]
end

-- Removes a row from queue i when the walk ends.
local function drop(i, id) table.insert(drops[i], id) end

-- Variadic commands in slices: Lua's stack limits how many arguments one unpack may pass.
local function inSlices(command, key, args)
  for from = 1, #args, 4000 do
    redis.call(command, key, unpack(args, from, math.min(#args, from + 3999)))
  end
end

-- Applies the walk's deferred queue removals.
local function flush()
  for i = 1, nTypes do
    if #drops[i] > 0 then inSlices('ZREM', queueOf(i), drops[i]) end
  end
end

local function walk(visit)
  if limit < 1 then return end
  while true do
    local best, bi = nil, 0
    for i = 1, nTypes do
      local h = head(i)
      if h and (best == nil or h[2] < best[2] or (h[2] == best[2] and bytesLess(h[1], best[1]))) then
        best, bi = h, i
      end
    end
    if best == nil then return end
    heads[bi] = nil
    consumed[bi] = consumed[bi] + 1
    local id = best[1]
    local r = redis.call('HMGET', itemKey(kind, id), 'st', 'aa', 'lx', 'hoT', 'at')
    local fresh = r[1] == 'pending' and tonumber(r[2]) <= now
    local recovered = r[1] == 'leased' and tonumber(r[3]) <= now and not r[4]
    if fresh or recovered then
      local step = visit(bi, id, r[2], recovered, tonumber(r[5] or '0'))
      if step == 'stop' then return end
    elseif r[1] ~= 'pending' and r[1] ~= 'leased' then
      drop(bi, id)
    end
  end
end
`;

/** A claimable row as a dry run reports it. */
export interface PeekedRow {
  readonly id: string;
  readonly availableAt: number;
  /** Its lease expired unsettled: it may only be claimed alone. */
  readonly recovered: boolean;
}

/**
 * Dry run, for the cross-partition merge: the claimable rows in order, up to `limit`, ending
 * with the first recovered row (nothing after it can join a batch), plus rows stuck mid-handoff.
 */
export const PEEK = defineScript({
  name: 'peek',
  keys: [],
  args: ['kind', 'now', 'limit'],
  variadic: 'keys',
  decode: (reply: Reply): { rows: PeekedRow[]; handoffs: HandoffRef[] } => ({
    rows: reply.at(0).list().map((row) => ({ id: row.at(0).text(), availableAt: row.at(1).integer(), recovered: row.at(2).integer() === 1 })),
    handoffs: handoffsIn(reply.at(1).list()),
  }),
  body: String.raw`${WALK}
local out = {}
walk(function(i, id, aa, recovered)
  local flag = 0
  if recovered then flag = 1 end
  table.insert(out, {id, aa, flag})
  if recovered or #out >= limit then return 'stop' end
  return 'skip'
end)
flush()
return {out, handoffs}
`,
});

/** A row the claim leased, with its fields after the claim. */
export interface ClaimedRow {
  readonly recovered: boolean;
  readonly fields: Fields;
}

/**
 * Leases up to `limit` rows: one recovered row alone when it comes first and `allowRecovered`
 * is '1', else fresh rows in order, stopping before the first recovered one. Tokens are
 * `<tokenBase>.<n>`; each claim counts an attempt.
 */
export const CLAIM = defineScript({
  name: 'claim',
  keys: [],
  args: ['kind', 'now', 'limit', 'expiresAt', 'owner', 'tokenBase', 'allowRecovered'],
  variadic: 'keys',
  decode: (reply: Reply): { rows: ClaimedRow[]; handoffs: HandoffRef[] } => ({
    rows: reply.at(0).list().map((row) => ({ recovered: row.at(0).integer() === 1, fields: row.at(1).fields() })),
    handoffs: handoffsIn(reply.at(1).list()),
  }),
  body: String.raw`${WALK}
local out, taken, leased = {}, 0, {}
for i = 1, nTypes do leased[i] = {} end
walk(function(i, id, aa, recovered, attempts)
  if recovered and (taken > 0 or A_allowRecovered ~= '1') then return 'stop' end
  taken = taken + 1
  local rk = itemKey(kind, id)
  redis.call('HSET', rk, 'st', 'leased', 'lt', A_tokenBase .. '.' .. taken, 'lo', A_owner, 'lx', A_expiresAt, 'ua', nows, 'at', attempts + 1)
  drop(i, id)
  table.insert(leased[i], A_expiresAt)
  table.insert(leased[i], id)
  local flag = 0
  if recovered then flag = 1 end
  table.insert(out, {flag, redis.call('HGETALL', rk)})
  if recovered or taken >= limit then return 'stop' end
  return 'taken'
end)
flush()
for i = 1, nTypes do
  if #leased[i] > 0 then inSlices('ZADD', leasedOf(i), leased[i]) end
end
return {out, handoffs}
`,
});
