// The reference store: the store kit over plain in-process tables, deterministic under a manual
// clock. Every argument rule, typed error and wake-up comes from the kit, as for every other store.
import { defineStore, type KitStore } from '@ironflow/core/store';
import { memoryBackend } from './memory-backend.js';
import { clearTables, createTables } from './memory-tables.js';

/** The in-memory store; also exposes `reset()` for tests. */
export interface MemoryStore extends KitStore {
  /** Forgets every instance, event, effect, timer and observation. */
  reset(): void;
}

/**
 * Creates an in-memory store.
 * @example const store = createMemoryStore();
 */
export function createMemoryStore(): MemoryStore {
  const tables = createTables();
  return defineStore(memoryBackend(tables), { reset: () => clearTables(tables) });
}
