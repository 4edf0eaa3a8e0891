// Every statement the store runs, as named SQL text for one schema. The schema identifier is the
// only interpolation (checked and quoted by schema-name.ts); all values are $n parameters.
import { effectClaim, nextTimerAt, timerClaim } from './claim-sql.js';
import type { SchemaName } from './schema-name.js';

/** The columns of an effect row as `toEffect` reads them. */
export const EFFECT_COLUMNS = `id, workflow_type, workflow_id, payload::text AS payload, key, tag, priority, settings::text AS settings,
  status, attempts, last_error, created_at, updated_at, available_at, lease_owner, lease_expires_at, trace::text AS trace, version, releases`;

/** The columns of a timer row as `toTimer` reads them. */
export const TIMER_COLUMNS = `id, workflow_type, workflow_id, key, fire_at, input::text AS input, status, attempts, last_error,
  created_at, updated_at, available_at, lease_owner, lease_expires_at, trace::text AS trace, version, releases`;

/** Statements shared by effects and timers, for one of the two tables. Lease-fenced ones return a row when they applied. */
export interface WorkStatements {
  /**
   * $1 now, $2 limit, $3 types, $4 owner, $5 lease expiry. Leases claimable rows of types and
   * instances not paused, in claim order (effects by rank, timers by fire time): one expired
   * lease alone (`recovered`), or the pending rows before the first one.
   */
  readonly claim: string;
  /** $1 id. The row's status, read when a fenced change did not apply. */
  readonly statusOf: string;
  /** $1 id, $2 token, $3 now, $4 lease expiry. */
  readonly renew: string;
  /** $1 id, $2 token, $3 now, $4 final status (`done` or `fired`). */
  readonly complete: string;
  /** $1 id, $2 token, $3 now, $4 retry at, $5 error. */
  readonly retry: string;
  /** $1 id, $2 token, $3 now, $4 error. */
  readonly deadLetter: string;
  /**
   * $1 id, $2 token, $3 now, $4 channel, $5 payload, $6 available at, $7 reason or null (with one,
   * releases + 1 and last_error = reason). Notifies in the same statement.
   */
  readonly release: string;
  /** $1 id, $2 now, $3 channel, $4 payload. Resets attempts and releases. Notifies in the same statement. */
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
  /** $1 json array of lease changes. One row per change, r_index being its position; r_cancelled when one did not apply because its row is cancelled. */
  readonly settleLeases: string;
  /** $1 type, $2 id, $3 idempotency key or null. One row, or none for an unknown instance. */
  readonly load: string;
  /** $1 type, $2 id, $3 from sequence. */
  readonly readEvents: string;
  /** $1 workflow type, … $7 observed at. */
  readonly recordObservation: string;
  /** $1 type, $2 id. */
  readonly listObservations: string;
  /** $1 type or null, $2 status or null, $3 limit, $4 offset. */
  readonly listInstances: string;
  /** $1 types. */
  readonly nextTimerAt: string;
  /** As the effects' claim, plus $6 tags: only effects with one of them. */
  readonly claimTaggedEffects: string;
  /** $1 type, $2 id, $3 now, $4 reason, $5 json array of effects to write, $6 origin. One row: o_cancelled, o_effects, o_timers. */
  readonly cancelInstance: string;
  /** $1 type, $2 id ('' for the whole type), $3 since. A row when the pause is new. */
  readonly pause: string;
  /** $1 type, $2 id ('' for the whole type), $3 channel. A row when a pause was lifted; notifies both kinds. */
  readonly resume: string;
  readonly listPaused: string;
  /** $1 now. One row per (type, kind) with pending, leased or dead rows. */
  readonly backlog: string;
  /** $1 older than. Returns the two counts. */
  readonly purge: string;
  /** $1 older than. Returns the count. */
  readonly purgeIdempotencyKeys: string;
  /** $1 type, $2 id, $3 expected version. One row: outcome ('deleted', 'missing', 'changed', 'active' or 'busy'). */
  readonly deleteInstance: string;
  readonly effects: WorkStatements;
  readonly timers: WorkStatements;
}

/** Builds the statements for `schema`; built once per store. */
export function statements(schema: SchemaName): Statements {
  const s = schema.quoted;
  return {
    commitDecisions: `SELECT r_index, r_outcome, r_version, r_holder FROM ${s}.commit_decisions($1::jsonb)`,

    settleLeases: `SELECT r_index, r_applied, r_cancelled FROM ${s}.settle_leases($1::jsonb)`,

    load: `
SELECT i.version, i.completed, i.cancel_reason, i.parent_type, i.parent_id,
       sn.version AS snapshot_version, sn.revision AS snapshot_revision, sn.state::text AS snapshot_state,
       k.version AS idempotent_version, k.event_count AS idempotent_event_count, k.committed_at AS idempotent_committed_at,
       (SELECT json_agg(json_build_array(e.sequence, e.type, e.payload, e.metadata, e.recorded_at, e.schema_version) ORDER BY e.sequence)
          FROM ${s}.events e
         WHERE e.workflow_type = i.workflow_type AND e.workflow_id = i.workflow_id
           AND e.sequence > coalesce(sn.version, 0))::text AS events
  FROM ${s}.instances i
  LEFT JOIN ${s}.snapshots sn ON sn.workflow_type = i.workflow_type AND sn.workflow_id = i.workflow_id
  LEFT JOIN ${s}.idempotency_keys k
         ON k.workflow_type = i.workflow_type AND k.workflow_id = i.workflow_id AND k.idempotency_key = $3::text
 WHERE i.workflow_type = $1 AND i.workflow_id = $2`,

    readEvents: `
SELECT sequence, type, payload::text AS payload, metadata::text AS metadata, recorded_at, schema_version
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
SELECT ${INSTANCE_COLUMNS}
  FROM ${s}.instances
 WHERE ($1::text IS NULL OR workflow_type = $1::text) AND ($2::text IS NULL OR $2::text = ${STATUS})
 ORDER BY updated_at DESC, workflow_type, workflow_id
 LIMIT $3 OFFSET $4`,

    nextTimerAt: nextTimerAt(s),

    claimTaggedEffects: claimed(effectClaim(s, true), EFFECT_COLUMNS),

    cancelInstance: `SELECT o_cancelled, o_effects, o_timers FROM ${s}.cancel_instance($1, $2, $3, $4, $5::jsonb, $6)`,

    pause: `INSERT INTO ${s}.paused (workflow_type, workflow_id, since) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1`,

    resume: `
WITH resumed AS (DELETE FROM ${s}.paused WHERE workflow_type = $1 AND workflow_id = $2 RETURNING 1)
SELECT pg_notify($3, 'effect'), pg_notify($3, 'timer') FROM resumed`,

    // Whole types ('' ids) first, then by type and id, in code-point order (COLLATE "C").
    listPaused: `SELECT workflow_type, workflow_id, since FROM ${s}.paused ORDER BY workflow_id <> '', workflow_type, workflow_id`,

    backlog: backlog(s),

    purge: `
WITH e AS (DELETE FROM ${s}.effects WHERE status IN ('done', 'cancelled') AND updated_at < $1 RETURNING 1),
     t AS (DELETE FROM ${s}.timers WHERE status IN ('fired', 'cancelled') AND updated_at < $1 RETURNING 1)
SELECT (SELECT count(*) FROM e) AS effects, (SELECT count(*) FROM t) AS timers`,

    purgeIdempotencyKeys: `
WITH k AS (DELETE FROM ${s}.idempotency_keys WHERE committed_at < $1 RETURNING 1)
SELECT count(*) AS count FROM k`,

    deleteInstance: `SELECT ${s}.delete_instance($1, $2, $3) AS outcome`,

    effects: work(s, 'effects', EFFECT_COLUMNS, effectClaim(s, false)),
    timers: work(s, 'timers', TIMER_COLUMNS, timerClaim(s)),
  };
}

/** The columns of an instance row as `toInstanceSummary` reads them. */
export const INSTANCE_COLUMNS = 'workflow_type, workflow_id, version, completed, cancel_reason, parent_type, parent_id, created_at, updated_at';

// An instance's status: `completed` is true for both terminal statuses; a cancelled one has its reason.
export const STATUS = `CASE WHEN NOT completed THEN 'active' WHEN cancel_reason IS NULL THEN 'completed' ELSE 'cancelled' END`;

/** A claim statement returning the leased rows, their tokens and whether each was recovered. */
function claimed(claim: string, columns: string): string {
  return `${claim}
RETURNING ${prefixed('w', columns)}, w.lease_token, chosen.recovered`;
}

/**
 * Counts of pending, leased and dead rows per type and kind. Each branch reads one status group
 * through its partial index (the claim index holds exactly the live rows, the dead-letter index the
 * dead ones), never done or settled rows; pauses are joined from the small paused table.
 */
function backlog(s: string): string {
  const rows = (table: string, kind: string) => `
  SELECT '${kind}' AS kind, w.workflow_type, w.workflow_id, w.status, w.available_at FROM ${s}.${table} w WHERE w.status IN ('pending', 'leased')
  UNION ALL
  SELECT '${kind}', w.workflow_type, w.workflow_id, w.status, w.available_at FROM ${s}.${table} w WHERE w.status = 'dead'`;
  const unpaused = `(w.status = 'pending' AND NOT w.paused)`;
  return `
WITH w AS (
  SELECT r.kind, r.workflow_type, r.status, r.available_at, (pt.since IS NOT NULL OR pi.since IS NOT NULL) AS paused
    FROM (${rows('effects', 'effect')}
  UNION ALL${rows('timers', 'timer')}
  ) r
    LEFT JOIN ${s}.paused pt ON pt.workflow_type = r.workflow_type AND pt.workflow_id = ''
    LEFT JOIN ${s}.paused pi ON pi.workflow_type = r.workflow_type AND pi.workflow_id = r.workflow_id
)
SELECT w.workflow_type, w.kind,
       count(*) FILTER (WHERE ${unpaused}) AS pending,
       count(*) FILTER (WHERE ${unpaused} AND w.available_at <= $1::bigint) AS due,
       count(*) FILTER (WHERE w.status = 'leased') AS leased,
       count(*) FILTER (WHERE w.status = 'pending' AND w.paused) AS paused,
       count(*) FILTER (WHERE w.status = 'dead') AS dead,
       min(w.available_at) FILTER (WHERE ${unpaused} AND w.available_at <= $1::bigint) AS oldest_due_at
  FROM w
 GROUP BY w.workflow_type, w.kind
 ORDER BY w.workflow_type, w.kind COLLATE "C"`;
}

function work(s: string, table: 'effects' | 'timers', columns: string, claim: string): WorkStatements {
  const t = `${s}.${table}`;
  const held = `id = $1 AND status = 'leased' AND lease_token = $2 AND lease_expires_at > $3`;
  const unlease = `lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL`;
  return {
    claim: claimed(claim, columns),

    statusOf: `SELECT status FROM ${t} WHERE id = $1`,

    renew: `UPDATE ${t} SET lease_expires_at = $4, updated_at = $3 WHERE ${held} RETURNING id`,

    complete: `UPDATE ${t} SET status = $4, ${unlease}, updated_at = $3 WHERE ${held} RETURNING id`,

    retry: `UPDATE ${t} SET status = 'pending', available_at = $4, last_error = $5, ${unlease}, updated_at = $3 WHERE ${held} RETURNING id`,

    deadLetter: `UPDATE ${t} SET status = 'dead', last_error = $4, ${unlease}, updated_at = $3 WHERE ${held} RETURNING id`,

    release: `
WITH released AS (
  UPDATE ${t} SET status = 'pending', available_at = $6::bigint, attempts = greatest(attempts - 1, 0),
         releases = releases + CASE WHEN $7::text IS NULL THEN 0 ELSE 1 END, last_error = coalesce($7::text, last_error),
         ${unlease}, updated_at = $3
   WHERE ${held}
  RETURNING 1
)
SELECT pg_notify($4, $5) FROM released`,

    // A dead keyed row cannot come back while another row of its instance holds its key.
    redrive: `
WITH redriven AS (
  UPDATE ${t} w SET status = 'pending', attempts = 0, releases = 0, available_at = $2, updated_at = $2
   WHERE w.id = $1 AND w.status = 'dead'
     AND NOT EXISTS (SELECT 1 FROM ${t} a
                      WHERE a.workflow_type = w.workflow_type AND a.workflow_id = w.workflow_id
                        AND a.key = w.key AND a.status IN ('pending', 'leased'))
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

/** Qualifies a column list with a table alias, keeping `expr AS name` forms intact. */
function prefixed(alias: string, columns: string): string {
  return columns
    .split(',')
    .map((column) => `${alias}.${column.trim()}`)
    .join(', ');
}
