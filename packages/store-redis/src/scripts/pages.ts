// Cursor pages of one partition: effects or timers in id order, instances in (type, id) order.
// Each call walks a lexicographic index from the cursor, reads the rows and keeps those that pass
// the filters, up to `limit`, examining at most `budget` index entries so no call runs long; the
// caller goes on from `last` until it has a page or the index ends, and merges the partitions.
import type { Fields, Reply } from '../reply.js';
import { defineScript } from '../script.js';

/** Where a partition's walk stopped: `last` entry examined, and whether the index ended. */
export interface PageProgress {
  readonly last: string | undefined;
  readonly exhausted: boolean;
}

/**
 * Effects or timers of the partition with id after `after` ('' from the start) passing every
 * filter given ('' for a filter not given), from the work index of their kind.
 */
export const LIST_WORK = defineScript({
  name: 'list-work',
  keys: ['work'],
  args: ['kind', 'after', 'limit', 'budget', 'type', 'workflowId', 'status', 'tag', 'createdFrom', 'createdBefore'],
  decode: (reply: Reply): PageProgress & { rows: Fields[] } => ({
    rows: reply
      .at(0)
      .list()
      .map((row) => row.fields()),
    last: reply.at(1).optionalText(),
    exhausted: reply.at(2).integer() === 1,
  }),
  body: String.raw`
local limit, budget = tonumber(A_limit), tonumber(A_budget)
local from, before = tonumber(A_createdFrom), tonumber(A_createdBefore)
local min = '-'
if A_after ~= '' then min = '(' .. A_after end
local out, examined, last = {}, 0, false
while examined < budget do
  local ids = redis.call('ZRANGEBYLEX', K_work, min, '+', 'LIMIT', 0, math.min(100, budget - examined))
  if #ids == 0 then return {out, last, 1} end
  for _, id in ipairs(ids) do
    examined, last = examined + 1, id
    local rk = itemKey(A_kind, id)
    local r = redis.call('HMGET', rk, 'wt', 'wid', 'st', 'g', 'ca')
    if r[1] and (A_type == '' or r[1] == A_type) and (A_workflowId == '' or r[2] == A_workflowId)
      and (A_status == '' or r[3] == A_status) and (A_tag == '' or r[4] == A_tag)
      and (not from or tonumber(r[5]) >= from) and (not before or tonumber(r[5]) < before) then
      table.insert(out, redis.call('HGETALL', rk))
      if #out >= limit then return {out, last, 0} end
    end
  end
  min = '(' .. last
end
return {out, last, 0}
`,
});

/** An instance summary as PAGE_INSTANCES reads it. */
export interface PagedInstance {
  readonly type: string;
  readonly id: string;
  /** v, s, cr, ca, ua, pt, pi, as the instance hash holds them (undefined when absent). */
  readonly fields: readonly (string | undefined)[];
}

/**
 * Instances of the partition from one (type, id) index (`<type>\0<id>` members: instances of a
 * status, or children of a parent), between the lexicographic bounds `min` and `max`, passing the
 * filters given ('' for none). Each row: type, id, then v, s, cr, ca, ua, pt, pi.
 */
export const PAGE_INSTANCES = defineScript({
  name: 'page-instances',
  keys: ['index'],
  args: ['min', 'max', 'limit', 'budget', 'status', 'updatedFrom', 'updatedBefore'],
  decode: (reply: Reply): PageProgress & { rows: PagedInstance[] } => ({
    rows: reply
      .at(0)
      .list()
      .map((row) => {
        const items = row.list();
        return { type: row.at(0).text(), id: row.at(1).text(), fields: items.slice(2).map((field) => field.optionalText()) };
      }),
    last: reply.at(1).optionalText(),
    exhausted: reply.at(2).integer() === 1,
  }),
  body: String.raw`
local limit, budget = tonumber(A_limit), tonumber(A_budget)
local from, before = tonumber(A_updatedFrom), tonumber(A_updatedBefore)
local min = A_min
local out, examined, last = {}, 0, false
while examined < budget do
  local members = redis.call('ZRANGEBYLEX', K_index, min, A_max, 'LIMIT', 0, math.min(100, budget - examined))
  if #members == 0 then return {out, last, 1} end
  for _, m in ipairs(members) do
    examined, last = examined + 1, m
    local nul = string.find(m, '\0', 1, true)
    local wt, wid = string.sub(m, 1, nul - 1), string.sub(m, nul + 1)
    local r = redis.call('HMGET', instanceKey(wt, wid), 'v', 's', 'cr', 'ca', 'ua', 'pt', 'pi')
    if r[1] and (A_status == '' or r[2] == A_status)
      and (not from or tonumber(r[5]) >= from) and (not before or tonumber(r[5]) < before) then
      table.insert(out, {wt, wid, r[1], r[2], r[3] or false, r[4], r[5], r[6] or false, r[7] or false})
      if #out >= limit then return {out, last, 0} end
    end
  end
  min = '(' .. last
end
return {out, last, 0}
`,
});
