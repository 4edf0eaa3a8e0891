// Test plumbing for the Redis integration tests: stores on their own key prefix, teardowns that
// delete exactly that prefix's keys (`store.destroy()`), a client wrapper that counts calls and
// fails chosen script calls like a dropped connection, and a proxy that counts script calls.
import { Cluster, Redis } from 'ioredis';
import { uniqueName } from '@ironflow/testing';
import { createKeyLayout, createRedisStore, type RedisClientLike, type RedisStore, type RedisStoreOptions } from '../src/index.js';
import { BATCH_SCRIPTS, SCRIPTS } from '../src/scripts/index.js';

/** Every key matching the store's patterns, found with SCAN. */
export async function scanKeys(client: Redis, patterns: readonly string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const pattern of patterns) {
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys;
}

/** Every key of a prefix, found with SCAN on one server. */
export async function prefixKeys(client: Redis, keyPrefix: string): Promise<string[]> {
  return scanKeys(client, createKeyLayout(keyPrefix, 1).patterns());
}

/**
 * Namespace suffix pairs for the tenant-isolation family: prefixes that overlap as strings, the
 * first pair being the one that made the old layout delete another tenant (`X` and `X:p0`).
 */
export const OVERLAPPING_PREFIXES: readonly (readonly [string, string])[] = [
  ['', ':p0'],
  ['', ':'],
  ['', ':p'],
  [':a', ':a:b'],
  ['_p', '_p0'],
  ['', '_b'],
];

/** What the conformance suite needs from a store it opens on a key prefix. */
export async function openForSuite(url: string, keyPrefix: string, options: Partial<Omit<RedisStoreOptions, 'client' | 'keyPrefix'>> = {}) {
  const opened = await openStore(url, { ...options, keyPrefix });
  return {
    store: opened.store,
    close: async () => {
      await opened.store.close();
      await opened.client.quit();
    },
    destroy: async () => void (await opened.store.destroy()),
  };
}

/** A store on a fresh prefix with its own client, and a teardown that removes both. */
export interface TestStore {
  readonly store: RedisStore;
  readonly client: Redis;
  readonly keyPrefix: string;
  teardown(): Promise<void>;
}

/** Opens a client and a store on a fresh key prefix. */
export async function openStore(url: string, options: Partial<Omit<RedisStoreOptions, 'client'>> = {}): Promise<TestStore> {
  const client = new Redis(url);
  const keyPrefix = options.keyPrefix ?? uniqueName('ironflow_t');
  const store = createRedisStore({ ...options, client, keyPrefix });
  await store.setup();
  return {
    store,
    client,
    keyPrefix,
    async teardown() {
      await store.close();
      await store.destroy();
      await client.quit();
    },
  };
}

/**
 * What a fault hook may do with a script call: run it (default), fail it like a dropped
 * connection before or after the server ran it, or run it twice (a reply lost, the call re-sent).
 */
export type ScriptFault = 'run' | 'fail-before' | 'fail-after' | 'run-twice';

/** A client that counts the calls a store makes and lets a test fail chosen script calls. */
export interface InstrumentedClient {
  readonly client: RedisClientLike;
  /** Calls so far: script names for EVALSHA/EVAL, command names otherwise. */
  readonly calls: string[];
  /** Decides per script call (by script name; its keys, then arguments) whether it runs or fails like a dropped connection. */
  fault: (script: string, keysAndArgs: readonly string[]) => ScriptFault;
}

const SCRIPT_NAMES = new Map<string, string>([...SCRIPTS, ...BATCH_SCRIPTS].map((s) => [s.sha, s.name]));

/** A connection error as ioredis raises it when the socket drops. */
export function connectionLost(): Error {
  return Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
}

/** Wraps a real client; nothing is faked except the failures a test asks for. */
export function instrument(real: Redis): InstrumentedClient {
  const calls: string[] = [];
  const self: InstrumentedClient = {
    calls,
    fault: () => 'run',
    client: {
      async evalsha(sha, numKeys, keysAndArgs) {
        const name = SCRIPT_NAMES.get(sha) ?? sha;
        calls.push(name);
        const fault = self.fault(name, keysAndArgs);
        if (fault === 'fail-before') throw connectionLost();
        const reply = await real.evalsha(sha, numKeys, keysAndArgs);
        if (fault === 'fail-after') throw connectionLost();
        if (fault === 'run-twice') return real.evalsha(sha, numKeys, keysAndArgs);
        return reply;
      },
      async eval(script, numKeys, keysAndArgs) {
        calls.push('EVAL');
        return real.eval(script, numKeys, keysAndArgs);
      },
      async script(subcommand, text) {
        calls.push('SCRIPT');
        return real.script(subcommand, text);
      },
      async config(subcommand, parameter) {
        calls.push('CONFIG');
        return real.config(subcommand, parameter);
      },
      async lrange(key, start, stop) {
        calls.push('LRANGE');
        return real.lrange(key, start, stop);
      },
      async rpush(key, ...values) {
        calls.push('RPUSH');
        return real.rpush(key, ...values);
      },
      async hmget(key, ...fields) {
        calls.push('HMGET');
        return real.hmget(key, ...fields);
      },
      async hgetall(key) {
        calls.push('HGETALL');
        return real.hgetall(key);
      },
      async zrangebylex(key, min, max, limit, offset, count) {
        calls.push('ZRANGEBYLEX');
        return real.zrangebylex(key, min, max, limit, offset, count);
      },
      async zcard(key) {
        calls.push('ZCARD');
        return real.zcard(key);
      },
      async del(...keys) {
        calls.push('DEL');
        return real.del(...keys);
      },
      async scan(cursor, match, pattern, count, n) {
        calls.push('SCAN');
        return real.scan(cursor, match, pattern, count, n);
      },
      async unlink(...keys) {
        calls.push('UNLINK');
        return real.unlink(...keys);
      },
      duplicate: () => real.duplicate(),
    },
  };
  return self;
}

/**
 * The same client (a `Redis` or a `Cluster`) seen through a proxy that records the name of every
 * script it runs by EVALSHA; everything else passes through untouched.
 */
export function countScriptCalls<C extends RedisClientLike>(real: C): { client: C; calls: string[] } {
  const calls: string[] = [];
  const evalsha: RedisClientLike['evalsha'] = (sha, numKeys, keysAndArgs) => {
    calls.push(SCRIPT_NAMES.get(sha) ?? sha);
    return real.evalsha(sha, numKeys, keysAndArgs);
  };
  const client = new Proxy(real, {
    get(target, property) {
      if (property === 'evalsha') return evalsha;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { client, calls };
}

/** Every key of a prefix on every primary of a cluster (SCAN runs per node). */
export async function clusterPrefixKeys(cluster: Cluster, keyPrefix: string): Promise<string[]> {
  const perNode = await Promise.all(cluster.nodes('master').map((node) => scanKeys(node, createKeyLayout(keyPrefix, 1).patterns())));
  return perNode.flat();
}

/** What the conformance suite needs from a cluster store it opens on a key prefix. */
export async function openClusterForSuite(nodes: readonly string[], keyPrefix: string, options: Partial<Omit<RedisStoreOptions, 'client' | 'keyPrefix'>> = {}) {
  const opened = await openClusterStore(nodes, { ...options, keyPrefix });
  return {
    store: opened.store,
    close: async () => {
      await opened.store.close();
      await opened.cluster.quit();
    },
    destroy: async () => void (await opened.store.destroy()),
  };
}

/** Opens an ioredis Cluster client and a store on a fresh prefix. */
export async function openClusterStore(nodes: readonly string[], options: Partial<Omit<RedisStoreOptions, 'client'>> = {}) {
  const cluster = new Cluster(nodes.map((node) => ({ host: new URL(node).hostname, port: Number(new URL(node).port) })));
  const keyPrefix = options.keyPrefix ?? uniqueName('ironflow_t');
  const store = createRedisStore({ ...options, client: cluster, keyPrefix });
  await store.setup();
  return {
    store,
    cluster,
    async teardown() {
      await store.close();
      await store.destroy();
      await cluster.quit();
    },
  };
}
