// Projection checkpoints in SQL (schema version 8): every write is fenced by the stored token, in
// the statement itself, so a claim that lands first makes a late holder's write match no row.
import { StoreError, stripUndefined, type NewProjectionDeadLetter, type ProjectionDeadLetter, type ProjectionStatus } from '@ironflow/core/store';
import { Row } from './rows.js';

/** The projection statements on one schema. */
export interface ProjectionStatements {
  /**
   * $1 name, $2 owner, $3 now, $4 expires at. Creates the projection (token 1) or takes it over
   * when nobody holds it unexpired, adding one to the token; returns `token` and `position`, or
   * no row when the lease is held. One statement: concurrent claims queue on the row and each
   * sees the one before it, so exactly one wins.
   */
  readonly claim: string;
  /** $1 name, $2 token, $3 owner, $4 expires at: a row when the token is the stored one. */
  readonly renew: string;
  /** $1 name, $2 token: a row when the token is the stored one. */
  readonly release: string;
  /** $1 name, $2 token: the projection's row, locked until the transaction ends, when the token is the stored one. */
  readonly lock: string;
  /**
   * $1 name, $2 token, $3 position or null, $4 expires at or null, $5 now, $6 the parked dead
   * letters (json, see `parkedJson`), $7 resolved ids (text[]). Everything or nothing, gated by
   * the token; returns `saved` 1 when it was the stored one, else 0.
   */
  readonly save: string;
  /** $1 name, $2 position or null, $3 now: creates the projection (token 1) or moves it there, ending the lease and adding one to the token. */
  readonly reset: string;
  /** $1 name: deletes the projection's dead letters. */
  readonly clearDeadLetters: string;
  /** Every projection in name order, with `dead_letters`. */
  readonly list: string;
  /** $1 projection, $2 status or null, $3 after id or null, $4 limit. */
  readonly listDeadLetters: string;
  /** $1 projection, $2 id, $3 now: a row when a parked letter became redriven. */
  readonly redrive: string;
  /** $1 projection, $2 id: a row when a letter was deleted. */
  readonly skip: string;
}

const TOKEN = 'token::text AS token';
const LETTER_COLUMNS = 'projection, id, workflow_type, workflow_id, sequence, event_type, position, error, attempts, status, parked_at, updated_at';

/** Builds the projection statements for the quoted schema `s`. */
export function projectionStatements(s: string): ProjectionStatements {
  return {
    claim: `
INSERT INTO ${s}.projections AS p (name, position, owner, token, expires_at, updated_at)
VALUES ($1::text, NULL, $2::text, 1, $4::bigint, $3::bigint)
ON CONFLICT (name) DO UPDATE
   SET owner = EXCLUDED.owner, token = p.token + 1, expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at
 WHERE p.owner IS NULL OR p.expires_at IS NULL OR p.expires_at <= EXCLUDED.updated_at
RETURNING p.${TOKEN}, p.position`,

    renew: `UPDATE ${s}.projections SET owner = $3::text, expires_at = $4::bigint WHERE name = $1::text AND token = $2::bigint RETURNING name`,

    release: `UPDATE ${s}.projections SET owner = NULL, expires_at = NULL WHERE name = $1::text AND token = $2::bigint RETURNING name`,

    lock: `SELECT name FROM ${s}.projections WHERE name = $1::text AND token = $2::bigint FOR UPDATE`,

    // The dead letters are written only through "held", which is empty unless the token matched;
    // the update waits for a claim in flight and then sees its token, so a fenced save writes nothing.
    save: `
WITH held AS (
  UPDATE ${s}.projections p
     SET position = coalesce($3::text, p.position), expires_at = coalesce($4::bigint, p.expires_at), updated_at = $5::bigint
   WHERE p.name = $1::text AND p.token = $2::bigint
  RETURNING p.name
), parked AS (
  INSERT INTO ${s}.projection_dead_letters AS d (${LETTER_COLUMNS})
  SELECT h.name, x.id, x.workflow_type, x.workflow_id, x.sequence, x.event_type, x.position, x.error, x.attempts, 'parked', $5::bigint, $5::bigint
    FROM held h,
         json_to_recordset($6::json) AS x(id text, workflow_type text, workflow_id text, sequence integer, event_type text, position text, error text, attempts integer)
  ON CONFLICT (projection, id) DO UPDATE
     SET workflow_type = EXCLUDED.workflow_type, workflow_id = EXCLUDED.workflow_id, sequence = EXCLUDED.sequence,
         event_type = EXCLUDED.event_type, position = EXCLUDED.position, error = EXCLUDED.error, attempts = EXCLUDED.attempts,
         status = 'parked', parked_at = EXCLUDED.parked_at, updated_at = EXCLUDED.updated_at
), resolved AS (
  DELETE FROM ${s}.projection_dead_letters d
   USING held h
   WHERE d.projection = h.name AND d.id = ANY ($7::text[])
)
SELECT count(*)::integer AS saved FROM held`,

    reset: `
INSERT INTO ${s}.projections AS p (name, position, owner, token, expires_at, updated_at)
VALUES ($1::text, $2::text, NULL, 1, NULL, $3::bigint)
ON CONFLICT (name) DO UPDATE
   SET position = EXCLUDED.position, owner = NULL, token = p.token + 1, expires_at = NULL, updated_at = EXCLUDED.updated_at`,

    clearDeadLetters: `DELETE FROM ${s}.projection_dead_letters WHERE projection = $1::text`,

    list: `
SELECT p.name, p.position, p.owner, p.${TOKEN}, p.expires_at, p.updated_at,
       (SELECT count(*) FROM ${s}.projection_dead_letters d WHERE d.projection = p.name)::integer AS dead_letters
  FROM ${s}.projections p
 ORDER BY p.name`,

    listDeadLetters: `
SELECT ${LETTER_COLUMNS}
  FROM ${s}.projection_dead_letters
 WHERE projection = $1::text AND ($2::text IS NULL OR status = $2::text) AND ($3::text IS NULL OR id > $3::text)
 ORDER BY id
 LIMIT $4::integer`,

    redrive: `UPDATE ${s}.projection_dead_letters SET status = 'redriven', updated_at = $3::bigint WHERE projection = $1::text AND id = $2::text AND status = 'parked' RETURNING id`,

    skip: `DELETE FROM ${s}.projection_dead_letters WHERE projection = $1::text AND id = $2::text RETURNING id`,
  };
}

/** The `$6` of `save`: the dead letters as a JSON array of rows (texts the kit checked, so no NUL). */
export function parkedJson(parked: readonly NewProjectionDeadLetter[]): string {
  return JSON.stringify(
    parked.map((l) => ({
      id: l.id,
      workflow_type: l.workflowType,
      workflow_id: l.workflowId,
      sequence: l.sequence,
      event_type: l.eventType,
      position: l.position,
      error: l.error,
      attempts: l.attempts,
    })),
  );
}

/** A row of `list`. */
export function toProjectionStatus(raw: unknown): ProjectionStatus {
  const row = new Row(raw);
  return stripUndefined({
    name: row.text('name'),
    position: row.optionalText('position'),
    owner: row.optionalText('owner'),
    token: row.number('token'),
    expiresAt: row.optionalNumber('expires_at'),
    updatedAt: row.number('updated_at'),
    deadLetters: row.number('dead_letters'),
  });
}

/** A row of `listDeadLetters`. */
export function toProjectionDeadLetter(raw: unknown): ProjectionDeadLetter {
  const row = new Row(raw);
  const status = row.text('status');
  if (status !== 'parked' && status !== 'redriven') throw new StoreError('integrity', `PostgreSQL store (projection dead letters): unexpected status ${JSON.stringify(status)}`);
  return {
    projection: row.text('projection'),
    id: row.text('id'),
    workflowType: row.text('workflow_type'),
    workflowId: row.text('workflow_id'),
    sequence: row.number('sequence'),
    eventType: row.text('event_type'),
    position: row.text('position'),
    error: row.text('error'),
    attempts: row.number('attempts'),
    status,
    parkedAt: row.number('parked_at'),
    updatedAt: row.number('updated_at'),
  };
}
