import { describe, expect, it } from 'vitest';
import { isNetworkErrorCode, toJsonText } from '../src/store/index.js';

describe('store support', () => {
  it('toJsonText serialises JSON values and refuses the rest with INVALID_ARGUMENT', () => {
    expect(toJsonText({ a: [1, 'x', null] }, 'payload')).toBe('{"a":[1,"x",null]}');
    const cycle: { self?: unknown } = {};
    cycle.self = cycle;
    for (const bad of [10n, cycle, undefined, () => 1]) {
      expect(() => toJsonText(bad, 'payload')).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { what: 'payload' } }));
    }
  });

  it('isNetworkErrorCode recognises socket codes that mean unreachable', () => {
    expect(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN'].every(isNetworkErrorCode)).toBe(true);
    expect([undefined, 42, 'ENOENT', '40001'].some(isNetworkErrorCode)).toBe(false);
  });
});
