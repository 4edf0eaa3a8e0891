// The TypeScript ↔ Lua interface of a script, declared once: named keys and arguments from which
// both the Lua header (`local K_row = KEYS[1]` …) and the positional call are generated, and the
// checked decoder of its reply. test/scripts.test.ts checks that each body uses exactly its names.
// A batch script runs one declared script for many items in a single call (group commit).
import { createHash } from 'node:crypto';
import { StoreError } from '@ironflow/core/store';
import { Reply } from './reply.js';
import { preambleFor } from './scripts/preamble.js';

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
  /** The Lua after the generated header and the shared definitions it uses (see preambleFor). */
  readonly body: string;
  /** Checks and decodes the reply; throws an `integrity` StoreError on any other shape. */
  decode(reply: Reply): R;
}

/** What the script runner needs of any script: the text Redis runs and its SHA1. */
export interface RunnableScript {
  /** Shown in `-- ironflow:<name>`, the first line of the text. */
  readonly name: string;
  readonly text: string;
  readonly sha: string;
}

/** A declared Lua script: its names, full text, SHA1 and reply decoder. */
export interface LuaScript<K extends string = string, A extends string = string, R = unknown> extends ScriptSpec<K, A, R>, RunnableScript {
  /** The generated `local` declarations of TAG, the keys, the arguments and the tail's start. */
  readonly header: string;
  /** Header, the preamble definitions the body uses, and body: what Redis runs. */
  readonly text: string;
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
  const text = `${header}\n${preambleFor(spec.body)}\n${spec.body}`;
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

/** A declared script run for many items in one call: see `defineBatchScript`. */
export interface BatchScript<K extends string = string, A extends string = string, R = unknown> extends RunnableScript {
  /** The script each item runs, unchanged. */
  readonly item: LuaScript<K, A, R>;
  /** The first element of an item reply that stops the batch after that item (the rest are not run). */
  readonly haltOn: string | undefined;
  /**
   * Decodes the replies of the items that ran, each with the item script's decoder; fewer than
   * `sent` only when the last one is the `haltOn` reply. Any other shape is an `integrity` StoreError.
   */
  decode(reply: Reply, sent: number): R[];
}

/** One item of a batch call: the named keys, arguments and tail its single call would take. */
export interface BatchItem<K extends string, A extends string> {
  readonly keys: Readonly<Record<K, string>>;
  readonly args: Readonly<Record<A, ScriptValue>>;
  readonly tail?: readonly ScriptValue[] | undefined;
}

/**
 * The loop of a batch script. ARGV is [TAG, count, (key count, argument count) per item, each
 * item's arguments without TAG], KEYS every item's keys in turn. Each item runs `runItem` on its
 * own slices (TAG put back first), so its header reads its positions as in a single call, and its
 * `return` ends that item only. Wake-ups are held and published once per message after the loop.
 */
function batchLoop(haltOn: string | undefined): string {
  return String.raw`
local count = tonumber(ARGV[2])
local replies = {}
local nextKey, nextArg = 1, 3 + 2 * count
holdWakes()
for i = 1, count do
  local nKeys, nArgs = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  local itemKeys, itemArgv = {}, {TAG}
  for j = 1, nKeys do itemKeys[j] = KEYS[nextKey + j - 1] end
  for j = 1, nArgs do itemArgv[j + 1] = ARGV[nextArg + j - 1] end
  nextKey, nextArg = nextKey + nKeys, nextArg + nArgs
  local reply = runItem(itemKeys, itemArgv)
  if reply == nil then reply = false end
  replies[i] = reply
  ${haltOn === undefined ? '' : `if type(reply) == 'table' and reply[1] == '${haltOn}' then break end`}
end
publishHeldWakes()
return replies
`;
}

const HALT_MARK = /^[A-Z_]+$/;

/**
 * Declares the batch form of a script: one call runs the script for many items of one partition,
 * in order, and answers the array of their replies. The script's header and body are wrapped,
 * unchanged, in a Lua function whose parameters are named KEYS and ARGV: a body reads positions
 * only through its header's locals and KEYS_FROM/ARGV_FROM, so shadowing the two tables makes it
 * read its own item's slice. The shared definitions it uses are defined once, before that
 * function. Each item keeps its own atomicity (a body checks before it writes, and returns before
 * its first write when a check fails); later items see the writes of earlier ones. A Lua runtime error ends the whole
 * call, with the items before it applied (Redis scripts do not roll back).
 * @example const COMMIT_BATCH = defineBatchScript(COMMIT, { haltOn: 'HANDOFF' });
 */
export function defineBatchScript<K extends string, A extends string, R>(
  item: LuaScript<K, A, R>,
  options: { readonly haltOn?: string | undefined } = {},
): BatchScript<K, A, R> {
  const { haltOn } = options;
  if (haltOn !== undefined && !HALT_MARK.test(haltOn)) throw new TypeError(`batch of ${item.name}: haltOn must be an upper-case reply tag`);
  const name = `${item.name}-batch`;
  const loop = batchLoop(haltOn);
  const text = [`-- ironflow:${name}`, 'local TAG = ARGV[1]', preambleFor(`${item.body}\n${loop}`), 'local function runItem(KEYS, ARGV)', item.header, item.body, 'end', loop].join('\n');
  return {
    name,
    item,
    haltOn,
    text,
    sha: createHash('sha1').update(text).digest('hex'),
    decode(reply, sent) {
      const replies = reply.list();
      const last = replies.at(-1);
      const halted = haltOn !== undefined && last !== undefined && last.isList() && last.at(0).is(haltOn);
      if (replies.length > sent || (replies.length < sent && !halted)) {
        throw new StoreError('integrity', `Redis store: ${reply.where} should hold ${sent} replies, got ${replies.length}`, { details: { where: reply.where } });
      }
      return replies.map((r) => item.decode(r));
    },
  };
}

/** The positional KEYS and ARGV of a batch call: each item laid out by `scriptCall`, then sliced apart by the batch loop. */
export function batchCall<K extends string, A extends string>(
  batch: BatchScript<K, A, unknown>,
  tag: string,
  items: readonly BatchItem<K, A>[],
): { keys: string[]; argv: ScriptValue[] } {
  const keys: string[] = [];
  const counts: ScriptValue[] = [];
  const values: ScriptValue[] = [];
  for (const item of items) {
    const call = scriptCall(batch.item, tag, item.keys, item.args, item.tail);
    for (const key of call.keys) keys.push(key);
    counts.push(call.keys.length, call.argv.length - 1);
    for (let i = 1; i < call.argv.length; i++) values.push(call.argv[i]!);
  }
  return { keys, argv: [tag, items.length, ...counts, ...values] };
}
