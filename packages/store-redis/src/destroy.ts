// Deleting a store: every key of its prefix and nothing else. SCAN MATCH with the layout's
// pattern on the server, or on every primary of a cluster, then UNLINK in batches of one slot.
import { isIronflowError } from '@ironflow/core/store';
import { classifyRedisError } from './classify-error.js';
import type { RedisContext } from './context.js';
import { hashTagOf } from './keys.js';
import type { RedisNodeLike } from './redis-client.js';

/** Keys per SCAN step and per UNLINK. */
const BATCH = 500;

async function destroyOn(node: RedisNodeLike, patterns: readonly string[]): Promise<number> {
  let deleted = 0;
  for (const pattern of patterns) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', BATCH);
      cursor = next;
      // A cluster refuses a multi-key UNLINK across slots: group by hash tag (= slot).
      const byTag = new Map<string, string[]>();
      for (const key of keys) {
        const tag = hashTagOf(key) ?? key;
        const group = byTag.get(tag);
        if (group === undefined) byTag.set(tag, [key]);
        else group.push(key);
      }
      for (const group of byTag.values()) {
        for (let i = 0; i < group.length; i += BATCH) deleted += await node.unlink(...group.slice(i, i + BATCH));
      }
    } while (cursor !== '0');
  }
  return deleted;
}

/**
 * Deletes every key of the store's prefix (all partitions and the settings) and returns how many.
 * Run it when no process uses the prefix: a write racing with the SCAN may survive it.
 */
export async function destroy(ctx: RedisContext): Promise<number> {
  const { client, layout } = ctx;
  const nodes = typeof client.nodes === 'function' ? client.nodes('master') : [client];
  try {
    const counts = await Promise.all(nodes.map((node) => destroyOn(node, layout.patterns())));
    return counts.reduce((sum, n) => sum + n, 0);
  } catch (error) {
    throw isIronflowError(error) ? error : classifyRedisError(error, 'destroy');
  } finally {
    ctx.forgetSetup();
  }
}
