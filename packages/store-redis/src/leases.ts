// Fenced changes to a leased row (renew, complete, retry, dead-letter, release) and re-drive of a
// dead letter: one script call in the row's partition, which the lease token names.
import { StoreError, type LeaseOperation, type WorkKind } from '@ironflow/core/store';
import { kindLetter } from './codec.js';
import { HANDOFF_ROUNDS } from './commit.js';
import type { RedisContext } from './context.js';
import { resolveHandoffs } from './cross-partition.js';
import { deadMember, leasePartition } from './members.js';
import { REDRIVE, SETTLE } from './scripts/leases.js';

/** The `at` argument of SETTLE: the new expiry (renew) or the retry time (retry). */
function atOf(operation: LeaseOperation): number | '' {
  if (operation.op === 'renew') return operation.expiresAt;
  if (operation.op === 'retry') return operation.retryAt;
  return '';
}

/** Applies a fenced change; 'lease-lost' unless the row is leased with that token and unexpired at `now`. */
export async function settle(ctx: RedisContext, operation: LeaseOperation): Promise<'ok' | 'lease-lost'> {
  const { lease, now } = operation;
  const partition = leasePartition(lease.token, ctx.layout.partitions);
  if (partition === undefined) return 'lease-lost';
  await ctx.ready();
  const keys = ctx.layout.partition(partition);
  const k = kindLetter(lease.kind);
  const error = operation.op === 'retry' || operation.op === 'dead' ? JSON.stringify(operation.error) : '';
  const args = {
    kind: k,
    id: lease.id,
    token: lease.token,
    now,
    op: operation.op,
    at: atOf(operation),
    error,
    deadMember: operation.op === 'dead' ? deadMember(now, lease.id) : '',
    channel: ctx.layout.channel,
  };
  for (let round = 0; round < HANDOFF_ROUNDS; round++) {
    const reply = await ctx.callScript(SETTLE, keys.tag, { row: keys.item(k, lease.id) }, args);
    if (reply.kind !== 'handoff') return reply.kind;
    await resolveHandoffs(
      ctx,
      reply.handoffs.map((h) => ({ ...h, partition })),
      now,
    );
  }
  throw new StoreError('transient', `The lease on ${lease.kind} ${lease.id} kept meeting unresolved acknowledgements; retry`);
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
