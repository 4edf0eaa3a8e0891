// The registry of effect and timer ids for partitions > 1. A row lives in its instance's
// partition, where a commit cannot see rows of other partitions; each id is therefore also
// recorded, with the instance that owns it, in the id's registry partition before the commit.
import type { KindLetter } from '../keys.js';
import type { Reply } from '../reply.js';
import { defineScript } from '../script.js';

/** An effect or timer id as the registry keys it. */
export interface WorkId {
  readonly kind: KindLetter;
  readonly id: string;
}

function workIdsIn(items: readonly Reply[]): WorkId[] {
  const out: WorkId[] = [];
  for (let i = 0; i + 1 < items.length; i += 2) out.push({ kind: items[i]!.oneOf(['e', 't']), id: items[i + 1]!.text() });
  return out;
}

/**
 * Records `owner` for each (kind, id) pair of the variadic tail, unless one of them is owned by
 * another instance: then nothing is written and that id is named. Answers the ids it added.
 */
export const RESERVE_WORK_IDS = defineScript({
  name: 'reserve-work-ids',
  keys: ['effectIds', 'timerIds'],
  args: ['owner'],
  variadic: 'args',
  decode(reply: Reply): { kind: 'ok'; added: WorkId[] } | { kind: 'taken'; taken: WorkId } {
    if (reply.at(0).oneOf(['ok', 'taken']) === 'ok') return { kind: 'ok', added: workIdsIn(reply.at(1).list()) };
    return { kind: 'taken', taken: { kind: reply.at(1).oneOf(['e', 't']), id: reply.at(2).text() } };
  },
  body: String.raw`
local function registry(k) if k == 'e' then return K_effectIds end return K_timerIds end
for i = ARGV_FROM, #ARGV, 2 do
  local holder = redis.call('HGET', registry(ARGV[i]), ARGV[i + 1])
  if holder and holder ~= A_owner then return {'taken', ARGV[i], ARGV[i + 1]} end
end
local added = {}
for i = ARGV_FROM, #ARGV, 2 do
  if redis.call('HSETNX', registry(ARGV[i]), ARGV[i + 1], A_owner) == 1 then
    table.insert(added, ARGV[i]); table.insert(added, ARGV[i + 1])
  end
end
return {'ok', added}
`,
});

/** Forgets each (kind, id, owner) triple of the variadic tail whose id that owner still holds; answers how many. */
export const RELEASE_WORK_IDS = defineScript({
  name: 'release-work-ids',
  keys: ['effectIds', 'timerIds'],
  args: [],
  variadic: 'args',
  decode: (reply: Reply) => reply.integer(),
  body: String.raw`
local function registry(k) if k == 'e' then return K_effectIds end return K_timerIds end
local released = 0
for i = ARGV_FROM, #ARGV, 3 do
  if redis.call('HGET', registry(ARGV[i]), ARGV[i + 1]) == ARGV[i + 2] then
    redis.call('HDEL', registry(ARGV[i]), ARGV[i + 1])
    released = released + 1
  end
end
return released
`,
});
