// Dead letters, listed and counted across partitions in one order (newest `updatedAt` first,
// then id), and retention: purge of finished rows and of old idempotency records, partition by
// partition, in short batches.
import { compareIds, type CheckedDeadLetterQuery, type PurgeResult, type WorkKind, type WorkRecord } from '@ironflow/core/store';
import { decodeWorkItem, kindLetter } from './codec.js';
import type { RedisContext } from './context.js';
import { deadMember, deadMemberId } from './members.js';
import { listRows } from './queries.js';
import { Fields } from './reply.js';
import { PURGE, PURGE_IDEMPOTENCY } from './scripts/maintenance.js';

/** Rows examined per purge call: keeps each script short, so it never blocks the server for long. */
const PURGE_BATCH = 500;

/** The rows of these (partition, id) pairs that still exist. */
async function fetchRows(ctx: RedisContext, kind: WorkKind, wanted: readonly { partition: number; id: string }[]): Promise<WorkRecord[]> {
  const k = kindLetter(kind);
  const rows = await Promise.all(
    wanted.map(async ({ partition, id }) => {
      const key = ctx.layout.partition(partition).item(k, id);
      return new Fields(await ctx.client.hgetall(key), `${kind} ${id}`);
    }),
  );
  return rows.filter((fields) => !fields.isEmpty()).map((fields) => decodeWorkItem(kind, fields));
}

const byDeadOrder = (a: WorkRecord, b: WorkRecord) => compareIds(deadMember(a.updatedAt, a.id), deadMember(b.updatedAt, b.id));

/** Dead letters of one workflow id (and maybe type): from the instance's rows, or every partition's index, then filtered. */
async function deadOfInstance(ctx: RedisContext, query: CheckedDeadLetterQuery, workflowId: string): Promise<WorkRecord[]> {
  let rows: WorkRecord[];
  if (query.workflowType !== undefined) {
    rows = await listRows(ctx, query.kind, { type: query.workflowType, id: workflowId });
  } else {
    const k = kindLetter(query.kind);
    const lists = await Promise.all(
      ctx.allPartitions().map(async (keys, partition) =>
        (await ctx.client.zrangebylex(keys.dead(k), '-', '+', 'LIMIT', 0, -1)).map((member) => ({ partition, id: deadMemberId(member) })),
      ),
    );
    rows = await fetchRows(ctx, query.kind, lists.flat());
  }
  return rows.filter((row) => row.status === 'dead' && row.workflowId === workflowId).sort(byDeadOrder);
}

/** A page of dead letters, newest first. */
export async function listDeadLetters(ctx: RedisContext, query: CheckedDeadLetterQuery): Promise<WorkRecord[]> {
  await ctx.ready();
  const { offset, limit } = query;
  if (query.workflowId !== undefined) return (await deadOfInstance(ctx, query, query.workflowId)).slice(offset, offset + limit);
  const k = kindLetter(query.kind);
  const lists = await Promise.all(
    ctx
      .allPartitions()
      .map(async (keys, partition) =>
        (await ctx.client.zrangebylex(keys.dead(k, query.workflowType), '-', '+', 'LIMIT', 0, offset + limit)).map((member) => ({ partition, member })),
      ),
  );
  const page = lists
    .flat()
    .sort((a, b) => compareIds(a.member, b.member))
    .slice(offset, offset + limit);
  return fetchRows(
    ctx,
    query.kind,
    page.map(({ partition, member }) => ({ partition, id: deadMemberId(member) })),
  );
}

/** How many dead letters match (limit and offset ignored). */
export async function countDeadLetters(ctx: RedisContext, query: CheckedDeadLetterQuery): Promise<number> {
  await ctx.ready();
  if (query.workflowId !== undefined) return (await deadOfInstance(ctx, query, query.workflowId)).length;
  const k = kindLetter(query.kind);
  const counts = await Promise.all(ctx.allPartitions().map((keys) => ctx.client.zcard(keys.dead(k, query.workflowType))));
  return counts.reduce((sum, n) => sum + n, 0);
}

/** Deletes done or cancelled effects and fired or cancelled timers last changed before `olderThan`, and their handoff records elsewhere. */
export async function purge(ctx: RedisContext, olderThan: number): Promise<PurgeResult> {
  await ctx.ready();
  let effects = 0;
  let timers = 0;
  for (const keys of ctx.allPartitions()) {
    for (;;) {
      const reply = await ctx.callScript(
        PURGE,
        keys.tag,
        { finishedEffects: keys.finished('e'), finishedTimers: keys.finished('t') },
        { olderThan, batch: PURGE_BATCH },
      );
      effects += reply.effectsDeleted;
      timers += reply.timersDeleted;
      for (const leftover of reply.leftovers) {
        for (const target of leftover.partitions) await ctx.client.del(ctx.layout.partition(target).handoffs(leftover.kind, leftover.id));
      }
      if (reply.effectsExamined < PURGE_BATCH && reply.timersExamined < PURGE_BATCH) break;
    }
  }
  return { effects, timers };
}

/** Deletes idempotency records committed before `olderThan`, partition by partition, in short batches; returns how many. */
export async function purgeIdempotencyKeys(ctx: RedisContext, olderThan: number): Promise<number> {
  await ctx.ready();
  let deleted = 0;
  for (const keys of ctx.allPartitions()) {
    for (;;) {
      const reply = await ctx.callScript(PURGE_IDEMPOTENCY, keys.tag, { times: keys.idempotencyTimes() }, { olderThan, batch: PURGE_BATCH });
      deleted += reply.deleted;
      if (reply.examined < PURGE_BATCH) break;
    }
  }
  return deleted;
}
