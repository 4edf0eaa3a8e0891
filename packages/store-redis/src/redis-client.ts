// The slice of an ioredis client the store uses, typed structurally: an ioredis `Redis` or
// `Cluster` fits, and the store depends on no class (nor closes the client it is given).

/** A connection in subscriber mode, made by `duplicate()`; the store closes only these. */
export interface RedisSubscriberLike {
  subscribe(...channels: string[]): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Emitted on every (re)connection; ioredis re-subscribes by itself after a reconnect. */
  on(event: 'ready', listener: () => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** One server (or one primary of a cluster): what loading scripts and `destroy()` send to each. */
export interface RedisNodeLike {
  script(subcommand: 'LOAD', script: string): Promise<unknown>;
  scan(cursor: string, match: 'MATCH', pattern: string, count: 'COUNT', n: number): Promise<[cursor: string, keys: string[]]>;
  unlink(...keys: string[]): Promise<number>;
}

/** The commands the Redis store sends; an ioredis `Redis` or `Cluster` satisfies it. */
export interface RedisClientLike extends RedisNodeLike {
  /** EVALSHA with the keys, then the arguments, in one array (ioredis flattens it). */
  evalsha(sha: string, numKeys: number, keysAndArgs: string[]): Promise<unknown>;
  /** EVAL, likewise. */
  eval(script: string, numKeys: number, keysAndArgs: string[]): Promise<unknown>;
  config(subcommand: 'GET', parameter: string): Promise<unknown>;
  lrange(key: string, start: number, stop: number): Promise<string[]>;
  rpush(key: string, ...values: string[]): Promise<number>;
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  hgetall(key: string): Promise<Record<string, string>>;
  zrangebylex(key: string, min: string, max: string, limit: 'LIMIT', offset: number, count: number): Promise<string[]>;
  zcard(key: string): Promise<number>;
  del(...keys: string[]): Promise<number>;
  /** A new connection with the same options, used for pub/sub; it reconnects like the client. */
  duplicate(): RedisSubscriberLike;
  /** Present on an ioredis `Cluster`: its primaries, to load scripts on and to SCAN in `destroy()`. */
  readonly nodes?: ((role: 'master') => readonly RedisNodeLike[]) | undefined;
  /** ioredis options; a client-side `keyPrefix` would break the Lua key layout, so it is refused. */
  readonly options?: { readonly keyPrefix?: string | undefined } | undefined;
}

/** Where the store reports what it tolerates (pino-compatible: `warn(obj, msg)`). */
export interface RedisStoreLogger {
  warn(obj: object, msg?: string): void;
}
