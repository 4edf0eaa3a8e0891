// The runtime's side of decision caching: a bounded LRU of folded instance states, and a queue
// per instance so inputs to one instance from this process take turns instead of conflicting.
import type { CachedInstance, InstanceCache } from '@ironflow/core/engine';

/** A least-recently-used cache of at most `capacity` instances (a Map keeps insertion order). */
export function createLruCache(capacity: number): InstanceCache {
  const entries = new Map<string, CachedInstance>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (entry !== undefined) {
        entries.delete(key);
        entries.set(key, entry);
      }
      return entry;
    },
    set(key, entry) {
      entries.delete(key);
      entries.set(key, entry);
      if (entries.size > capacity) entries.delete(entries.keys().next().value as string);
    },
    delete(key) {
      entries.delete(key);
    },
  };
}

/** Runs tasks with the same key one after another, tasks with different keys concurrently. */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
