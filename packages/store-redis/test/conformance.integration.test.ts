// The shared store contract against a real Redis server, on key prefixes of its own, with the
// overlapping prefixes a Redis layout could confuse, and the Redis-only families.
import { describe } from 'vitest';
import { describeStoreConformance, testServerUrl } from '@ironflow/testing';
import { openForSuite, OVERLAPPING_PREFIXES } from './helpers.js';
import { redisOnlyTests } from './redis-only/index.js';

const url = testServerUrl('redis');

describe.skipIf(!url)('redis (1 partition)', () => {
  describeStoreConformance({
    name: 'redis',
    open: (prefix) => openForSuite(url ?? '', prefix),
    overlappingNamespaces: OVERLAPPING_PREFIXES,
    additionalTests: () => redisOnlyTests(url ?? ''),
  });
});
