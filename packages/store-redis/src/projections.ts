// Projection checkpoints of a Redis store. A projection's record, dead letters and their indexes
// live in one partition (picked by its name), so they share one hash tag and every fenced write
// is one script call on one slot; each partition keeps a registry of the projections it holds.
import {
  compareIds,
  stripUndefined,
  type CheckedProjectionClaim,
  type CheckedProjectionDeadLetterQuery,
  type CheckedProjectionRenew,
  type CheckedProjectionReset,
  type CheckedProjectionSave,
  type ProjectionClaim,
  type ProjectionDeadLetter,
  type ProjectionLease,
  type ProjectionStatus,
} from '@ironflow/core/store';
import type { RedisContext } from './context.js';
import { checkFeedPosition, decodeFeedPosition } from './feed.js';
import type { PartitionKeys } from './keys.js';
import type { Fields } from './reply.js';
import {
  PROJECTION_CLAIM,
  PROJECTION_LETTERS,
  PROJECTION_LIST,
  PROJECTION_REDRIVE,
  PROJECTION_RELEASE,
  PROJECTION_RENEW,
  PROJECTION_RESET,
  PROJECTION_SAVE,
  PROJECTION_SKIP,
} from './scripts/projections.js';

/** The partition keys a projection lives under. */
function homeOf(ctx: RedisContext, name: string): PartitionKeys {
  return ctx.layout.partition(ctx.layout.projectionPartitionOf(name));
}

/** The dead-letter indexes of a projection, as the scripts name them. */
function letterIndexes(keys: PartitionKeys, name: string) {
  return { letters: keys.projectionLetters(name), parked: keys.projectionLetters(name, 'parked'), redriven: keys.projectionLetters(name, 'redriven') };
}

/**
 * Refuses a position this store did not write, before anything is written. A runner saves
 * positions it read, so a save checks their shape only: no extra call per partition per batch.
 */
function checkPosition(ctx: RedisContext, position: string, what: string): void {
  decodeFeedPosition(position, ctx.layout.partitions, what);
}

function decodeLetter(projection: string, fields: Fields): ProjectionDeadLetter {
  return {
    id: fields.get('id').text(),
    workflowType: fields.get('wt').text(),
    workflowId: fields.get('wid').text(),
    sequence: fields.get('sq').integer(),
    eventType: fields.get('et').text(),
    position: fields.get('ps').text(),
    error: fields.get('er').text(),
    attempts: fields.get('at').integer(),
    projection,
    status: fields.get('st').oneOf(['parked', 'redriven']),
    parkedAt: fields.get('pa').integer(),
    updatedAt: fields.get('ua').integer(),
  };
}

/** Takes the projection's lease unless another holder's is live; see PROJECTION_CLAIM. */
export async function claimProjection(ctx: RedisContext, claim: CheckedProjectionClaim): Promise<ProjectionClaim | undefined> {
  await ctx.ready();
  const keys = homeOf(ctx, claim.name);
  const won = await ctx.callScript(
    PROJECTION_CLAIM,
    keys.tag,
    { record: keys.projection(claim.name), registry: keys.projections() },
    { name: claim.name, owner: claim.owner, now: claim.now, expiresAt: claim.expiresAt },
  );
  if (won === undefined) return undefined;
  return stripUndefined({ lease: { name: claim.name, owner: claim.owner, token: won.token }, position: won.position, expiresAt: claim.expiresAt });
}

/** Extends the lease when its token is still the projection's. */
export async function renewProjection(ctx: RedisContext, renew: CheckedProjectionRenew): Promise<'ok' | 'lease-lost'> {
  await ctx.ready();
  const { lease } = renew;
  const keys = homeOf(ctx, lease.name);
  return ctx.callScript(PROJECTION_RENEW, keys.tag, { record: keys.projection(lease.name) }, { token: lease.token, owner: lease.owner, expiresAt: renew.expiresAt });
}

/** Moves the checkpoint, extends the lease, parks and resolves dead letters in one fenced script call. */
export async function saveProjection(ctx: RedisContext, save: CheckedProjectionSave): Promise<'ok' | 'lease-lost'> {
  if (save.position !== undefined) checkPosition(ctx, save.position, 'save.position');
  save.parked.forEach((letter, i) => checkPosition(ctx, letter.position, `save.parked[${i}].position`));
  await ctx.ready();
  const { lease } = save;
  const keys = homeOf(ctx, lease.name);
  const parked = save.parked.flatMap((l) => [l.id, l.workflowType, l.workflowId, l.sequence, l.eventType, l.position, l.error, l.attempts]);
  return ctx.callScript(
    PROJECTION_SAVE,
    keys.tag,
    { record: keys.projection(lease.name), ...letterIndexes(keys, lease.name) },
    { name: lease.name, token: lease.token, now: save.now, position: save.position ?? '', expiresAt: save.expiresAt ?? '', parkedCount: save.parked.length },
    [...parked, ...save.resolved],
  );
}

/** Ends the lease when its token is still the projection's. */
export async function releaseProjection(ctx: RedisContext, lease: ProjectionLease): Promise<'ok' | 'lease-lost'> {
  await ctx.ready();
  const keys = homeOf(ctx, lease.name);
  return ctx.callScript(PROJECTION_RELEASE, keys.tag, { record: keys.projection(lease.name) }, { token: lease.token });
}

/** Sets the checkpoint, ends and fences the lease, and unless kept deletes the dead letters, in one script call. */
export async function resetProjection(ctx: RedisContext, reset: CheckedProjectionReset): Promise<void> {
  // An operator's position: also refused past the feed's end, so a typo fails here, not in the runner's next read.
  if (reset.position !== undefined) await checkFeedPosition(ctx, reset.position, 'reset.position');
  await ctx.ready();
  const keys = homeOf(ctx, reset.name);
  await ctx.callScript(
    PROJECTION_RESET,
    keys.tag,
    { record: keys.projection(reset.name), registry: keys.projections(), ...letterIndexes(keys, reset.name) },
    { name: reset.name, now: reset.now, position: reset.position ?? '', keep: reset.keepDeadLetters ? 1 : 0 },
  );
}

/** Every projection of every partition's registry, in name order (code points). */
export async function listProjections(ctx: RedisContext): Promise<ProjectionStatus[]> {
  await ctx.ready();
  const rows = await Promise.all(ctx.allPartitions().map((keys) => ctx.callScript(PROJECTION_LIST, keys.tag, { registry: keys.projections() }, {})));
  return rows
    .flat()
    .sort((a, b) => compareIds(a.name, b.name))
    .map((row) => stripUndefined({ ...row }));
}

/** A page of one projection's dead letters in id order, from the index of the status asked for. */
export async function listProjectionDeadLetters(ctx: RedisContext, query: CheckedProjectionDeadLetterQuery): Promise<ProjectionDeadLetter[]> {
  await ctx.ready();
  const keys = homeOf(ctx, query.projection);
  const rows = await ctx.callScript(
    PROJECTION_LETTERS,
    keys.tag,
    { index: keys.projectionLetters(query.projection, query.status) },
    { name: query.projection, after: query.after ?? '', limit: query.limit },
  );
  return rows.map((fields) => decodeLetter(query.projection, fields));
}

/** Marks a parked dead letter redriven; false when there is no parked one by that id. */
export async function redriveProjectionDeadLetter(ctx: RedisContext, projection: string, id: string, now: number): Promise<boolean> {
  await ctx.ready();
  const keys = homeOf(ctx, projection);
  const { parked, redriven } = letterIndexes(keys, projection);
  return ctx.callScript(PROJECTION_REDRIVE, keys.tag, { parked, redriven }, { name: projection, id, now });
}

/** Deletes a dead letter; false when there is none by that id. */
export async function skipProjectionDeadLetter(ctx: RedisContext, projection: string, id: string): Promise<boolean> {
  await ctx.ready();
  const keys = homeOf(ctx, projection);
  return ctx.callScript(PROJECTION_SKIP, keys.tag, letterIndexes(keys, projection), { name: projection, id });
}
