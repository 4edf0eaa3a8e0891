// createRedisStore: checks the Redis-specific options and builds a store with the kit from the
// Redis backend, plus what only Redis has (prefix, partitions, channel, setup, destroy).
import { defineStore, invalidArgument, StoreError, type KitStore } from '@ironflow/core/store';
import { createRedisBackend } from './backend.js';
import { createRedisContext } from './context.js';
import { destroy } from './destroy.js';
import { createKeyLayout } from './keys.js';
import type { RedisClientLike, RedisStoreLogger } from './redis-client.js';

/** Options of `createRedisStore`. */
export interface RedisStoreOptions {
  /** An ioredis `Redis` or `Cluster` you own; the store never closes it. It must not set a client-side `keyPrefix`. */
  readonly client: RedisClientLike;
  /**
   * Prefix of every key and of the wake-up channel; 1 to 64 of `A-Z a-z 0-9 : _ . -`.
   * @default 'ironflow'
   */
  readonly keyPrefix?: string | undefined;
  /**
   * Number of partitions (hash tags) instances are spread over, for Redis Cluster. Fixed for a
   * deployment: changing it strands existing data, so `setup()` refuses a different count.
   * @default 1
   */
  readonly partitions?: number | undefined;
  /**
   * Accept a `maxmemory-policy` other than `noeviction` (Redis could then silently drop workflow
   * data under memory pressure); when true, `setup()` only warns.
   * @default false
   */
  readonly allowEviction?: boolean | undefined;
  /** Receives warnings (unreadable server config, eviction allowed, wake-up connection errors, listeners that threw). */
  readonly logger?: RedisStoreLogger | undefined;
}

/** What the Redis store adds to the port. */
export interface RedisStoreExtras {
  /** The validated key prefix. */
  readonly keyPrefix: string;
  /** The partition count. */
  readonly partitions: number;
  /** The pub/sub channel wake-ups are published on: `<keyPrefix>:wake`. */
  readonly channel: string;
  /**
   * Loads the Lua scripts, checks `maxmemory-policy` and records the partition count; idempotent.
   * Other calls run it on first use, so calling it at start-up only surfaces problems earlier.
   */
  setup(): Promise<void>;
  /**
   * Deletes every key of this store's prefix, on every primary of a cluster, and nothing else;
   * returns how many keys it deleted. Call it when no process uses the prefix any more.
   */
  destroy(): Promise<number>;
}

/** The Redis store: the port (with `subscribe` and `close`) plus the Redis extras. */
export interface RedisStore extends KitStore, RedisStoreExtras {}

function checkClient(client: unknown): RedisClientLike {
  const c = client as Partial<RedisClientLike> | null | undefined;
  if (typeof c !== 'object' || c === null || typeof c.evalsha !== 'function' || typeof c.duplicate !== 'function' || typeof c.scan !== 'function') {
    throw invalidArgument('options.client must be an ioredis client (Redis or Cluster)');
  }
  const clientPrefix = c.options?.keyPrefix;
  if (clientPrefix !== undefined && clientPrefix !== '') {
    throw new StoreError(
      'configuration',
      `The ioredis client sets keyPrefix "${clientPrefix}"; Lua scripts derive keys themselves, so use the store's keyPrefix option instead`,
    );
  }
  return c as RedisClientLike;
}

/**
 * Creates a Redis store over an ioredis client you own.
 * @example
 * const store = createRedisStore({ client: new Redis(process.env.REDIS_URL), keyPrefix: 'orders' });
 * await store.setup();
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  if (typeof options !== 'object' || options === null) throw invalidArgument('createRedisStore needs options with a client');
  const client = checkClient(options.client);
  const layout = createKeyLayout(options.keyPrefix ?? 'ironflow', options.partitions ?? 1);
  if (options.allowEviction !== undefined && typeof options.allowEviction !== 'boolean') {
    throw invalidArgument(`allowEviction must be a boolean, got ${typeof options.allowEviction}`);
  }
  const { logger } = options;
  const ctx = createRedisContext({ client, layout, logger, allowEviction: options.allowEviction === true });
  const extras: RedisStoreExtras = {
    keyPrefix: layout.prefix,
    partitions: layout.partitions,
    channel: layout.channel,
    setup: () => ctx.ready(),
    destroy: () => destroy(ctx),
  };
  return defineStore(createRedisBackend(ctx), extras, {
    onListenerError: (error) => logger?.warn({ err: error }, 'ironflow redis store: a wake-up listener threw'),
  });
}
