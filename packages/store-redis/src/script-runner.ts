// Running declared scripts: EVALSHA by the SHA1 computed locally and, after NOSCRIPT (SCRIPT
// FLUSH, failover, restart), a reload and one retry; SCRIPT LOAD on every primary at setup.
import type { RedisClientLike } from './redis-client.js';
import type { RunnableScript, ScriptValue } from './script.js';

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** Loads scripts into the script cache (SCRIPT LOAD) of the server, or of every primary of a cluster. */
export async function loadScripts(client: RedisClientLike, scripts: readonly RunnableScript[]): Promise<void> {
  const targets = typeof client.nodes === 'function' ? client.nodes('master') : [client];
  await Promise.all(targets.flatMap((target) => scripts.map((script) => target.script('LOAD', script.text))));
}

/**
 * Evaluates a script by EVALSHA. After NOSCRIPT it reloads the script and retries; if the retry
 * still finds no script (a cluster node the load did not reach), it falls back to EVAL.
 */
export async function evalScript(client: RedisClientLike, script: RunnableScript, keys: readonly string[], argv: readonly ScriptValue[]): Promise<unknown> {
  // One array, not spread arguments: a batch call can hold more values than a JavaScript call takes.
  const values = [...keys, ...argv.map(String)];
  try {
    return await client.evalsha(script.sha, keys.length, values);
  } catch (error) {
    if (!isNoScript(error)) throw error;
  }
  await client.script('LOAD', script.text);
  try {
    return await client.evalsha(script.sha, keys.length, values);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return client.eval(script.text, keys.length, values);
  }
}
