// Claims: one CLAIM call with one partition; with several, a dry run in each, a merge into the
// store-wide claim order (rank, then id) that applies the poison-isolation rule, and a claim per
// partition. Pauses are obeyed by each partition's script: a type's pause is kept in every
// partition, an instance's in its own.
import { compareIds, type CheckedClaim, type ClaimedRecord, type WorkKind } from '@ironflow/core/store';
import { decodeWorkItem, kindLetter } from './codec.js';
import type { RedisContext } from './context.js';
import { resolveHandoffs, type PendingHandoff } from './cross-partition.js';
import { leaseTokenBase } from './members.js';
import { CLAIM, PEEK, type PeekedRow } from './scripts/claim.js';

/** How many rows to claim in one partition, and whether that one row may be a recovered one. */
export interface PartitionShare {
  readonly partition: number;
  readonly limit: number;
  readonly allowRecovered: boolean;
}

/**
 * Plans a claim from every partition's dry run: the rows in store-wide order (rank, then id); a
 * recovered row first is claimed alone; otherwise fresh rows up to `limit`, stopping before the
 * first recovered one.
 */
export function planClaim(peeked: readonly (PeekedRow & { readonly partition: number })[], limit: number): PartitionShare[] {
  const ordered = [...peeked].sort((a, b) => a.rank - b.rank || compareIds(a.id, b.id));
  const first = ordered[0];
  if (first === undefined) return [];
  if (first.recovered) return [{ partition: first.partition, limit: 1, allowRecovered: true }];
  const shares = new Map<number, number>();
  for (const row of ordered.slice(0, limit)) {
    if (row.recovered) break;
    shares.set(row.partition, (shares.get(row.partition) ?? 0) + 1);
  }
  return [...shares].map(([partition, n]) => ({ partition, limit: n, allowRecovered: false }));
}

/** The scope of a claim in a partition: its types, then the tags an effect claim is limited to. */
function scopeOf(kind: WorkKind, claim: CheckedClaim) {
  const tags = kind === 'effect' ? claim.tags : undefined;
  return { args: { typeCount: claim.types.length, tagged: tags === undefined ? '0' : '1' }, tail: [...claim.types, ...(tags ?? [])] };
}

/** Claims in one partition; rows stuck mid-handoff are added to `found`. */
async function claimIn(ctx: RedisContext, kind: WorkKind, claim: CheckedClaim, share: PartitionShare, found: PendingHandoff[]): Promise<ClaimedRecord[]> {
  const keys = ctx.layout.partition(share.partition);
  const scope = scopeOf(kind, claim);
  const reply = await ctx.callScript(
    CLAIM,
    keys.tag,
    { pauses: keys.pauses() },
    {
      kind: kindLetter(kind),
      now: claim.now,
      limit: share.limit,
      expiresAt: claim.expiresAt,
      owner: JSON.stringify(claim.owner),
      tokenBase: leaseTokenBase(share.partition),
      allowRecovered: share.allowRecovered ? '1' : '0',
      ...scope.args,
    },
    scope.tail,
  );
  found.push(...reply.handoffs.map((h) => ({ ...h, partition: share.partition })));
  return reply.rows.map(({ recovered, fields }) => {
    const record = decodeWorkItem(kind, fields);
    return { ...record, lease: { kind, id: record.id, token: fields.get('lt').text() }, recovered };
  });
}

/** Dry run in one partition: its claimable rows in order, up to `limit`, ending at its first recovered row. */
async function peekIn(ctx: RedisContext, kind: WorkKind, claim: CheckedClaim, partition: number, found: PendingHandoff[]) {
  const keys = ctx.layout.partition(partition);
  const scope = scopeOf(kind, claim);
  const reply = await ctx.callScript(PEEK, keys.tag, { pauses: keys.pauses() }, { kind: kindLetter(kind), now: claim.now, limit: claim.limit, ...scope.args }, scope.tail);
  found.push(...reply.handoffs.map((h) => ({ ...h, partition })));
  return reply.rows.map((row) => ({ ...row, partition }));
}

async function claimOnce(ctx: RedisContext, kind: WorkKind, claim: CheckedClaim, found: PendingHandoff[]): Promise<ClaimedRecord[]> {
  if (ctx.layout.partitions === 1) return claimIn(ctx, kind, claim, { partition: 0, limit: claim.limit, allowRecovered: true }, found);
  const peeked = await Promise.all(ctx.allPartitions().map((_, partition) => peekIn(ctx, kind, claim, partition, found)));
  const plan = planClaim(peeked.flat(), claim.limit);
  // Rows leased in one partition are returned even if another partition's call failed, so their
  // leases are not left to expire unused; only when every call failed does the claim throw.
  const settled = await Promise.allSettled(plan.map((share) => claimIn(ctx, kind, claim, share, found)));
  const failed = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0 && failed.length === settled.length) throw failed[0]?.reason;
  for (const f of failed) ctx.logger?.warn({ err: f.reason }, 'ironflow redis store: claiming in one partition failed');
  return settled.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
}

/** Leases claimable rows of `kind` under the poison-isolation rule (the kit sorts them). */
export async function claim(ctx: RedisContext, kind: WorkKind, request: CheckedClaim): Promise<ClaimedRecord[]> {
  // No tag can match an empty list: nothing to ask Redis.
  if (kind === 'effect' && request.tags?.length === 0) return [];
  await ctx.ready();
  const found: PendingHandoff[] = [];
  const claimed = await claimOnce(ctx, kind, request, found);
  if (found.length === 0) return claimed;
  // Rows whose lease expired mid-handoff: settle them (acknowledged) or free them (revoked). When
  // nothing was claimed, claim again at once; otherwise a freed row (now recovered, claimed
  // alone) waits for the next claim rather than joining this batch.
  try {
    await resolveHandoffs(ctx, found, request.now);
    if (claimed.length === 0) return await claimOnce(ctx, kind, request, []);
  } catch (error) {
    ctx.logger?.warn({ err: error }, 'ironflow redis store: resolving an interrupted cross-partition acknowledgement failed; the next claim retries');
  }
  return claimed;
}
