// The global event feed over the events table's (tx, position) order (schema version 7): a read
// (or a lag count) sees only events of transactions below the snapshot's xmin, every one of which
// has ended, so no event can later appear before a position a reader has passed. Positions are
// "<tx>.<position>".
import { badFeedPosition, type FeedEvent, type FeedPage } from '@ironflow/core/store';
import { Row, versionOf, withSchemaVersion } from './rows.js';

/** A decoded feed position: the transaction id (xid8) and the row's position, as decimal text. */
export interface FeedKey {
  readonly tx: string;
  readonly position: string;
}

/** Before every event: transaction ids of real transactions start at 3. */
export const FEED_START: FeedKey = { tx: '0', position: '0' };

const UINT64_MAX = 2n ** 64n - 1n;
const INT64_MAX = 2n ** 63n - 1n;
const POSITION = /^(0|[1-9][0-9]{0,19})\.(0|[1-9][0-9]{0,18})$/;

/**
 * How many rows a filtered read looks at, per event it may return: a filter that matches little
 * still answers quickly, with `next` past the rows it looked at, instead of walking the table.
 */
export const FEED_SCAN_FACTOR = 2;

/** The text of a position. */
export function encodeFeedPosition(key: FeedKey): string {
  return `${key.tx}.${key.position}`;
}

/**
 * The key a position stands for; `badFeedPosition` for any text this store does not write, naming
 * the argument `what` (`query.after` unless told: `save.position`, `reset.position`, …).
 */
export function decodeFeedPosition(text: string, what?: string): FeedKey {
  const match = POSITION.exec(text);
  if (match === null) throw badFeedPosition(text, 'the PostgreSQL store writes "<transaction id>.<position>" in decimal', what);
  const [, tx, position] = match as unknown as [string, string, string];
  if (BigInt(tx) > UINT64_MAX || BigInt(position) > INT64_MAX) throw badFeedPosition(text, 'a number out of range', what);
  return { tx, position };
}

/** The feed's statements on one schema. */
export interface FeedStatements {
  /**
   * $1 after tx (text), $2 after position, $3 workflow types or null, $4 event types or null,
   * $5 limit, $6 rows to look at. The matching events among the first $6 readable rows after the
   * key, up to $5 of them, plus — when fewer than $5 matched — the last row looked at, unless it
   * matched (no event columns): the read resumes after the last row returned.
   */
  readonly read: string;
  /**
   * `read` without filters: $1 after tx (text), $2 after position, $3 limit. The first $3 readable
   * events after the key, every column in one index walk, without `read`'s windows and join back
   * (which cost more than half of an unfiltered read, a projection's catch-up among them).
   */
  readonly readAll: string;
  /** The greatest readable key, or no row. */
  readonly head: string;
  /**
   * $1 after tx (text), $2 after position, $3 rows to count (the limit plus one, to tell a capped
   * count). `events`: the readable events after the key, at most $3; `oldest`: the first one's
   * recorded_at, or null. Both walk events_feed_idx from the key, the count reading the index alone.
   */
  readonly lag: string;
}

/** Builds the feed's statements for the quoted schema `s`. */
export function feedStatements(s: string): FeedStatements {
  // Every transaction below the snapshot's xmin has committed (and is visible to this statement,
  // which uses the same snapshot) or rolled back; a transaction still running, or one that has not
  // written yet, has an id at or above it. So what is below it now is all that will ever be.
  const readable = 'e.tx < pg_snapshot_xmin(pg_current_snapshot())';
  return {
    // The rows looked at end at `bound`, the $6th readable key after the position (an index-only
    // walk); the page is the first $5 events up to it that pass the filters, read in one walk of
    // the index with every column, plus the bound as an unmatched row when fewer matched, so that
    // `next` moves past every row looked at. Limits are subqueries for the reason given at `lag`.
    read: `
WITH bound AS (
  SELECT k.tx, k.position
    FROM (SELECT e.tx, e.position
            FROM ${s}.events e
           WHERE (e.tx, e.position) > ($1::text::xid8, $2::bigint) AND ${readable}
           ORDER BY e.tx, e.position
           LIMIT (SELECT $6::integer)) k
   ORDER BY k.tx DESC, k.position DESC
   LIMIT 1
), matched AS (
  -- OFFSET 0 keeps the filters out of the scan: pushed into it, they would match on the primary
  -- key (led by the workflow type), and every read would walk all of a type's events.
  SELECT r.*
    FROM (SELECT e.tx, e.position, e.workflow_type, e.workflow_id, e.sequence, e.type, e.payload, e.metadata, e.recorded_at,
                 e.schema_version
            FROM ${s}.events e, bound b
           WHERE (e.tx, e.position) > ($1::text::xid8, $2::bigint) AND (e.tx, e.position) <= (b.tx, b.position)
          OFFSET 0) r
   WHERE ($3::text[] IS NULL OR r.workflow_type = ANY ($3::text[])) AND ($4::text[] IS NULL OR r.type = ANY ($4::text[]))
   ORDER BY r.tx, r.position
   LIMIT (SELECT $5::integer)
)
SELECT m.tx::text AS tx, m.position::text AS position, true AS matched, m.workflow_type, m.workflow_id, m.sequence,
       m.type, m.payload::text AS payload, m.metadata::text AS metadata, m.recorded_at, m.schema_version,
       m.tx AS key_tx, m.position AS key_position
  FROM matched m
UNION ALL
SELECT b.tx::text, b.position::text, false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, b.tx, b.position
  FROM bound b
 WHERE (SELECT count(*) FROM matched) < $5::integer
   AND NOT EXISTS (SELECT 1 FROM matched m WHERE (m.tx, m.position) = (b.tx, b.position))
 ORDER BY key_tx, key_position`,

    // The limit is a subquery for the reason given at `lag`.
    readAll: `
SELECT e.tx::text AS tx, e.position::text AS position, true AS matched, e.workflow_type, e.workflow_id, e.sequence,
       e.type, e.payload::text AS payload, e.metadata::text AS metadata, e.recorded_at, e.schema_version
  FROM ${s}.events e
 WHERE (e.tx, e.position) > ($1::text::xid8, $2::bigint) AND ${readable}
 ORDER BY e.tx, e.position
 LIMIT (SELECT $3::integer)`,

    head: `
SELECT e.tx::text AS tx, e.position::text AS position
  FROM ${s}.events e
 WHERE ${readable}
 ORDER BY e.tx DESC, e.position DESC
 LIMIT 1`,

    // The count's limit is a subquery: with a known limit larger than the rows it expects after
    // the key (stale or missing statistics), the planner would read every one of them through a
    // bitmap and sort, however far behind the reader is; an unknown limit makes it walk the index
    // in order and stop at the limit, on empty, unanalysed and analysed tables alike.
    lag: `
SELECT (SELECT count(*)
          FROM (SELECT 1
                  FROM ${s}.events e
                 WHERE (e.tx, e.position) > ($1::text::xid8, $2::bigint) AND ${readable}
                 ORDER BY e.tx, e.position
                 LIMIT (SELECT $3::integer)) counted)::integer AS events,
       (SELECT e.recorded_at
          FROM ${s}.events e
         WHERE (e.tx, e.position) > ($1::text::xid8, $2::bigint) AND ${readable}
         ORDER BY e.tx, e.position
         LIMIT 1) AS oldest`,
  };
}

/** The statement of a checked query and its values: `readAll` when nothing is filtered, else `read`. */
export function feedRead(statements: FeedStatements, after: FeedKey | undefined, workflowTypes: readonly string[] | undefined, eventTypes: readonly string[] | undefined, limit: number): [string, unknown[]] {
  if (workflowTypes === undefined && eventTypes === undefined) {
    const from = after ?? FEED_START;
    return [statements.readAll, [from.tx, from.position, limit]];
  }
  return [statements.read, feedReadValues(after, workflowTypes, eventTypes, limit)];
}

/** The values of `read` for a checked query. */
export function feedReadValues(after: FeedKey | undefined, workflowTypes: readonly string[] | undefined, eventTypes: readonly string[] | undefined, limit: number): unknown[] {
  const from = after ?? FEED_START;
  const filtered = workflowTypes !== undefined || eventTypes !== undefined;
  return [from.tx, from.position, workflowTypes ?? null, eventTypes ?? null, limit, filtered ? limit * FEED_SCAN_FACTOR : limit];
}

/** The page of `read`'s rows; `after` is the query's position, kept when nothing was read. */
export function toFeedPage(rows: readonly unknown[], after: string | undefined): FeedPage {
  const events: FeedEvent[] = [];
  let next = after;
  for (const raw of rows) {
    const row = new Row(raw);
    next = encodeFeedPosition(keyOf(row));
    if (!row.boolean('matched')) continue;
    const event: FeedEvent = {
      workflowType: row.text('workflow_type'),
      workflowId: row.text('workflow_id'),
      sequence: row.number('sequence'),
      type: row.text('type'),
      payload: row.json('payload'),
      metadata: row.json('metadata') as FeedEvent['metadata'],
      recordedAt: row.number('recorded_at'),
      position: next,
    };
    events.push(withSchemaVersion(event, versionOf(row, 'schema_version')));
  }
  return next === undefined ? { events } : { events, next };
}

/** The position of `head`'s row, or undefined without one. */
export function toFeedHead(rows: readonly unknown[]): string | undefined {
  return rows.length === 0 ? undefined : encodeFeedPosition(keyOf(new Row(rows[0])));
}

/** A row's key, both numbers selected as text so that no client parser rounds them. */
function keyOf(row: Row): FeedKey {
  return { tx: row.text('tx'), position: row.text('position') };
}
