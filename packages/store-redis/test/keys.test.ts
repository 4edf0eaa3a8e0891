// The key layout without a server: prefixes are validated, components cannot collide, every key
// starts with its partition's hash tag, partitions are stable, sort keys order as the contract says.
import { describe, expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import {
  compareBytes,
  createKeyLayout,
  deadMember,
  escapeGlob,
  fnv1a,
  instanceMember,
  leasePartition,
  parseInstanceMember,
  refSegment,
  validateKeyPrefix,
} from '../src/keys.js';

describe('key layout', () => {
  it.each(['', '{tag}', 'a*b', 'a b', 'x'.repeat(65), 'new\nline', 'ü'])('rejects the key prefix %j', (prefix) => {
    let caught: unknown;
    try {
      validateKeyPrefix(prefix);
    } catch (error) {
      caught = error;
    }
    expect(isIronflowError(caught, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('accepts ordinary prefixes', () => {
    expect(validateKeyPrefix('ironflow')).toBe('ironflow');
    expect(validateKeyPrefix('app:orders_v2.prod-1')).toBe('app:orders_v2.prod-1');
  });

  it('encodes (type, id) pairs without ambiguity', () => {
    expect(refSegment('a:b', 'c')).not.toBe(refSegment('a', 'b:c'));
    expect(refSegment('ü', 'x')).toBe('2:ü:x');
  });

  it('starts every key of a partition with that partition’s hash tag', () => {
    const layout = createKeyLayout('ironflow', 4);
    const keys = layout.partition(3);
    for (const key of [
      keys.instance('t', '}{*'),
      keys.events('t', 'x'),
      keys.item('e', '{ironflow:p0}'),
      keys.pending('t', 'type'),
      keys.dead('e'),
      keys.instances('active', 'type'),
      keys.unique('t', 'k'),
      keys.handoffs('e', 'id'),
    ]) {
      expect(key.startsWith('{ironflow:p3}:')).toBe(true);
    }
    expect(layout.patterns()).toEqual(['{ironflow:p0}:*', '{ironflow:p1}:*', '{ironflow:p2}:*', '{ironflow:p3}:*', '{ironflow}:*']);
  });

  it('hashes instances to partitions stably (FNV-1a 32)', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    const layout = createKeyLayout('ironflow', 8);
    const seen = new Set(Array.from({ length: 200 }, (_, i) => layout.partitionOf('order', `o-${i}`)));
    expect(seen.size).toBe(8);
    expect(layout.partitionOf('order', 'o-1')).toBe(createKeyLayout('other', 8).partitionOf('order', 'o-1'));
  });

  it('escapes glob characters', () => {
    expect(escapeGlob('a*b?c[d]\\e^')).toBe('a\\*b\\?c\\[d\\]\\\\e\\^');
  });

  it('orders instance members newest first, then type, then id', () => {
    const members = [
      instanceMember(1000, 'b', 'x'),
      instanceMember(2000, 'b', 'x'),
      instanceMember(1000, 'a', 'z'),
      instanceMember(1000, 'a', 'y'),
      instanceMember(1000, 'ab', 'a'),
    ].sort(compareBytes);
    expect(members.map(parseInstanceMember)).toEqual([
      { type: 'b', id: 'x' },
      { type: 'a', id: 'y' },
      { type: 'a', id: 'z' },
      { type: 'ab', id: 'a' },
      { type: 'b', id: 'x' },
    ]);
    expect(compareBytes(deadMember(5, 'b'), deadMember(5, 'a'))).toBeGreaterThan(0);
    expect(compareBytes(deadMember(6, 'z'), deadMember(5, 'a'))).toBeLessThan(0);
    expect(parseInstanceMember(instanceMember(Number.MAX_SAFE_INTEGER, 't', 'id\u0001with\nnewline')).id).toBe('id\u0001with\nnewline');
  });

  it('reads the partition out of a lease token and rejects anything else', () => {
    expect(leasePartition('3.AbC_d-9.1', 4)).toBe(3);
    expect(leasePartition('4.AbC.1', 4)).toBeUndefined();
    expect(leasePartition('forged-token', 4)).toBeUndefined();
    expect(leasePartition('0.abc.1\n', 1)).toBeUndefined();
  });
});
