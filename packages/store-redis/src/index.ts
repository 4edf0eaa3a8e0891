export { createRedisStore } from './redis-store.js';
export type { RedisStore, RedisStoreExtras, RedisStoreOptions } from './redis-store.js';
export type { RedisClientLike, RedisNodeLike, RedisStoreLogger, RedisSubscriberLike } from './redis-client.js';
export { classifyRedisError } from './classify-error.js';
export { createKeyLayout } from './keys.js';
export type { KeyLayout, PartitionKeys } from './keys.js';
