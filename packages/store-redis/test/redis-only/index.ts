// The Redis-only families, declared inside the conformance suite through `additionalTests`:
// what only a Redis store can show (layout, partitions, protocols, call counts, server settings).
import { describe } from 'vitest';
import { batchCases } from './batches.js';
import { commitCases } from './commits.js';
import { feedCases } from './feed.js';
import { redisFixture } from './fixture.js';
import { hostileInputCases } from './hostile-input.js';
import { layoutCases } from './layout.js';
import { partitionCases } from './partitions.js';
import { projectionCases } from './projections.js';
import { retentionCases } from './retention.js';
import { roundTripCases } from './round-trips.js';
import { serverCases } from './server.js';

/** Declares every Redis-only family against the server at `url`. */
export function redisOnlyTests(url: string): void {
  const fx = redisFixture(url);
  describe('key layout and destroy()', () => layoutCases(fx));
  commitCases(fx);
  batchCases(fx);
  partitionCases(fx);
  feedCases(fx);
  projectionCases(fx);
  retentionCases(fx);
  roundTripCases(fx);
  hostileInputCases(fx);
  serverCases(fx);
}
