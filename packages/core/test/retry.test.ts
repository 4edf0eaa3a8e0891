import { describe, expect, it } from 'vitest';
import { attemptsExhausted, backoff, backoffDelay, claimedTooOften, defaultRetryPolicy, resolveRetryPolicy } from '../src/engine/index.js';

describe('retry policy', () => {
  it('defaults to 5 attempts, 1 s base, 5 min cap and full jitter', () => {
    expect(resolveRetryPolicy()).toEqual({ maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 300_000, jitter: 'full' });
    expect(defaultRetryPolicy).toEqual(resolveRetryPolicy());
  });

  it('layers partial policies, later layers winning and absent layers ignored', () => {
    expect(resolveRetryPolicy({ maxAttempts: 3 }, undefined, { baseDelayMs: 10 })).toMatchObject({ maxAttempts: 3, baseDelayMs: 10 });
  });

  it('doubles without jitter until the cap', () => {
    const policy = resolveRetryPolicy({ jitter: 'none', baseDelayMs: 1000, maxDelayMs: 10_000 });
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(policy, a))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(backoffDelay(policy, 10_000)).toBe(10_000);
  });

  it('draws full jitter uniformly below the exponential ceiling', () => {
    const policy = resolveRetryPolicy({ baseDelayMs: 1000 });
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(2000);
    expect(backoffDelay(policy, 3, () => 0.999_999)).toBeLessThan(4000);
  });

  it('retries while attempts remain, and goes dead without running when claimed more often than allowed', () => {
    const policy = resolveRetryPolicy({ maxAttempts: 3 });
    expect([1, 2, 3].map((a) => attemptsExhausted(policy, a))).toEqual([false, false, true]);
    expect([3, 4].map((a) => claimedTooOften(policy, a))).toEqual([false, true]);
  });

  it('one backoff formula: capped exponential ceiling with full, equal or no jitter', () => {
    const shape = { baseMs: 100, capMs: 1000 } as const;
    expect([1, 2, 3, 4, 5, 60].map((n) => backoff(n, { ...shape, jitter: 'none' }))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoff(3, { ...shape, jitter: 'equal' }, () => 0)).toBe(200);
    expect(backoff(3, { ...shape, jitter: 'equal' }, () => 0.999_999)).toBeLessThan(400);
    expect(backoff(3, { ...shape, jitter: 'full' }, () => 0)).toBe(0);
    expect(backoff(3, { ...shape, jitter: 'full' }, () => 0.5)).toBe(200);
  });

  it('rejects unusable policies with INVALID_ARGUMENT', () => {
    for (const bad of [{ maxAttempts: 0 }, { maxAttempts: 1.5 }, { baseDelayMs: -1 }, { maxDelayMs: Number.POSITIVE_INFINITY }, { jitter: 'some' as 'full' }]) {
      expect(() => resolveRetryPolicy(bad)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});
