// The argument rules of the feed lag and of projection checkpoints, written once like the rest of
// the port's: a bad request gets the same INVALID_ARGUMENT from every store and writes nothing.
// Feed positions stay the store's opaque text here; each backend decodes the ones it is given.
import { invalidArgument } from '../errors.js';
import type {
  FeedLagQuery,
  NewProjectionDeadLetter,
  ProjectionClaimRequest,
  ProjectionDeadLetterQuery,
  ProjectionDeadLetterStatus,
  ProjectionLease,
  ProjectionReset,
  ProjectionSave,
} from './port.js';
import { MAX_BATCH } from './port.js';
import {
  MAX_FEED_POSITION,
  MAX_PAGE,
  MAX_VERSION,
  describe,
  fromCursor,
  optional,
  parseArray,
  parseCount,
  parseKey,
  parseObject,
  parseOptions,
  parseStatus,
  parseText,
  parseTime,
  toCursor,
} from './rules.js';

/** Most events `feedLag` counts. */
export const MAX_FEED_LAG = 100_000;

/** Longest lease a projection may take: a day (a crashed holder's projection stalls at most that long). */
export const MAX_PROJECTION_LEASE_MS = 86_400_000;

/** A feed position as text: non-empty, at most MAX_FEED_POSITION characters; its backend decodes it. */
export function parsePosition(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_FEED_POSITION) {
    throw invalidArgument(`${what} must be a feed position (a string from readFeed), got ${describe(value)}`, { what });
  }
  return value;
}

/** A lag query, checked. */
export interface CheckedFeedLagQuery {
  readonly after?: string | undefined;
  readonly limit: number;
}

/** Checks a lag query; `undefined` counts from the first event. */
export function parseFeedLagQuery(value: unknown): CheckedFeedLagQuery {
  const q = parseOptions<Record<keyof FeedLagQuery, unknown>>(value, 'feed lag query');
  return {
    after: optional(q.after, (v) => parsePosition(v, 'query.after')),
    limit: q.limit === undefined ? 10_000 : parseCount(q.limit, 'query.limit', 1, MAX_FEED_LAG),
  };
}

function parseLeaseMs(value: unknown): number {
  return parseCount(value, 'leaseMs', 1, MAX_PROJECTION_LEASE_MS);
}

/** A projection claim, checked: `expiresAt` = now + leaseMs. */
export interface CheckedProjectionClaim {
  readonly name: string;
  readonly owner: string;
  readonly now: number;
  readonly expiresAt: number;
}

/** Checks a projection claim. */
export function parseProjectionClaim(value: unknown): CheckedProjectionClaim {
  const c = parseObject<Partial<Record<keyof ProjectionClaimRequest, unknown>>>(value, 'projection claim', '{ name, owner, now, leaseMs }');
  const now = parseTime(c.now, 'request.now');
  return {
    name: parseKey(c.name, 'request.name'),
    owner: parseKey(c.owner, 'request.owner'),
    now,
    expiresAt: parseTime(now + parseLeaseMs(c.leaseMs), 'now + leaseMs'),
  };
}

/** A projection lease `{ name, owner, token }`; a stale token is not bad input but a lost lease, which the store decides. */
export function parseProjectionLease(value: unknown, what = 'lease'): ProjectionLease {
  const l = parseObject<Partial<Record<keyof ProjectionLease, unknown>>>(value, what, '{ name, owner, token }');
  return { name: parseKey(l.name, `${what}.name`), owner: parseKey(l.owner, `${what}.owner`), token: parseCount(l.token, `${what}.token`, 1) };
}

/** A renewal, checked. */
export interface CheckedProjectionRenew {
  readonly lease: ProjectionLease;
  readonly now: number;
  readonly expiresAt: number;
}

/** Checks a renewal's arguments. */
export function parseProjectionRenew(lease: unknown, now: unknown, leaseMs: unknown): CheckedProjectionRenew {
  const at = parseTime(now, 'now');
  return { lease: parseProjectionLease(lease), now: at, expiresAt: parseTime(at + parseLeaseMs(leaseMs), 'now + leaseMs') };
}

/** A save, checked: the new dead letters without repeated ids, the resolved ids without repeats. */
export interface CheckedProjectionSave {
  readonly lease: ProjectionLease;
  readonly now: number;
  readonly position?: string | undefined;
  readonly expiresAt?: number | undefined;
  readonly parked: readonly NewProjectionDeadLetter[];
  readonly resolved: readonly string[];
}

function parseDeadLetter(value: unknown, what: string): NewProjectionDeadLetter {
  const d = parseObject<Partial<Record<keyof NewProjectionDeadLetter, unknown>>>(
    value,
    what,
    '{ id, workflowType, workflowId, sequence, eventType, position, error, attempts }',
  );
  return {
    id: parseKey(d.id, `${what}.id`),
    workflowType: parseKey(d.workflowType, `${what}.workflowType`),
    workflowId: parseKey(d.workflowId, `${what}.workflowId`),
    sequence: parseCount(d.sequence, `${what}.sequence`, 1, MAX_VERSION),
    eventType: parseKey(d.eventType, `${what}.eventType`),
    position: parsePosition(d.position, `${what}.position`),
    error: parseText(d.error, `${what}.error`),
    attempts: parseCount(d.attempts, `${what}.attempts`, 1, MAX_VERSION),
  };
}

/** Checks a save's arguments; an id both parked and resolved, or given twice, is bad input. */
export function parseProjectionSave(lease: unknown, save: unknown): CheckedProjectionSave {
  const checkedLease = parseProjectionLease(lease);
  const s = parseObject<Partial<Record<keyof ProjectionSave, unknown>>>(save, 'save', '{ now, position?, leaseMs?, parked?, resolved? }');
  const now = parseTime(s.now, 'save.now');
  const ids = new Set<string>();
  const fresh = (id: string, what: string): string => {
    if (ids.has(id)) throw invalidArgument(`${what} repeats the dead letter id ${JSON.stringify(id)}: a save names each dead letter once`, { what });
    ids.add(id);
    return id;
  };
  const list = (v: unknown, what: string): readonly unknown[] => {
    const items = parseArray(v, what);
    if (items.length > MAX_BATCH) throw invalidArgument(`${what} holds ${items.length} items; at most ${MAX_BATCH} per save`, { what });
    return items;
  };
  const parked = s.parked === undefined ? [] : list(s.parked, 'save.parked').map((raw, i) => {
    const letter = parseDeadLetter(raw, `save.parked[${i}]`);
    fresh(letter.id, `save.parked[${i}].id`);
    return letter;
  });
  const resolved = s.resolved === undefined ? [] : list(s.resolved, 'save.resolved').map((raw, i) => fresh(parseKey(raw, `save.resolved[${i}]`), `save.resolved[${i}]`));
  return {
    lease: checkedLease,
    now,
    position: optional(s.position, (v) => parsePosition(v, 'save.position')),
    expiresAt: optional(s.leaseMs, (v) => parseTime(now + parseLeaseMs(v), 'now + leaseMs')),
    parked,
    resolved,
  };
}

/** A reset, checked. */
export interface CheckedProjectionReset {
  readonly name: string;
  readonly position?: string | undefined;
  readonly now: number;
  readonly keepDeadLetters: boolean;
}

/** Checks a reset. */
export function parseProjectionReset(value: unknown): CheckedProjectionReset {
  const r = parseObject<Partial<Record<keyof ProjectionReset, unknown>>>(value, 'projection reset', '{ name, position?, now, keepDeadLetters? }');
  if (r.keepDeadLetters !== undefined && typeof r.keepDeadLetters !== 'boolean') {
    throw invalidArgument(`reset.keepDeadLetters must be a boolean, got ${describe(r.keepDeadLetters)}`);
  }
  return {
    name: parseKey(r.name, 'reset.name'),
    position: optional(r.position, (v) => parsePosition(v, 'reset.position')),
    now: parseTime(r.now, 'reset.now'),
    keepDeadLetters: r.keepDeadLetters === true,
  };
}

/** A dead-letter page query, checked: the cursor decoded to the last id seen. */
export interface CheckedProjectionDeadLetterQuery {
  readonly projection: string;
  readonly status?: ProjectionDeadLetterStatus | undefined;
  readonly after?: string | undefined;
  readonly limit: number;
}

/** Checks a projection dead-letter query. */
export function parseProjectionDeadLetterQuery(value: unknown): CheckedProjectionDeadLetterQuery {
  const q = parseObject<Partial<Record<keyof ProjectionDeadLetterQuery, unknown>>>(value, 'projection dead-letter query', '{ projection, status?, after?, limit? }');
  return {
    projection: parseKey(q.projection, 'query.projection'),
    status: parseStatus(q.status, 'query.status', ['parked', 'redriven']) as ProjectionDeadLetterStatus | undefined,
    after: optional(q.after, (v) => fromCursor(v, 1)[0]),
    limit: q.limit === undefined ? 100 : parseCount(q.limit, 'query.limit', 0, MAX_PAGE),
  };
}

/** The `next` cursor of a page of projection dead letters ending at `id`. */
export const projectionDeadLetterCursor = (id: string): string => toCursor([id]);
