// Feed positions of the PostgreSQL store, checked without a server: "<transaction id>.<position>"
// in decimal round-trips, and any other text is bad input (INVALID_ARGUMENT), not a store failure.
import { describe, expect, it } from 'vitest';
import { decodeFeedPosition, encodeFeedPosition, feedReadValues, FEED_SCAN_FACTOR } from '../src/feed-sql.js';

describe('feed positions', () => {
  it('a position it writes decodes to the same transaction id and position', () => {
    for (const key of [{ tx: '3', position: '1' }, { tx: '18446744073709551615', position: '9223372036854775807' }, { tx: '0', position: '0' }]) {
      expect(decodeFeedPosition(encodeFeedPosition(key))).toEqual(key);
    }
  });

  it.each([
    ['no separator', '12'],
    ['a leading zero', '012.1'],
    ['a sign', '-1.1'],
    ['spaces', ' 1.1'],
    ['three parts', '1.2.3'],
    ['an empty part', '1.'],
    ['a transaction id past 2^64 - 1', '18446744073709551616.1'],
    ['a position past 2^63 - 1', '1.9223372036854775808'],
    ['a memory store position', '42'],
    ['a vector', '[1,2]'],
    ['non-ASCII digits', '١.١'],
  ])('text with %s is not a position of this store', (_, text) => {
    expect(() => decodeFeedPosition(text)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('names the argument it refuses: query.after unless told (save.position, reset.position, a parked dead letter\'s)', () => {
    expect(() => decodeFeedPosition('x')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { what: 'query.after' } }));
    for (const what of ['save.position', 'save.parked[2].position', 'reset.position']) {
      expect(() => decodeFeedPosition('x', what)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { what } }));
      expect(() => decodeFeedPosition('1.9223372036854775808', what)).toThrow(expect.objectContaining({ message: expect.stringMatching(new RegExp(`^${what.replace(/[[\].]/g, '\\$&')} is not a feed position`)) }));
    }
  });

  it('an unfiltered read looks at as many rows as it may return, a filtered one at FEED_SCAN_FACTOR times as many', () => {
    expect(feedReadValues(undefined, undefined, undefined, 7)).toEqual(['0', '0', null, null, 7, 7]);
    expect(feedReadValues({ tx: '9', position: '4' }, ['t'], undefined, 7)).toEqual(['9', '4', ['t'], null, 7, 7 * FEED_SCAN_FACTOR]);
  });
});
