// The claim statements: effects in rank order (priority with aging), with or without tags, and
// timers in fire order, each one statement that skips paused work and isolates expired leases.
import { MAX_PRIORITY } from '@ironflow/core/store';

/**
 * The rank of effect row `w`: `available_at - priority × PRIORITY_AGING_MS`. Term for term the
 * expression of schema version 4's claim indexes, or the planner cannot walk them in this order
 * (a test checks that PRIORITY_AGING_MS is still the 1000 written here).
 */
export const rankOf = (w: string): string => `${w}.available_at - ${w}.priority * 1000`;

/** How far past `now` the rank of a claimable effect of negative priority may lie, in ms. */
const LOW_AHEAD = MAX_PRIORITY * 1000;

/**
 * The claim of effects: $1 now, $2 limit, $3 types, $4 owner, $5 lease expiry, and with `tagged`
 * $6 tags. Each requested type that is not paused is walked in lanes, each an ordered walk of one
 * claim index with equalities on its leading columns: effects of priority >= 0, whose rank is at
 * most now when they are available, and those of negative priority, whose rank may lie up to
 * LOW_AHEAD later; with tags, one pair of lanes per tag, on the tag index.
 */
export function effectClaim(s: string, tagged: boolean): string {
  const t = `${s}.effects`;
  const lane = `w.workflow_type = lanes.type${tagged ? ' AND w.tag = lanes.tag' : ''} AND (w.priority < 0) = lanes.low
        AND w.status IN ('pending', 'leased') AND ${rankOf('w')} <= $1::bigint + lanes.ahead
        AND ${due('w')} AND ${unpaused(s, 'w', 'lanes')}`;
  return claimStatement(s, {
    table: t,
    lanes: `
  SELECT types.type, types.some_paused, l.low, l.ahead${tagged ? ', g.tag' : ''}
    FROM types
   CROSS JOIN (VALUES (false, 0), (true, ${LOW_AHEAD})) AS l(low, ahead)${tagged ? '\n   CROSS JOIN unnest($6::text[]) AS g(tag)' : ''}`,
    laneKeys: tagged ? ['low', 'tag'] : ['low'],
    where: lane,
    order: rankOf('w'),
  });
}

/** The claim of timers, in fire order: $1 now, $2 limit, $3 types, $4 owner, $5 lease expiry. */
export function timerClaim(s: string): string {
  return claimStatement(s, {
    table: `${s}.timers`,
    lanes: `
  SELECT types.type, types.some_paused FROM types`,
    laneKeys: [],
    where: `w.workflow_type = lanes.type AND w.status IN ('pending', 'leased') AND ${due('w')} AND ${unpaused(s, 'w', 'lanes')}`,
    order: 'w.available_at',
  });
}

/**
 * The first pending timer of each requested type that is not paused, read from the claimable
 * index, then the earliest: $1 types. Timers of paused instances are skipped.
 */
export function nextTimerAt(s: string): string {
  return `
WITH types AS (${typesOf(s, '$1')}
)
SELECT min(f.available_at) AS next FROM types
 CROSS JOIN LATERAL (
   SELECT w.available_at FROM ${s}.timers w
    WHERE w.workflow_type = types.type AND w.status = 'pending' AND ${unpaused(s, 'w', 'types')}
    ORDER BY w.available_at
    LIMIT 1
 ) f`;
}

/**
 * The requested types ($3, or $1 for nextTimerAt) that are not paused as a whole, each with
 * whether any instance of it is paused, so rows of a type without instance pauses are not looked
 * up in `paused` one by one.
 */
function typesOf(s: string, param = '$3'): string {
  return `
  SELECT t.type, EXISTS (SELECT 1 FROM ${s}.paused p WHERE p.workflow_type = t.type AND p.workflow_id <> '') AS some_paused
    FROM unnest(${param}::text[]) AS t(type)
   WHERE NOT EXISTS (SELECT 1 FROM ${s}.paused p WHERE p.workflow_type = t.type AND p.workflow_id = '')`;
}

/** Claimable at $1: pending and available, or leased with an expired lease (its available_at is below its expiry). */
const due = (w: string): string => `${w}.available_at <= $1::bigint AND (${w}.status = 'pending' OR ${w}.lease_expires_at <= $1::bigint)`;

/** The row's instance is not paused; looked up only in a type that has instance pauses. */
const unpaused = (s: string, w: string, types: string): string =>
  `(NOT ${types}.some_paused OR NOT EXISTS (SELECT 1 FROM ${s}.paused p WHERE p.workflow_type = ${w}.workflow_type AND p.workflow_id = ${w}.workflow_id))`;

interface ClaimParts {
  readonly table: string;
  /** The body of the `lanes` CTE: rows `type, some_paused` and the lane keys, each lane one ordered walk of an index. */
  readonly lanes: string;
  /** The columns of `lanes` besides the type that tell its lanes apart (none for timers). */
  readonly laneKeys: readonly string[];
  /** Claimable rows `w` of the lane `lanes`. */
  readonly where: string;
  /** The claim order's first term over `w` (the id follows). */
  readonly order: string;
}

// One ordered walk of a claim index per lane (the kit passes types and tags without repeats): its
// leading columns by equality, then its order, so the plan is the same on an empty table, after an
// unanalysed burst and after ANALYZE. `firsts` merges the walks without locking to find how many of
// the first `limit` rows in claim order each lane holds; `candidates` then locks that many per lane
// with SKIP LOCKED, so concurrent claimers each take different rows without waiting, and never more
// than `limit` rows are locked. Poison isolation: a recovered row (an expired lease) is taken alone
// when it comes first, and a batch of pending rows stops before it, so a handler that kills its
// worker never drags a batch along. Candidates locked but not taken are unlocked when the statement ends.
function claimStatement(s: string, p: ClaimParts): string {
  const keys = p.laneKeys.map((k) => `, ${k}`).join('');
  const laneSelect = p.laneKeys.map((k) => `, lanes.${k}`).join('');
  const laneJoin = p.laneKeys.map((k) => ` AND lanes.${k} = q.${k}`).join('');
  return `
WITH types AS (${typesOf(s)}
), lanes AS (${p.lanes}
), firsts AS (
  SELECT c.workflow_type${p.laneKeys.map((k) => `, c.${k}`).join('')}, c.rank, c.id FROM lanes
   CROSS JOIN LATERAL (
     SELECT w.workflow_type${laneSelect}, ${p.order} AS rank, w.id FROM ${p.table} w
      WHERE ${p.where}
      ORDER BY ${p.order}, w.id
      LIMIT $2
   ) c
   ORDER BY c.rank, c.id
   LIMIT $2
), quotas AS (
  SELECT workflow_type${keys}, count(*) AS quota FROM firsts GROUP BY workflow_type${keys}
), candidates AS MATERIALIZED (
  SELECT c.id, c.rank, c.recovered FROM quotas q
    JOIN lanes ON lanes.type = q.workflow_type${laneJoin}
   CROSS JOIN LATERAL (
     SELECT w.id, ${p.order} AS rank, w.status = 'leased' AS recovered FROM ${p.table} w
      WHERE ${p.where}
      ORDER BY ${p.order}, w.id
      LIMIT q.quota
      FOR UPDATE SKIP LOCKED
   ) c
), ranked AS (
  SELECT id, recovered,
         row_number() OVER claim_order AS position,
         count(*) FILTER (WHERE recovered) OVER claim_order AS recovered_so_far
    FROM candidates
  WINDOW claim_order AS (ORDER BY rank, id ROWS UNBOUNDED PRECEDING)
), chosen AS (
  SELECT id, recovered FROM ranked
   WHERE (position = 1 AND recovered) OR recovered_so_far = 0
)
UPDATE ${p.table} w
   SET status = 'leased', attempts = w.attempts + 1, lease_token = gen_random_uuid()::text,
       lease_owner = $4, lease_expires_at = $5, updated_at = $1::bigint
  FROM chosen
 WHERE w.id = chosen.id`;
}
