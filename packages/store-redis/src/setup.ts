// Setup of a Redis store: scripts into the script cache of every primary, a refusal of servers
// that may evict data, and the partition count recorded once per prefix and checked ever after.
import { isIronflowError, StoreError } from '@ironflow/core/store';
import { classifyRedisError } from './classify-error.js';
import type { RedisContext } from './context.js';
import { loadScripts } from './script-runner.js';
import { BATCH_SCRIPTS, SCRIPTS } from './scripts/index.js';
import { RECORD_SETTINGS } from './scripts/maintenance.js';

async function checkEvictionPolicy(ctx: RedisContext, allowEviction: boolean): Promise<void> {
  let reply: unknown;
  try {
    reply = await ctx.client.config('GET', 'maxmemory-policy');
  } catch (error) {
    const classified = classifyRedisError(error, 'setup');
    if (classified.retryable) throw classified;
    ctx.logger?.warn({ err: classified }, 'ironflow redis store: cannot read maxmemory-policy (CONFIG is disabled?); make sure it is noeviction');
    return;
  }
  const policy = Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined;
  if (policy === undefined) {
    ctx.logger?.warn({ reply }, 'ironflow redis store: CONFIG GET maxmemory-policy returned nothing; make sure it is noeviction');
    return;
  }
  if (policy === 'noeviction') return;
  const message =
    `Redis maxmemory-policy is "${policy}": under memory pressure Redis would silently delete workflow data. ` +
    'Set maxmemory-policy noeviction (or pass allowEviction: true to accept the risk)';
  if (allowEviction) ctx.logger?.warn({ maxmemoryPolicy: policy }, message);
  else throw new StoreError('configuration', message, { details: { maxmemoryPolicy: policy } });
}

/** Runs setup; errors are classified here, since `setup()` is not a port call the kit wraps. */
export async function runSetup(ctx: RedisContext, allowEviction: boolean): Promise<void> {
  const { layout } = ctx;
  try {
    await loadScripts(ctx.client, [...SCRIPTS, ...BATCH_SCRIPTS]);
    await checkEvictionPolicy(ctx, allowEviction);
    const recorded = await ctx.callScript(RECORD_SETTINGS, layout.settingsTag, { meta: layout.meta }, { partitions: layout.partitions });
    if (recorded !== layout.partitions) {
      throw new StoreError(
        'configuration',
        `Key prefix "${layout.prefix}" was set up with ${recorded} partitions, but this store is configured with ${layout.partitions}. ` +
          'Changing the partition count strands existing data; use the recorded count or a new prefix',
        { details: { keyPrefix: layout.prefix, recorded, configured: layout.partitions } },
      );
    }
  } catch (error) {
    throw isIronflowError(error) ? error : classifyRedisError(error, 'setup');
  }
}
