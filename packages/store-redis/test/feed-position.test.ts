// Feed positions without a server: stream ids parse only as Redis writes them, and a position is
// exactly one stream id per partition, so a hand-made or foreign position is bad input.
import { describe, expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import { decodeFeedPosition, encodeFeedPosition, formatStreamId, parseStreamId } from '../src/feed.js';

const refused = (run: () => unknown): boolean => {
  try {
    run();
    return false;
  } catch (error) {
    return isIronflowError(error, 'INVALID_ARGUMENT');
  }
};

describe('feed positions', () => {
  it('stream ids round-trip, order as (ms, seq), and refuse what Redis never writes', () => {
    for (const id of ['0-0', '1-0', '1796620807115390-0', '1796620807115390-17', '18446744073709551615-18446744073709551615']) {
      expect(formatStreamId(parseStreamId(id)!)).toBe(id);
    }
    expect(parseStreamId('1-5')! < parseStreamId('2-0')!).toBe(true);
    expect(parseStreamId('10-0')! > parseStreamId('9-99')!).toBe(true);
    // The id just before `2-0` is the last one of millisecond 1.
    expect(formatStreamId(parseStreamId('2-0')! - 1n)).toBe('1-18446744073709551615');
    for (const bad of ['', '0', '-0', '0-', '01-0', '0-01', '1-2-3', ' 1-0', '1-0 ', 'a-0', '18446744073709551616-0', '0-18446744073709551616', '+1-0']) {
      expect(parseStreamId(bad), bad).toBeUndefined();
    }
  });

  it('a position holds one stream id per partition, in partition order', () => {
    expect(encodeFeedPosition([parseStreamId('5-1')!])).toBe('5-1');
    expect(encodeFeedPosition([0n, parseStreamId('5-1')!, 0n])).toBe('0-0,5-1,0-0');
    expect(decodeFeedPosition('0-0,5-1,0-0', 3).map(formatStreamId)).toEqual(['0-0', '5-1', '0-0']);
    for (const [bad, partitions] of [
      ['5-1', 3],
      ['0-0,5-1', 3],
      ['0-0,5-1,0-0,0-0', 3],
      ['0-0,,0-0', 3],
      ['0-0,5-1,x', 3],
      ['0-0;5-1;0-0', 3],
      ['5-1,0-0', 1],
      ['5', 1],
    ] as const) {
      expect(refused(() => decodeFeedPosition(bad, partitions)), `${bad} of ${partitions}`).toBe(true);
    }
  });

  it('a vector too long for a position is a configuration error, not a position nobody can read back', () => {
    const ids = Array.from({ length: 300 }, () => parseStreamId('1796620807115390-0')!);
    expect(() => encodeFeedPosition(ids)).toThrow(/4096/);
  });
});
