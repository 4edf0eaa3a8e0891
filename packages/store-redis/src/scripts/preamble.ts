// Lua shared by the scripts, after their generated header: the key builders (generated from
// src/key-templates.ts), wake-ups, claim queues, keys of rows, the lease check, and the
// settlement and cancellation of a row, so every script that moves a row keeps the same indexes.
// Each script gets only the definitions it uses: Lua creates every `local function` on each call.
import { PRIORITY_AGING_MS } from '@ironflow/core/store';
import { luaKeyBuilders } from '../key-templates.js';

/**
 * The definitions, in order, each with the names it defines. Keys built here are derived inside a
 * script (work item rows and their per-type queues are known only after reading a row); they all
 * start with TAG, so they hash to the same cluster slot as the KEYS the script was given.
 */
const SNIPPETS: readonly string[] = [
  ...luaKeyBuilders(),
  `local AGING = ${PRIORITY_AGING_MS}`,
  String.raw`
local function wakeName(k) if k == 'e' then return 'effect' end return 'timer' end
`.trim(),
  String.raw`
-- Wake-ups go through wake(): published at once, or, while a batch holds them (defineBatchScript),
-- published once per distinct message after its last item, so a batch sends one per kind.
local heldWakes = false
local function wake(channel, message)
  if not heldWakes then
    redis.call('PUBLISH', channel, message)
  elseif not heldWakes[channel .. '\n' .. message] then
    heldWakes[channel .. '\n' .. message] = true
    table.insert(heldWakes, {channel, message})
  end
end
local function holdWakes() heldWakes = {} end
local function publishHeldWakes()
  for _, w in ipairs(heldWakes) do redis.call('PUBLISH', w[1], w[2]) end
  heldWakes = false
end
`.trim(),
  String.raw`
-- The claim queues a pending row waits in, all scored by availableAt: its type's queue of its
-- priority (timers and priority 0 share 'pending'), and for a tagged effect also the queue of its
-- tag and priority, so a claim for a tag reads only that tag's rows.
local function queuesOf(k, wt, pr, g)
  if k == 't' then return {pendingKey('t', wt)} end
  local p = pr or '0'
  local qs = {}
  if p == '0' then qs[1] = pendingKey('e', wt) else qs[1] = rankedKey(p, wt) end
  if g then qs[2] = taggedKey(p, wt, g) end
  return qs
end
`.trim(),
  String.raw`
-- Queues a pending row at availableAt; a priority other than 0 is recorded, so claims find its queue.
local function enqueue(k, wt, id, aa, pr, g)
  for _, q in ipairs(queuesOf(k, wt, pr, g)) do redis.call('ZADD', q, aa, id) end
  if pr and pr ~= '0' then redis.call('SADD', prioritiesKey(wt), pr) end
end
`.trim(),
  String.raw`
local function dequeue(k, wt, id, pr, g)
  for _, q in ipairs(queuesOf(k, wt, pr, g)) do redis.call('ZREM', q, id) end
end
`.trim(),
  String.raw`
-- Frees a timer's or effect's key if the row 'id' holds it.
local function freeKey(k, wt, wid, key, id)
  local kk
  if k == 't' then kk = timerKeysKey(wt, wid) else kk = effectKeysKey(wt, wid) end
  if redis.call('HGET', kk, key) == id then redis.call('HDEL', kk, key) end
end
`.trim(),
  String.raw`
-- Writes a new pending effect of instance (wt, wid), available at nows: its hash, its key, its
-- queues, the instance's row index and the work index. f is {id, payload JSON, key or '', tag or
-- '', priority, settings JSON or '', trace JSON or '', code version or '' (1)}; at is {owned =,
-- pending =, work =} of the instance's partition, built once by the caller. A plain effect (no
-- key, tag, priority, settings or version) takes the short way: the same hash and queue as ever,
-- plus its trace when it has one.
local function addEffect(wt, wid, nows, f, at)
  local id, key, tag, pr, settings, trace, version = f[1], f[3], f[4], f[5], f[6], f[7], f[8]
  if key == '' and tag == '' and pr == '0' and settings == '' and version == '' then
    if trace == '' then
      redis.call('HSET', itemKey('e', id), 'id', id, 'wt', wt, 'wid', wid, 'st', 'pending', 'at', 0, 'ca', nows, 'ua', nows, 'aa', nows, 'p', f[2])
    else
      redis.call('HSET', itemKey('e', id), 'id', id, 'wt', wt, 'wid', wid, 'st', 'pending', 'at', 0, 'ca', nows, 'ua', nows, 'aa', nows, 'p', f[2], 'tr', trace)
    end
    redis.call('ZADD', at.pending, nows, id)
  else
    local row = {'id', id, 'wt', wt, 'wid', wid, 'st', 'pending', 'at', 0, 'ca', nows, 'ua', nows, 'aa', nows, 'p', f[2]}
    if key ~= '' then
      row[#row + 1] = 'k'; row[#row + 1] = key
      redis.call('HSET', effectKeysKey(wt, wid), key, id)
    end
    if tag == '' then tag = nil else row[#row + 1] = 'g'; row[#row + 1] = tag end
    if pr == '0' then pr = nil else row[#row + 1] = 'pr'; row[#row + 1] = pr end
    if settings ~= '' then row[#row + 1] = 'se'; row[#row + 1] = settings end
    if trace ~= '' then row[#row + 1] = 'tr'; row[#row + 1] = trace end
    if version ~= '' then row[#row + 1] = 'v'; row[#row + 1] = version end
    redis.call('HSET', itemKey('e', id), unpack(row))
    enqueue('e', wt, id, nows, pr, tag)
  end
  redis.call('ZADD', at.owned, nows, id)
  redis.call('ZADD', at.work, 0, id)
end
`.trim(),
  String.raw`
-- Tells other processes that an instance ended ('completed' or 'cancelled'), on the wake-up
-- channel as 'ended\0<status>\0<type>\0<id>\0<origin>' (no type or id holds a NUL); origin
-- names the store object that wrote it, which ignores its own.
local function ended(channel, status, wt, wid, origin)
  wake(channel, 'ended\0' .. status .. '\0' .. wt .. '\0' .. wid .. '\0' .. origin)
end
`.trim(),
  String.raw`
-- 'held', 'lost', 'cancelled' (lost because the row was cancelled), or 'handoff' plus the pending
-- cross-partition acknowledgement (token, partition); then the row's {type, instance id, key,
-- priority, tag}, read in the same call, for finish() and enqueue().
local function leaseState(rk, token, now)
  local r = redis.call('HMGET', rk, 'st', 'lt', 'lx', 'hoT', 'hoP', 'wt', 'wid', 'k', 'pr', 'g')
  local row = {r[6], r[7], r[8], r[9], r[10]}
  if r[1] == 'cancelled' then return 'cancelled', nil, nil, row end
  if r[1] ~= 'leased' or r[2] ~= token then return 'lost', nil, nil, row end
  local lx = tonumber(r[3])
  if lx == nil or lx <= now then return 'lost', nil, nil, row end
  if r[4] then return 'handoff', r[4], r[5], row end
  return 'held', nil, nil, row
end
`.trim(),
  String.raw`
-- Settles a leased row (in its leased set, in no queue): outcome 'done' (effect done, timer fired)
-- or 'dead' (err: JSON or ''). row is {type, instance id, key, ...} when the caller has read it
-- (leaseState), else read here.
local function finish(k, id, outcome, nows, err, member, row)
  local rk = itemKey(k, id)
  local r = row or redis.call('HMGET', rk, 'wt', 'wid', 'k')
  local wt = r[1]
  redis.call('ZREM', leasedKey(k, wt), id)
  redis.call('HDEL', rk, 'lo', 'lx', 'lt', 'hoT', 'hoP')
  if r[3] then freeKey(k, wt, r[2], r[3], id) end
  if outcome == 'dead' then
    if err == '' then redis.call('HDEL', rk, 'le') else redis.call('HSET', rk, 'le', err) end
    redis.call('HSET', rk, 'st', 'dead', 'ua', nows, 'dm', member)
    redis.call('ZADD', deadAllKey(k), 0, member)
    redis.call('ZADD', deadOfTypeKey(k, wt), 0, member)
  else
    local st = 'fired'
    if k == 'e' then st = 'done' end
    redis.call('HSET', rk, 'st', st, 'ua', nows)
    redis.call('ZADD', finishedKey(k), nows, id)
  end
end
`.trim(),
  String.raw`
-- Cancels a live (pending or leased) row: out of its queues and leased set, lease cleared, its key
-- freed, last error 'err' (JSON) unless false. Answers whether the row was live.
local function cancelRow(k, id, nows, err)
  local rk = itemKey(k, id)
  local r = redis.call('HMGET', rk, 'st', 'wt', 'wid', 'k', 'pr', 'g')
  if r[1] ~= 'pending' and r[1] ~= 'leased' then return false end
  local wt = r[2]
  if r[1] == 'pending' then dequeue(k, wt, id, r[5], r[6]) else redis.call('ZREM', leasedKey(k, wt), id) end
  redis.call('HDEL', rk, 'lo', 'lx', 'lt', 'hoT', 'hoP')
  if r[4] then freeKey(k, wt, r[3], r[4], id) end
  redis.call('HSET', rk, 'st', 'cancelled', 'ua', nows)
  if err then redis.call('HSET', rk, 'le', err) end
  redis.call('ZADD', finishedKey(k), nows, id)
  return true
end
`.trim(),
  String.raw`
-- The pauses of this partition (members '<type>\0' and '<type>\0<id>') as a set, or false while
-- there are none: one EXISTS then, the hash read once otherwise.
local function readPauses(key)
  if redis.call('EXISTS', key) == 0 then return false end
  local set = {}
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do set[all[i]] = true end
  return set
end
`.trim(),
  String.raw`
-- A row of this partition stuck mid-way through a cross-partition acknowledgement, appended to
-- 'busy' as (kind, id, token, partition): a write that would change it must resolve that first.
local function guardRow(busy, k, id)
  local h = redis.call('HMGET', itemKey(k, id), 'hoT', 'hoP')
  if h[1] then
    table.insert(busy, k); table.insert(busy, id); table.insert(busy, h[1]); table.insert(busy, h[2])
  end
end
`.trim(),
  String.raw`
-- The id of the last entry ever added to the feed stream 'feed', or false while it has none.
-- Deleting an instance removes its entries (XDEL), the last one included, but not this id, so
-- the head and the positions handed out before stay valid.
local function feedLastId(feed)
  if redis.call('EXISTS', feed) == 0 then return false end
  local info = redis.call('XINFO', 'STREAM', feed)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
      if info[i + 1] == '0-0' then return false end
      return info[i + 1]
    end
  end
  return false
end
`.trim(),
  String.raw`
-- True when stream id 'after' lies past the last id ever added to the feed stream 'feed' (or
-- none was and 'after' is not 0-0): no position this store wrote. Ids compare as (ms, seq) pairs
-- of decimal numbers without leading zeros, so by length first, then as digit strings.
local function pastFeedEnd(feed, after)
  if after == '0-0' then return false end
  local last = feedLastId(feed)
  if not last then return true end
  local am, as = string.match(last, '^(%d+)-(%d+)$')
  local bm, bs = string.match(after, '^(%d+)-(%d+)$')
  if #am ~= #bm then return #am < #bm end
  if am ~= bm then return am < bm end
  if #as ~= #bs then return #as < #bs end
  return as < bs
end
`.trim(),
];

/** Lua with comments and string literals blanked, so names inside them do not count. */
export function luaCode(lua: string): string {
  return lua.replace(/--[^\n]*/g, '').replace(/'(?:[^'\\\n]|\\.)*'/g, "''");
}

const DEFINES = SNIPPETS.map((snippet) => [...snippet.matchAll(/^local (?:function )?([A-Za-z_][A-Za-z0-9_]*)/gm)].map((m) => m[1]!));

/** Every shared definition: what a script could use. */
export const PREAMBLE = SNIPPETS.join('\n');

/** The shared definitions `lua` uses, directly or through another, in preamble order. */
export function preambleFor(lua: string): string {
  const needed = new Set<number>();
  const visit = (text: string) => {
    const code = luaCode(text);
    DEFINES.forEach((names, i) => {
      if (needed.has(i) || !names.some((name) => new RegExp(`\\b${name}\\b`).test(code))) return;
      needed.add(i);
      visit(SNIPPETS[i]!);
    });
  };
  visit(lua);
  return SNIPPETS.filter((_, i) => needed.has(i)).join('\n');
}
