// Cursor pages across the store: effects or timers in id order, instances in (type, id) order.
// Each partition walks its lexicographic index from the cursor in short script calls until it has
// a page of matching rows or its index ends; the pages of all partitions are merged here.
import {
  compareIds,
  type CheckedInstancePageQuery,
  type CheckedWorkQuery,
  type InstanceStatus,
  type InstanceSummary,
  type WorkRecord,
} from '@ironflow/core/store';
import { decodeWorkItem, kindLetter } from './codec.js';
import type { RedisContext } from './context.js';
import { STATUS_LETTERS, type PartitionKeys } from './keys.js';
import { decodeSummary, listRows } from './queries.js';
import type { Fields } from './reply.js';
import { LIST_WORK, PAGE_INSTANCES } from './scripts/pages.js';

/** Index entries one script call examines at most: keeps each call short, however sparse the matches. */
const PAGE_BUDGET = 1000;

/** Byte order of two strings as UTF-8, which is Redis' lexicographic order and code-point order. */
function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** True when a row passes every filter of the query but the cursor. */
function matches(query: CheckedWorkQuery, row: WorkRecord): boolean {
  return (
    (query.workflowType === undefined || row.workflowType === query.workflowType) &&
    (query.workflowId === undefined || row.workflowId === query.workflowId) &&
    (query.status === undefined || row.status === query.status) &&
    (query.tag === undefined || (row.kind === 'effect' && row.tag === query.tag)) &&
    (query.createdFrom === undefined || row.createdAt >= query.createdFrom) &&
    (query.createdBefore === undefined || row.createdAt < query.createdBefore)
  );
}

/** Up to `query.limit` matching rows of one partition after the cursor, in id order. */
async function workIn(ctx: RedisContext, keys: PartitionKeys, query: CheckedWorkQuery): Promise<Fields[]> {
  const k = kindLetter(query.kind);
  const rows: Fields[] = [];
  let after = query.after ?? '';
  for (;;) {
    const reply = await ctx.callScript(
      LIST_WORK,
      keys.tag,
      { work: keys.work(k) },
      {
        kind: k,
        after,
        limit: query.limit - rows.length,
        budget: PAGE_BUDGET,
        type: query.workflowType ?? '',
        workflowId: query.workflowId ?? '',
        status: query.status ?? '',
        tag: query.tag ?? '',
        createdFrom: query.createdFrom ?? '',
        createdBefore: query.createdBefore ?? '',
      },
    );
    rows.push(...reply.rows);
    if (rows.length >= query.limit || reply.exhausted || reply.last === undefined) return rows;
    after = reply.last;
  }
}

/** Up to `query.limit` effects or timers matching the query, with id after its cursor, in id order. */
export async function listWork(ctx: RedisContext, query: CheckedWorkQuery): Promise<WorkRecord[]> {
  await ctx.ready();
  const byId = (a: WorkRecord, b: WorkRecord) => compareIds(a.id, b.id);
  if (query.workflowType !== undefined && query.workflowId !== undefined) {
    // One instance: its own row index names every row it has, in one partition.
    const rows = await listRows(ctx, query.kind, { type: query.workflowType, id: query.workflowId });
    const { after } = query;
    return rows
      .filter((row) => matches(query, row) && (after === undefined || compareIds(row.id, after) > 0))
      .sort(byId)
      .slice(0, query.limit);
  }
  const pages = await Promise.all(ctx.allPartitions().map((keys) => workIn(ctx, keys, query)));
  return pages
    .flat()
    .map((fields) => decodeWorkItem(query.kind, fields))
    .sort(byId)
    .slice(0, query.limit);
}

/** The lexicographic bounds of a page of `<type>\0<id>` members: after the cursor, within the type. */
function boundsOf(query: CheckedInstancePageQuery): { min: string; max: string } {
  const after = query.after === undefined ? undefined : `${query.after.type}\u0000${query.after.id}`;
  if (query.workflowType === undefined) return { min: after === undefined ? '-' : `(${after}`, max: '+' };
  // A type's members are exactly those from `<type>\0` up to, not including, `<type>\x01`.
  const first = `${query.workflowType}\u0000`;
  return {
    min: after === undefined || byteCompare(after, first) < 0 ? `[${first}` : `(${after}`,
    max: `(${query.workflowType}\u0001`,
  };
}

/** The (type, id) indexes of a partition that hold every instance the query can match. */
function indexesOf(keys: PartitionKeys, query: CheckedInstancePageQuery): string[] {
  if (query.parent !== undefined) return [keys.children(query.parent.type, query.parent.id)];
  const statuses: readonly InstanceStatus[] = query.status === undefined ? ['active', 'completed', 'cancelled'] : [query.status];
  return statuses.map((status) => keys.names(status));
}

/** Up to `query.limit` matching instances of one index after the cursor, in (type, id) order. */
async function instancesIn(ctx: RedisContext, keys: PartitionKeys, index: string, query: CheckedInstancePageQuery): Promise<InstanceSummary[]> {
  const bounds = boundsOf(query);
  const rows: InstanceSummary[] = [];
  let min = bounds.min;
  for (;;) {
    const reply = await ctx.callScript(
      PAGE_INSTANCES,
      keys.tag,
      { index },
      {
        min,
        max: bounds.max,
        limit: query.limit - rows.length,
        budget: PAGE_BUDGET,
        status: query.status === undefined ? '' : STATUS_LETTERS[query.status],
        updatedFrom: query.updatedFrom ?? '',
        updatedBefore: query.updatedBefore ?? '',
      },
    );
    rows.push(...reply.rows.map((row) => decodeSummary({ type: row.type, id: row.id }, row.fields)));
    if (rows.length >= query.limit || reply.exhausted || reply.last === undefined) return rows;
    min = `(${reply.last}`;
  }
}

/** Up to `query.limit` instances matching the query, after its cursor, in (type, id) order. */
export async function pageInstances(ctx: RedisContext, query: CheckedInstancePageQuery): Promise<InstanceSummary[]> {
  await ctx.ready();
  const pages = await Promise.all(ctx.allPartitions().flatMap((keys) => indexesOf(keys, query).map((index) => instancesIn(ctx, keys, index, query))));
  return pages
    .flat()
    .sort((a, b) => compareIds(a.workflowType, b.workflowType) || compareIds(a.workflowId, b.workflowId))
    .slice(0, query.limit);
}
