// Retention of one ended instance on Redis: one script call in its partition deletes it and all
// it owns, feed entries included; then, as after a purge, best-effort cleanups in other
// partitions (the unique key's holder record, its rows' handoff records).
import type { DeleteInstanceOutcome, DeleteInstanceRequest } from '@ironflow/core/store';
import type { RedisContext } from './context.js';
import { releaseUniqueKey } from './cross-partition.js';
import { DELETE_INSTANCE } from './scripts/retention.js';

/** Deletes an ended instance with no live work, and everything it owns, or says why not. */
export async function deleteInstance(ctx: RedisContext, request: DeleteInstanceRequest): Promise<DeleteInstanceOutcome> {
  await ctx.ready();
  const { layout } = ctx;
  const { ref } = request;
  const keys = ctx.home(ref);
  const reply = await ctx.callScript(
    DELETE_INSTANCE,
    keys.tag,
    {
      instance: keys.instance(ref.type, ref.id),
      events: keys.events(ref.type, ref.id),
      feedEntries: keys.feedEntries(ref.type, ref.id),
      feed: keys.feed(),
      idempotency: keys.idempotency(ref.type, ref.id),
      idempotencyTimes: keys.idempotencyTimes(),
      observations: keys.observations(ref.type, ref.id),
      ownedEffects: keys.owned('e', ref.type, ref.id),
      ownedTimers: keys.owned('t', ref.type, ref.id),
      timerKeys: keys.timerKeys(ref.type, ref.id),
      effectKeys: keys.effectKeys(ref.type, ref.id),
      uniqueBlocks: keys.uniqueBlocks(ref.type, ref.id),
      pauses: keys.pauses(),
    },
    { type: ref.type, id: ref.id, expectedVersion: request.expectedVersion, uniqueMode: layout.partitions === 1 ? 'local' : 'remote' },
  );
  if (reply.outcome !== 'deleted') return reply.outcome;
  // With partitions > 1 the holder record lives in the key's own partition. Ending the instance
  // released it already, unless that best-effort step failed; then it goes now, or the next
  // claimant's probe finds the holder gone and takes the key over.
  const { uniqueKey } = reply;
  if (layout.partitions > 1 && uniqueKey !== undefined) {
    await releaseUniqueKey(ctx, ref.type, uniqueKey, ref.id).catch((error: unknown) =>
      ctx.logger?.warn({ err: error, uniqueKey }, 'ironflow redis store: releasing the unique key of a deleted instance failed; the next claimant frees it'),
    );
  }
  for (const leftover of reply.leftovers) {
    for (const target of leftover.partitions) {
      await ctx.client.del(layout.partition(target).handoffs(leftover.kind, leftover.id)).catch((error: unknown) =>
        ctx.logger?.warn({ err: error, kind: leftover.kind, id: leftover.id }, 'ironflow redis store: deleting a handoff record of a deleted instance failed; it stays until destroy()'),
      );
    }
  }
  return 'deleted';
}
