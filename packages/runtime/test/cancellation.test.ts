// The runtime's own cancellation: callbacks without an EventTarget, and an AbortSignal made only
// when someone reads it, which follows the cancellation whenever it is made.
import { describe, expect, it } from 'vitest';
import { Cancellation } from '../src/cancellation.js';

describe('Cancellation', () => {
  it('runs its callbacks once, with the first reason, and runs late ones at once', () => {
    const c = new Cancellation();
    const heard: unknown[] = [];
    c.onCancel((reason) => heard.push(['a', reason]));
    const remove = c.onCancel((reason) => heard.push(['removed', reason]));
    remove();
    c.cancel('first');
    c.cancel('second');
    c.onCancel((reason) => heard.push(['late', reason]));
    expect(heard).toEqual([['a', 'first'], ['late', 'first']]);
    expect(c).toMatchObject({ cancelled: true, reason: 'first' });
  });

  it('makes its AbortSignal on first read, aborted already when the cancellation came first', () => {
    const before = new Cancellation();
    const signal = before.signal;
    expect(signal.aborted).toBe(false);
    before.cancel(new Error('timeout'));
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toEqual(new Error('timeout'));
    expect(before.signal).toBe(signal);

    const after = new Cancellation();
    after.cancel('shutdown');
    expect(after.signal.aborted).toBe(true);
    expect(after.signal.reason).toBe('shutdown');
  });
});
