// Schema version 4: control of live work — cancelled instances, keyed, tagged and prioritised
// effects, pauses, parent links, terminal notifications and idempotency retention. Frozen once
// released, like every migration; later changes go in a new version. Later versions build their
// commit functions with the builders here, passing the columns they add (see WorkWrites): given
// version 4's, the builders write version 4's text unchanged (test/migration-text.test.ts).
import type { Migration } from './migrations.js';
import type { SchemaName } from './schema-name.js';
import { settleBranch, settleSet } from './settle-sql.js';

/**
 * Version 4. Columns and constraints are added without rewriting or reading a table; building
 * each new index reads its table once. Every function that commits is replaced in place (same
 * signatures, so grants and callers of the previous release keep working), except settle_leases,
 * which gains a column and is dropped and created again.
 */
export const controlMigration: Migration = {
  version: 4,
  name: 'control of live work',
  sql: (schema) =>
    [tables(schema), commitOne(schema, VERSION_4), commitDecisions(schema, VERSION_4), commitDecision(schema), settleLeases(schema, SETTLE_V4), cancelInstance(schema, VERSION_4)].join('\n'),
};

// Rank of an effect in claim order: available_at - priority × PRIORITY_AGING_MS (1000). Written out
// here and in claim-sql.ts alike: the claim's ORDER BY must be this index expression, term for term.
const RANK = 'available_at - priority * 1000';

function tables({ quoted: s }: SchemaName): string {
  return `
-- An instance is terminal when "completed" is true, as before: completed or cancelled. That flag
-- releases the unique key, and processes of the previous release read it during a rolling deploy.
-- A cancelled instance also has its reason. A child instance has its parent, recorded when it is
-- created. Nullable columns without a default: no rewrite, no backfill.
ALTER TABLE ${s}.instances
  ADD COLUMN IF NOT EXISTS cancel_reason text,
  ADD COLUMN IF NOT EXISTS parent_type text COLLATE "C",
  ADD COLUMN IF NOT EXISTS parent_id text COLLATE "C";
-- The children of an instance, in (type, id) order; only children are in it.
CREATE INDEX IF NOT EXISTS instances_parent_idx ON ${s}.instances (parent_type, parent_id, workflow_type, workflow_id)
  WHERE parent_type IS NOT NULL;
-- purgeIdempotencyKeys deletes by age.
CREATE INDEX IF NOT EXISTS idempotency_keys_committed_at_idx ON ${s}.idempotency_keys (committed_at);

-- Effects get a key (one live effect per instance and key), a tag (claims may ask for tags), a
-- priority (claim order with aging) and settings (opaque json for the runtime), and may be
-- cancelled. IF NOT EXISTS: an operator may add the columns beforehand to build the indexes
-- below concurrently (docs/stores/postgres.md). The constraints are NOT VALID, so adding them
-- does not read the table under its lock: every existing row meets them (priorities are all the
-- default 0, and the old status check allowed fewer values), and new rows are checked as usual.
ALTER TABLE ${s}.effects
  ADD COLUMN IF NOT EXISTS key text COLLATE "C",
  ADD COLUMN IF NOT EXISTS tag text COLLATE "C",
  ADD COLUMN IF NOT EXISTS priority integer NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS settings json,
  ADD CONSTRAINT effects_priority_check CHECK (priority BETWEEN -1000 AND 1000) NOT VALID,
  DROP CONSTRAINT effects_status_check,
  ADD CONSTRAINT effects_status_check CHECK (status IN ('pending', 'leased', 'done', 'dead', 'cancelled')) NOT VALID;

-- Claim order is the rank, then the id. Effects of negative priority sit in their own part of
-- each index ((priority < 0) is its second key): their rank lies up to 1000 s after the time they
-- become available, so a walk over them must look that far ahead of now, while the walk over the
-- others, all the work there is by default, stops at now as version 2's did. Tagged effects are
-- also indexed by tag, so a claim that names tags walks only those.
CREATE INDEX IF NOT EXISTS effects_claimable_by_rank_idx
  ON ${s}.effects (workflow_type, (priority < 0), (${RANK}), id)
  WHERE status IN ('pending', 'leased');
CREATE INDEX IF NOT EXISTS effects_claimable_by_tag_idx
  ON ${s}.effects (workflow_type, tag, (priority < 0), (${RANK}), id)
  WHERE status IN ('pending', 'leased') AND tag IS NOT NULL;
DROP INDEX IF EXISTS ${s}.effects_claimable_by_type_idx;
-- At most one live effect per (instance, key). Commits check it first and report the conflict as
-- an outcome; the index is the safety net for a redrive racing a commit.
CREATE UNIQUE INDEX IF NOT EXISTS effects_live_key_idx ON ${s}.effects (workflow_type, workflow_id, key)
  WHERE key IS NOT NULL AND status IN ('pending', 'leased');
-- purge deletes cancelled effects too.
CREATE INDEX IF NOT EXISTS effects_settled_idx ON ${s}.effects (updated_at) WHERE status IN ('done', 'cancelled');
DROP INDEX IF EXISTS ${s}.effects_done_idx;

-- Pauses in force: a whole workflow type (workflow_id '', which no instance id can be) or one
-- instance. Claims and nextTimerAt skip paused work; it stays pending.
CREATE TABLE IF NOT EXISTS ${s}.paused (
  workflow_type text COLLATE "C" NOT NULL,
  workflow_id   text COLLATE "C" NOT NULL,
  since         bigint NOT NULL,
  PRIMARY KEY (workflow_type, workflow_id)
);
`;
}

/** Effect columns of an INSERT and their values from the commit element `x` (jsonb). */
const EFFECT_INSERT_COLUMNS = 'id, workflow_type, workflow_id, payload, key, tag, priority, settings, status, attempts, created_at, updated_at, available_at';
const effectValues = (x: string, type: string, id: string, now: string): string =>
  `${x}->>'id', ${type}, ${id}, (${x}->>'payload')::json, ${x}->>'key', ${x}->>'tag', coalesce((${x}->>'priority')::integer, 0),
         (${x}->>'settings')::json, 'pending', 0, ${now}, ${now}, ${now}`;

/**
 * The NOTIFY payload telling other stores an instance ended: a json object, which no work wake-up
 * ('effect', 'timer') can be mistaken for, naming the store object that ended it (`from`, the
 * commit document's `origin`), which has told its own subscribers already. Types and ids are at
 * most 512 characters, so it stays well under NOTIFY's 8000 bytes.
 */
const ended = (type: string, id: string, status: 'completed' | 'cancelled', origin: string): string =>
  `json_build_object('ended', '${status}', 'type', ${type}, 'id', ${id}, 'from', ${origin})::text`;
const ENDED_NOTE = `payload {"ended": status, "type": …, "id": …, "from": origin}`;

/** The lease columns cleared, as every change that ends a lease writes them. */
const UNLEASE = 'lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL';

/**
 * What one schema version's commit functions write beyond version 4's: the columns they add to
 * every effect and timer INSERT (and, from version 9, to every event INSERT), and the comment
 * heading each function. A keyed timer scheduled again in place takes the added columns from the
 * new timer.
 */
export interface WorkWrites {
  /** `, column…` appended to the column list of each effect and timer INSERT. */
  readonly columns: string;
  /** `, value…` appended to its values, each read from the commit element `x` (jsonb). */
  values(x: string): string;
  /** `, column = EXCLUDED.column…` appended to the SET of a keyed timer's reschedule. */
  readonly rearm: string;
  /** Columns added to each event INSERT and their values from the element `e` (jsonb); none before version 9. */
  readonly events?: { readonly columns: string; values(e: string): string } | undefined;
  /** The SQL comment heading each function, without a final newline. */
  readonly notes: { readonly commitOne: string; readonly commitDecisions: string; readonly cancelInstance: string };
  /** How statements reading one instance's live work write "live"; LIVE_BY_STATUS before version 10. */
  readonly live?: LiveRows | undefined;
}

/** The tables of work: effects and timers. */
export type WorkTable = 'effects' | 'timers';

/**
 * The condition that row `w` of `table` is live (pending or leased), as the statements that read
 * one instance's live work by (workflow_type, workflow_id) write it: cancelWork, cancel_instance
 * and delete_instance's check. Statements that also name a key keep `status IN ('pending',
 * 'leased')`: the live-key indexes, led by the instance, serve them.
 */
export type LiveRows = (w: string, table: WorkTable) => string;

/**
 * Versions 4 to 9: the claim indexes' own predicate. It lets the planner walk a claim index, led
 * by the workflow type alone, and filter every live row of the type (it does on tables not yet
 * analysed, and PL/pgSQL keeps that plan), instead of the instance index.
 */
export const LIVE_BY_STATUS: LiveRows = (w) => `${w}.status IN ('pending', 'leased')`;

const liveOf = (w: WorkWrites): LiveRows => w.live ?? LIVE_BY_STATUS;

/** The PL/pgSQL variables (or statement parameters) naming an instance and the time in a statement about it. */
export interface InstanceVars {
  readonly type: string;
  readonly id: string;
  readonly now: string;
}

/** commit_one's cancelWork on `table`: every live row of the instance cancelled. */
export function cancelWorkStatement(s: string, table: WorkTable, live: LiveRows, v: InstanceVars): string {
  return `UPDATE ${s}.${table} w
       SET status = 'cancelled', ${UNLEASE}, updated_at = ${v.now}
     WHERE w.workflow_type = ${v.type} AND w.workflow_id = ${v.id} AND ${live('w', table)};`;
}

/** cancel_instance's cancel of `table`: every live row of the instance cancelled with the reason. */
export function cancelInstanceWorkStatement(s: string, table: WorkTable, live: LiveRows, v: InstanceVars & { readonly reason: string }): string {
  return `UPDATE ${s}.${table} w SET status = 'cancelled', last_error = ${v.reason}, ${UNLEASE}, updated_at = ${v.now}
   WHERE w.workflow_type = ${v.type} AND w.workflow_id = ${v.id} AND ${live('w', table)};`;
}

/**
 * commit_decisions' cancelWork of the routed results that passed their checks, on `table`: the
 * live rows of their instances cancelled, but for each one's acknowledged effect. `commits` is the
 * batch (jsonb array), `followed` the indexes of those results (integer[]).
 */
export function followedCancelStatement(s: string, table: WorkTable, live: LiveRows, commits = 'p_commits', followed = 'v_followed'): string {
  const f = `(SELECT ${commits}->x.idx AS doc FROM unnest(${followed}) AS x(idx)
                WHERE coalesce((${commits}->x.idx->>'cancelWork')::boolean, false)) AS f`;
  return `UPDATE ${s}.${table} w
           SET status = 'cancelled', ${UNLEASE}, updated_at = (f.doc->>'now')::bigint
          FROM ${f}
         WHERE w.workflow_type = f.doc->>'workflowType' AND w.workflow_id = f.doc->>'workflowId'
           AND ${live('w', table)}${table === 'effects' ? ` AND w.id <> f.doc->'ack'->>'id'` : ''};`;
}

const eventColumns = (w: WorkWrites): string => w.events?.columns ?? '';
const eventValues = (w: WorkWrites, e: string): string => w.events?.values(e) ?? '';

/** Version 4's own: no added columns, its released comments. */
const VERSION_4: WorkWrites = {
  columns: '',
  values: () => '',
  rearm: '',
  notes: {
    commitOne: `-- commit_one, version 4: as version 3, plus the rules of control. A terminal instance (completed
-- or cancelled) takes no commit: a version conflict, as the version does not move when an
-- instance is cancelled. A new keyed effect whose key a live effect of the instance holds is an
-- 'effect-key-conflict' (the key in o_holder), unless the commit cancels that key or all its work,
-- or acknowledges that very effect.
-- After the events, cancelEffects cancels the live effects with those keys, and cancelWork (with
-- completed) every live effect and timer; the acknowledged row is settled by then, so neither
-- touches it. A new instance records its parent. Documents of the previous release lack the new
-- fields: they mean none. As in version 3 it sends no NOTIFY: commit_decisions does, for the batch.`,
    commitDecisions: `-- commit_decisions, version 4: as version 3, with version 4's commit_one, the new columns in both
-- set-based paths, and the rules of control in the second one (routed results): a candidate must
-- not cancel effects or work, its instance must be active, and its new keyed effects must meet no
-- live one; a commit that fails any of these goes through commit_one, which reports why. r_holder
-- carries the key of an 'effect-key-conflict'. Each commit that completes its instance sends a
-- NOTIFY of its own, ${ENDED_NOTE}, the origin being the document's, besides the one wake-up per
-- kind of the batch.`,
    cancelInstance: `-- Cancels an active instance and its live work in one call: the instance becomes terminal with
-- its reason (its unique key released, its version unchanged, no event), each live effect and
-- timer becomes 'cancelled' with the reason as last_error and its lease cleared, and the effects
-- of p_effects (a json array of effects as in a commit document) are written, pending. The first
-- UPDATE locks the instance row, as every commit does first: a commit to it either finished
-- before (and the statements after this one, each with a new snapshot, see the work it wrote) or
-- waits and then finds the instance terminal. o_cancelled is false, and nothing written, for an
-- instance that is missing or already terminal. A taken effect id fails the call on the primary
-- key, which undoes it all. Notifies the cancellation (${ENDED_NOTE}, p_origin naming the
-- caller) and new effects.`,
  },
};

/** commit_one's variables naming the instance and the time. */
const C_VARS: InstanceVars = { type: 'c_type', id: 'c_id', now: 'c_now' };

/** commit_one as the schema version of `w` writes it: checks, then every write of one commit document. */
export function commitOne({ quoted: s }: SchemaName, w: WorkWrites): string {
  return `
${w.notes.commitOne}
CREATE OR REPLACE FUNCTION ${s}.commit_one(p_commit jsonb, OUT o_outcome text, OUT o_version integer, OUT o_holder text,
                                           OUT o_effects boolean, OUT o_timers boolean)
LANGUAGE plpgsql
AS $commit_one$
DECLARE
  c_type        text    := p_commit->>'workflowType';
  c_id          text    := p_commit->>'workflowId';
  c_expected    integer := (p_commit->>'expectedVersion')::integer;
  c_now         bigint  := (p_commit->>'now')::bigint;
  c_count       integer := jsonb_array_length(p_commit->'events');
  c_new         integer := (p_commit->>'expectedVersion')::integer + jsonb_array_length(p_commit->'events');
  c_completed   boolean := (p_commit->>'completed')::boolean;
  c_unique      text    := p_commit->>'uniqueKey';
  c_ack         jsonb   := p_commit->'ack';
  c_dead        boolean := (p_commit->'ack'->>'outcome') = 'dead';
  c_cancel_keys jsonb   := coalesce(p_commit->'cancelEffects', '[]'::jsonb);
  c_cancel_work boolean := coalesce((p_commit->>'cancelWork')::boolean, false);
  v_current     integer;
  v_terminal    boolean;
BEGIN
  o_effects := false;
  o_timers := false;
  SELECT i.version, i.completed INTO v_current, v_terminal
    FROM ${s}.instances i
   WHERE i.workflow_type = c_type AND i.workflow_id = c_id
     FOR UPDATE;

  -- 1. The acknowledged lease must still be held.
  IF c_ack IS NOT NULL THEN
    IF c_ack->>'kind' = 'effect' THEN
      PERFORM 1 FROM ${s}.effects w
        WHERE w.id = c_ack->>'id' AND w.status = 'leased' AND w.lease_token = c_ack->>'token'
          AND w.lease_expires_at > c_now
          FOR UPDATE;
    ELSE
      PERFORM 1 FROM ${s}.timers w
        WHERE w.id = c_ack->>'id' AND w.status = 'leased' AND w.lease_token = c_ack->>'token'
          AND w.lease_expires_at > c_now
          FOR UPDATE;
    END IF;
    IF NOT FOUND THEN
      o_outcome := 'lease-lost';
      RETURN;
    END IF;
  END IF;

  -- 2. The instance must be active and at the expected version.
  IF coalesce(v_current, 0) <> c_expected OR coalesce(v_terminal, false) THEN
    o_outcome := 'version-conflict';
    o_version := coalesce(v_current, 0);
    RETURN;
  END IF;

  -- 3. No new keyed effect may meet a live one (an instance being created has no effects yet).
  IF c_expected > 0 AND NOT c_cancel_work AND jsonb_path_exists(p_commit->'effects', '$[*].key') THEN
    SELECT x.v->>'key' INTO o_holder
      FROM jsonb_array_elements(p_commit->'effects') WITH ORDINALITY AS x(v, n)
     WHERE x.v ? 'key' AND NOT (c_cancel_keys ? (x.v->>'key'))
       AND EXISTS (SELECT 1 FROM ${s}.effects w
                    WHERE w.workflow_type = c_type AND w.workflow_id = c_id AND w.key = x.v->>'key'
                      AND w.status IN ('pending', 'leased')
                      -- The acknowledged effect is settled first, so its key is free again.
                      AND NOT (c_ack IS NOT NULL AND c_ack->>'kind' = 'effect' AND w.id = c_ack->>'id'))
     ORDER BY x.n
     LIMIT 1;
    IF FOUND THEN
      o_outcome := 'effect-key-conflict';
      RETURN;
    END IF;
  END IF;

  -- 4. A new instance must get its unique key.
  IF c_expected = 0 THEN
    -- No conflict target: a concurrent creation (primary key) and an active holder of the unique
    -- key (partial unique index) both make this insert do nothing.
    INSERT INTO ${s}.instances (workflow_type, workflow_id, version, completed, unique_key, parent_type, parent_id, created_at, updated_at)
    VALUES (c_type, c_id, c_new, false, c_unique, p_commit->'parent'->>'type', p_commit->'parent'->>'id', c_now, c_now)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
      SELECT i.version INTO v_current
        FROM ${s}.instances i
       WHERE i.workflow_type = c_type AND i.workflow_id = c_id;
      IF FOUND THEN
        o_outcome := 'version-conflict';
        o_version := v_current;
        RETURN;
      END IF;
      SELECT i.workflow_id INTO o_holder
        FROM ${s}.instances i
       WHERE i.workflow_type = c_type AND i.unique_key = c_unique AND NOT i.completed;
      o_outcome := 'unique-key-conflict';
      RETURN;
    END IF;
    IF c_completed THEN
      UPDATE ${s}.instances i SET completed = true
       WHERE i.workflow_type = c_type AND i.workflow_id = c_id;
    END IF;
  ELSE
    UPDATE ${s}.instances i
       SET version = c_new, completed = c_completed, updated_at = c_now
     WHERE i.workflow_type = c_type AND i.workflow_id = c_id;
  END IF;

  -- Writes, in the order of CommitRequest: acknowledgement, events, effect cancels, effects, timer
  -- cancels, timer schedules, idempotency, snapshot, observation.
  IF c_ack IS NOT NULL THEN
    IF c_ack->>'kind' = 'effect' THEN
      UPDATE ${s}.effects w
         SET status = CASE WHEN c_dead THEN 'dead' ELSE 'done' END,
             last_error = CASE WHEN c_dead THEN c_ack->>'error' ELSE w.last_error END,
             ${UNLEASE}, updated_at = c_now
       WHERE w.id = c_ack->>'id';
    ELSE
      UPDATE ${s}.timers w
         SET status = CASE WHEN c_dead THEN 'dead' ELSE 'fired' END,
             last_error = CASE WHEN c_dead THEN c_ack->>'error' ELSE w.last_error END,
             ${UNLEASE}, updated_at = c_now
       WHERE w.id = c_ack->>'id';
    END IF;
  END IF;

  INSERT INTO ${s}.events (workflow_type, workflow_id, sequence, type, payload, metadata, recorded_at${eventColumns(w)})
  SELECT c_type, c_id, c_expected + e.n::integer, e.v->>'type', (e.v->>'payload')::json,
         (e.v->>'metadata')::json, (e.v->>'recordedAt')::bigint${eventValues(w, 'e.v')}
    FROM jsonb_array_elements(p_commit->'events') WITH ORDINALITY AS e(v, n);

  IF jsonb_array_length(c_cancel_keys) > 0 THEN
    UPDATE ${s}.effects w
       SET status = 'cancelled', ${UNLEASE}, updated_at = c_now
     WHERE w.workflow_type = c_type AND w.workflow_id = c_id AND w.key IS NOT NULL
       AND w.key = ANY (ARRAY(SELECT jsonb_array_elements_text(c_cancel_keys)))
       AND w.status IN ('pending', 'leased');
  END IF;
  IF c_cancel_work THEN
    ${cancelWorkStatement(s, 'effects', liveOf(w), C_VARS)}
    ${cancelWorkStatement(s, 'timers', liveOf(w), C_VARS)}
  END IF;

  -- A new effect or timer whose id is taken fails the statement on its primary key; the client
  -- finds the guilty commit by sending the batch's commits one by one (see commit-batch.ts).
  IF jsonb_array_length(p_commit->'effects') > 0 THEN
  INSERT INTO ${s}.effects (${EFFECT_INSERT_COLUMNS}${w.columns})
  SELECT ${effectValues('x', 'c_type', 'c_id', 'c_now')}${w.values('x')}
    FROM jsonb_array_elements(p_commit->'effects') AS x;
  o_effects := FOUND;
  END IF;

  IF jsonb_array_length(p_commit->'cancelTimers') > 0 THEN
  UPDATE ${s}.timers t
     SET status = 'cancelled', ${UNLEASE}, updated_at = c_now
   WHERE t.workflow_type = c_type AND t.workflow_id = c_id AND t.status IN ('pending', 'leased')
     AND t.key IN (SELECT jsonb_array_elements_text(p_commit->'cancelTimers'));
  END IF;

  IF jsonb_array_length(p_commit->'timers') > 0 THEN
  INSERT INTO ${s}.timers AS t (id, workflow_type, workflow_id, key, fire_at, input, status, attempts,
                                created_at, updated_at, available_at${w.columns})
  SELECT x->>'id', c_type, c_id, x->>'key', (x->>'fireAt')::bigint, (x->>'input')::json, 'pending', 0,
         c_now, c_now, (x->>'fireAt')::bigint${w.values('x')}
    FROM jsonb_array_elements(p_commit->'timers') AS x
  ON CONFLICT (workflow_type, workflow_id, key) WHERE key IS NOT NULL AND status IN ('pending', 'leased')
  DO UPDATE SET fire_at = EXCLUDED.fire_at, input = EXCLUDED.input, available_at = EXCLUDED.available_at,
                status = 'pending', attempts = 0, last_error = NULL, ${UNLEASE},
                created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at${w.rearm};
  o_timers := FOUND;
  END IF;

  IF p_commit->>'idempotencyKey' IS NOT NULL THEN
    INSERT INTO ${s}.idempotency_keys (workflow_type, workflow_id, idempotency_key, version, event_count, committed_at)
    VALUES (c_type, c_id, p_commit->>'idempotencyKey', c_new, c_count, c_now)
    ON CONFLICT DO NOTHING;
  END IF;

  IF p_commit->'snapshot' IS NOT NULL THEN
    INSERT INTO ${s}.snapshots AS sn (workflow_type, workflow_id, version, revision, state, created_at)
    VALUES (c_type, c_id, (p_commit->'snapshot'->>'version')::integer, p_commit->'snapshot'->>'revision',
            (p_commit->'snapshot'->>'state')::json, c_now)
    ON CONFLICT (workflow_type, workflow_id)
    DO UPDATE SET version = EXCLUDED.version, revision = EXCLUDED.revision, state = EXCLUDED.state,
                  created_at = EXCLUDED.created_at;
  END IF;

  IF p_commit->'observation' IS NOT NULL THEN
    INSERT INTO ${s}.observations (workflow_type, workflow_id, input_type, input, outcome, rejection, observed_at)
    VALUES (p_commit->'observation'->>'workflowType', p_commit->'observation'->>'workflowId',
            p_commit->'observation'->>'inputType', (p_commit->'observation'->>'input')::json,
            p_commit->'observation'->>'outcome', (p_commit->'observation'->>'rejection')::json,
            (p_commit->'observation'->>'observedAt')::bigint);
  END IF;

  o_outcome := 'ok';
  o_version := c_new;
END;
$commit_one$;
`;
}

/**
 * How the set-based path of routed results treats a commit that completes its instance with
 * `cancelWork` (the default terminal policy of every completing decision). Versions 4 and 5 send
 * it through commit_one, one call per commit; from version 6 it stays in the set-based path, its
 * instance's other live work cancelled by one UPDATE per table for the batch.
 */
export interface RoutedPath {
  readonly cancelWork: boolean;
}

/** Versions 4 and 5: a commit with cancelWork goes through commit_one. */
const ROUTED_V4: RoutedPath = { cancelWork: false };

/** commit_decisions as the schema version of `w` writes it: a batch of commit documents in one statement. */
export function commitDecisions({ quoted: s, channel }: SchemaName, w: WorkWrites, routed: RoutedPath = ROUTED_V4): string {
  return `
${w.notes.commitDecisions}
CREATE OR REPLACE FUNCTION ${s}.commit_decisions(p_commits jsonb)
RETURNS TABLE (r_index integer, r_outcome text, r_version integer, r_holder text)
LANGUAGE plpgsql
AS $commit_decisions$
DECLARE
  v_commit   jsonb;
  v_position bigint;
  v_effects  boolean;
  v_timers   boolean;
  v_created  integer[];
  v_candidates integer[];
  v_followed integer[];
  v_notify_effects boolean := false;
  v_notify_timers  boolean := false;
BEGIN
  -- Fast path, set-based: creations of a new instance that no other commit of the batch names,
  -- with no acknowledgement, unique key, idempotency key, snapshot, observation or timer cancel.
  -- Nothing else in the batch can see or change what they write, so applying them first gives
  -- every commit the outcome it would have had in array order. A new instance has no work yet, so
  -- its effect cancels and cancelWork have nothing to do. An instance that exists already is not
  -- inserted (ON CONFLICT DO NOTHING): that commit goes through the loop below.
  v_created := '{}';
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_commits) AS x WHERE x->>'expectedVersion' = '0' AND x->'ack' IS NULL) THEN
  WITH c AS (
    SELECT x.value AS doc, (x.ordinality - 1)::integer AS idx,
           x.value->>'workflowType' AS t, x.value->>'workflowId' AS i,
           count(*) OVER (PARTITION BY x.value->>'workflowType', x.value->>'workflowId') AS named
      FROM jsonb_array_elements(p_commits) WITH ORDINALITY AS x
  ), simple AS (
    SELECT c.* FROM c
     WHERE c.named = 1 AND (c.doc->>'expectedVersion')::integer = 0
       AND c.doc->'ack' IS NULL AND c.doc->'uniqueKey' IS NULL AND c.doc->'idempotencyKey' IS NULL
       AND c.doc->'snapshot' IS NULL AND c.doc->'observation' IS NULL
       AND jsonb_array_length(c.doc->'cancelTimers') = 0
  ), created AS (
    INSERT INTO ${s}.instances (workflow_type, workflow_id, version, completed, unique_key, parent_type, parent_id, created_at, updated_at)
    SELECT simple.t, simple.i, jsonb_array_length(simple.doc->'events'), (simple.doc->>'completed')::boolean, NULL,
           simple.doc->'parent'->>'type', simple.doc->'parent'->>'id', (simple.doc->>'now')::bigint, (simple.doc->>'now')::bigint
      FROM simple ORDER BY simple.t, simple.i
    ON CONFLICT DO NOTHING
    RETURNING workflow_type, workflow_id
  ), applied AS (
    SELECT simple.* FROM simple JOIN created ON created.workflow_type = simple.t AND created.workflow_id = simple.i
  ), events AS (
    INSERT INTO ${s}.events (workflow_type, workflow_id, sequence, type, payload, metadata, recorded_at${eventColumns(w)})
    SELECT a.t, a.i, e.n::integer, e.v->>'type', (e.v->>'payload')::json, (e.v->>'metadata')::json, (e.v->>'recordedAt')::bigint${eventValues(w, 'e.v')}
      FROM applied a, jsonb_array_elements(a.doc->'events') WITH ORDINALITY AS e(v, n)
    RETURNING 1
  ), effects AS (
    INSERT INTO ${s}.effects (${EFFECT_INSERT_COLUMNS}${w.columns})
    SELECT ${effectValues('x', 'a.t', 'a.i', "(a.doc->>'now')::bigint")}${w.values('x')}
      FROM applied a, jsonb_array_elements(a.doc->'effects') AS x
    RETURNING 1
  ), timers AS (
    INSERT INTO ${s}.timers (id, workflow_type, workflow_id, key, fire_at, input, status, attempts, created_at, updated_at, available_at${w.columns})
    SELECT x->>'id', a.t, a.i, x->>'key', (x->>'fireAt')::bigint, (x->>'input')::json, 'pending', 0,
           (a.doc->>'now')::bigint, (a.doc->>'now')::bigint, (x->>'fireAt')::bigint${w.values('x')}
      FROM applied a, jsonb_array_elements(a.doc->'timers') AS x
    RETURNING 1
  )
  SELECT coalesce(array_agg(applied.idx), '{}'), EXISTS (SELECT 1 FROM effects), EXISTS (SELECT 1 FROM timers)
    INTO v_created, v_notify_effects, v_notify_timers
    FROM applied;
  PERFORM pg_notify('${channel}', ${ended("p_commits->x.idx->>'workflowType'", "p_commits->x.idx->>'workflowId'", 'completed', "p_commits->x.idx->>'origin'")})
     FROM unnest(v_created) AS x(idx) WHERE (p_commits->x.idx->>'completed')::boolean;
  END IF;
  FOR r_index, r_version IN
    SELECT x.idx, jsonb_array_length(p_commits->x.idx->'events') FROM unnest(v_created) AS x(idx)
  LOOP
    r_outcome := 'ok';
    r_holder := NULL;
    RETURN NEXT;
  END LOOP;

  -- Fast path, set-based: routed results. A commit that acknowledges an effect and appends events
  -- (and maybe effects) to an existing instance, when neither its instance nor its acknowledged
  -- effect is named by another commit of the batch, and it has no idempotency key, snapshot,
  -- observation, ${routed.cancelWork ? 'timer or effect cancel (cancelWork is allowed)' : 'timer, effect cancel or cancelWork'}. Its instance and effect rows are locked
  -- (instances first, as commit_one does), the checks run on the locked rows, and those that pass
  -- are applied with one statement for the batch${routed.cancelWork ? ', after one UPDATE per table for their\n  -- cancelWork' : ''}. Those that fail go through the loop below.
  v_followed := '{}';
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_commits) AS x WHERE x->'ack'->>'kind' = 'effect' AND x->>'expectedVersion' <> '0') THEN
    WITH c AS (
      SELECT x.value AS doc, (x.ordinality - 1)::integer AS idx, x.value->'ack'->>'id' AS ack_id,
             count(*) OVER (PARTITION BY x.value->>'workflowType', x.value->>'workflowId') AS named
        FROM jsonb_array_elements(p_commits) WITH ORDINALITY AS x
    ), acks AS (
      SELECT c.ack_id, count(*) AS n FROM c WHERE c.ack_id IS NOT NULL GROUP BY c.ack_id
    )
    SELECT coalesce(array_agg(c.idx), '{}') INTO v_candidates
      FROM c JOIN acks ON acks.ack_id = c.ack_id
     WHERE c.named = 1 AND acks.n = 1 AND c.doc->'ack'->>'kind' = 'effect' AND (c.doc->>'expectedVersion')::integer > 0
       AND NOT (c.idx = ANY (v_created)) AND c.doc->'idempotencyKey' IS NULL AND c.doc->'snapshot' IS NULL
       AND c.doc->'observation' IS NULL AND c.doc->'uniqueKey' IS NULL
       AND jsonb_array_length(c.doc->'cancelTimers') = 0 AND jsonb_array_length(c.doc->'timers') = 0
       AND coalesce(jsonb_array_length(c.doc->'cancelEffects'), 0) = 0${routed.cancelWork ? ';' : `
       AND NOT coalesce((c.doc->>'cancelWork')::boolean, false);`}
    IF cardinality(v_candidates) > 0 THEN
      PERFORM 1 FROM ${s}.instances i
        JOIN (SELECT p_commits->x.idx AS doc FROM unnest(v_candidates) AS x(idx)) AS c
          ON i.workflow_type = c.doc->>'workflowType' AND i.workflow_id = c.doc->>'workflowId'
       ORDER BY i.workflow_type, i.workflow_id
         FOR UPDATE OF i;
      PERFORM 1 FROM ${s}.effects w
        JOIN (SELECT p_commits->x.idx AS doc FROM unnest(v_candidates) AS x(idx)) AS c ON w.id = c.doc->'ack'->>'id'
       ORDER BY w.id
         FOR UPDATE OF w;
      SELECT coalesce(array_agg(c.idx), '{}') INTO v_followed
        FROM (SELECT x.idx, p_commits->x.idx AS doc FROM unnest(v_candidates) AS x(idx)) AS c
        JOIN ${s}.instances i ON i.workflow_type = c.doc->>'workflowType' AND i.workflow_id = c.doc->>'workflowId'
        JOIN ${s}.effects w ON w.id = c.doc->'ack'->>'id'
       WHERE i.version = (c.doc->>'expectedVersion')::integer AND NOT i.completed AND w.status = 'leased'
         AND w.lease_token = c.doc->'ack'->>'token' AND w.lease_expires_at > (c.doc->>'now')::bigint
         AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(c.doc->'effects') AS x
                           JOIN ${s}.effects k ON k.workflow_type = i.workflow_type AND k.workflow_id = i.workflow_id
                                             AND k.key = x->>'key' AND k.status IN ('pending', 'leased'));
    END IF;
    IF cardinality(v_followed) > 0 THEN${routed.cancelWork ? cancelWorkOfFollowed(s, liveOf(w)) : ''}
      WITH f AS (
        SELECT p_commits->x.idx AS doc, (p_commits->x.idx->>'now')::bigint AS now,
               (p_commits->x.idx->>'expectedVersion')::integer AS expected
          FROM unnest(v_followed) AS x(idx)
      ), acked AS (
        UPDATE ${s}.effects w
           SET status = CASE WHEN f.doc->'ack'->>'outcome' = 'dead' THEN 'dead' ELSE 'done' END,
               last_error = CASE WHEN f.doc->'ack'->>'outcome' = 'dead' THEN f.doc->'ack'->>'error' ELSE w.last_error END,
               ${UNLEASE}, updated_at = f.now
          FROM f WHERE w.id = f.doc->'ack'->>'id'
        RETURNING 1
      ), events AS (
        INSERT INTO ${s}.events (workflow_type, workflow_id, sequence, type, payload, metadata, recorded_at${eventColumns(w)})
        SELECT f.doc->>'workflowType', f.doc->>'workflowId', f.expected + e.n::integer, e.v->>'type', (e.v->>'payload')::json,
               (e.v->>'metadata')::json, (e.v->>'recordedAt')::bigint${eventValues(w, 'e.v')}
          FROM f, jsonb_array_elements(f.doc->'events') WITH ORDINALITY AS e(v, n)
        RETURNING 1
      ), effects AS (
        INSERT INTO ${s}.effects (${EFFECT_INSERT_COLUMNS}${w.columns})
        SELECT ${effectValues('x', "f.doc->>'workflowType'", "f.doc->>'workflowId'", 'f.now')}${w.values('x')}
          FROM f, jsonb_array_elements(f.doc->'effects') AS x
        RETURNING 1
      ), moved AS (
        UPDATE ${s}.instances i
           SET version = f.expected + jsonb_array_length(f.doc->'events'),
               completed = (f.doc->>'completed')::boolean, updated_at = f.now
          FROM f WHERE i.workflow_type = f.doc->>'workflowType' AND i.workflow_id = f.doc->>'workflowId'
        RETURNING 1
      )
      SELECT v_notify_effects OR EXISTS (SELECT 1 FROM effects) INTO v_notify_effects
        FROM (SELECT count(*) FROM acked) AS a, (SELECT count(*) FROM events) AS e, (SELECT count(*) FROM moved) AS m;
      PERFORM pg_notify('${channel}', ${ended("p_commits->x.idx->>'workflowType'", "p_commits->x.idx->>'workflowId'", 'completed', "p_commits->x.idx->>'origin'")})
         FROM unnest(v_followed) AS x(idx) WHERE (p_commits->x.idx->>'completed')::boolean;
      FOR r_index, r_version IN
        SELECT x.idx, (p_commits->x.idx->>'expectedVersion')::integer + jsonb_array_length(p_commits->x.idx->'events')
          FROM unnest(v_followed) AS x(idx)
      LOOP
        r_outcome := 'ok';
        r_holder := NULL;
        RETURN NEXT;
      END LOOP;
    END IF;
  END IF;

  -- Every other commit, one at a time in array order.
  FOR v_commit, v_position IN
    SELECT c.value, c.ordinality FROM jsonb_array_elements(p_commits) WITH ORDINALITY AS c
     WHERE NOT ((c.ordinality - 1)::integer = ANY (v_created)) AND NOT ((c.ordinality - 1)::integer = ANY (v_followed))
     ORDER BY c.ordinality
  LOOP
    SELECT o.o_outcome, o.o_version, o.o_holder, o.o_effects, o.o_timers
      INTO r_outcome, r_version, r_holder, v_effects, v_timers
      FROM ${s}.commit_one(v_commit) o;
    v_notify_effects := v_notify_effects OR coalesce(v_effects, false);
    v_notify_timers := v_notify_timers OR coalesce(v_timers, false);
    IF r_outcome = 'ok' AND (v_commit->>'completed')::boolean THEN
      PERFORM pg_notify('${channel}', ${ended("v_commit->>'workflowType'", "v_commit->>'workflowId'", 'completed', "v_commit->>'origin'")});
    END IF;
    r_index := v_position - 1;
    RETURN NEXT;
  END LOOP;
  IF v_notify_effects THEN
    PERFORM pg_notify('${channel}', 'effect');
  END IF;
  IF v_notify_timers THEN
    PERFORM pg_notify('${channel}', 'timer');
  END IF;
END;
$commit_decisions$;
`;
}

/**
 * cancelWork of the routed results that passed their checks: every other live effect and timer of
 * their instances cancelled, as commit_one does after settling the acknowledgement (which it then
 * no longer counts as live, so it is excluded here by id). A statement of its own before the
 * writes: their new effects are not cancelled, and a row is not updated twice in one statement.
 * The rows are locked by these UPDATEs after their instances, as in commit_one.
 */
function cancelWorkOfFollowed(s: string, live: LiveRows): string {
  return `
      IF EXISTS (SELECT 1 FROM unnest(v_followed) AS x(idx) WHERE coalesce((p_commits->x.idx->>'cancelWork')::boolean, false)) THEN
        ${followedCancelStatement(s, 'effects', live)}
        ${followedCancelStatement(s, 'timers', live)}
      END IF;`;
}

function commitDecision({ quoted: s }: SchemaName): string {
  return `
-- commit_decision (version 1), still called by processes of releases before schema version 3
-- during a rolling deploy, now commits through commit_decisions, so that it keeps the rules of
-- control too (a cancelled instance takes no commit). Its documents have no effect keys, so it
-- never sees an 'effect-key-conflict'.
CREATE OR REPLACE FUNCTION ${s}.commit_decision(p_commit json)
RETURNS TABLE (r_outcome text, r_version integer, r_holder text)
LANGUAGE sql
AS $commit_decision$
  SELECT d.r_outcome, d.r_version, d.r_holder FROM ${s}.commit_decisions(jsonb_build_array(p_commit::jsonb)) AS d
$commit_decision$;
`;
}

/**
 * How one schema version writes settle_leases: the comment and statements that (re)create it, up to
 * and including its CREATE line's start, and whether a release carries availableAt and reason.
 */
export interface SettleWrites {
  /** The text before `<schema>.settle_leases(p_changes jsonb)`: its comment, a DROP if any, `CREATE … FUNCTION `. */
  head(s: string): string;
  /** Releases read `availableAt` and `reason` from their change (version 9). */
  readonly reasons: boolean;
}

/** Version 4's own. */
const SETTLE_V4: SettleWrites = {
  head: (s) => `-- settle_leases, version 4: as version 3, and a change that did not apply says in r_cancelled
-- whether its row was cancelled (its instance was, or a decision cancelled the effect). Processes
-- of the previous release select r_index and r_applied only, which stay as they were.
DROP FUNCTION ${s}.settle_leases(jsonb);
CREATE FUNCTION `,
  reasons: false,
};

/** settle_leases as the schema version of `v` writes it: an array of fenced lease changes in one statement. */
export function settleLeases({ quoted: s, channel }: SchemaName, v: SettleWrites): string {
  // A change that did not apply reports whether its row is cancelled. Each statement of a PL/pgSQL
  // function reads a new snapshot, so a cancellation the change waited for is seen here.
  const cancelled = (id: string, kind: string) => `(CASE ${kind} WHEN 'effect'
        THEN EXISTS (SELECT 1 FROM ${s}.effects c WHERE c.id = ${id} AND c.status = 'cancelled')
        ELSE EXISTS (SELECT 1 FROM ${s}.timers c WHERE c.id = ${id} AND c.status = 'cancelled') END)`;
  return `
${v.head(s)}${s}.settle_leases(p_changes jsonb)
RETURNS TABLE (r_index integer, r_applied boolean, r_cancelled boolean)
LANGUAGE plpgsql
AS $settle_leases$
DECLARE
  v_change   jsonb;
  v_position bigint;
  v_op       text;
  v_id       text;
  v_token    text;
  v_now      bigint;
  v_notify_effects boolean := false;
  v_notify_timers  boolean := false;
  v_applied  integer[];
BEGIN
  -- Fast path, set-based: when no row is named twice, the changes are independent of each other
  -- and one UPDATE per table applies them all, with the fencing and the writes of the loop below.
  IF (SELECT count(*) = count(DISTINCT (x->>'kind', x->>'id')) FROM jsonb_array_elements(p_changes) AS x) THEN
    WITH ch AS (
      SELECT x.value AS d, (x.ordinality - 1)::integer AS idx, x.value->>'kind' AS kind, x.value->>'op' AS op,
             x.value->>'id' AS id, x.value->>'token' AS token, (x.value->>'now')::bigint AS now
        FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS x
    ), effects AS (
${settleSet(`${s}.effects`, 'effect', 'done', v.reasons)}
    ), timers AS (
${settleSet(`${s}.timers`, 'timer', 'fired', v.reasons)}
    ), settled AS (
      SELECT * FROM effects UNION ALL SELECT * FROM timers
    )
    SELECT coalesce(array_agg(settled.idx), '{}'),
           coalesce(bool_or(settled.op = 'release' AND settled.kind = 'effect'), false),
           coalesce(bool_or(settled.op = 'release' AND settled.kind = 'timer'), false)
      INTO v_applied, v_notify_effects, v_notify_timers
      FROM settled;
    RETURN QUERY
      SELECT (x.ordinality - 1)::integer, a.applied, NOT a.applied AND ${cancelled("x.value->>'id'", "x.value->>'kind'")}
        FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS x
       CROSS JOIN LATERAL (SELECT (x.ordinality - 1)::integer = ANY (v_applied) AS applied) AS a;
  ELSE
  FOR v_change, v_position IN
    SELECT c.value, c.ordinality FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS c
  LOOP
    v_op := v_change->>'op';
    v_id := v_change->>'id';
    v_token := v_change->>'token';
    v_now := (v_change->>'now')::bigint;
    IF v_change->>'kind' = 'effect' THEN
${settleBranch(`${s}.effects`, 'done', v.reasons)}
    ELSE
${settleBranch(`${s}.timers`, 'fired', v.reasons)}
    END IF;
    r_applied := FOUND;
    r_cancelled := NOT r_applied AND ${cancelled('v_id', "v_change->>'kind'")};
    IF r_applied AND v_op = 'release' THEN
      IF v_change->>'kind' = 'effect' THEN
        v_notify_effects := true;
      ELSE
        v_notify_timers := true;
      END IF;
    END IF;
    r_index := v_position - 1;
    RETURN NEXT;
  END LOOP;
  END IF;
  IF v_notify_effects THEN
    PERFORM pg_notify('${channel}', 'effect');
  END IF;
  IF v_notify_timers THEN
    PERFORM pg_notify('${channel}', 'timer');
  END IF;
END;
$settle_leases$;
`;
}

/** cancel_instance's parameters naming the instance, the time and the reason. */
const P_VARS = { type: 'p_type', id: 'p_id', now: 'p_now', reason: 'p_reason' };

/** cancel_instance as the schema version of `w` writes it: an instance and its live work cancelled in one call. */
export function cancelInstance({ quoted: s, channel }: SchemaName, w: WorkWrites): string {
  return `
${w.notes.cancelInstance}
CREATE OR REPLACE FUNCTION ${s}.cancel_instance(p_type text, p_id text, p_now bigint, p_reason text, p_effects jsonb, p_origin text,
                                                OUT o_cancelled boolean, OUT o_effects integer, OUT o_timers integer)
LANGUAGE plpgsql
AS $cancel_instance$
BEGIN
  o_effects := 0;
  o_timers := 0;
  UPDATE ${s}.instances i SET completed = true, cancel_reason = p_reason, updated_at = p_now
   WHERE i.workflow_type = p_type AND i.workflow_id = p_id AND NOT i.completed;
  o_cancelled := FOUND;
  IF NOT o_cancelled THEN
    RETURN;
  END IF;
  ${cancelInstanceWorkStatement(s, 'effects', liveOf(w), P_VARS)}
  GET DIAGNOSTICS o_effects = ROW_COUNT;
  ${cancelInstanceWorkStatement(s, 'timers', liveOf(w), P_VARS)}
  GET DIAGNOSTICS o_timers = ROW_COUNT;
  IF jsonb_array_length(p_effects) > 0 THEN
    INSERT INTO ${s}.effects (${EFFECT_INSERT_COLUMNS}${w.columns})
    SELECT ${effectValues('x', 'p_type', 'p_id', 'p_now')}${w.values('x')}
      FROM jsonb_array_elements(p_effects) AS x;
    PERFORM pg_notify('${channel}', 'effect');
  END IF;
  PERFORM pg_notify('${channel}', ${ended('p_type', 'p_id', 'cancelled', 'p_origin')});
END;
$cancel_instance$;
`;
}
