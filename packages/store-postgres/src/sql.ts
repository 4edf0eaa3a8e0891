// Every statement the store runs, as named SQL text for one schema. The schema identifier is the
// only interpolation (checked and quoted by schema-name.ts); all values are $n parameters.
import type { SchemaName } from './schema-name.js';

const EFFECT_COLUMNS = `id, workflow_type, workflow_id, payload::text AS payload, status, attempts, last_error,
  created_at, updated_at, available_at, lease_owner, lease_expires_at`;

const TIMER_COLUMNS = `id, workflow_type, workflow_id, key, fire_at, input::text AS input, status, attempts, last_error,
  created_at, updated_at, available_at, lease_owner, lease_expires_at`;

/** Statements shared by effects and timers, for one of the two tables. Lease-fenced ones return a row when they applied. */
export interface WorkStatements {
  /**
   * $1 now, $2 limit, $3 types, $4 owner, $5 lease expiry. Leases claimable rows, oldest available
   * first: one expired lease alone (`recovered`), or the pending rows before the first one.
   */
  readonly claim: string;
  /** $1 id, $2 token, $3 now, $4 lease expiry. */
  readonly renew: string;
  /** $1 id, $2 token, $3 now, $4 final status (`done` or `fired`). */
  readonly complete: string;
  /** $1 id, $2 token, $3 now, $4 retry at, $5 error. */
  readonly retry: string;
  /** $1 id, $2 token, $3 now, $4 error. */
  readonly deadLetter: string;
  /** $1 id, $2 token, $3 now, $4 channel, $5 payload. Notifies in the same statement. */
  readonly release: string;
  /** $1 id, $2 now, $3 channel, $4 payload. Notifies in the same statement. */
  readonly redrive: string;
  /** $1 type or null, $2 id or null, $3 limit, $4 offset. */
  readonly listDead: string;
  /** $1 type or null, $2 id or null. */
  readonly countDead: string;
  /** $1 type, $2 id. */
  readonly listByInstance: string;
}

/** All statements of a store on one schema. */
export interface Statements {
  /** $1 json array of commit documents. One row per commit, r_index being its position. */
  readonly commitDecisions: string;
  /** $1 json array of lease changes. One row per change, r_index being its position. */
  readonly settleLeases: string;
  /** $1 type, $2 id, $3 idempotency key or null. One row, or none for an unknown instance. */
  readonly load: string;
  /** $1 type, $2 id, $3 from sequence. */
  readonly readEvents: string;
  /** $1 workflow type, … $7 observed at. */
  readonly recordObservation: string;
  /** $1 type, $2 id. */
  readonly listObservations: string;
  /** $1 type or null, $2 completed or null, $3 limit, $4 offset. */
  readonly listInstances: string;
  /** $1 types. */
  readonly nextTimerAt: string;
  /** $1 older than. Returns the two counts. */
  readonly purge: string;
  readonly effects: WorkStatements;
  readonly timers: WorkStatements;
}

/** Builds the statements for `schema`; built once per store. */
export function statements(schema: SchemaName): Statements {
  const s = schema.quoted;
  return {
    commitDecisions: `SELECT r_index, r_outcome, r_version, r_holder FROM ${s}.commit_decisions($1::jsonb)`,

    settleLeases: `SELECT r_index, r_applied FROM ${s}.settle_leases($1::jsonb)`,

    load: `
SELECT i.version, i.completed,
       sn.version AS snapshot_version, sn.revision AS snapshot_revision, sn.state::text AS snapshot_state,
       k.version AS idempotent_version, k.event_count AS idempotent_event_count, k.committed_at AS idempotent_committed_at,
       (SELECT json_agg(json_build_array(e.sequence, e.type, e.payload, e.metadata, e.recorded_at) ORDER BY e.sequence)
          FROM ${s}.events e
         WHERE e.workflow_type = i.workflow_type AND e.workflow_id = i.workflow_id
           AND e.sequence > coalesce(sn.version, 0))::text AS events
  FROM ${s}.instances i
  LEFT JOIN ${s}.snapshots sn ON sn.workflow_type = i.workflow_type AND sn.workflow_id = i.workflow_id
  LEFT JOIN ${s}.idempotency_keys k
         ON k.workflow_type = i.workflow_type AND k.workflow_id = i.workflow_id AND k.idempotency_key = $3::text
 WHERE i.workflow_type = $1 AND i.workflow_id = $2`,

    readEvents: `
SELECT sequence, type, payload::text AS payload, metadata::text AS metadata, recorded_at
  FROM ${s}.events
 WHERE workflow_type = $1 AND workflow_id = $2 AND sequence >= $3
 ORDER BY sequence`,

    recordObservation: `
INSERT INTO ${s}.observations (workflow_type, workflow_id, input_type, input, outcome, rejection, observed_at)
VALUES ($1, $2, $3, $4::text::json, $5, $6::text::json, $7)`,

    listObservations: `
SELECT workflow_type, workflow_id, input_type, input::text AS input, outcome, rejection::text AS rejection, observed_at
  FROM ${s}.observations
 WHERE workflow_type = $1 AND workflow_id = $2
 ORDER BY position`,

    listInstances: `
SELECT workflow_type, workflow_id, version, completed, created_at, updated_at
  FROM ${s}.instances
 WHERE ($1::text IS NULL OR workflow_type = $1::text) AND ($2::boolean IS NULL OR completed = $2::boolean)
 ORDER BY updated_at DESC, workflow_type, workflow_id
 LIMIT $3 OFFSET $4`,

    // The first pending timer of each type, read from the claimable index, then the earliest.
    nextTimerAt: `
SELECT min(f.available_at) AS next FROM unnest($1::text[]) AS t(type)
 CROSS JOIN LATERAL (
   SELECT available_at FROM ${s}.timers
    WHERE workflow_type = t.type AND status = 'pending'
    ORDER BY available_at
    LIMIT 1
 ) f`,

    purge: `
WITH e AS (DELETE FROM ${s}.effects WHERE status = 'done' AND updated_at < $1 RETURNING 1),
     t AS (DELETE FROM ${s}.timers WHERE status IN ('fired', 'cancelled') AND updated_at < $1 RETURNING 1)
SELECT (SELECT count(*) FROM e) AS effects, (SELECT count(*) FROM t) AS timers`,

    effects: work(s, 'effects', EFFECT_COLUMNS, ''),
    timers: work(
      s,
      'timers',
      TIMER_COLUMNS,
      // A dead keyed timer cannot come back while another timer holds its key.
      `AND NOT EXISTS (SELECT 1 FROM ${s}.timers a
                   WHERE a.workflow_type = w.workflow_type AND a.workflow_id = w.workflow_id
                     AND a.key = w.key AND a.status IN ('pending', 'leased'))`,
    ),
  };
}

function work(s: string, table: 'effects' | 'timers', columns: string, redriveGuard: string): WorkStatements {
  const t = `${s}.${table}`;
  const held = `id = $1 AND status = 'leased' AND lease_token = $2 AND lease_expires_at > $3`;
  const unlease = `lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL`;
  return {
    // One ordered walk of the claimable index per requested type (the kit passes types without
    // repeats): an equality on the index's leading column and its order, so the plan is the same
    // on an empty table, after an unanalysed burst and after ANALYZE. `firsts` merges the walks
    // without locking to find how many of the oldest `limit` rows each type holds; `candidates`
    // then locks that many per type with SKIP LOCKED, so concurrent claimers each take different
    // rows without waiting, and never more than `limit` rows are locked. A leased row is
    // claimable again once its lease expired; its available_at is always <= that expiry.
    // Poison isolation: such a recovered row is taken alone when it comes first, and a batch of
    // pending rows stops before it, so a handler that kills its worker never drags a batch along.
    // Candidates locked but not taken are unlocked when the statement ends.
    claim: `
WITH firsts AS (
  SELECT c.workflow_type FROM unnest($3::text[]) AS t(type)
   CROSS JOIN LATERAL (
     SELECT workflow_type, available_at, id FROM ${t}
      WHERE ${claimable('t.type')}
      ORDER BY available_at, id
      LIMIT $2
   ) c
   ORDER BY c.available_at, c.id
   LIMIT $2
), quotas AS (
  SELECT workflow_type, count(*) AS quota FROM firsts GROUP BY workflow_type
), candidates AS MATERIALIZED (
  SELECT c.id, c.available_at, c.recovered FROM quotas q
   CROSS JOIN LATERAL (
     SELECT id, available_at, status = 'leased' AS recovered FROM ${t}
      WHERE ${claimable('q.workflow_type')}
      ORDER BY available_at, id
      LIMIT q.quota
      FOR UPDATE SKIP LOCKED
   ) c
), ranked AS (
  SELECT id, recovered,
         row_number() OVER claim_order AS position,
         count(*) FILTER (WHERE recovered) OVER claim_order AS recovered_so_far
    FROM candidates
  WINDOW claim_order AS (ORDER BY available_at, id ROWS UNBOUNDED PRECEDING)
), chosen AS (
  SELECT id, recovered FROM ranked
   WHERE (position = 1 AND recovered) OR recovered_so_far = 0
)
UPDATE ${t} w
   SET status = 'leased', attempts = w.attempts + 1, lease_token = gen_random_uuid()::text,
       lease_owner = $4, lease_expires_at = $5, updated_at = $1
  FROM chosen
 WHERE w.id = chosen.id
RETURNING ${prefixed('w', columns)}, w.lease_token, chosen.recovered`,

    renew: `UPDATE ${t} SET lease_expires_at = $4, updated_at = $3 WHERE ${held} RETURNING id`,

    complete: `UPDATE ${t} SET status = $4, ${unlease}, updated_at = $3 WHERE ${held} RETURNING id`,

    retry: `UPDATE ${t} SET status = 'pending', available_at = $4, last_error = $5, ${unlease}, updated_at = $3 WHERE ${held} RETURNING id`,

    deadLetter: `UPDATE ${t} SET status = 'dead', last_error = $4, ${unlease}, updated_at = $3 WHERE ${held} RETURNING id`,

    release: `
WITH released AS (
  UPDATE ${t} SET status = 'pending', available_at = $3, attempts = greatest(attempts - 1, 0), ${unlease}, updated_at = $3
   WHERE ${held}
  RETURNING 1
)
SELECT pg_notify($4, $5) FROM released`,

    redrive: `
WITH redriven AS (
  UPDATE ${t} w SET status = 'pending', attempts = 0, available_at = $2, updated_at = $2
   WHERE w.id = $1 AND w.status = 'dead' ${redriveGuard}
  RETURNING 1
)
SELECT pg_notify($3, $4) FROM redriven`,

    listDead: `
SELECT ${columns} FROM ${t}
 WHERE status = 'dead' AND ($1::text IS NULL OR workflow_type = $1::text) AND ($2::text IS NULL OR workflow_id = $2::text)
 ORDER BY updated_at DESC, id
 LIMIT $3 OFFSET $4`,

    countDead: `
SELECT count(*) AS count FROM ${t}
 WHERE status = 'dead' AND ($1::text IS NULL OR workflow_type = $1::text) AND ($2::text IS NULL OR workflow_id = $2::text)`,

    listByInstance: `
SELECT ${columns} FROM ${t}
 WHERE workflow_type = $1 AND workflow_id = $2
 ORDER BY created_at, id`,
  };
}

/** Rows of `type` claimable at $1: pending, or leased with an expired lease; served by the claimable index. */
function claimable(type: string): string {
  return `workflow_type = ${type} AND status IN ('pending', 'leased') AND available_at <= $1
        AND (status = 'pending' OR lease_expires_at <= $1)`;
}

/** Qualifies a column list with a table alias, keeping `expr AS name` forms intact. */
function prefixed(alias: string, columns: string): string {
  return columns
    .split(',')
    .map((column) => `${alias}.${column.trim()}`)
    .join(', ');
}
