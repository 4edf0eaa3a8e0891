// The shared store contract again with 4 partitions on one node: every cross-partition path
// (claims merged across partitions, acknowledgements and unique keys in other slots) runs.
import { describe } from 'vitest';
import { describeStoreConformance, testServerUrl } from '@ironflow/testing';
import { openForSuite, OVERLAPPING_PREFIXES } from './helpers.js';

const url = testServerUrl('redis');

describe.skipIf(!url)('redis (4 partitions)', () => {
  describeStoreConformance({
    name: 'redis, 4 partitions',
    feedOrder: 'per-partition',
    open: (prefix) => openForSuite(url ?? '', prefix, { partitions: 4 }),
    overlappingNamespaces: OVERLAPPING_PREFIXES,
  });
});
