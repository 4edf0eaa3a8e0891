// The commit primitive: one COMMIT script call in the instance's partition, preceded by the
// cross-partition steps it may need (a handed-off acknowledgement, a unique-key reservation).
// Its call layout and reply handling are shared with group commit (src/group-commit.ts).
import { StoreError, type CheckedCommit, type CheckedEffect, type CommitOutcome } from '@ironflow/core/store';
import { kindLetter, storedEvent, storedIdempotency, storedObservation, storedSnapshot } from './codec.js';
import type { RedisContext } from './context.js';
import { finalizeHandoff, handoffRecord, prepareHandoff, releaseUniqueKey, reserveUniqueKey, resolveHandoffs, type UniquePlan } from './cross-partition.js';
import { commitNonce, deadMember, instanceMember, leasePartition } from './members.js';
import type { BatchItem, ScriptValue } from './script.js';
import { COMMIT, type CommitReply } from './scripts/commit.js';

/** A named key of the COMMIT script. */
export type CommitKey = (typeof COMMIT.keys)[number];
/** A named argument of the COMMIT script. */
export type CommitArg = (typeof COMMIT.args)[number];

/** A commit or lease change that meets an unresolved cross-partition handoff resolves it and retries this often. */
export const HANDOFF_ROUNDS = 4;

/** A code version as the scripts take it: '' for 1, which the row leaves unstored. */
export function versionArg(version: number): string {
  return version === 1 ? '' : String(version);
}

/** A new effect as the scripts take it: (id, payload, key, tag, priority, settings, trace, version), '' for what is unset. */
export function effectArgs(effect: CheckedEffect): ScriptValue[] {
  return [effect.id, effect.payload, effect.key ?? '', effect.tag ?? '', String(effect.priority), effect.settings ?? '', effect.trace ?? '', versionArg(effect.version)];
}

/** The commit's variadic tail: events, effects (see effectArgs), cancelled effect keys, cancelled timer keys, (timer id, key, fireAt, input, trace, version). */
function commitTail(request: CheckedCommit): ScriptValue[] {
  return [
    ...request.events.map(storedEvent),
    ...request.effects.flatMap(effectArgs),
    ...request.cancelEffects,
    ...request.cancelTimers,
    ...request.timers.flatMap((timer) => [timer.id, timer.key ?? '', timer.fireAt, timer.input, timer.trace ?? '', versionArg(timer.version)]),
  ];
}

/** How the commit script treats the acknowledgement and the unique key, after any cross-partition step. */
export interface CommitModes {
  /** '' (no acknowledgement), local (the row is in this partition) or remote (prepared in its own). */
  readonly ackMode: '' | 'local' | 'remote';
  /** '' | claim (1 partition) | check | conflict, with the reservation token or holder in `uniqueArg`. */
  readonly uniqueMode: '' | 'claim' | UniquePlan['mode'];
  readonly uniqueArg: string;
}

/** The named keys, arguments and tail of one COMMIT call in the instance's partition. */
export function commitItem(ctx: RedisContext, request: CheckedCommit, modes: CommitModes): BatchItem<CommitKey, CommitArg> {
  const { layout } = ctx;
  const { ref, now, ack } = request;
  const keys = ctx.home(ref);
  const uniqueRecord =
    request.uniqueKey === undefined ? keys.instance(ref.type, ref.id) : layout.partitions === 1 ? keys.unique(ref.type, request.uniqueKey) : keys.uniqueBlocks(ref.type, ref.id);
  return {
    keys: {
      instance: keys.instance(ref.type, ref.id),
      events: keys.events(ref.type, ref.id),
      idempotency: keys.idempotency(ref.type, ref.id),
      idempotencyTimes: keys.idempotencyTimes(),
      observations: keys.observations(ref.type, ref.id),
      ownedEffects: keys.owned('e', ref.type, ref.id),
      ownedTimers: keys.owned('t', ref.type, ref.id),
      timerKeys: keys.timerKeys(ref.type, ref.id),
      effectKeys: keys.effectKeys(ref.type, ref.id),
      activeAll: keys.instances('active'),
      activeOfType: keys.instances('active', ref.type),
      completedAll: keys.instances('completed'),
      completedOfType: keys.instances('completed', ref.type),
      namesActive: keys.names('active'),
      namesCompleted: keys.names('completed'),
      children: request.parent === undefined ? keys.instance(ref.type, ref.id) : keys.children(request.parent.type, request.parent.id),
      pendingTimers: keys.pending('t', ref.type),
      leasedTimers: keys.leased('t', ref.type),
      pendingEffects: keys.pending('e', ref.type),
      workEffects: keys.work('e'),
      workTimers: keys.work('t'),
      unique: uniqueRecord,
      // Unused without an acknowledgement; any key of the partition keeps the call in one slot.
      handoffs: ack === undefined ? keys.instance(ref.type, ref.id) : keys.handoffs(kindLetter(ack.kind), ack.id),
      feed: keys.feed(),
      feedEntries: keys.feedEntries(ref.type, ref.id),
    },
    args: {
      type: ref.type,
      id: ref.id,
      expectedVersion: request.expectedVersion,
      newVersion: request.newVersion,
      now,
      completed: request.completed ? '1' : '0',
      cancelWork: request.cancelWork ? '1' : '0',
      member: instanceMember(now, ref.type, ref.id),
      channel: layout.channel,
      origin: ctx.origin,
      uniqueMode: modes.uniqueMode,
      uniqueKey: request.uniqueKey ?? '',
      uniqueArg: modes.uniqueArg,
      parentType: request.parent?.type ?? '',
      parentId: request.parent?.id ?? '',
      idempotencyKey: request.idempotencyKey ?? '',
      idempotencyRecord: request.idempotencyKey === undefined ? '' : storedIdempotency(request),
      snapshotVersion: request.snapshot?.version ?? '',
      snapshot: request.snapshot === undefined ? '' : storedSnapshot(request.snapshot),
      observation: request.observation === undefined ? '' : storedObservation(request.observation),
      ackMode: modes.ackMode,
      ackKind: ack === undefined ? '' : kindLetter(ack.kind),
      ackId: ack?.id ?? '',
      ackToken: ack?.token ?? '',
      ackOutcome: ack?.outcome ?? '',
      ackError: ack?.outcome === 'dead' && ack.error !== undefined ? JSON.stringify(ack.error) : '',
      ackMember: ack === undefined ? '' : deadMember(now, ack.id),
      handoffRecord: ack === undefined ? '' : handoffRecord(ack),
      nonce: commitNonce(),
      eventCount: request.events.length,
      effectCount: request.effects.length,
      cancelEffectCount: request.cancelEffects.length,
      cancelCount: request.cancelTimers.length,
      timerCount: request.timers.length,
    },
    tail: commitTail(request),
  };
}

/** The outcome of a COMMIT reply other than HANDOFF, after the best-effort steps that follow a landed commit. */
export async function outcomeOf(ctx: RedisContext, request: CheckedCommit, reply: Exclude<CommitReply, { kind: 'handoff' }>, ackPartition: number | undefined): Promise<CommitOutcome> {
  const { ref, ack, now } = request;
  switch (reply.kind) {
    case 'ok':
      if (ack !== undefined && ackPartition !== undefined) {
        await finalizeHandoff(ctx, ack, ackPartition, now).catch((error: unknown) =>
          ctx.logger?.warn({ err: error, kind: ack.kind, id: ack.id }, 'ironflow redis store: settling a handed-off acknowledgement failed; the next claim settles it'),
        );
      }
      if (ctx.layout.partitions > 1 && reply.releasedUniqueKey !== undefined) {
        const released = reply.releasedUniqueKey;
        await releaseUniqueKey(ctx, ref.type, released, ref.id).catch((error: unknown) =>
          ctx.logger?.warn({ err: error, uniqueKey: released }, 'ironflow redis store: releasing a unique key failed; the next claimant frees it'),
        );
      }
      return { outcome: 'ok' };
    case 'lease-lost':
      return { outcome: 'lease-lost' };
    case 'version-conflict':
      return { outcome: 'version-conflict', actualVersion: reply.actualVersion };
    case 'unique-key-conflict':
      return { outcome: 'unique-key-conflict', holderId: reply.holder ?? (await currentHolder(ctx, ref.type, request.uniqueKey ?? '')) };
    case 'duplicate-id':
      return { outcome: 'duplicate-id', kind: reply.what, id: reply.id };
    case 'effect-key-conflict':
      return { outcome: 'effect-key-conflict', key: reply.key };
  }
}

/** Applies a checked commit atomically, or reports why not. */
export async function commit(ctx: RedisContext, request: CheckedCommit): Promise<CommitOutcome> {
  await ctx.ready();
  const { layout } = ctx;
  const { ref, now, ack } = request;
  const partition = layout.partitionOf(ref.type, ref.id);

  let ackMode: CommitModes['ackMode'] = '';
  let remotePartition: number | undefined;
  if (ack !== undefined) {
    const issued = leasePartition(ack.token, layout.partitions);
    if (issued === undefined) return { outcome: 'lease-lost' };
    ackMode = issued === partition ? 'local' : 'remote';
    if (ackMode === 'remote') {
      remotePartition = issued;
      if ((await prepareHandoff(ctx, ack, issued, partition, now)) === 'lease-lost') return { outcome: 'lease-lost' };
    }
  }

  let uniqueMode: CommitModes['uniqueMode'] = '';
  let uniqueArg = '';
  if (request.uniqueKey !== undefined) {
    if (layout.partitions === 1) {
      uniqueMode = 'claim';
    } else {
      const plan = await reserveUniqueKey(ctx, ref, request.uniqueKey);
      uniqueMode = plan.mode;
      uniqueArg = plan.mode === 'check' ? plan.token : plan.holder;
    }
  }

  const item = commitItem(ctx, request, { ackMode, uniqueMode, uniqueArg });
  const { tag } = layout.partition(partition);
  for (let round = 0; round < HANDOFF_ROUNDS; round++) {
    const reply = await ctx.callScript(COMMIT, tag, item.keys, item.args, item.tail);
    if (reply.kind !== 'handoff') return outcomeOf(ctx, request, reply, remotePartition);
    await resolveHandoffs(
      ctx,
      reply.handoffs.map((h) => ({ ...h, partition })),
      now,
    );
  }
  throw new StoreError('transient', `Commit to ${ref.type}:${ref.id} kept meeting unresolved acknowledgements; retry`);
}

/** The instance holding a unique key, read from the key's holder record. */
async function currentHolder(ctx: RedisContext, type: string, key: string): Promise<string | undefined> {
  const record = ctx.layout.partition(ctx.layout.uniquePartitionOf(type, key)).unique(type, key);
  const [holder] = await ctx.client.hmget(record, 'id');
  return holder ?? undefined;
}
