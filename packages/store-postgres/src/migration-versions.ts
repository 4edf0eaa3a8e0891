// Schema version 9: safe deploys. Events keep the schema version of their payload, effects and
// timers the version of the code that wrote them and how often a process gave them back unread,
// and an ended instance can be deleted with everything it owns (retention).
// Frozen once released, like every migration; later changes go in a new version.
import { cancelInstance, commitDecisions, commitOne, LIVE_BY_STATUS, settleLeases, type LiveRows, type SettleWrites, type WorkTable, type WorkWrites } from './migration-control.js';
import type { Migration } from './migrations.js';
import type { SchemaName } from './schema-name.js';

/**
 * The commit functions of version 9: version 6's, writing each event's `schemaVersion` and each
 * new effect's and timer's `version` too, NULL for 1 (the default), so that rows of version 1 are
 * stored as before. Documents of the previous release have neither field: NULL, version 1. A keyed
 * timer rescheduled in place takes the new timer's version and has not been released yet.
 */
export const VERSIONED: WorkWrites = {
  columns: ', trace, version',
  values: (x) => `, (${x}->>'trace')::json, nullif((${x}->>'version')::integer, 1)`,
  rearm: ', trace = EXCLUDED.trace, version = EXCLUDED.version, releases = 0',
  events: {
    columns: ', schema_version',
    values: (e) => `, nullif((${e}->>'schemaVersion')::integer, 1)`,
  },
  notes: {
    commitOne: `-- commit_one, version 9: as version 5, and each event keeps its element's schemaVersion, each new
-- effect and timer its element's version (NULL for 1, and for elements of the previous release,
-- which have none); a keyed timer scheduled again in place takes the new one's, its releases reset.`,
    commitDecisions: `-- commit_decisions, version 9: as version 6, with version 9's commit_one and the schema_version and
-- version columns in every set-based insert.`,
    cancelInstance: `-- cancel_instance, version 9: as version 5, and the effects of p_effects keep their versions.`,
  },
};

/**
 * settle_leases of version 9: a release makes its row claimable at the change's availableAt and,
 * with a reason, counts the release and keeps the reason as last_error. Replaced in place: its
 * columns are version 4's, and a release of the previous release (no availableAt, no reason) does
 * what it did.
 */
const RELEASED: SettleWrites = {
  head: () => `-- settle_leases, version 9: as version 4, and a release takes availableAt (when it may be claimed
-- again; now when absent, as changes of the previous release send it) and an optional reason
-- (work its holder cannot understand yet): with one, the row's releases grow by one and its
-- last_error becomes the reason; without one, both stay as they are.
CREATE OR REPLACE FUNCTION `,
  reasons: true,
};

/**
 * Version 9. Every added column is nullable without a default or has a constant default, so
 * adding it changes the catalog only: no table is rewritten or read, events included. The
 * functions that write events, effects or timers and settle_leases are replaced in place (same
 * signatures and columns, so grants and callers of the previous release keep working);
 * delete_instance is new.
 */
export const versionsMigration: Migration = {
  version: 9,
  name: 'versions, releases and retention',
  sql: (schema) =>
    [
      columns(schema),
      commitOne(schema, VERSIONED),
      commitDecisions(schema, VERSIONED, { cancelWork: true }),
      cancelInstance(schema, VERSIONED),
      settleLeases(schema, RELEASED),
      deleteInstance(schema),
    ].join('\n'),
};

function columns({ quoted: s }: SchemaName): string {
  return `
-- The schema version of an event's payload as the deciding code wrote it, and the version of the
-- workflow code that wrote an effect or timer: NULL (every row written before) means 1. How many
-- times processes gave a row back because they could not understand it (release with a reason),
-- reset by a redrive. IF NOT EXISTS: an operator may add them beforehand.
ALTER TABLE ${s}.events ADD COLUMN IF NOT EXISTS schema_version integer;
ALTER TABLE ${s}.effects ADD COLUMN IF NOT EXISTS version integer, ADD COLUMN IF NOT EXISTS releases integer NOT NULL DEFAULT 0;
ALTER TABLE ${s}.timers ADD COLUMN IF NOT EXISTS version integer, ADD COLUMN IF NOT EXISTS releases integer NOT NULL DEFAULT 0;
`;
}

/** How a schema version writes delete_instance: the text before its name (comment, `CREATE …`) and "live". */
export interface DeleteWrites {
  head(s: string): string;
  readonly live: LiveRows;
}

/** Version 9's own. */
const DELETE_V9: DeleteWrites = {
  head: () => `-- Deletes an ended instance and everything it owns in one call: when it exists, is at p_expected,
-- is terminal (completed or cancelled) and has no pending or leased effect or timer, its events
-- (they leave the feed; other events keep their positions), snapshot, idempotency keys,
-- observations, effects, timers and instance pause go, then the instance row. Otherwise nothing is
-- written and the result says why: 'missing', 'changed', 'active' or 'busy'; else 'deleted'.
-- Locks as a commit does: the instance row first, so a commit to it waits and then finds it gone;
-- then its effects and timers, each table in id order as settle_leases locks them, so a redrive
-- of a dead row waits too and finds nothing, and the check for live work runs on locked rows.
-- Children and parents are not touched.
CREATE FUNCTION `,
  live: LIVE_BY_STATUS,
};

/** Whether the instance (p_type, p_id) has a live row in `table`, as delete_instance checks it. */
export function liveWorkExists(s: string, table: WorkTable, live: LiveRows, type = 'p_type', id = 'p_id'): string {
  return `EXISTS (SELECT 1 FROM ${s}.${table} w WHERE w.workflow_type = ${type} AND w.workflow_id = ${id} AND ${live('w', table)})`;
}

/** delete_instance as the schema version of `d` writes it: an ended instance and all it owns deleted in one call. */
export function deleteInstance({ quoted: s }: SchemaName, d: DeleteWrites = DELETE_V9): string {
  const owned = (alias: string) => `${alias}.workflow_type = p_type AND ${alias}.workflow_id = p_id`;
  return `
${d.head(s)}${s}.delete_instance(p_type text, p_id text, p_expected integer)
RETURNS text
LANGUAGE plpgsql
AS $delete_instance$
DECLARE
  v_version  integer;
  v_terminal boolean;
BEGIN
  SELECT i.version, i.completed INTO v_version, v_terminal
    FROM ${s}.instances i
   WHERE ${owned('i')}
     FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 'missing';
  END IF;
  IF v_version <> p_expected THEN
    RETURN 'changed';
  END IF;
  IF NOT v_terminal THEN
    RETURN 'active';
  END IF;
  PERFORM 1 FROM ${s}.effects w WHERE ${owned('w')} ORDER BY w.id FOR UPDATE;
  PERFORM 1 FROM ${s}.timers w WHERE ${owned('w')} ORDER BY w.id FOR UPDATE;
  IF ${liveWorkExists(s, 'effects', d.live)}
     OR ${liveWorkExists(s, 'timers', d.live)} THEN
    RETURN 'busy';
  END IF;
  DELETE FROM ${s}.effects w WHERE ${owned('w')};
  DELETE FROM ${s}.timers w WHERE ${owned('w')};
  DELETE FROM ${s}.events e WHERE ${owned('e')};
  DELETE FROM ${s}.snapshots sn WHERE ${owned('sn')};
  DELETE FROM ${s}.idempotency_keys k WHERE ${owned('k')};
  DELETE FROM ${s}.observations o WHERE ${owned('o')};
  DELETE FROM ${s}.paused p WHERE ${owned('p')};
  DELETE FROM ${s}.instances i WHERE ${owned('i')};
  RETURN 'deleted';
END;
$delete_instance$;
`;
}
