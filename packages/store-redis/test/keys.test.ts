// The key layout without a server: prefixes are validated, every key starts with its partition's
// hash tag, no two prefixes (however they overlap as strings) share a key, a hash tag or a SCAN
// match, partitions are stable, and sort members order as the contract says.
import { describe, expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import { compareIds } from '@ironflow/core/store';
import { fillKey, KEY_TEMPLATES, luaKeyBuilder, refSegment, type KeyName } from '../src/key-templates.js';
import { createKeyLayout, fnv1a, hashTagOf, validateKeyPrefix, type KeyLayout } from '../src/keys.js';
import { deadMember, deadMemberId, instanceMember, leasePartition, parseInstanceMember } from '../src/members.js';
import { globToRegExp } from './glob.js';

const HOSTILE = ['{', '}', '}{', '*', '?', '[a-z]', 'a:b:c', '#0}', '{X#0}:i:1:x:y', '{X}:meta', 'new\nline', '\\', '𝄞 ü', 'p0'];

/** Every key a layout can produce for hostile types and ids, in every partition, and its settings key. */
function keysOf(layout: KeyLayout): string[] {
  const out = [layout.meta];
  for (let p = 0; p < layout.partitions; p++) {
    const keys = layout.partition(p);
    for (const type of HOSTILE) {
      for (const id of HOSTILE) {
        out.push(
          keys.instance(type, id),
          keys.events(type, id),
          keys.feedEntries(type, id),
          keys.idempotency(type, id),
          keys.observations(type, id),
          keys.owned('e', type, id),
          keys.owned('t', type, id),
          keys.timerKeys(type, id),
          keys.effectKeys(type, id),
          keys.children(type, id),
          keys.tagged(-3, type, id),
          keys.uniqueBlocks(type, id),
          keys.unique(type, id),
          keys.item('e', id),
          keys.item('t', id),
          keys.handoffs('e', id),
          keys.handoffs('t', id),
          keys.projectionLetter(type, id),
        );
      }
      out.push(keys.projection(type), keys.projectionLetters(type), keys.projectionLetters(type, 'parked'), keys.projectionLetters(type, 'redriven'));
      for (const k of ['e', 't'] as const) out.push(keys.pending(k, type), keys.leased(k, type), keys.dead(k), keys.dead(k, type), keys.finished(k), keys.work(k));
      out.push(keys.ranked(7, type), keys.priorities(type));
      for (const status of ['active', 'completed', 'cancelled'] as const) out.push(keys.instances(status), keys.instances(status, type), keys.names(status));
    }
    out.push(keys.pauses(), keys.idempotencyTimes(), keys.projections());
  }
  return out;
}

/** Prefix pairs that overlap as strings: each is a tenant next to the other. */
const HOSTILE_PAIRS: readonly (readonly [string, string])[] = [
  ['X', 'X:p0'],
  ['X', 'X:'],
  ['X', 'X:p'],
  ['a', 'a:b'],
  ['p', 'p0'],
  ['X', 'X.0'],
  ['X:p0', 'X:p0:p0'],
  ['ironflow', 'ironflow:wake'],
  ['conf1', 'conf1_b'],
  ['conf1', 'conf1_'],
  ['a-b', 'a'],
];

describe('key layout', () => {
  it.each(['', '{tag}', 'a*b', 'a b', 'x'.repeat(65), 'new\nline', 'ü', 'a#0', '#', 'a}', 'a[b]', 'a?', 'a\\b', 'a^'])('rejects the key prefix %j', (prefix) => {
    let caught: unknown;
    try {
      validateKeyPrefix(prefix);
    } catch (error) {
      caught = error;
    }
    expect(isIronflowError(caught, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('accepts ordinary prefixes, including every conformance namespace shape', () => {
    expect(validateKeyPrefix('ironflow')).toBe('ironflow');
    expect(validateKeyPrefix('app:orders_v2.prod-1')).toBe('app:orders_v2.prod-1');
    expect(validateKeyPrefix('conf1a2b_x:p0')).toBe('conf1a2b_x:p0');
  });

  it('encodes (type, id) pairs without ambiguity', () => {
    expect(refSegment('a:b', 'c')).not.toBe(refSegment('a', 'b:c'));
    expect(refSegment('ü', 'x')).toBe('2:ü:x');
  });

  it('starts every key of a partition with that partition’s hash tag, whatever the ids hold', () => {
    const layout = createKeyLayout('ironflow', 4);
    const keys = keysOf(layout).filter((key) => key !== layout.meta);
    const inThree = keys.filter((key) => key.startsWith('{ironflow#3}:'));
    expect(inThree.length).toBe(keys.length / 4);
    for (const key of keys) expect(hashTagOf(key)).toMatch(/^ironflow#[0-3]$/);
    expect(hashTagOf(layout.meta)).toBe('ironflow');
    expect(layout.partition(3).tag).toBe('{ironflow#3}');
    expect(layout.patterns()).toEqual(['{ironflow[#}]*']);
  });

  it('fills the templates as written', () => {
    const tag = '{p#0}';
    const samples: { [N in KeyName]: string } = {
      instance: fillKey(tag, 'instance', { t: 'order', id: 'o:1' }),
      events: fillKey(tag, 'events', { t: 'order', id: '1' }),
      feedEntries: fillKey(tag, 'feedEntries', { t: 'order', id: '1' }),
      idempotency: fillKey(tag, 'idempotency', { t: 'order', id: '1' }),
      idempotencyTimes: fillKey(tag, 'idempotencyTimes', {}),
      observations: fillKey(tag, 'observations', { t: 'order', id: '1' }),
      owned: fillKey(tag, 'owned', { k: 'e', t: 'order', id: '1' }),
      timerKeys: fillKey(tag, 'timerKeys', { t: 'order', id: '1' }),
      effectKeys: fillKey(tag, 'effectKeys', { t: 'order', id: '1' }),
      uniqueBlocks: fillKey(tag, 'uniqueBlocks', { t: 'order', id: '1' }),
      unique: fillKey(tag, 'unique', { t: 'order', key: 'k' }),
      item: fillKey(tag, 'item', { k: 't', id: 'x' }),
      work: fillKey(tag, 'work', { k: 'e' }),
      pending: fillKey(tag, 'pending', { k: 'e', t: 'order' }),
      ranked: fillKey(tag, 'ranked', { p: '-5', t: 'order' }),
      tagged: fillKey(tag, 'tagged', { p: '0', t: 'order', g: 'gpu:a' }),
      priorities: fillKey(tag, 'priorities', { t: 'order' }),
      pauses: fillKey(tag, 'pauses', {}),
      leased: fillKey(tag, 'leased', { k: 'e', t: 'order' }),
      deadAll: fillKey(tag, 'deadAll', { k: 'e' }),
      deadOfType: fillKey(tag, 'deadOfType', { k: 'e', t: 'order' }),
      finished: fillKey(tag, 'finished', { k: 't' }),
      instancesAll: fillKey(tag, 'instancesAll', { s: 'a' }),
      instancesOfType: fillKey(tag, 'instancesOfType', { s: 'c', t: 'order' }),
      names: fillKey(tag, 'names', { s: 'x' }),
      children: fillKey(tag, 'children', { t: 'order', id: '1' }),
      handoffs: fillKey(tag, 'handoffs', { k: 'e', id: 'x' }),
      feed: fillKey(tag, 'feed', {}),
      projections: fillKey(tag, 'projections', {}),
      projection: fillKey(tag, 'projection', { n: 'orders:{by}' }),
      projectionLetter: fillKey(tag, 'projectionLetter', { n: 'orders:{by}', id: 'd:1' }),
      projectionLetters: fillKey(tag, 'projectionLetters', { n: 'orders' }),
      projectionLettersOf: fillKey(tag, 'projectionLettersOf', { s: 'p', n: 'orders' }),
    };
    expect(samples).toEqual({
      instance: '{p#0}:i:5:order:o:1',
      events: '{p#0}:ev:5:order:1',
      feedEntries: '{p#0}:fe:5:order:1',
      idempotency: '{p#0}:id:5:order:1',
      idempotencyTimes: '{p#0}:it',
      observations: '{p#0}:ob:5:order:1',
      owned: '{p#0}:o:e:5:order:1',
      timerKeys: '{p#0}:tk:5:order:1',
      effectKeys: '{p#0}:ek:5:order:1',
      uniqueBlocks: '{p#0}:ub:5:order:1',
      unique: '{p#0}:u:5:order:k',
      item: '{p#0}:w:t:x',
      work: '{p#0}:wk:e',
      pending: '{p#0}:q:e:order',
      ranked: '{p#0}:qr:-5:order',
      tagged: '{p#0}:qg:0:5:order:gpu:a',
      priorities: '{p#0}:pp:order',
      pauses: '{p#0}:ps',
      leased: '{p#0}:l:e:order',
      deadAll: '{p#0}:d:e',
      deadOfType: '{p#0}:d:e:order',
      finished: '{p#0}:f:t',
      instancesAll: '{p#0}:x:a',
      instancesOfType: '{p#0}:x:c:order',
      names: '{p#0}:n:x',
      children: '{p#0}:ch:5:order:1',
      handoffs: '{p#0}:h:e:x',
      feed: '{p#0}:feed',
      projections: '{p#0}:pjn',
      projection: '{p#0}:pj:orders:{by}',
      projectionLetter: '{p#0}:pjd:11:orders:{by}:d:1',
      projectionLetters: '{p#0}:pjl:orders',
      projectionLettersOf: '{p#0}:pjs:p:orders',
    });
    expect(Object.keys(samples).sort()).toEqual(Object.keys(KEY_TEMPLATES).sort());
  });

  it('generates the Lua key builders from the same templates', () => {
    expect(luaKeyBuilder('pending')).toBe("local function pendingKey(k, t) return TAG .. ':' .. 'q' .. ':' .. k .. ':' .. t end");
    expect(luaKeyBuilder('owned')).toBe("local function ownedKey(k, t, id) return TAG .. ':' .. 'o' .. ':' .. k .. ':' .. ref(t, id) end");
    expect(luaKeyBuilder('unique')).toBe("local function uniqueKey(t, key) return TAG .. ':' .. 'u' .. ':' .. ref(t, key) end");
    expect(luaKeyBuilder('tagged')).toBe("local function taggedKey(p, t, g) return TAG .. ':' .. 'qg' .. ':' .. p .. ':' .. ref(t, g) end");
    expect(luaKeyBuilder('pauses')).toBe("local function pausesKey() return TAG .. ':' .. 'ps' end");
  });

  it('gives keys of different kinds and parameters different names', () => {
    const layout = createKeyLayout('ironflow', 1).partition(0);
    expect(layout.instance('a:b', 'c')).not.toBe(layout.instance('a', 'b:c'));
    expect(layout.dead('e', 'x')).not.toBe(layout.dead('e'));
    expect(layout.item('e', 'v:1')).not.toBe(layout.events('1', ''));
    expect(layout.tagged(1, 'a:b', 'c')).not.toBe(layout.tagged(1, 'a', 'b:c'));
    expect(layout.tagged(0, 'a', 'b')).not.toBe(layout.ranked(0, 'a'));
    expect(layout.names('active')).not.toBe(layout.names('cancelled'));
  });

  describe.each(HOSTILE_PAIRS.flatMap(([a, b]) => [1, 4].flatMap((pa) => [1, 4].map((pb) => [a, pa, b, pb] as const))))(
    'prefixes %j (%i partitions) and %j (%i partitions)',
    (prefixA, partitionsA, prefixB, partitionsB) => {
      const a = createKeyLayout(prefixA, partitionsA);
      const b = createKeyLayout(prefixB, partitionsB);
      const keysA = keysOf(a);
      const keysB = keysOf(b);
      const patternsA = a.patterns().map(globToRegExp);
      const patternsB = b.patterns().map(globToRegExp);
      const matchesA = (key: string) => patternsA.some((p) => p.test(key));
      const matchesB = (key: string) => patternsB.some((p) => p.test(key));

      it('share no hash tag, so no key', () => {
        const tagsA = new Set(keysA.map(hashTagOf));
        for (const key of keysB) expect(tagsA.has(hashTagOf(key))).toBe(false);
      });

      it('match only their own keys with their SCAN patterns', () => {
        expect(keysA.filter((key) => !matchesA(key))).toEqual([]);
        expect(keysB.filter((key) => !matchesB(key))).toEqual([]);
        expect(keysB.filter(matchesA)).toEqual([]);
        expect(keysA.filter(matchesB)).toEqual([]);
      });

      it('publish wake-ups on different channels', () => {
        expect(a.channel).not.toBe(b.channel);
      });
    },
  );

  it('matches globs as Redis does, so it would have caught the old overlap', () => {
    // The layout before this one: tenant X's partition 0 lived under {X:p0}, matched by X:p0's settings pattern.
    expect(globToRegExp('{X:p0}:*').test('{X:p0}:i:1:t:1')).toBe(true);
    expect(globToRegExp('{X[#}]*').test('{X#0}:i:1:t:1')).toBe(true);
    expect(globToRegExp('{X[#}]*').test('{X}:meta')).toBe(true);
    expect(globToRegExp('{X[#}]*').test('{X:p0#0}:i:1:t:1')).toBe(false);
    expect(globToRegExp('a?[^b-d]\\*').test('axe*')).toBe(true);
    expect(globToRegExp('a?[^b-d]\\*').test('axc*')).toBe(false);
  });

  it('hashes instances to partitions stably (FNV-1a 32)', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    const layout = createKeyLayout('ironflow', 8);
    const seen = new Set(Array.from({ length: 200 }, (_, i) => layout.partitionOf('order', `o-${i}`)));
    expect(seen.size).toBe(8);
    expect(layout.partitionOf('order', 'o-1')).toBe(createKeyLayout('other', 8).partitionOf('order', 'o-1'));
  });

  it('puts every key of a projection, however hostile its name, under one partition tag picked stably by the name', () => {
    const layout = createKeyLayout('ironflow', 8);
    const seen = new Set(Array.from({ length: 200 }, (_, i) => layout.projectionPartitionOf(`orders-${i}`)));
    expect(seen.size).toBe(8);
    expect(layout.projectionPartitionOf('orders')).toBe(createKeyLayout('other', 8).projectionPartitionOf('orders'));
    for (const name of HOSTILE) {
      const keys = layout.partition(layout.projectionPartitionOf(name));
      const own = [keys.projection(name), keys.projectionLetter(name, name), keys.projectionLetters(name), keys.projectionLetters(name, 'parked'), keys.projectionLetters(name, 'redriven'), keys.projections()];
      expect(new Set(own.map(hashTagOf))).toEqual(new Set([`ironflow#${layout.projectionPartitionOf(name)}`]));
    }
    // A dead letter's key encodes (projection, id) without ambiguity.
    const keys = layout.partition(0);
    expect(keys.projectionLetter('a:b', 'c')).not.toBe(keys.projectionLetter('a', 'b:c'));
  });

  it('reads hash tags as Redis Cluster does', () => {
    expect(hashTagOf('{a#1}:w:e:{b}')).toBe('a#1');
    expect(hashTagOf('{}x{y}')).toBeUndefined();
    expect(hashTagOf('plain')).toBeUndefined();
  });

  it('orders instance members newest first, then type, then id', () => {
    const members = [
      instanceMember(1000, 'b', 'x'),
      instanceMember(2000, 'b', 'x'),
      instanceMember(1000, 'a', 'z'),
      instanceMember(1000, 'a', 'y'),
      instanceMember(1000, 'ab', 'a'),
    ].sort(compareIds);
    expect(members.map(parseInstanceMember)).toEqual([
      { type: 'b', id: 'x' },
      { type: 'a', id: 'y' },
      { type: 'a', id: 'z' },
      { type: 'ab', id: 'a' },
      { type: 'b', id: 'x' },
    ]);
    expect(compareIds(deadMember(5, 'b'), deadMember(5, 'a'))).toBeGreaterThan(0);
    expect(compareIds(deadMember(6, 'z'), deadMember(5, 'a'))).toBeLessThan(0);
    expect(deadMemberId(deadMember(5, 'id:with:colons'))).toBe('id:with:colons');
    expect(parseInstanceMember(instanceMember(Number.MAX_SAFE_INTEGER, 't', 'id\u0001with\nnewline')).id).toBe('id\u0001with\nnewline');
  });

  it('reads the partition out of a lease token and rejects anything else', () => {
    expect(leasePartition('3.AbC_d-9.1', 4)).toBe(3);
    expect(leasePartition('4.AbC.1', 4)).toBeUndefined();
    expect(leasePartition('forged-token', 4)).toBeUndefined();
    expect(leasePartition('0.abc.1\n', 1)).toBeUndefined();
  });
});
