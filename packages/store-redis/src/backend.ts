// The Redis backend of the store kit: each primitive is one module's function over the shared
// RedisContext; the kit parses arguments, raises typed errors and fans out wake-ups around them.
import type { StoreBackend } from '@ironflow/core/store';
import { claim } from './claim.js';
import { classifyRedisError } from './classify-error.js';
import { commit } from './commit.js';
import type { RedisContext } from './context.js';
import { backlog, cancelInstance, listPaused, setPaused } from './control.js';
import { countDeadLetters, listDeadLetters, purge, purgeIdempotencyKeys } from './dead-letters.js';
import { feedHead, feedLag, readFeed } from './feed.js';
import { commitMany } from './group-commit.js';
import { redrive, settle, settleMany } from './leases.js';
import { listWork, pageInstances } from './pages.js';
import {
  claimProjection,
  listProjectionDeadLetters,
  listProjections,
  redriveProjectionDeadLetter,
  releaseProjection,
  renewProjection,
  resetProjection,
  saveProjection,
  skipProjectionDeadLetter,
} from './projections.js';
import { listEffects, listInstances, listObservations, listTimers, load, nextTimerAt, readEvents, recordObservation } from './queries.js';
import { deleteInstance } from './retention.js';
import { listenForWakeUps } from './wake.js';

/** Assembles the StoreBackend of one Redis store. */
export function createRedisBackend(ctx: RedisContext): StoreBackend {
  return {
    name: 'redis',
    classify: classifyRedisError,
    load: (ref, idempotencyKey) => load(ctx, ref, idempotencyKey),
    commit: (request) => commit(ctx, request),
    commitMany: (requests) => commitMany(ctx, requests),
    recordObservation: (observation) => recordObservation(ctx, observation),
    claim: (kind, request) => claim(ctx, kind, request),
    nextTimerAt: (types) => nextTimerAt(ctx, types),
    settle: (operation) => settle(ctx, operation),
    settleMany: (operations) => settleMany(ctx, operations),
    cancelInstance: (ref, now, reason, effects) => cancelInstance(ctx, ref, now, reason, effects),
    setPaused: (target, paused, now) => setPaused(ctx, target, paused, now),
    listPaused: () => listPaused(ctx),
    backlog: (now) => backlog(ctx, now),
    purgeIdempotencyKeys: (olderThan) => purgeIdempotencyKeys(ctx, olderThan),
    listWork: (query) => listWork(ctx, query),
    pageInstances: (query) => pageInstances(ctx, query),
    readFeed: (query) => readFeed(ctx, query),
    feedHead: () => feedHead(ctx),
    feedLag: (query) => feedLag(ctx, query),
    // No projectionTransactions: a Lua script cannot run a handler's writes, so the kit refuses
    // `apply` and Redis read models get at-least-once delivery.
    claimProjection: (claim) => claimProjection(ctx, claim),
    renewProjection: (renew) => renewProjection(ctx, renew),
    saveProjection: (save) => saveProjection(ctx, save),
    releaseProjection: (lease) => releaseProjection(ctx, lease),
    resetProjection: (reset) => resetProjection(ctx, reset),
    listProjections: () => listProjections(ctx),
    listProjectionDeadLetters: (query) => listProjectionDeadLetters(ctx, query),
    redriveProjectionDeadLetter: (projection, id, now) => redriveProjectionDeadLetter(ctx, projection, id, now),
    skipProjectionDeadLetter: (projection, id) => skipProjectionDeadLetter(ctx, projection, id),
    listDeadLetters: (query) => listDeadLetters(ctx, query),
    countDeadLetters: (query) => countDeadLetters(ctx, query),
    redrive: (kind, id, now) => redrive(ctx, kind, id, now),
    purge: (olderThan) => purge(ctx, olderThan),
    deleteInstance: (request) => deleteInstance(ctx, request),
    readEvents: (ref, fromSequence) => readEvents(ctx, ref, fromSequence),
    listInstances: (query) => listInstances(ctx, query),
    listEffects: (ref) => listEffects(ctx, ref),
    listTimers: (ref) => listTimers(ctx, ref),
    listObservations: (ref) => listObservations(ctx, ref),
    listen: (wake, ended) => listenForWakeUps(ctx, wake, ended),
  };
}
