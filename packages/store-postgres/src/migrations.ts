// The versioned schema of the store. A migration is never edited once released: changes go in a
// new version. Each one runs inside the migration transaction (see migrate.ts).
import { controlMigration } from './migration-control.js';
import { feedMigration } from './migration-feed.js';
import { liveWorkMigration } from './migration-live.js';
import { projectionsMigration } from './migration-projections.js';
import { routedMigration } from './migration-routed.js';
import { traceMigration } from './migration-trace.js';
import { versionsMigration } from './migration-versions.js';
import type { SchemaName } from './schema-name.js';
import { settleBranch, settleSet } from './settle-sql.js';

/** One schema version: its number, a short name and its DDL for a given schema. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  sql(schema: SchemaName): string;
}

/** Tables, indexes and the commit function (version 1). */
const initial: Migration = {
  version: 1,
  name: 'initial schema',
  sql: ({ quoted: s, channel }) => `
-- Instances: one row per workflow instance; "version" is the number of events.
CREATE TABLE ${s}.instances (
  workflow_type text COLLATE "C" NOT NULL,
  workflow_id   text COLLATE "C" NOT NULL,
  version       integer NOT NULL CHECK (version > 0),
  completed     boolean NOT NULL DEFAULT false,
  unique_key    text COLLATE "C",
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL,
  PRIMARY KEY (workflow_type, workflow_id)
);
-- At most one active (not completed) instance per (type, unique key); completion releases it.
CREATE UNIQUE INDEX instances_active_unique_key_idx ON ${s}.instances (workflow_type, unique_key)
  WHERE unique_key IS NOT NULL AND NOT completed;
CREATE INDEX instances_updated_at_idx ON ${s}.instances (updated_at DESC, workflow_type, workflow_id);

-- Events: append-only, sequences 1, 2, 3... per instance. json (not jsonb) keeps payloads byte for byte.
CREATE TABLE ${s}.events (
  workflow_type text COLLATE "C" NOT NULL,
  workflow_id   text COLLATE "C" NOT NULL,
  sequence      integer NOT NULL CHECK (sequence > 0),
  type          text NOT NULL,
  payload       json NOT NULL,
  metadata      json NOT NULL,
  recorded_at   bigint NOT NULL,
  PRIMARY KEY (workflow_type, workflow_id, sequence)
);

-- The latest snapshot of an instance.
CREATE TABLE ${s}.snapshots (
  workflow_type text COLLATE "C" NOT NULL,
  workflow_id   text COLLATE "C" NOT NULL,
  version       integer NOT NULL,
  revision      text NOT NULL,
  state         json NOT NULL,
  created_at    bigint NOT NULL,
  PRIMARY KEY (workflow_type, workflow_id)
);

-- Inbound idempotency keys, scoped per instance.
CREATE TABLE ${s}.idempotency_keys (
  workflow_type   text COLLATE "C" NOT NULL,
  workflow_id     text COLLATE "C" NOT NULL,
  idempotency_key text COLLATE "C" NOT NULL,
  version         integer NOT NULL,
  event_count     integer NOT NULL,
  committed_at    bigint NOT NULL,
  PRIMARY KEY (workflow_type, workflow_id, idempotency_key)
);

-- The outbox. Claimable rows (pending, or leased with an expired lease) are served by a partial
-- index in claim order, so claims stay cheap however many done rows accumulate.
CREATE TABLE ${s}.effects (
  id               text COLLATE "C" PRIMARY KEY,
  workflow_type    text COLLATE "C" NOT NULL,
  workflow_id      text COLLATE "C" NOT NULL,
  payload          json NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending', 'leased', 'done', 'dead')),
  attempts         integer NOT NULL DEFAULT 0,
  last_error       text,
  created_at       bigint NOT NULL,
  updated_at       bigint NOT NULL,
  available_at     bigint NOT NULL,
  lease_owner      text,
  lease_token      text,
  lease_expires_at bigint,
  CHECK ((status = 'leased') = (lease_token IS NOT NULL AND lease_expires_at IS NOT NULL))
);
CREATE INDEX effects_claimable_idx ON ${s}.effects (available_at, id) WHERE status IN ('pending', 'leased');
CREATE INDEX effects_instance_idx ON ${s}.effects (workflow_type, workflow_id, created_at, id);
CREATE INDEX effects_dead_idx ON ${s}.effects (updated_at DESC, id) WHERE status = 'dead';
CREATE INDEX effects_done_idx ON ${s}.effects (updated_at) WHERE status = 'done';

-- Durable timers; at most one pending or leased timer per (instance, key).
CREATE TABLE ${s}.timers (
  id               text COLLATE "C" PRIMARY KEY,
  workflow_type    text COLLATE "C" NOT NULL,
  workflow_id      text COLLATE "C" NOT NULL,
  key              text COLLATE "C",
  fire_at          bigint NOT NULL,
  input            json NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending', 'leased', 'fired', 'dead', 'cancelled')),
  attempts         integer NOT NULL DEFAULT 0,
  last_error       text,
  created_at       bigint NOT NULL,
  updated_at       bigint NOT NULL,
  available_at     bigint NOT NULL,
  lease_owner      text,
  lease_token      text,
  lease_expires_at bigint,
  CHECK ((status = 'leased') = (lease_token IS NOT NULL AND lease_expires_at IS NOT NULL))
);
CREATE INDEX timers_claimable_idx ON ${s}.timers (available_at, id) WHERE status IN ('pending', 'leased');
CREATE UNIQUE INDEX timers_active_key_idx ON ${s}.timers (workflow_type, workflow_id, key)
  WHERE key IS NOT NULL AND status IN ('pending', 'leased');
CREATE INDEX timers_instance_idx ON ${s}.timers (workflow_type, workflow_id, created_at, id);
CREATE INDEX timers_dead_idx ON ${s}.timers (updated_at DESC, id) WHERE status = 'dead';
CREATE INDEX timers_settled_idx ON ${s}.timers (updated_at) WHERE status IN ('fired', 'cancelled');

-- One row per observed input outcome, in the order recorded.
CREATE TABLE ${s}.observations (
  position      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workflow_type text COLLATE "C" NOT NULL,
  workflow_id   text COLLATE "C" NOT NULL,
  input_type    text NOT NULL,
  input         json NOT NULL,
  outcome       text NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'already-completed')),
  rejection     json,
  observed_at   bigint NOT NULL
);
CREATE INDEX observations_instance_idx ON ${s}.observations (workflow_type, workflow_id, position);

-- Applies one decision (see CommitRequest in @ironflow/core) in one call: checks, then writes, all
-- in the caller's statement, so a failed check writes nothing. The argument is one json document
-- whose JSON values (payloads, inputs, states) are embedded as JSON text, so that no string in it
-- is ever unescaped by PostgreSQL (json keeps "\\u0000"; text cannot). Locks the instance row
-- before the acknowledged row, always in that order, so concurrent commits cannot deadlock.
-- Returns one row: ('ok', new version), ('lease-lost'), ('version-conflict', actual version) or
-- ('unique-key-conflict', NULL, holder id).
CREATE FUNCTION ${s}.commit_decision(p_commit json)
RETURNS TABLE (r_outcome text, r_version integer, r_holder text)
LANGUAGE plpgsql
AS $commit$
DECLARE
  c_type      text    := p_commit->>'workflowType';
  c_id        text    := p_commit->>'workflowId';
  c_expected  integer := (p_commit->>'expectedVersion')::integer;
  c_now       bigint  := (p_commit->>'now')::bigint;
  c_count     integer := json_array_length(p_commit->'events');
  c_new       integer := (p_commit->>'expectedVersion')::integer + json_array_length(p_commit->'events');
  c_completed boolean := (p_commit->>'completed')::boolean;
  c_unique    text    := p_commit->>'uniqueKey';
  c_ack       json    := p_commit->'ack';
  c_dead      boolean := (p_commit->'ack'->>'outcome') = 'dead';
  v_current   integer;
  v_holder    text;
BEGIN
  SELECT i.version INTO v_current
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
      RETURN QUERY SELECT 'lease-lost'::text, NULL::integer, NULL::text;
      RETURN;
    END IF;
  END IF;

  -- 2. The instance must be at the expected version; 3. a new instance must get its unique key.
  IF coalesce(v_current, 0) <> c_expected THEN
    RETURN QUERY SELECT 'version-conflict'::text, coalesce(v_current, 0), NULL::text;
    RETURN;
  END IF;
  IF c_expected = 0 THEN
    -- No conflict target: a concurrent creation (primary key) and an active holder of the unique
    -- key (partial unique index) both make this insert do nothing.
    INSERT INTO ${s}.instances (workflow_type, workflow_id, version, completed, unique_key, created_at, updated_at)
    VALUES (c_type, c_id, c_new, false, c_unique, c_now, c_now)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
      SELECT i.version INTO v_current
        FROM ${s}.instances i
       WHERE i.workflow_type = c_type AND i.workflow_id = c_id;
      IF FOUND THEN
        RETURN QUERY SELECT 'version-conflict'::text, v_current, NULL::text;
        RETURN;
      END IF;
      SELECT i.workflow_id INTO v_holder
        FROM ${s}.instances i
       WHERE i.workflow_type = c_type AND i.unique_key = c_unique AND NOT i.completed;
      RETURN QUERY SELECT 'unique-key-conflict'::text, NULL::integer, v_holder;
      RETURN;
    END IF;
    IF c_completed THEN
      UPDATE ${s}.instances i SET completed = true
       WHERE i.workflow_type = c_type AND i.workflow_id = c_id;
    END IF;
  ELSE
    UPDATE ${s}.instances i
       SET version = c_new, completed = i.completed OR c_completed, updated_at = c_now
     WHERE i.workflow_type = c_type AND i.workflow_id = c_id;
  END IF;

  -- Writes, in the order of CommitRequest: acknowledgement, events, effects, timer cancels, timer
  -- schedules, idempotency, snapshot, observation.
  IF c_ack IS NOT NULL THEN
    IF c_ack->>'kind' = 'effect' THEN
      UPDATE ${s}.effects w
         SET status = CASE WHEN c_dead THEN 'dead' ELSE 'done' END,
             last_error = CASE WHEN c_dead THEN c_ack->>'error' ELSE w.last_error END,
             lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = c_now
       WHERE w.id = c_ack->>'id';
    ELSE
      UPDATE ${s}.timers w
         SET status = CASE WHEN c_dead THEN 'dead' ELSE 'fired' END,
             last_error = CASE WHEN c_dead THEN c_ack->>'error' ELSE w.last_error END,
             lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = c_now
       WHERE w.id = c_ack->>'id';
    END IF;
  END IF;

  INSERT INTO ${s}.events (workflow_type, workflow_id, sequence, type, payload, metadata, recorded_at)
  SELECT c_type, c_id, c_expected + e.n::integer, e.v->>'type', (e.v->>'payload')::json,
         (e.v->>'metadata')::json, (e.v->>'recordedAt')::bigint
    FROM json_array_elements(p_commit->'events') WITH ORDINALITY AS e(v, n);

  INSERT INTO ${s}.effects (id, workflow_type, workflow_id, payload, status, attempts, created_at, updated_at, available_at)
  SELECT x->>'id', c_type, c_id, (x->>'payload')::json, 'pending', 0, c_now, c_now, c_now
    FROM json_array_elements(p_commit->'effects') AS x;
  IF FOUND THEN
    PERFORM pg_notify('${channel}', 'effect');
  END IF;

  UPDATE ${s}.timers t
     SET status = 'cancelled', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = c_now
   WHERE t.workflow_type = c_type AND t.workflow_id = c_id AND t.status IN ('pending', 'leased')
     AND t.key IN (SELECT json_array_elements_text(p_commit->'cancelTimers'));

  INSERT INTO ${s}.timers AS t (id, workflow_type, workflow_id, key, fire_at, input, status, attempts,
                                created_at, updated_at, available_at)
  SELECT x->>'id', c_type, c_id, x->>'key', (x->>'fireAt')::bigint, (x->>'input')::json, 'pending', 0,
         c_now, c_now, (x->>'fireAt')::bigint
    FROM json_array_elements(p_commit->'timers') AS x
  ON CONFLICT (workflow_type, workflow_id, key) WHERE key IS NOT NULL AND status IN ('pending', 'leased')
  DO UPDATE SET fire_at = EXCLUDED.fire_at, input = EXCLUDED.input, available_at = EXCLUDED.available_at,
                status = 'pending', attempts = 0, last_error = NULL, lease_owner = NULL, lease_token = NULL,
                lease_expires_at = NULL, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at;
  IF FOUND THEN
    PERFORM pg_notify('${channel}', 'timer');
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

  RETURN QUERY SELECT 'ok'::text, c_new, NULL::text;
END;
$commit$;
`,
};

/**
 * Claim indexes led by the workflow type (version 2). A claim names its types, so one ordered
 * walk per type of `(workflow_type, available_at, id)` finds the oldest claimable rows whatever
 * the statistics say; the version 1 indexes led by `available_at` let the planner pick a bitmap
 * scan and a sort of every pending row on tables not yet analysed.
 */
const claimIndexesByType: Migration = {
  version: 2,
  name: 'claim indexes by workflow type',
  // IF NOT EXISTS: an operator may build them beforehand with CREATE INDEX CONCURRENTLY, which
  // cannot run in the migration's transaction, so that the migration does not block writes.
  sql: ({ quoted: s }) => `
CREATE INDEX IF NOT EXISTS effects_claimable_by_type_idx ON ${s}.effects (workflow_type, available_at, id)
  WHERE status IN ('pending', 'leased');
DROP INDEX ${s}.effects_claimable_idx;
CREATE INDEX IF NOT EXISTS timers_claimable_by_type_idx ON ${s}.timers (workflow_type, available_at, id)
  WHERE status IN ('pending', 'leased');
DROP INDEX ${s}.timers_claimable_idx;
`,
};

/**
 * Group commit and batched settlement (version 3): `commit_decisions` applies an array of commits
 * and `settle_leases` an array of fenced lease changes, each in one statement (one transaction,
 * one WAL flush, at most one NOTIFY per kind) instead of one per item.
 */
const batches: Migration = {
  version: 3,
  name: 'group commit and batched settlement',
  sql: ({ quoted: s, channel }) => `
-- The checks and writes of commit_decision (version 1) for one commit, without its NOTIFYs:
-- the caller notifies once for all the commits of its statement, as NOTIFY serialises the commits
-- of notifying transactions. As there, every check runs before the first write, so a failed
-- check writes nothing and no EXCEPTION block (a subtransaction each) is needed. o_effects and
-- o_timers tell whether the commit wrote effects or timers (scheduled or re-armed).
CREATE FUNCTION ${s}.commit_one(p_commit jsonb, OUT o_outcome text, OUT o_version integer, OUT o_holder text,
                                OUT o_effects boolean, OUT o_timers boolean)
LANGUAGE plpgsql
AS $commit_one$
DECLARE
  c_type      text    := p_commit->>'workflowType';
  c_id        text    := p_commit->>'workflowId';
  c_expected  integer := (p_commit->>'expectedVersion')::integer;
  c_now       bigint  := (p_commit->>'now')::bigint;
  c_count     integer := jsonb_array_length(p_commit->'events');
  c_new       integer := (p_commit->>'expectedVersion')::integer + jsonb_array_length(p_commit->'events');
  c_completed boolean := (p_commit->>'completed')::boolean;
  c_unique    text    := p_commit->>'uniqueKey';
  c_ack       jsonb   := p_commit->'ack';
  c_dead      boolean := (p_commit->'ack'->>'outcome') = 'dead';
  v_current   integer;
BEGIN
  o_effects := false;
  o_timers := false;
  SELECT i.version INTO v_current
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

  -- 2. The instance must be at the expected version; 3. a new instance must get its unique key.
  IF coalesce(v_current, 0) <> c_expected THEN
    o_outcome := 'version-conflict';
    o_version := coalesce(v_current, 0);
    RETURN;
  END IF;
  IF c_expected = 0 THEN
    -- No conflict target: a concurrent creation (primary key) and an active holder of the unique
    -- key (partial unique index) both make this insert do nothing.
    INSERT INTO ${s}.instances (workflow_type, workflow_id, version, completed, unique_key, created_at, updated_at)
    VALUES (c_type, c_id, c_new, false, c_unique, c_now, c_now)
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
       SET version = c_new, completed = i.completed OR c_completed, updated_at = c_now
     WHERE i.workflow_type = c_type AND i.workflow_id = c_id;
  END IF;

  -- Writes, in the order of CommitRequest: acknowledgement, events, effects, timer cancels, timer
  -- schedules, idempotency, snapshot, observation.
  IF c_ack IS NOT NULL THEN
    IF c_ack->>'kind' = 'effect' THEN
      UPDATE ${s}.effects w
         SET status = CASE WHEN c_dead THEN 'dead' ELSE 'done' END,
             last_error = CASE WHEN c_dead THEN c_ack->>'error' ELSE w.last_error END,
             lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = c_now
       WHERE w.id = c_ack->>'id';
    ELSE
      UPDATE ${s}.timers w
         SET status = CASE WHEN c_dead THEN 'dead' ELSE 'fired' END,
             last_error = CASE WHEN c_dead THEN c_ack->>'error' ELSE w.last_error END,
             lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = c_now
       WHERE w.id = c_ack->>'id';
    END IF;
  END IF;

  INSERT INTO ${s}.events (workflow_type, workflow_id, sequence, type, payload, metadata, recorded_at)
  SELECT c_type, c_id, c_expected + e.n::integer, e.v->>'type', (e.v->>'payload')::json,
         (e.v->>'metadata')::json, (e.v->>'recordedAt')::bigint
    FROM jsonb_array_elements(p_commit->'events') WITH ORDINALITY AS e(v, n);

  -- A new effect or timer whose id is taken fails the statement on its primary key; the client
  -- finds the guilty commit by sending the batch's commits one by one (see commit-batch.ts).
  IF jsonb_array_length(p_commit->'effects') > 0 THEN
  INSERT INTO ${s}.effects (id, workflow_type, workflow_id, payload, status, attempts, created_at, updated_at, available_at)
  SELECT x->>'id', c_type, c_id, (x->>'payload')::json, 'pending', 0, c_now, c_now, c_now
    FROM jsonb_array_elements(p_commit->'effects') AS x;
  o_effects := FOUND;
  END IF;

  IF jsonb_array_length(p_commit->'cancelTimers') > 0 THEN
  UPDATE ${s}.timers t
     SET status = 'cancelled', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = c_now
   WHERE t.workflow_type = c_type AND t.workflow_id = c_id AND t.status IN ('pending', 'leased')
     AND t.key IN (SELECT jsonb_array_elements_text(p_commit->'cancelTimers'));
  END IF;

  IF jsonb_array_length(p_commit->'timers') > 0 THEN
  INSERT INTO ${s}.timers AS t (id, workflow_type, workflow_id, key, fire_at, input, status, attempts,
                                created_at, updated_at, available_at)
  SELECT x->>'id', c_type, c_id, x->>'key', (x->>'fireAt')::bigint, (x->>'input')::json, 'pending', 0,
         c_now, c_now, (x->>'fireAt')::bigint
    FROM jsonb_array_elements(p_commit->'timers') AS x
  ON CONFLICT (workflow_type, workflow_id, key) WHERE key IS NOT NULL AND status IN ('pending', 'leased')
  DO UPDATE SET fire_at = EXCLUDED.fire_at, input = EXCLUDED.input, available_at = EXCLUDED.available_at,
                status = 'pending', attempts = 0, last_error = NULL, lease_owner = NULL, lease_token = NULL,
                lease_expires_at = NULL, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at;
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

-- Group commit: applies a json array of commit documents (commit_decision's argument) in array
-- order, each with commit_one, all in the caller's statement, so a later commit sees the writes
-- of an earlier one and the whole batch costs one transaction. Returns one row per commit,
-- r_index being its 0-based position in the array. Sends at most one NOTIFY per kind. Callers
-- send the commits sorted by (workflow_type, workflow_id), so that concurrent batches lock
-- instance rows in one order and cannot deadlock over them.
-- commit_decision(json) stays: processes of the previous release call it during a rolling
-- deploy. A later migration may drop it once no release calls it.
CREATE FUNCTION ${s}.commit_decisions(p_commits jsonb)
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
  -- Nothing else in the batch can see or change what they write, so applying them first, all in
  -- three INSERTs, gives every commit the outcome it would have had in array order. An instance
  -- that exists already is not inserted (ON CONFLICT DO NOTHING): that commit goes through the
  -- loop below, which reports its version conflict. Batches of routed results and other
  -- follow-up commits have no candidate; they skip the statement.
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
    INSERT INTO ${s}.instances (workflow_type, workflow_id, version, completed, unique_key, created_at, updated_at)
    SELECT simple.t, simple.i, jsonb_array_length(simple.doc->'events'), (simple.doc->>'completed')::boolean, NULL,
           (simple.doc->>'now')::bigint, (simple.doc->>'now')::bigint
      FROM simple ORDER BY simple.t, simple.i
    ON CONFLICT DO NOTHING
    RETURNING workflow_type, workflow_id
  ), applied AS (
    SELECT simple.* FROM simple JOIN created ON created.workflow_type = simple.t AND created.workflow_id = simple.i
  ), events AS (
    INSERT INTO ${s}.events (workflow_type, workflow_id, sequence, type, payload, metadata, recorded_at)
    SELECT a.t, a.i, e.n::integer, e.v->>'type', (e.v->>'payload')::json, (e.v->>'metadata')::json, (e.v->>'recordedAt')::bigint
      FROM applied a, jsonb_array_elements(a.doc->'events') WITH ORDINALITY AS e(v, n)
    RETURNING 1
  ), effects AS (
    INSERT INTO ${s}.effects (id, workflow_type, workflow_id, payload, status, attempts, created_at, updated_at, available_at)
    SELECT x->>'id', a.t, a.i, (x->>'payload')::json, 'pending', 0, (a.doc->>'now')::bigint, (a.doc->>'now')::bigint, (a.doc->>'now')::bigint
      FROM applied a, jsonb_array_elements(a.doc->'effects') AS x
    RETURNING 1
  ), timers AS (
    INSERT INTO ${s}.timers (id, workflow_type, workflow_id, key, fire_at, input, status, attempts, created_at, updated_at, available_at)
    SELECT x->>'id', a.t, a.i, x->>'key', (x->>'fireAt')::bigint, (x->>'input')::json, 'pending', 0,
           (a.doc->>'now')::bigint, (a.doc->>'now')::bigint, (x->>'fireAt')::bigint
      FROM applied a, jsonb_array_elements(a.doc->'timers') AS x
    RETURNING 1
  )
  SELECT coalesce(array_agg(applied.idx), '{}'), EXISTS (SELECT 1 FROM effects), EXISTS (SELECT 1 FROM timers)
    INTO v_created, v_notify_effects, v_notify_timers
    FROM applied;
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
  -- observation or timer. Its instance and effect rows are locked (instances first, as commit_one
  -- does), the checks run on the locked rows, and those that pass are applied with one statement
  -- for the batch. Those that fail go through the loop below, which reports why.
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
       AND jsonb_array_length(c.doc->'cancelTimers') = 0 AND jsonb_array_length(c.doc->'timers') = 0;
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
       WHERE i.version = (c.doc->>'expectedVersion')::integer AND w.status = 'leased'
         AND w.lease_token = c.doc->'ack'->>'token' AND w.lease_expires_at > (c.doc->>'now')::bigint;
    END IF;
    IF cardinality(v_followed) > 0 THEN
      WITH f AS (
        SELECT p_commits->x.idx AS doc, (p_commits->x.idx->>'now')::bigint AS now,
               (p_commits->x.idx->>'expectedVersion')::integer AS expected
          FROM unnest(v_followed) AS x(idx)
      ), acked AS (
        UPDATE ${s}.effects w
           SET status = CASE WHEN f.doc->'ack'->>'outcome' = 'dead' THEN 'dead' ELSE 'done' END,
               last_error = CASE WHEN f.doc->'ack'->>'outcome' = 'dead' THEN f.doc->'ack'->>'error' ELSE w.last_error END,
               lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = f.now
          FROM f WHERE w.id = f.doc->'ack'->>'id'
        RETURNING 1
      ), events AS (
        INSERT INTO ${s}.events (workflow_type, workflow_id, sequence, type, payload, metadata, recorded_at)
        SELECT f.doc->>'workflowType', f.doc->>'workflowId', f.expected + e.n::integer, e.v->>'type', (e.v->>'payload')::json,
               (e.v->>'metadata')::json, (e.v->>'recordedAt')::bigint
          FROM f, jsonb_array_elements(f.doc->'events') WITH ORDINALITY AS e(v, n)
        RETURNING 1
      ), effects AS (
        INSERT INTO ${s}.effects (id, workflow_type, workflow_id, payload, status, attempts, created_at, updated_at, available_at)
        SELECT x->>'id', f.doc->>'workflowType', f.doc->>'workflowId', (x->>'payload')::json, 'pending', 0, f.now, f.now, f.now
          FROM f, jsonb_array_elements(f.doc->'effects') AS x
        RETURNING 1
      ), moved AS (
        UPDATE ${s}.instances i
           SET version = f.expected + jsonb_array_length(f.doc->'events'),
               completed = i.completed OR (f.doc->>'completed')::boolean, updated_at = f.now
          FROM f WHERE i.workflow_type = f.doc->>'workflowType' AND i.workflow_id = f.doc->>'workflowId'
        RETURNING 1
      )
      SELECT v_notify_effects OR EXISTS (SELECT 1 FROM effects) INTO v_notify_effects
        FROM (SELECT count(*) FROM acked) AS a, (SELECT count(*) FROM events) AS e, (SELECT count(*) FROM moved) AS m;
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

-- Batched settlement: applies a json array of fenced lease changes in array order, each exactly
-- as the single statement of its op in sql.ts (leased, with this token, unexpired at now), all in
-- the caller's statement. Each change is {kind, op, id, token, now} plus expiresAt (renew),
-- retryAt and error (retry) or error (dead). Returns one row per change: r_index, its 0-based
-- position, and r_applied. Released work notifies once per kind. Callers send the changes sorted
-- by (kind, id), so that concurrent batches lock rows in one order.
CREATE FUNCTION ${s}.settle_leases(p_changes jsonb)
RETURNS TABLE (r_index integer, r_applied boolean)
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
${settleSet(`${s}.effects`, 'effect', 'done')}
    ), timers AS (
${settleSet(`${s}.timers`, 'timer', 'fired')}
    ), settled AS (
      SELECT * FROM effects UNION ALL SELECT * FROM timers
    )
    SELECT coalesce(array_agg(settled.idx), '{}'),
           coalesce(bool_or(settled.op = 'release' AND settled.kind = 'effect'), false),
           coalesce(bool_or(settled.op = 'release' AND settled.kind = 'timer'), false)
      INTO v_applied, v_notify_effects, v_notify_timers
      FROM settled;
    RETURN QUERY SELECT g.i, g.i = ANY (v_applied) FROM generate_series(0, jsonb_array_length(p_changes) - 1) AS g(i);
  ELSE
  FOR v_change, v_position IN
    SELECT c.value, c.ordinality FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS c
  LOOP
    v_op := v_change->>'op';
    v_id := v_change->>'id';
    v_token := v_change->>'token';
    v_now := (v_change->>'now')::bigint;
    IF v_change->>'kind' = 'effect' THEN
${settleBranch(`${s}.effects`, 'done')}
    ELSE
${settleBranch(`${s}.timers`, 'fired')}
    END IF;
    r_applied := FOUND;
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
`,
};

/** Every migration, in version order. */
export const MIGRATIONS: readonly Migration[] = [initial, claimIndexesByType, batches, controlMigration, traceMigration, routedMigration, feedMigration, projectionsMigration, versionsMigration, liveWorkMigration];
