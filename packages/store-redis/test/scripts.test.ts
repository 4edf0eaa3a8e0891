// The TypeScript ↔ Lua interface without a server: each script's header is generated from its
// declared names, its body reads exactly those names (raw KEYS/ARGV only for a declared variadic
// tail), every key builder it calls exists, calls are laid out in declared order, replies are checked.
import { describe, expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import { KEY_TEMPLATES } from '../src/key-templates.js';
import { Reply } from '../src/reply.js';
import { defineScript, scriptCall, type LuaScript } from '../src/script.js';
import { CLAIM, PEEK } from '../src/scripts/claim.js';
import { COMMIT } from '../src/scripts/commit.js';
import { SCRIPTS } from '../src/scripts/index.js';
import { SETTLE } from '../src/scripts/leases.js';
import { PREAMBLE } from '../src/scripts/preamble.js';
import { LOAD } from '../src/scripts/reads.js';

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
  const defined = new Set([...code(`${PREAMBLE}\n${script.body}`).matchAll(/local function ([a-z][A-Za-z]*)Key\(/g)].map((m) => m[1]!));
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
      expect(script.text).toBe(`${script.header}\n${PREAMBLE}\n${script.body}`);
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

    const claim = scriptCall(CLAIM, '{p#1}', {}, { kind: 'e', now: 1, limit: 2, expiresAt: 3, owner: '"w"', tokenBase: '1.x', allowRecovered: '0' }, ['q', 'l']);
    expect(claim.keys).toEqual(['q', 'l']);
    expect(claim.argv).toEqual(['{p#1}', 'e', 1, 2, 3, '"w"', '1.x', '0']);
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
    expect(PEEK.decode(new Reply([[['a', '5', 1]], []], 'peek reply'))).toEqual({ rows: [{ id: 'a', availableAt: 5, recovered: true }], handoffs: [] });
    expect(LOAD.decode(new Reply(['2', '0', null, null, null, ['[]', '[]']], 'load reply'))).toMatchObject({ version: 2, completed: false, events: ['[]', '[]'] });
    for (const [script, reply] of [
      [COMMIT, ['MAYBE']],
      [COMMIT, ['VERSION_CONFLICT', 'three']],
      [COMMIT, 'OK'],
      [LOAD, ['1', '2', null, null, null, []]],
      [CLAIM, [[[1, ['odd']]], []]],
      [SETTLE, []],
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
});
