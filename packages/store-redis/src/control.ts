// Control of live work on Redis: cancelling an instance (one script in its partition), pauses (a
// type's kept in every partition, since every partition's claims must see it; an instance's in
// its own partition, where its rows are), and the backlog, summed over every partition's counts.
import {
  compareIds,
  invalidArgument,
  stripUndefined,
  StoreError,
  type BacklogEntry,
  type CancelInstanceResult,
  type CheckedEffect,
  type PausedEntry,
  type PauseTarget,
  type WorkflowRef,
} from '@ironflow/core/store';
import { effectArgs, HANDOFF_ROUNDS } from './commit.js';
import type { RedisContext } from './context.js';
import { releaseUniqueKey, resolveHandoffs } from './cross-partition.js';
import { commitNonce, instanceMember, parsePauseMember, pauseMember } from './members.js';
import { BACKLOG, CANCEL_INSTANCE, SET_PAUSE } from './scripts/control.js';

/**
 * Cancels an active instance and its live work, and writes `effects`, in one script call (more
 * only to resolve an interrupted acknowledgement first).
 */
export async function cancelInstance(ctx: RedisContext, ref: WorkflowRef, now: number, reason: string, effects: readonly CheckedEffect[]): Promise<CancelInstanceResult> {
  await ctx.ready();
  const { layout } = ctx;
  const partition = layout.partitionOf(ref.type, ref.id);
  const keys = layout.partition(partition);
  const call = {
    keys: {
      instance: keys.instance(ref.type, ref.id),
      ownedEffects: keys.owned('e', ref.type, ref.id),
      ownedTimers: keys.owned('t', ref.type, ref.id),
      activeAll: keys.instances('active'),
      activeOfType: keys.instances('active', ref.type),
      cancelledAll: keys.instances('cancelled'),
      cancelledOfType: keys.instances('cancelled', ref.type),
      namesActive: keys.names('active'),
      namesCancelled: keys.names('cancelled'),
    },
    args: {
      type: ref.type,
      id: ref.id,
      now,
      reason,
      error: JSON.stringify(reason),
      member: instanceMember(now, ref.type, ref.id),
      uniqueMode: layout.partitions === 1 ? 'local' : 'remote',
      channel: layout.channel,
      origin: ctx.origin,
      nonce: commitNonce(),
      effectCount: effects.length,
    },
    tail: effects.flatMap(effectArgs),
  };
  for (let round = 0; round < HANDOFF_ROUNDS; round++) {
    const reply = await ctx.callScript(CANCEL_INSTANCE, keys.tag, call.keys, call.args, call.tail);
    if (reply.kind === 'not-active') return { cancelled: false, effects: 0, timers: 0 };
    if (reply.kind === 'duplicate-id') throw invalidArgument(`cancelInstance: effect id ${JSON.stringify(reply.id)} is already taken; ids must be new`);
    if (reply.kind === 'ok') {
      const released = reply.releasedUniqueKey;
      if (layout.partitions > 1 && released !== undefined) {
        await releaseUniqueKey(ctx, ref.type, released, ref.id).catch((error: unknown) =>
          ctx.logger?.warn({ err: error, uniqueKey: released }, 'ironflow redis store: releasing a unique key failed; the next claimant frees it'),
        );
      }
      return { cancelled: true, effects: reply.effects, timers: reply.timers };
    }
    // A live row's result is on its way to another partition: settle or revoke it, then cancel.
    await resolveHandoffs(
      ctx,
      reply.handoffs.map((h) => ({ ...h, partition })),
      now,
    );
  }
  throw new StoreError('transient', `Cancelling ${ref.type}:${ref.id} kept meeting unresolved acknowledgements; retry`);
}

/**
 * Adds or removes a pause: an instance's in its partition, a type's in every partition (in
 * parallel; a failure part-way leaves some partitions changed, and calling again completes it).
 * True when any partition changed. A resume publishes the wake-up from each partition it changed.
 */
export async function setPaused(ctx: RedisContext, target: PauseTarget, paused: boolean, now: number): Promise<boolean> {
  await ctx.ready();
  const { layout } = ctx;
  const partitions = target.id === undefined ? ctx.allPartitions() : [ctx.home({ type: target.type, id: target.id })];
  const member = pauseMember(target.type, target.id);
  const changed = await Promise.all(
    partitions.map((keys) => ctx.callScript(SET_PAUSE, keys.tag, { pauses: keys.pauses() }, { member, paused: paused ? '1' : '0', now, channel: layout.channel })),
  );
  return changed.some(Boolean);
}

/** Pauses in force, read from every partition: whole types first, then by type and id. */
export async function listPaused(ctx: RedisContext): Promise<PausedEntry[]> {
  await ctx.ready();
  const hashes = await Promise.all(ctx.allPartitions().map((keys) => ctx.client.hgetall(keys.pauses())));
  const since = new Map<string, number>();
  for (const hash of hashes) {
    for (const [member, value] of Object.entries(hash)) {
      const at = Number(value);
      if (!Number.isSafeInteger(at)) throw new StoreError('integrity', `Redis store: pause ${JSON.stringify(member)} should hold a time, got ${JSON.stringify(value)}`);
      // A type's pause is in every partition, written by one call: the earliest is when it began.
      const known = since.get(member);
      if (known === undefined || at < known) since.set(member, at);
    }
  }
  return [...since]
    .map(([member, at]): PausedEntry => ({ ...parsePauseMember(member), since: at }))
    .sort((a, b) => Number(a.id !== undefined) - Number(b.id !== undefined) || compareIds(a.type, b.type) || compareIds(a.id ?? '', b.id ?? ''));
}

/** Work per type and kind, summed over every partition's counts; types then kinds, in code-point order. */
export async function backlog(ctx: RedisContext, now: number): Promise<BacklogEntry[]> {
  await ctx.ready();
  const rows = await Promise.all(ctx.allPartitions().map((keys) => ctx.callScript(
        BACKLOG,
        keys.tag,
        { pauses: keys.pauses(), namesActive: keys.names('active'), namesCompleted: keys.names('completed'), namesCancelled: keys.names('cancelled') },
        { now },
      )));
  const entries = new Map<string, { -readonly [K in keyof BacklogEntry]: BacklogEntry[K] }>();
  for (const row of rows.flat()) {
    const kind = row.kind === 'e' ? 'effect' : 'timer';
    const key = `${row.workflowType}\u0000${kind}`;
    const entry = entries.get(key) ?? { workflowType: row.workflowType, kind, pending: 0, due: 0, leased: 0, paused: 0, dead: 0, oldestDueAt: undefined };
    entry.pending += row.pending;
    entry.due += row.due;
    entry.leased += row.leased;
    entry.paused += row.paused;
    entry.dead += row.dead;
    if (row.oldestDueAt !== undefined && (entry.oldestDueAt === undefined || row.oldestDueAt < entry.oldestDueAt)) entry.oldestDueAt = row.oldestDueAt;
    entries.set(key, entry);
  }
  return [...entries.values()].sort((a, b) => compareIds(a.workflowType, b.workflowType) || compareIds(a.kind, b.kind)).map((entry) => stripUndefined(entry));
}
