// What every part of the Redis backend shares: the client, the key layout, the logger, the typed
// script call, and the one-time setup that every primitive awaits before its first command.
import type { WorkflowRef } from '@ironflow/core/store';
import type { KeyLayout, PartitionKeys } from './keys.js';
import { randomToken } from './members.js';
import type { RedisClientLike, RedisStoreLogger } from './redis-client.js';
import { Reply } from './reply.js';
import { batchCall, scriptCall, type BatchItem, type BatchScript, type LuaScript, type ScriptValue } from './script.js';
import { evalScript } from './script-runner.js';
import { runSetup } from './setup.js';

/** The shared state of one Redis store. */
export interface RedisContext {
  readonly client: RedisClientLike;
  readonly layout: KeyLayout;
  readonly logger: RedisStoreLogger | undefined;
  /** A random name of this store object, carried by the end notifications it publishes, so it ignores its own (the kit delivers those). */
  readonly origin: string;
  /** Loads the scripts, checks the server and records the partition count, once; a failure is retried by the next call. */
  ready(): Promise<void>;
  /** Makes the next `ready()` set up again (after `destroy()` deleted the settings). */
  forgetSetup(): void;
  /** Runs `script` in the partition whose hash tag is `tag`, with its named keys and arguments, and decodes the reply. */
  callScript<K extends string, A extends string, R>(
    script: LuaScript<K, A, R>,
    tag: string,
    keys: Readonly<Record<K, string>>,
    args: Readonly<Record<A, ScriptValue>>,
    tail?: readonly ScriptValue[],
  ): Promise<R>;
  /**
   * Runs `batch` for each item, in order, in one call in the partition whose hash tag is `tag`,
   * and decodes the replies: one per item, fewer only when the batch halted at the last one.
   */
  callBatch<K extends string, A extends string, R>(batch: BatchScript<K, A, R>, tag: string, items: readonly BatchItem<K, A>[]): Promise<R[]>;
  /** The keys of the partition an instance lives in. */
  home(ref: WorkflowRef): PartitionKeys;
  /** The keys of every partition, in partition order. */
  allPartitions(): PartitionKeys[];
}

/** Options of the context: what `createRedisStore` checked. */
export interface RedisContextOptions {
  readonly client: RedisClientLike;
  readonly layout: KeyLayout;
  readonly logger: RedisStoreLogger | undefined;
  readonly allowEviction: boolean;
}

/** Creates the shared state of one Redis store. */
export function createRedisContext(options: RedisContextOptions): RedisContext {
  const { client, layout } = options;
  let ready: Promise<void> | undefined;
  const partitions = Array.from({ length: layout.partitions }, (_, p) => layout.partition(p));
  const ctx: RedisContext = {
    client,
    layout,
    logger: options.logger,
    origin: randomToken(),
    ready() {
      ready ??= runSetup(ctx, options.allowEviction).catch((error: unknown) => {
        ready = undefined;
        throw error;
      });
      return ready;
    },
    forgetSetup() {
      ready = undefined;
    },
    async callScript(script, tag, keys, args, tail) {
      const call = scriptCall(script, tag, keys, args, tail);
      return script.decode(new Reply(await evalScript(client, script, call.keys, call.argv), `${script.name} reply`));
    },
    async callBatch(batch, tag, items) {
      const call = batchCall(batch, tag, items);
      return batch.decode(new Reply(await evalScript(client, batch, call.keys, call.argv), `${batch.name} reply`), items.length);
    },
    home: (ref) => layout.partition(layout.partitionOf(ref.type, ref.id)),
    allPartitions: () => partitions,
  };
  return ctx;
}
