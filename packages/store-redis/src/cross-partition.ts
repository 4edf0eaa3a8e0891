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
// later. A completed or absent holder's reservation is then taken over (compare-and-set in K).
import type { WorkflowRef } from '@ironflow/core';
import { LeaseLostError, StoreError, type Acknowledgement, type Lease } from '@ironflow/core/store';
import { kindLetter } from './codec.js';
import { deadMember, type KeyLayout, type KindLetter } from './keys.js';
import type { LuaScript } from './script-runner.js';
import {
  CLEAR_HANDOFF,
  FINALIZE_HANDOFF,
  PREPARE_HANDOFF,
  PROBE_UNIQUE,
  RELEASE_UNIQUE,
  RESERVE_UNIQUE,
  RESOLVE_HANDOFF,
  TAKE_UNIQUE,
} from './scripts/cross-partition.js';

/** What the protocols need from the store: the layout and a classified script call. */
export interface ProtocolContext {
  readonly layout: KeyLayout;
  run(script: LuaScript, keys: readonly string[], args: readonly (string | number)[], operation: string): Promise<unknown>;
  newToken(): string;
}

/** A row whose acknowledgement was handed to another partition and must be resolved. */
export interface PendingHandoff {
  readonly kind: KindLetter;
  readonly id: string;
  readonly token: string;
  /** Partition of the row. */
  readonly partition: number;
  /** Partition the acknowledgement went to. */
  readonly target: number;
}

/** The handoff record value a landed acknowledgement writes: `d` done, `x<error JSON>` dead. */
export function handoffRecord(ack: Acknowledgement): string {
  if (ack.outcome === 'done') return 'd';
  return ack.error === undefined ? 'x' : `x${JSON.stringify(ack.error)}`;
}

/** Marks a leased row as handing its acknowledgement to `target`; LEASE_LOST if the lease is not held. */
export async function prepareHandoff(ctx: ProtocolContext, lease: Lease, partition: number, target: number, now: number): Promise<void> {
  const keys = ctx.layout.partition(partition);
  const k = kindLetter(lease.kind);
  for (let attempt = 0; attempt < 3; attempt++) {
    const reply = (await ctx.run(PREPARE_HANDOFF, [keys.item(k, lease.id)], [keys.tag, lease.token, now, target], 'commit')) as string[];
    if (reply[0] === 'OK') return;
    if (reply[0] === 'LEASE_LOST') throw new LeaseLostError(lease.kind, lease.id);
    // The same lease earlier handed off towards another partition: settle that first.
    await resolveHandoff(ctx, { kind: k, id: lease.id, token: String(reply[1]), partition, target: Number(reply[2]) }, now);
  }
  throw new StoreError('transient', `The acknowledgement of ${lease.kind} ${lease.id} kept changing partitions`);
}

/** Settles the row after its acknowledgement landed; a failure is harmless (a later resolve settles it). */
export async function finalizeHandoff(ctx: ProtocolContext, ack: Acknowledgement, partition: number, now: number): Promise<void> {
  const keys = ctx.layout.partition(partition);
  const k = kindLetter(ack.kind);
  const error = ack.outcome === 'dead' && ack.error !== undefined ? JSON.stringify(ack.error) : '';
  await ctx.run(
    FINALIZE_HANDOFF,
    [keys.item(k, ack.id)],
    [keys.tag, k, ack.id, ack.token, now, ack.outcome, error, deadMember(now, ack.id)],
    'commit',
  );
}

/** Asks the target whether a handed-off acknowledgement landed, and settles or frees the row. */
export async function resolveHandoff(ctx: ProtocolContext, handoff: PendingHandoff, now: number): Promise<void> {
  const { kind, id, token, partition } = handoff;
  const target = ctx.layout.partition(handoff.target);
  const verdict = String(await ctx.run(RESOLVE_HANDOFF, [target.handoffs(kind, id)], [target.tag, token], 'resolve handoff'));
  const keys = ctx.layout.partition(partition);
  if (verdict === 'r') {
    await ctx.run(CLEAR_HANDOFF, [keys.item(kind, id)], [keys.tag, token], 'resolve handoff');
    return;
  }
  const outcome = verdict === 'd' ? 'done' : 'dead';
  const error = verdict.startsWith('x') ? verdict.slice(1) : '';
  await ctx.run(FINALIZE_HANDOFF, [keys.item(kind, id)], [keys.tag, kind, id, token, now, outcome, error, deadMember(now, id)], 'resolve handoff');
}

/** How the commit script treats the unique key after the reservation protocol. */
export type UniquePlan = { readonly mode: 'check'; readonly token: string } | { readonly mode: 'conflict'; readonly holder: string };

/** Reserves `key` for `ref` in the key's partition, taking it over from a completed or absent holder. */
export async function reserveUniqueKey(ctx: ProtocolContext, ref: WorkflowRef, key: string): Promise<UniquePlan> {
  const home = ctx.layout.partition(ctx.layout.uniquePartitionOf(ref.type, key));
  const record = home.unique(ref.type, key);
  for (let attempt = 0; attempt < 5; attempt++) {
    const reply = (await ctx.run(RESERVE_UNIQUE, [record], [home.tag, ref.id, ctx.newToken()], 'commit')) as string[];
    if (reply[0] === 'ok') return { mode: 'check', token: String(reply[1]) };
    const holder = String(reply[1]);
    const holderToken = String(reply[2]);
    const at = ctx.layout.partition(ctx.layout.partitionOf(ref.type, holder));
    const state = await ctx.run(
      PROBE_UNIQUE,
      [at.instance(ref.type, holder), at.uniqueBlocks(ref.type, holder)],
      [at.tag, key, holderToken],
      'commit',
    );
    if (state === 'active') return { mode: 'conflict', holder };
    const token = ctx.newToken();
    const taken = await ctx.run(TAKE_UNIQUE, [record], [home.tag, holder, holderToken, ref.id, token], 'commit');
    if (taken === 1) return { mode: 'check', token };
  }
  throw new StoreError('transient', `The unique key "${key}" of ${ref.type} kept changing hands; retry`);
}

/** Releases `key` if `id` holds it (after its holder completed); best effort, a later probe also frees it. */
export async function releaseUniqueKey(ctx: ProtocolContext, type: string, key: string, id: string): Promise<void> {
  const home = ctx.layout.partition(ctx.layout.uniquePartitionOf(type, key));
  await ctx.run(RELEASE_UNIQUE, [home.unique(type, key)], [home.tag, id], 'commit');
}
