// Fenced changes to a leased row (renew, complete, retry, dead-letter, release) and re-drive of a
// dead letter: one script call in the row's partition, which the lease token names; batched
// settlement runs many changes in one call per partition.
import { StoreError, type LeaseOperation, type SettleOutcome, type WorkKind } from '@ironflow/core/store';
import { kindLetter } from './codec.js';
import { HANDOFF_ROUNDS } from './commit.js';
import type { RedisContext } from './context.js';
import { resolveHandoffs } from './cross-partition.js';
import { deadMember, leasePartition } from './members.js';
import type { BatchItem } from './script.js';
import { SETTLE_BATCH } from './scripts/batches.js';
import { REDRIVE, SETTLE } from './scripts/leases.js';

type SettleKey = (typeof SETTLE.keys)[number];
type SettleArg = (typeof SETTLE.args)[number];

/** The `at` argument of SETTLE: the new expiry (renew), the retry time (retry) or when a released row is claimable again. */
function atOf(operation: LeaseOperation): number | '' {
  if (operation.op === 'renew') return operation.expiresAt;
  if (operation.op === 'retry') return operation.retryAt;
  if (operation.op === 'release') return operation.availableAt;
  return '';
}

/** The `error` argument of SETTLE: the error (retry, dead) or a release's reason, as JSON text; '' for none. */
function errorOf(operation: LeaseOperation): string {
  if (operation.op === 'retry' || operation.op === 'dead') return JSON.stringify(operation.error);
  if (operation.op === 'release' && operation.reason !== undefined) return JSON.stringify(operation.reason);
  return '';
}

/** The named keys and arguments of one SETTLE call in the row's partition. */
function settleItem(ctx: RedisContext, operation: LeaseOperation, partition: number): BatchItem<SettleKey, SettleArg> {
  const { lease, now } = operation;
  const keys = ctx.layout.partition(partition);
  const k = kindLetter(lease.kind);
  return {
    keys: { row: keys.item(k, lease.id) },
    args: {
      kind: k,
      id: lease.id,
      token: lease.token,
      now,
      op: operation.op,
      at: atOf(operation),
      error: errorOf(operation),
      deadMember: operation.op === 'dead' ? deadMember(now, lease.id) : '',
      channel: ctx.layout.channel,
    },
  };
}

/** Applies a fenced change; 'lease-lost' unless the row is leased with that token and unexpired at `now`, 'cancelled' when it was cancelled. */
export async function settle(ctx: RedisContext, operation: LeaseOperation): Promise<SettleOutcome> {
  const { lease, now } = operation;
  const partition = leasePartition(lease.token, ctx.layout.partitions);
  if (partition === undefined) return 'lease-lost';
  await ctx.ready();
  const { tag } = ctx.layout.partition(partition);
  const item = settleItem(ctx, operation, partition);
  for (let round = 0; round < HANDOFF_ROUNDS; round++) {
    const reply = await ctx.callScript(SETTLE, tag, item.keys, item.args);
    if (reply.kind !== 'handoff') return reply.kind;
    await resolveHandoffs(
      ctx,
      reply.handoffs.map((h) => ({ ...h, partition })),
      now,
    );
  }
  throw new StoreError('transient', `The lease on ${lease.kind} ${lease.id} kept meeting unresolved acknowledgements; retry`);
}

/** Changes of one partition in one batch call each round, in order; a HANDOFF item goes through `settle`, then the rest go on. */
async function settleRun(ctx: RedisContext, partition: number, run: readonly LeaseOperation[]): Promise<SettleOutcome[]> {
  const { tag } = ctx.layout.partition(partition);
  const results: SettleOutcome[] = [];
  let rest = run;
  while (rest.length > 0) {
    const replies = await ctx.callBatch(
      SETTLE_BATCH,
      tag,
      rest.map((operation) => settleItem(ctx, operation, partition)),
    );
    for (const [i, reply] of replies.entries()) results.push(reply.kind === 'handoff' ? await settle(ctx, rest[i]!) : reply.kind);
    rest = rest.slice(replies.length);
  }
  return results;
}

/**
 * Batched settlement, in array order: the changes of each lease partition in one batch call, the
 * partitions concurrently (a change touches only its row's partition). A token no partition
 * issued is 'lease-lost' without a call. A failed call makes the whole batch throw, as `commitMany`.
 */
export async function settleMany(ctx: RedisContext, operations: readonly LeaseOperation[]): Promise<SettleOutcome[]> {
  const results: SettleOutcome[] = [];
  const runs = new Map<number, { index: number; operation: LeaseOperation }[]>();
  for (const [index, operation] of operations.entries()) {
    const partition = leasePartition(operation.lease.token, ctx.layout.partitions);
    if (partition === undefined) {
      results[index] = 'lease-lost';
      continue;
    }
    const run = runs.get(partition) ?? [];
    run.push({ index, operation });
    runs.set(partition, run);
  }
  if (runs.size === 0) return results;
  await ctx.ready();
  await Promise.all(
    [...runs].map(async ([partition, run]) => {
      const settled = await settleRun(
        ctx,
        partition,
        run.map((r) => r.operation),
      );
      settled.forEach((result, i) => (results[run[i]!.index] = result));
    }),
  );
  return results;
}

/** Re-drives a dead letter; the id does not name its partition, so partitions are tried in turn. */
export async function redrive(ctx: RedisContext, kind: WorkKind, id: string, now: number): Promise<boolean> {
  await ctx.ready();
  const k = kindLetter(kind);
  for (const keys of ctx.allPartitions()) {
    const verdict = await ctx.callScript(REDRIVE, keys.tag, { row: keys.item(k, id) }, { kind: k, id, now, channel: ctx.layout.channel });
    if (verdict !== 'missing') return verdict === 'ok';
  }
  return false;
}
