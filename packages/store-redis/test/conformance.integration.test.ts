// The shared store contract against a real Redis server, on a key prefix of its own.
import { describe } from 'vitest';
import { describeStoreConformance, testServerUrl } from '@ironflow/testing';
import { openForSuite } from './helpers.js';

const url = testServerUrl('redis');

describe.skipIf(!url)('redis (1 partition)', () => {
  describeStoreConformance({ name: 'redis', open: (prefix) => openForSuite(url ?? '', prefix) });
});
