// The TypeScript ↔ Lua interface of a script, declared once: named keys and arguments from which
// both the Lua header (`local K_row = KEYS[1]` …) and the positional call are generated, and the
// checked decoder of its reply. test/scripts.test.ts checks that each body uses exactly its names.
import { createHash } from 'node:crypto';
import { Reply } from './reply.js';
import { PREAMBLE } from './scripts/preamble.js';

/** A value passed to a script (Redis sends both as strings). */
export type ScriptValue = string | number;

/** What `defineScript` takes. */
export interface ScriptSpec<K extends string, A extends string, R> {
  /** Shown in `-- ironflow:<name>`, the first line of the script's text (MONITOR, SLOWLOG). */
  readonly name: string;
  /** KEYS, in order: the body reads key `x` as `K_x`. */
  readonly keys: readonly K[];
  /** ARGV after the partition tag (ARGV[1], the preamble's `TAG`): the body reads argument `y` as `A_y`. */
  readonly args: readonly A[];
  /**
   * The script also takes a variable tail after the named keys or arguments, read in the body as
   * `KEYS[KEYS_FROM + i]` or `ARGV[ARGV_FROM + i]` (the only raw KEYS/ARGV reads a body may make).
   */
  readonly variadic?: 'keys' | 'args' | undefined;
  /** The Lua after the generated header and the shared preamble. */
  readonly body: string;
  /** Checks and decodes the reply; throws an `integrity` StoreError on any other shape. */
  decode(reply: Reply): R;
}

/** A declared Lua script: its names, full text, SHA1 and reply decoder. */
export interface LuaScript<K extends string = string, A extends string = string, R = unknown> extends ScriptSpec<K, A, R> {
  /** The generated `local` declarations of TAG, the keys, the arguments and the tail's start. */
  readonly header: string;
  /** Header, preamble and body: what Redis runs. */
  readonly text: string;
  readonly sha: string;
}

const LUA_NAME = /^[a-z][A-Za-z0-9]*$/;

/** The Lua header for a script's names: TAG, then `K_<key>` and `A_<arg>` locals, then where a variadic tail starts. */
export function scriptHeader(spec: Pick<ScriptSpec<string, string, unknown>, 'name' | 'keys' | 'args' | 'variadic'>): string {
  const lines = [`-- ironflow:${spec.name}`, 'local TAG = ARGV[1]'];
  spec.keys.forEach((key, i) => lines.push(`local K_${key} = KEYS[${i + 1}]`));
  spec.args.forEach((arg, i) => lines.push(`local A_${arg} = ARGV[${i + 2}]`));
  if (spec.variadic === 'keys') lines.push(`local KEYS_FROM = ${spec.keys.length + 1}`);
  if (spec.variadic === 'args') lines.push(`local ARGV_FROM = ${spec.args.length + 2}`);
  return lines.join('\n');
}

/**
 * Declares a script from its named keys and arguments.
 * @example defineScript({ name: 'release-unique', keys: ['record'], args: ['id'], body: 'return 1', decode: (r) => r.integer() })
 */
export function defineScript<const K extends string, const A extends string, R>(spec: ScriptSpec<K, A, R>): LuaScript<K, A, R> {
  for (const name of [...spec.keys, ...spec.args]) {
    if (!LUA_NAME.test(name)) throw new TypeError(`script ${spec.name}: ${JSON.stringify(name)} is not a plain Lua name`);
  }
  if (new Set(spec.keys).size !== spec.keys.length || new Set(spec.args).size !== spec.args.length) {
    throw new TypeError(`script ${spec.name}: a key or argument name is declared twice`);
  }
  const header = scriptHeader(spec);
  const text = `${header}\n${PREAMBLE}\n${spec.body}`;
  return { ...spec, header, text, sha: createHash('sha1').update(text).digest('hex') };
}

/** The positional KEYS and ARGV of a call, in the declared order: the only place positions exist. */
export function scriptCall<K extends string, A extends string>(
  script: LuaScript<K, A, unknown>,
  tag: string,
  keys: Readonly<Record<K, string>>,
  args: Readonly<Record<A, ScriptValue>>,
  tail: readonly ScriptValue[] = [],
): { keys: string[]; argv: ScriptValue[] } {
  if (tail.length > 0 && script.variadic === undefined) throw new TypeError(`script ${script.name} takes no variadic tail`);
  const keyList = script.keys.map((name) => keys[name]);
  const argv: ScriptValue[] = [tag, ...script.args.map((name) => args[name])];
  return script.variadic === 'keys' ? { keys: [...keyList, ...tail.map(String)], argv } : { keys: keyList, argv: [...argv, ...tail] };
}
