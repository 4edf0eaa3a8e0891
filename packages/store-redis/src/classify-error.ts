// Maps what ioredis and the Redis server throw to core's StoreError reasons, so callers know
// whether retrying can help. Pure and unit-tested without a server; the original goes in `cause`.
import { isNetworkErrorCode, StoreError, type StoreErrorReason } from '@ironflow/core/store';

/** ioredis errors (by name) raised when a connection is gone or a command could not be sent. */
const CONNECTION_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError', 'AbortError']);

/** Messages ioredis uses for a closed or unwritable connection and for command timeouts. */
const CONNECTION_MESSAGES = [
  'Connection is closed',
  "Stream isn't writeable",
  'Command timed out',
  'Failed to refresh slots cache',
  'None of startup nodes is available',
];

/** Server reply prefixes → reason and an explanation for the operator. */
const REPLY_CODES: Readonly<Record<string, readonly [StoreErrorReason, string]>> = {
  LOADING: ['unavailable', 'Redis is loading its dataset into memory'],
  MASTERDOWN: ['unavailable', 'the replica lost its link to the primary'],
  CLUSTERDOWN: ['unavailable', 'the Redis Cluster is down'],
  READONLY: ['unavailable', 'the connection points at a read-only replica (failover in progress?)'],
  NOREPLICAS: ['unavailable', 'not enough replicas acknowledged the write'],
  MISCONF: ['unavailable', 'Redis refuses writes because it cannot persist (see its log)'],
  OOM: [
    'unavailable',
    'Redis is out of memory (maxmemory reached with maxmemory-policy noeviction): writes are refused until memory is freed or maxmemory is raised',
  ],
  TRYAGAIN: ['transient', 'the cluster is resharding the slot'],
  MOVED: ['transient', 'the slot moved to another cluster node'],
  ASK: ['transient', 'the slot is migrating between cluster nodes'],
  BUSY: ['transient', 'another Lua script is running on the server'],
  NOSCRIPT: ['transient', 'the script cache was flushed'],
  WRONGTYPE: ['integrity', 'a key under the store prefix holds an unexpected type (another application writing there?)'],
  CROSSSLOT: ['configuration', 'keys of one call hash to different cluster slots'],
  NOPERM: ['configuration', 'the Redis user lacks a permission the store needs (commands, keys or channels)'],
  NOAUTH: ['configuration', 'Redis requires authentication'],
  WRONGPASS: ['configuration', 'Redis rejected the username or password'],
};

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * Classifies an error thrown while talking to Redis as a `StoreError` with a reason
 * (`transient`, `unavailable`, `integrity`, `configuration`, `unknown`) and the original as `cause`.
 * @example throw classifyRedisError(error, 'commit');
 */
export function classifyRedisError(error: unknown, operation = 'command'): StoreError {
  const fields = typeof error === 'object' && error !== null ? (error as { message?: unknown; code?: unknown; name?: unknown }) : {};
  const message = text(fields.message) || String(error);
  const fail = (reason: StoreErrorReason, why: string) =>
    new StoreError(reason, `Redis ${operation} failed: ${why} (${message})`, { cause: error, details: { operation } });

  if (isNetworkErrorCode(fields.code) || CONNECTION_NAMES.has(text(fields.name))) {
    return fail('unavailable', 'the Redis server cannot be reached');
  }
  if (CONNECTION_MESSAGES.some((m) => message.includes(m))) return fail('unavailable', 'the connection to Redis is not usable');
  const code = /^([A-Z]+)\b/.exec(message)?.[1];
  const known = code === undefined ? undefined : REPLY_CODES[code];
  if (known !== undefined) return fail(known[0], known[1]);
  if (/max(imum)? number of clients/i.test(message)) return fail('unavailable', 'Redis refuses new connections');
  if (/unknown command/i.test(message)) return fail('configuration', 'the server does not support a command the store needs');
  return fail('unknown', 'unexpected error');
}
