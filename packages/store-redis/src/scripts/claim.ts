// Claims of one partition: claimable rows are walked in rank order (availableAt - priority × AGING,
// then id) across the requested types' queues and their expired leases, skipping paused work,
// under the poison-isolation rule: a row whose lease expired unsettled is claimed alone.
import { PRIORITY_AGING_MS } from '@ironflow/core/store';
import type { Fields, Reply } from '../reply.js';
import { defineScript } from '../script.js';
import { handoffsIn, type HandoffRef } from './cross-partition.js';

/**
 * The queues and the ordered walk, shared by PEEK and CLAIM. The variadic ARGV tail holds
 * `typeCount` workflow types, then (when `tagged` is '1') the tags a claim is limited to.
 * `walk(visit)` calls `visit(i, id, availableAt, recovered, attempts, priority, tag)` for each
 * claimable row in order; visit answers 'skip' (the row stays queued), 'taken' (it calls drop)
 * or 'stop'. Queue removals are deferred: a script calls `flush()` after its walk.
 */
const WALK = String.raw`
local kind, nows = A_kind, A_now
local now, limit = tonumber(nows), tonumber(A_limit)
local nTypes = tonumber(A_typeCount)
local types, tags = {}, false
for i = 1, nTypes do types[i] = ARGV[ARGV_FROM + i - 1] end
if A_tagged == '1' then
  tags = {}
  for i = ARGV_FROM + nTypes, #ARGV do tags[ARGV[i]] = true end
end
local handoffs = {}

local paused = readPauses(K_pauses)
local function isPaused(wt, wid) return paused and (paused[wt .. '\0'] or paused[wt .. '\0' .. wid]) end

-- Byte-wise comparison: Lua's '<' on strings follows the server locale (strcoll).
local function bytesLess(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
-- Claim order of two {id, rank} heads.
local function before(x, y) return x[2] < y[2] or (x[2] == y[2] and bytesLess(x[1], y[1])) end

local function typeQueue(p, wt)
  if p == '0' then return pendingKey(kind, wt) end
  return rankedKey(p, wt)
end

-- The queues to walk. Each holds one priority of a type (of a type and tag, for a claim with
-- tags), scored by availableAt, so a score <= now is exactly "available" and score - priority ×
-- AGING is the rank. Without priorities or tags that is one queue per type, as it always was.
-- A paused type's queues are not read at all.
local queues = {}
for _, wt in ipairs(types) do
  local typePaused = paused and paused[wt .. '\0']
  if not typePaused then
    local prs = {'0'}
    if kind == 'e' then
      for _, p in ipairs(redis.call('SMEMBERS', prioritiesKey(wt))) do prs[#prs + 1] = p end
    end
    for _, p in ipairs(prs) do
      local shift = tonumber(p) * AGING
      if tags then
        for g in pairs(tags) do queues[#queues + 1] = {key = taggedKey(p, wt, g), shift = shift, wt = wt, p = p, tagged = true} end
      else
        queues[#queues + 1] = {key = typeQueue(p, wt), shift = shift, wt = wt, p = p}
      end
    end
  end
  -- Expired leases stay in the leased set and join the walk as one more, already ordered, queue
  -- (usually empty; a paused type's are not read). Rows mid-handoff are reported: their
  -- acknowledgement may have landed in another partition, so the caller resolves them first.
  local l = leasedKey(kind, wt)
  local expired = {}
  local candidates = {}
  if not typePaused then candidates = redis.call('ZRANGEBYSCORE', l, '-inf', nows, 'LIMIT', 0, 1000) end
  for _, id in ipairs(candidates) do
    local r = redis.call('HMGET', itemKey(kind, id), 'st', 'lx', 'aa', 'hoT', 'hoP', 'wid', 'pr', 'g', 'at')
    if r[1] ~= 'leased' then
      redis.call('ZREM', l, id)
    elseif tonumber(r[2]) <= now then
      if r[4] then
        if #handoffs < 400 then
          table.insert(handoffs, kind); table.insert(handoffs, id); table.insert(handoffs, r[4]); table.insert(handoffs, r[5])
        end
      elseif not isPaused(wt, r[6]) and (not tags or (r[8] and tags[r[8]])) then
        local p = r[7] or '0'
        table.insert(expired, {id, tonumber(r[3]) - tonumber(p) * AGING, r[3], tonumber(r[9] or '0'), p, r[8]})
      end
    end
  end
  if #expired > 0 then
    table.sort(expired, before)
    queues[#queues + 1] = {rows = expired, wt = wt}
  end
end

-- k-way merge of the queues in (rank, id) order. Each queue is read a page at a time, and rows
-- leave their queue only when the walk ends (drop/flush), so a page's offset is simply how many
-- rows of that queue the walk has consumed.
local pageSize = math.max(limit, 16)
local nQ = #queues
local heads, consumed, pages, at, ended, drops = {}, {}, {}, {}, {}, {}
for i = 1, nQ do consumed[i] = 0; at[i] = 0; ended[i] = false; drops[i] = {} end
local function head(i)
  if heads[i] == nil then
    local q = queues[i]
    if q.rows then
      heads[i] = q.rows[consumed[i] + 1] or false
      return heads[i]
    end
    local page = pages[i]
    if page == nil or at[i] >= #page then
      if ended[i] then heads[i] = false return false end
      page = redis.call('ZRANGEBYSCORE', q.key, '-inf', nows, 'WITHSCORES', 'LIMIT', consumed[i], pageSize)
      pages[i], at[i] = page, 0
      ended[i] = #page < 2 * pageSize
    end
    if at[i] >= #page then heads[i] = false return false end
    heads[i] = {page[at[i] + 1], tonumber(page[at[i] + 2]) - q.shift}
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
  for i = 1, nQ do
    if #drops[i] > 0 then inSlices('ZREM', queues[i].key, drops[i]) end
  end
end

local function walk(visit)
  if limit < 1 then return end
  while true do
    local best, bi = nil, 0
    for i = 1, nQ do
      local h = head(i)
      if h and (best == nil or before(h, best)) then best, bi = h, i end
    end
    if best == nil then return end
    heads[bi] = nil
    consumed[bi] = consumed[bi] + 1
    local q, id = queues[bi], best[1]
    if q.rows then
      if visit(bi, id, best[3], true, best[4], best[5], best[6]) == 'stop' then return end
    else
      local r = redis.call('HMGET', itemKey(kind, id), 'st', 'aa', 'wid', 'at', 'g')
      if r[1] == 'pending' and tonumber(r[2]) <= now then
        -- A paused instance's rows stay queued, skipped (instance pauses are few).
        if not isPaused(q.wt, r[3]) then
          if visit(bi, id, r[2], false, tonumber(r[4] or '0'), q.p, r[5]) == 'stop' then return end
        end
      elseif r[1] ~= 'pending' then
        drop(bi, id)
      end
    end
  end
end
`;

/** A claimable row as a dry run reports it. */
export interface PeekedRow {
  readonly id: string;
  /** Claim order: availableAt - priority × PRIORITY_AGING_MS (availableAt for timers). */
  readonly rank: number;
  /** Its lease expired unsettled: it may only be claimed alone. */
  readonly recovered: boolean;
}

/**
 * Dry run, for the cross-partition merge: the claimable rows in order, up to `limit`, ending
 * with the first recovered row (nothing after it can join a batch), plus rows stuck mid-handoff.
 */
export const PEEK = defineScript({
  name: 'peek',
  keys: ['pauses'],
  args: ['kind', 'now', 'limit', 'typeCount', 'tagged'],
  variadic: 'args',
  decode: (reply: Reply): { rows: PeekedRow[]; handoffs: HandoffRef[] } => ({
    rows: reply
      .at(0)
      .list()
      .map((row) => ({ id: row.at(0).text(), rank: row.at(1).integer() - row.at(3).integer() * PRIORITY_AGING_MS, recovered: row.at(2).integer() === 1 })),
    handoffs: handoffsIn(reply.at(1).list()),
  }),
  body: String.raw`${WALK}
local out = {}
walk(function(i, id, aa, recovered, attempts, p)
  local flag = 0
  if recovered then flag = 1 end
  table.insert(out, {id, aa, flag, p})
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
  keys: ['pauses'],
  args: ['kind', 'now', 'limit', 'expiresAt', 'owner', 'tokenBase', 'allowRecovered', 'typeCount', 'tagged'],
  variadic: 'args',
  decode: (reply: Reply): { rows: ClaimedRow[]; handoffs: HandoffRef[] } => ({
    rows: reply.at(0).list().map((row) => ({ recovered: row.at(0).integer() === 1, fields: row.at(1).fields() })),
    handoffs: handoffsIn(reply.at(1).list()),
  }),
  body: String.raw`${WALK}
local out, taken, leased = {}, 0, {}
walk(function(i, id, aa, recovered, attempts, p, g)
  if recovered and (taken > 0 or A_allowRecovered ~= '1') then return 'stop' end
  taken = taken + 1
  local q = queues[i]
  local rk = itemKey(kind, id)
  redis.call('HSET', rk, 'st', 'leased', 'lt', A_tokenBase .. '.' .. taken, 'lo', A_owner, 'lx', A_expiresAt, 'ua', nows, 'at', attempts + 1)
  if not recovered then
    drop(i, id)
    -- A tagged row is in two queues; the one this claim does not walk is cleared at once.
    if q.tagged then redis.call('ZREM', typeQueue(p, q.wt), id)
    elseif g then redis.call('ZREM', taggedKey(p, q.wt, g), id) end
  end
  if not leased[q.wt] then leased[q.wt] = {} end
  table.insert(leased[q.wt], A_expiresAt)
  table.insert(leased[q.wt], id)
  local flag = 0
  if recovered then flag = 1 end
  table.insert(out, {flag, redis.call('HGETALL', rk)})
  if recovered or taken >= limit then return 'stop' end
  return 'taken'
end)
flush()
for wt, list in pairs(leased) do inSlices('ZADD', leasedKey(kind, wt), list) end
-- A priority whose queue emptied is forgotten; enqueue() records it again when a row returns.
for _, q in ipairs(queues) do
  if q.key and not q.tagged and q.p ~= '0' and redis.call('EXISTS', q.key) == 0 then redis.call('SREM', prioritiesKey(q.wt), q.p) end
end
return {out, handoffs}
`,
});
