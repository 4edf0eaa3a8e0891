// The TypeScript ↔ Lua interface without a server: each script's header is generated from its
// declared names, its body reads exactly those names (raw KEYS/ARGV only for a declared variadic
// tail), every key builder it calls exists, calls are laid out in declared order, replies are
// checked; batch scripts wrap a script unchanged, lay out their items, and check their replies.
import { describe, expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import { KEY_TEMPLATES } from '../src/key-templates.js';
import { Reply } from '../src/reply.js';
import { batchCall, defineBatchScript, defineScript, scriptCall, type LuaScript } from '../src/script.js';
import { COMMIT_BATCH, SETTLE_BATCH } from '../src/scripts/batches.js';
import { CLAIM, PEEK } from '../src/scripts/claim.js';
import { COMMIT } from '../src/scripts/commit.js';
import { BATCH_SCRIPTS, SCRIPTS } from '../src/scripts/index.js';
import { SETTLE } from '../src/scripts/leases.js';
import { PREAMBLE, preambleFor } from '../src/scripts/preamble.js';
import { LOAD } from '../src/scripts/reads.js';
import { DELETE_INSTANCE } from '../src/scripts/retention.js';

/** Lua with comments and string literals blanked, so names inside them do not count. */
function code(lua: string): string {
  return lua.replace(/--[^\n]*/g, '').replace(/'(?:[^'\\\n]|\\.)*'/g, "''");
}

function namesWith(prefix: 'K_' | 'A_', lua: string): Set<string> {
  return new Set([...code(lua).matchAll(new RegExp(`\\b${prefix}([A-Za-z0-9]+)\\b`, 'g'))].map((m) => m[1]!));
}

/** Names of `local function xKey(` definitions and `xKey(` calls. */
function keyBuilderCalls(lua: string): Set<string> {
  return new Set([...code(lua).matchAll(/\b([a-z][A-Za-z]*)Key\(/g)].map((m) => m[1]!));
}

/** What is wrong with a script's use of its declared interface; empty when nothing is. */
function interfaceProblems(script: LuaScript): string[] {
  const problems: string[] = [];
  const body = code(script.body);
  for (const [prefix, declared] of [['K_', script.keys], ['A_', script.args]] as const) {
    const used = namesWith(prefix, script.body);
    for (const name of used) if (!declared.includes(name)) problems.push(`undeclared ${prefix}${name}`);
    for (const name of declared) if (!used.has(name)) problems.push(`unused ${prefix}${name}`);
  }
  if (/\b(KEYS|ARGV)\[\s*\d/.test(body)) problems.push('literal position');
  if (script.variadic !== 'keys' && /\bKEYS\b|KEYS_FROM/.test(body)) problems.push('raw KEYS without a keys tail');
  if (script.variadic !== 'args' && /\bARGV\b|ARGV_FROM/.test(body)) problems.push('raw ARGV without an args tail');
  if (script.variadic === 'keys' && !body.includes('KEYS_FROM')) problems.push('keys tail never read');
  if (script.variadic === 'args' && !body.includes('ARGV_FROM')) problems.push('args tail never read');
  const defined = new Set([...code(`${preambleFor(script.body)}\n${script.body}`).matchAll(/local function ([a-z][A-Za-z]*)Key\(/g)].map((m) => m[1]!));
  for (const called of keyBuilderCalls(script.body)) if (!defined.has(called)) problems.push(`unknown ${called}Key`);
  return problems;
}

describe('Lua scripts', () => {
  it('have distinct names and SHAs', () => {
    expect(new Set(SCRIPTS.map((s) => s.name)).size).toBe(SCRIPTS.length);
    expect(new Set(SCRIPTS.map((s) => s.sha)).size).toBe(SCRIPTS.length);
  });

  it('share a preamble that reads no KEYS, ARGV or script names, and defines a builder for every key template', () => {
    expect(code(PREAMBLE)).not.toMatch(/\bKEYS\b|\bARGV\b|\b[KA]_[A-Za-z]/);
    for (const name of Object.keys(KEY_TEMPLATES)) expect(PREAMBLE).toContain(`local function ${name}Key(`);
  });

  it('each take only the shared definitions they use, with what those use in turn, in preamble order', () => {
    const settle = preambleFor(SETTLE.body);
    expect(settle).toContain('local function leaseState(');
    expect(settle).toContain('local function finish(');
    // finish() frees keys and enqueue() builds queue keys: both come along, after what they use.
    expect(settle.indexOf('local function freeKey(')).toBeLessThan(settle.indexOf('local function finish('));
    expect(settle.indexOf('local function ref(')).toBeLessThan(settle.indexOf('local function timerKeysKey('));
    expect(settle).not.toContain('local function addEffect(');
    expect(preambleFor("return redis.call('GET', TAG)")).toBe('');
    // Names inside comments and strings do not count.
    expect(preambleFor("-- wake(channel, 'x')\nreturn 'finish(k)'")).toBe('');
    const lines = (text: string) => text.split('\n').filter(Boolean);
    for (const script of SCRIPTS) expect(lines(PREAMBLE)).toEqual(expect.arrayContaining(lines(preambleFor(script.body))));
  });

  describe.each(SCRIPTS.map((script) => [script.name, script] as const))('%s', (_, script) => {
    it('has a header generated from its declared keys and arguments, TAG first', () => {
      const expected = [
        `-- ironflow:${script.name}`,
        'local TAG = ARGV[1]',
        ...script.keys.map((key, i) => `local K_${key} = KEYS[${i + 1}]`),
        ...script.args.map((arg, i) => `local A_${arg} = ARGV[${i + 2}]`),
        ...(script.variadic === 'keys' ? [`local KEYS_FROM = ${script.keys.length + 1}`] : []),
        ...(script.variadic === 'args' ? [`local ARGV_FROM = ${script.args.length + 2}`] : []),
      ];
      expect(script.header.split('\n')).toEqual(expected);
      expect(script.text).toBe(`${script.header}\n${preambleFor(script.body)}\n${script.body}`);
    });

    it('reads exactly its declared names, raw KEYS/ARGV only through a declared tail, and existing key builders', () => {
      expect(interfaceProblems(script)).toEqual([]);
    });
  });

  it.each([
    ['an undeclared key', { keys: ['row'], args: [], body: 'return {K_row, K_other}' }, 'undeclared K_other'],
    ['an unused argument', { keys: [], args: ['id', 'now'], body: 'return A_id' }, 'unused A_now'],
    ['a raw position', { keys: ['row'], args: ['id'], body: 'return {K_row, A_id, ARGV[3]}' }, 'raw ARGV without an args tail'],
    ['a literal position in a tail', { keys: [], args: ['id'], variadic: 'args', body: 'return {A_id, ARGV[ARGV_FROM], ARGV[4]}' }, 'literal position'],
    ['a key builder that does not exist', { keys: [], args: ['id'], body: "return deadKey('e', A_id)" }, 'unknown deadKey'],
  ] as const)('the check catches %s', (_, spec, problem) => {
    const drifted = defineScript({ name: 'drifted', decode: () => 0, ...spec });
    expect(interfaceProblems(drifted)).toContain(problem);
  });

  it('lay a call out in declared order, with the partition tag as ARGV[1] and the tail last', () => {
    const keys = Object.fromEntries(COMMIT.keys.map((name) => [name, `key:${name}`])) as Record<(typeof COMMIT.keys)[number], string>;
    const args = Object.fromEntries(COMMIT.args.map((name) => [name, `arg:${name}`])) as Record<(typeof COMMIT.args)[number], string>;
    const call = scriptCall(COMMIT, '{p#0}', keys, args, ['t1', 2]);
    expect(call.keys).toEqual(COMMIT.keys.map((name) => `key:${name}`));
    expect(call.argv).toEqual(['{p#0}', ...COMMIT.args.map((name) => `arg:${name}`), 't1', 2]);
    expect(call.keys[0]).toBe('key:instance');
    expect(call.argv[COMMIT.args.indexOf('nonce') + 1]).toBe('arg:nonce');

    const claim = scriptCall(
      CLAIM,
      '{p#1}',
      { pauses: 'ps' },
      { kind: 'e', now: 1, limit: 2, expiresAt: 3, owner: '"w"', tokenBase: '1.x', allowRecovered: '0', typeCount: 1, tagged: '1' },
      ['order', 'gpu'],
    );
    expect(claim.keys).toEqual(['ps']);
    expect(claim.argv).toEqual(['{p#1}', 'e', 1, 2, 3, '"w"', '1.x', '0', 1, '1', 'order', 'gpu']);
    expect(() => scriptCall(SETTLE, '{p#0}', { row: 'r' }, Object.fromEntries(SETTLE.args.map((a) => [a, ''])) as never, ['extra'])).toThrow(TypeError);
  });

  it('refuses names Lua could not read and names declared twice', () => {
    expect(() => defineScript({ name: 'x', keys: ['a-b'], args: [], body: '', decode: () => 0 })).toThrow(TypeError);
    expect(() => defineScript({ name: 'x', keys: [], args: ['a', 'a'], body: '', decode: () => 0 })).toThrow(TypeError);
  });

  it('decode replies through checks: a wrong shape is an integrity StoreError, never a wrong value', () => {
    expect(COMMIT.decode(new Reply(['VERSION_CONFLICT', '3'], 'commit reply'))).toEqual({ kind: 'version-conflict', actualVersion: 3 });
    expect(COMMIT.decode(new Reply(['OK', null], 'commit reply'))).toEqual({ kind: 'ok', releasedUniqueKey: undefined });
    expect(COMMIT.decode(new Reply(['HANDOFF', 't', 'id', 'tok', '2'], 'commit reply'))).toEqual({
      kind: 'handoff',
      handoffs: [{ kind: 't', id: 'id', token: 'tok', target: 2 }],
    });
    expect(PEEK.decode(new Reply([[['a', '5000', 1, '-2']], []], 'peek reply'))).toEqual({ rows: [{ id: 'a', rank: 7000, recovered: true }], handoffs: [] });
    expect(LOAD.decode(new Reply(['2', 'a', null, null, null, ['[]', '[]'], null, null], 'load reply'))).toMatchObject({ version: 2, status: 'active', events: ['[]', '[]'] });
    expect(LOAD.decode(new Reply(['2', 'x', null, null, null, [], 'p', 'q'], 'load reply'))).toMatchObject({ status: 'cancelled', parent: { type: 'p', id: 'q' } });
    expect(DELETE_INSTANCE.decode(new Reply(['BUSY'], 'delete-instance reply'))).toEqual({ outcome: 'busy' });
    expect(DELETE_INSTANCE.decode(new Reply(['DELETED', 'u-1', ['e', 'fx', ',2,3,']], 'delete-instance reply'))).toEqual({
      outcome: 'deleted',
      uniqueKey: 'u-1',
      leftovers: [{ kind: 'e', id: 'fx', partitions: [2, 3] }],
    });
    expect(DELETE_INSTANCE.decode(new Reply(['DELETED', null, []], 'delete-instance reply'))).toEqual({ outcome: 'deleted', uniqueKey: undefined, leftovers: [] });
    for (const [script, reply] of [
      [COMMIT, ['MAYBE']],
      [COMMIT, ['VERSION_CONFLICT', 'three']],
      [COMMIT, 'OK'],
      [LOAD, ['1', '2', null, null, null, [], null, null]],
      [CLAIM, [[[1, ['odd']]], []]],
      [SETTLE, []],
      [DELETE_INSTANCE, ['GONE']],
      [DELETE_INSTANCE, ['DELETED', null, [['e'], 'fx', ',1,']]],
    ] as const) {
      let caught: unknown;
      try {
        script.decode(new Reply(reply, `${script.name} reply`));
      } catch (error) {
        caught = error;
      }
      expect(isIronflowError(caught, 'STORE_FAILURE'), `${script.name} ${JSON.stringify(reply)}`).toBe(true);
      expect(caught).toMatchObject({ reason: 'integrity' });
    }
  });

  it('publish wake-ups only through the preamble’s wake(), which a batch holds until its last item', () => {
    for (const script of SCRIPTS) expect(script.body, script.name).not.toMatch(/'PUBLISH'/);
    expect(PREAMBLE.match(/'PUBLISH'/g)).toHaveLength(2);
    expect(COMMIT.body).toMatch(/wake\(A_channel, 'effect'\)/);
  });
});

describe('batch scripts', () => {
  it('have names and SHAs of their own, and wrap scripts of the store', () => {
    expect(BATCH_SCRIPTS.map((b) => b.name)).toEqual(['commit-batch', 'settle-batch']);
    const shas = new Set([...SCRIPTS, ...BATCH_SCRIPTS].map((s) => s.sha));
    expect(shas.size).toBe(SCRIPTS.length + BATCH_SCRIPTS.length);
    for (const batch of BATCH_SCRIPTS) expect(SCRIPTS).toContain(batch.item);
    expect([COMMIT_BATCH.haltOn, SETTLE_BATCH.haltOn]).toEqual(['HANDOFF', 'HANDOFF']);
  });

  it.each(BATCH_SCRIPTS.map((b) => [b.name, b] as const))('%s runs its script’s header and body unchanged inside a function of (KEYS, ARGV), after one preamble', (_, batch) => {
    const lines = batch.text.split('\n');
    expect(lines.slice(0, 2)).toEqual([`-- ironflow:${batch.name}`, 'local TAG = ARGV[1]']);
    const wrapped = `\nlocal function runItem(KEYS, ARGV)\n${batch.item.header}\n${batch.item.body}\nend\n`;
    const shared = preambleFor(`${batch.item.body}\n${batch.text.slice(batch.text.indexOf(wrapped) + wrapped.length)}`);
    expect(batch.text).toContain(`${shared}${wrapped}`);
    expect(batch.text.split(shared)).toHaveLength(2);
    expect(shared).toContain('local function holdWakes()');
    // The loop after the function is the only other code, and reads the real KEYS and ARGV.
    const loop = batch.text.slice(batch.text.indexOf(wrapped) + wrapped.length);
    expect(loop).toMatch(/holdWakes\(\)[\s\S]*runItem\(itemKeys, itemArgv\)[\s\S]*publishHeldWakes\(\)\nreturn replies/);
    expect(loop).toContain(`reply[1] == '${batch.haltOn ?? ''}' then break end`);
  });

  it('lay a batch out as [TAG, count, key and argument counts per item, the items’ arguments], KEYS the items’ keys in turn', () => {
    const item = (n: number) => ({
      keys: Object.fromEntries(COMMIT.keys.map((name) => [name, `k${n}:${name}`])) as Record<(typeof COMMIT.keys)[number], string>,
      args: Object.fromEntries(COMMIT.args.map((name) => [name, `a${n}:${name}`])) as Record<(typeof COMMIT.args)[number], string>,
    });
    const call = batchCall(COMMIT_BATCH, '{p#2}', [{ ...item(1), tail: ['e1'] }, { ...item(2), tail: ['e2', 3, 'x'] }]);
    const single = (n: number, tail: (string | number)[]) => scriptCall(COMMIT, '{p#2}', item(n).keys, item(n).args, tail);
    expect(call.keys).toEqual([...single(1, ['e1']).keys, ...single(2, []).keys]);
    expect(call.argv).toEqual([
      '{p#2}',
      2,
      COMMIT.keys.length,
      COMMIT.args.length + 1,
      COMMIT.keys.length,
      COMMIT.args.length + 3,
      ...single(1, ['e1']).argv.slice(1),
      ...single(2, ['e2', 3, 'x']).argv.slice(1),
    ]);
    expect(batchCall(SETTLE_BATCH, '{p#0}', [])).toEqual({ keys: [], argv: ['{p#0}', 0] });
  });

  it('decode each item’s reply with its script’s decoder, and accept fewer replies only when the last is the halt mark', () => {
    const reply = (value: unknown) => new Reply(value, 'commit-batch reply');
    expect(COMMIT_BATCH.decode(reply([['OK', null], ['VERSION_CONFLICT', '4']]), 2)).toEqual([
      { kind: 'ok', releasedUniqueKey: undefined },
      { kind: 'version-conflict', actualVersion: 4 },
    ]);
    expect(COMMIT_BATCH.decode(reply([['OK', null], ['HANDOFF', 'e', 'id', 'tok', '1']]), 5)).toHaveLength(2);
    for (const [value, sent] of [
      [[['OK', null]], 2],
      [[['OK', null], ['OK', null]], 1],
      [[['OK', null], ['MAYBE']], 2],
      ['OK', 1],
      [[['HANDOFF', 'e', 'id', 'tok', '1'], ['OK', null]], 3],
    ] as const) {
      let caught: unknown;
      try {
        COMMIT_BATCH.decode(reply(value), sent);
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(value)).toMatchObject({ code: 'STORE_FAILURE', reason: 'integrity' });
    }
  });

  it('refuse a halt mark that is not an upper-case reply tag', () => {
    expect(() => defineBatchScript(SETTLE, { haltOn: "x' then" })).toThrow(TypeError);
    expect(defineBatchScript(SETTLE).text).not.toContain('break');
  });
});
