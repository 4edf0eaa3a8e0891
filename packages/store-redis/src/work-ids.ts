// Store-wide uniqueness of effect and timer ids with partitions > 1: before a commit writes new
// rows, their ids are reserved for the committing instance in each id's registry partition; ids
// of a commit that did not land are released, and purge releases the ids of the rows it deletes.
import { invalidArgument, type CheckedCommit } from '@ironflow/core/store';
import type { RedisContext } from './context.js';
import { refSegment } from './key-templates.js';
import { RELEASE_WORK_IDS, RESERVE_WORK_IDS, type WorkId } from './scripts/work-ids.js';

/** An id with the instance (`<ref>`) that owns it. */
export interface OwnedWorkId extends WorkId {
  readonly owner: string;
}

/** Groups ids by their registry partition. */
function byPartition<T extends WorkId>(ctx: RedisContext, ids: readonly T[]): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of ids) {
    const partition = ctx.layout.workIdPartitionOf(item.kind, item.id);
    const group = groups.get(partition);
    if (group === undefined) groups.set(partition, [item]);
    else group.push(item);
  }
  return groups;
}

/** Forgets ids that their owners still hold, one call per registry partition, in parallel. */
export async function releaseWorkIds(ctx: RedisContext, ids: readonly OwnedWorkId[]): Promise<void> {
  await Promise.all(
    [...byPartition(ctx, ids)].map(([partition, group]) => {
      const keys = ctx.layout.partition(partition);
      const tail = group.flatMap(({ kind, id, owner }) => [kind, id, owner]);
      return ctx.callScript(RELEASE_WORK_IDS, keys.tag, { effectIds: keys.workIds('e'), timerIds: keys.workIds('t') }, {}, tail);
    }),
  );
}

/**
 * Reserves the new effect and timer ids of a commit for its instance (partitions > 1 only) and
 * returns those it added, to release if the commit does not land. An id another instance owns is
 * INVALID_ARGUMENT, with nothing reserved.
 */
export async function reserveWorkIds(ctx: RedisContext, request: CheckedCommit): Promise<OwnedWorkId[]> {
  if (ctx.layout.partitions === 1) return [];
  const ids: WorkId[] = [...request.effects.map(({ id }) => ({ kind: 'e' as const, id })), ...request.timers.map(({ id }) => ({ kind: 't' as const, id }))];
  if (ids.length === 0) return [];
  const owner = refSegment(request.ref.type, request.ref.id);
  const replies = await Promise.all(
    [...byPartition(ctx, ids)].map(([partition, group]) => {
      const keys = ctx.layout.partition(partition);
      const tail = group.flatMap(({ kind, id }) => [kind, id]);
      return ctx.callScript(RESERVE_WORK_IDS, keys.tag, { effectIds: keys.workIds('e'), timerIds: keys.workIds('t') }, { owner }, tail);
    }),
  );
  const added = replies.flatMap((reply) => (reply.kind === 'ok' ? reply.added.map((id) => ({ ...id, owner })) : []));
  const taken = replies.find((reply) => reply.kind === 'taken');
  if (taken?.kind !== 'taken') return added;
  await releaseWorkIds(ctx, added);
  const what = taken.taken.kind === 'e' ? 'effect' : 'timer';
  throw invalidArgument(`The ${what} id ${JSON.stringify(taken.taken.id)} already exists`, { kind: what, id: taken.taken.id });
}
