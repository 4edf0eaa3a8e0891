export { createRedisStore } from './redis-store.js';
export type { RedisStore, RedisStoreOptions } from './redis-store.js';
export type { RedisClientLike, RedisScriptLoader, RedisStoreLogger, RedisSubscriberLike } from './redis-client.js';
export { classifyRedisError } from './classify-error.js';
export { createKeyLayout } from './keys.js';
export type { KeyLayout, PartitionKeys } from './keys.js';
