import { createMemoryStore, type MemoryStore } from '@ironflow/store-memory';
import { describeStoreConformance } from '../src/index.js';

// Memory stores share data the way processes share a schema: one store object per namespace.
const namespaces = new Map<string, MemoryStore>();

describeStoreConformance({
  name: 'memory',
  async open(namespace) {
    let store = namespaces.get(namespace);
    if (store === undefined) {
      store = createMemoryStore();
      namespaces.set(namespace, store);
    }
    const shared = store;
    return {
      store: shared,
      close: async () => {},
      destroy: async () => {
        shared.reset();
        // A later open of the namespace starts an empty store, as after dropping a schema.
        if (namespaces.get(namespace) === shared) namespaces.delete(namespace);
      },
    };
  },
});
