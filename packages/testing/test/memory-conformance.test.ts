import { createMemoryStore } from '@ironflow/store-memory';
import { describeStoreConformance } from '../src/index.js';

describeStoreConformance({
  name: 'memory',
  setup: async () => ({ store: createMemoryStore(), teardown: async () => {} }),
});
