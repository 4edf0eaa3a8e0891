// With partitions > 1, a commit may need a row or a unique key that lives in another partition
// (another cluster slot), where one Lua call cannot reach. Two small protocols keep the
// guarantees of a single atomic commit:
//
// Handoff (acknowledging an effect or timer of another partition). The row's partition checks
// the lease and marks the row "handing off to partition B" (PREPARE). The commit in B then checks
// that B's handoff record has no entry for the lease token and, atomically with the decision,
// writes "landed" there. Afterwards the row is settled (FINALIZE). Anyone who finds a row with a
// handoff and an expired lease, or a fenced call on it, first asks B (RESOLVE): if the commit
// landed the row is settled as acknowledged, otherwise B records "revoked" under that token, so
// the late commit can never land, and the row is free again. Nothing is routed twice and nothing
// is lost, whatever crashes between the steps.
//
// Reservation (unique keys). The key's record lives in its own partition K and names its holder
// and a token. A creating instance reserves the key in K. If another instance G holds it, G's
// partition is asked whether G still holds it (PROBE); if G does not exist yet, G's token is
// blocked in G's partition first, so G's commit, which checks that block atomically, cannot land
// later. A terminal (completed or cancelled) or absent holder's reservation is then taken over
// (compare-and-set in K).
import { StoreError, type CheckedAck, type WorkflowRef } from '@ironflow/core/store';
import { kindLetter } from './codec.js';
import type { RedisContext } from './context.js';
import { deadMember, randomToken } from './members.js';
import {
  CLEAR_HANDOFF,
  FINALIZE_HANDOFF,
  PREPARE_HANDOFF,
  PROBE_UNIQUE,
  RELEASE_UNIQUE,
  RESERVE_UNIQUE,
  RESOLVE_HANDOFF,
  TAKE_UNIQUE,
  type HandoffRef,
} from './scripts/cross-partition.js';

/** A row whose acknowledgement was handed to another partition and must be resolved. */
export interface PendingHandoff extends HandoffRef {
  /** Partition of the row. */
  readonly partition: number;
}

/** The handoff record value a landed acknowledgement writes: `d` done, `x<error JSON>` dead. */
export function handoffRecord(ack: CheckedAck): string {
  if (ack.outcome === 'done') return 'd';
  return ack.error === undefined ? 'x' : `x${JSON.stringify(ack.error)}`;
}

/** Marks a leased row as handing its acknowledgement to `target`; 'lease-lost' if the lease is not held. */
export async function prepareHandoff(ctx: RedisContext, ack: CheckedAck, partition: number, target: number, now: number): Promise<'ok' | 'lease-lost'> {
  const keys = ctx.layout.partition(partition);
  const k = kindLetter(ack.kind);
  for (let attempt = 0; attempt < 3; attempt++) {
    const reply = await ctx.callScript(PREPARE_HANDOFF, keys.tag, { row: keys.item(k, ack.id) }, { token: ack.token, now, target });
    if (reply.kind !== 'elsewhere') return reply.kind;
    // The same lease earlier handed off towards another partition: settle that first.
    await resolveHandoff(ctx, { kind: k, id: ack.id, token: reply.token, partition, target: reply.target }, now);
  }
  throw new StoreError('transient', `The acknowledgement of ${ack.kind} ${ack.id} kept changing partitions`);
}

/** Settles the row after its acknowledgement landed; a failure is harmless (a later resolve settles it). */
export async function finalizeHandoff(ctx: RedisContext, ack: CheckedAck, partition: number, now: number): Promise<void> {
  const keys = ctx.layout.partition(partition);
  const k = kindLetter(ack.kind);
  const error = ack.outcome === 'dead' && ack.error !== undefined ? JSON.stringify(ack.error) : '';
  await ctx.callScript(
    FINALIZE_HANDOFF,
    keys.tag,
    { row: keys.item(k, ack.id) },
    { kind: k, id: ack.id, token: ack.token, now, outcome: ack.outcome, error, deadMember: deadMember(now, ack.id) },
  );
}

/** Asks the target whether a handed-off acknowledgement landed, and settles or frees the row. */
export async function resolveHandoff(ctx: RedisContext, handoff: PendingHandoff, now: number): Promise<void> {
  const { kind, id, token, partition } = handoff;
  const target = ctx.layout.partition(handoff.target);
  const verdict = await ctx.callScript(RESOLVE_HANDOFF, target.tag, { record: target.handoffs(kind, id) }, { token });
  const keys = ctx.layout.partition(partition);
  if (verdict === 'r') {
    await ctx.callScript(CLEAR_HANDOFF, keys.tag, { row: keys.item(kind, id) }, { token });
    return;
  }
  const outcome = verdict === 'd' ? 'done' : 'dead';
  const error = verdict.startsWith('x') ? verdict.slice(1) : '';
  await ctx.callScript(
    FINALIZE_HANDOFF,
    keys.tag,
    { row: keys.item(kind, id) },
    { kind, id, token, now, outcome, error, deadMember: deadMember(now, id) },
  );
}

/** Resolves each distinct handoff once, in turn. */
export async function resolveHandoffs(ctx: RedisContext, found: readonly PendingHandoff[], now: number): Promise<void> {
  const seen = new Set<string>();
  for (const handoff of found) {
    const key = `${handoff.kind}:${handoff.id}:${handoff.token}`;
    if (seen.has(key)) continue;
    seen.add(key);
    await resolveHandoff(ctx, handoff, now);
  }
}

/** How the commit script treats the unique key after the reservation protocol. */
export type UniquePlan = { readonly mode: 'check'; readonly token: string } | { readonly mode: 'conflict'; readonly holder: string };

/** Reserves `key` for `ref` in the key's partition, taking it over from a terminal or absent holder. */
export async function reserveUniqueKey(ctx: RedisContext, ref: WorkflowRef, key: string): Promise<UniquePlan> {
  const home = ctx.layout.partition(ctx.layout.uniquePartitionOf(ref.type, key));
  const record = home.unique(ref.type, key);
  for (let attempt = 0; attempt < 5; attempt++) {
    const reserved = await ctx.callScript(RESERVE_UNIQUE, home.tag, { record }, { id: ref.id, token: randomToken() });
    if (reserved.kind === 'ok') return { mode: 'check', token: reserved.token };
    const { holder, holderToken } = reserved;
    const at = ctx.layout.partition(ctx.layout.partitionOf(ref.type, holder));
    const state = await ctx.callScript(
      PROBE_UNIQUE,
      at.tag,
      { holder: at.instance(ref.type, holder), blocks: at.uniqueBlocks(ref.type, holder) },
      { uniqueKey: key, holderToken },
    );
    if (state === 'active') return { mode: 'conflict', holder };
    const token = randomToken();
    const taken = await ctx.callScript(TAKE_UNIQUE, home.tag, { record }, { oldId: holder, oldToken: holderToken, newId: ref.id, newToken: token });
    if (taken) return { mode: 'check', token };
  }
  throw new StoreError('transient', `The unique key "${key}" of ${ref.type} kept changing hands; retry`);
}

/** Releases `key` if `id` holds it (after its holder completed); best effort, a later probe also frees it. */
export async function releaseUniqueKey(ctx: RedisContext, type: string, key: string, id: string): Promise<void> {
  const home = ctx.layout.partition(ctx.layout.uniquePartitionOf(type, key));
  await ctx.callScript(RELEASE_UNIQUE, home.tag, { record: home.unique(type, key) }, { id });
}
