// Lua scripts as values: their text, their SHA1 computed locally, and one call path that runs
// them by EVALSHA and, after NOSCRIPT (SCRIPT FLUSH, failover, restart), reloads and retries.
import { createHash } from 'node:crypto';
import type { RedisClientLike } from './redis-client.js';
import { PREAMBLE } from './scripts/preamble.js';

/** One Lua script: every script starts with the shared preamble of key builders. */
export interface LuaScript {
  readonly name: string;
  readonly text: string;
  readonly sha: string;
}

/** Declares a script; the preamble is prepended, so `TAG` (ARGV[1]) and the key helpers exist. */
export function defineScript(name: string, body: string): LuaScript {
  const text = `-- ironflow:${name}\n${PREAMBLE}\n${body}`;
  return { name, text, sha: createHash('sha1').update(text).digest('hex') };
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** Loads scripts into the script cache (SCRIPT LOAD) of the server, or of every primary of a cluster. */
export async function loadScripts(client: RedisClientLike, scripts: readonly LuaScript[]): Promise<void> {
  const targets = typeof client.nodes === 'function' ? client.nodes('master') : [client];
  await Promise.all(targets.flatMap((target) => scripts.map((script) => target.script('LOAD', script.text))));
}

/**
 * Runs a script by EVALSHA. After NOSCRIPT it reloads the script and retries; if the retry
 * still finds no script (a cluster node the load did not reach), it falls back to EVAL.
 */
export async function runScript(
  client: RedisClientLike,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!isNoScript(error)) throw error;
  }
  await client.script('LOAD', script.text);
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return client.eval(script.text, keys.length, ...keys, ...args);
  }
}
