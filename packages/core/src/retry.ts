// The one backoff formula of Ironflow, used by effect and timer retries, version-conflict retries,
// worker-loop restarts and reconnects: exponential, capped, with jitter (AWS "Exponential Backoff
// and Jitter"). Plus the retry policy of effects and timers, and its attempt rules.
import { invalidArgument } from './errors.js';

/** How often and how fast failed effects and timers are retried. */
export interface RetryPolicy {
  /**
   * Attempts in all, the first one included; the last failure dead-letters.
   * @default 5
   */
  maxAttempts: number;
  /**
   * Delay before the first retry, in milliseconds.
   * @default 1000
   */
  baseDelayMs: number;
  /**
   * Largest delay between attempts, in milliseconds.
   * @default 300000
   */
  maxDelayMs: number;
  /**
   * `'full'` draws the delay uniformly from [0, backoff]; `'none'` uses the backoff as is.
   * @default 'full'
   */
  jitter: 'full' | 'none';
}

/** The documented defaults: 5 attempts, 1 s base, 5 min cap, full jitter. */
export const defaultRetryPolicy: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 300_000,
  jitter: 'full',
});

/** Fills a partial policy with defaults and checks it; throws INVALID_ARGUMENT when it is unusable. */
export function resolveRetryPolicy(
  ...layers: ReadonlyArray<Partial<RetryPolicy> | undefined>
): RetryPolicy {
  const policy: RetryPolicy = { ...defaultRetryPolicy };
  for (const layer of layers) {
    if (layer !== undefined) Object.assign(policy, Object.fromEntries(Object.entries(layer).filter(([, v]) => v !== undefined)));
  }
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw invalidArgument(`retry.maxAttempts must be a whole number >= 1, got ${policy.maxAttempts}`);
  }
  for (const field of ['baseDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(policy[field]) || policy[field] < 0) {
      throw invalidArgument(`retry.${field} must be a non-negative number of milliseconds, got ${policy[field]}`);
    }
  }
  if (policy.jitter !== 'full' && policy.jitter !== 'none') {
    throw invalidArgument(`retry.jitter must be 'full' or 'none', got ${String(policy.jitter)}`);
  }
  return policy;
}

/** The shape of a backoff: `ceiling(n) = min(capMs, baseMs · 2^(n-1))`, then jitter. */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly capMs: number;
  /**
   * `'full'`: uniform in [0, ceiling] (spreads retries most); `'equal'`: uniform in
   * [ceiling/2, ceiling] (never retries at once: for restarts and reconnects); `'none'`: the ceiling.
   */
  readonly jitter: 'full' | 'equal' | 'none';
}

/**
 * Milliseconds to wait after failure number `attempt` (1-based) before the next try.
 * `random` returns a number in [0, 1); pass a fixed function for deterministic tests.
 * @example backoff(3, { baseMs: 100, capMs: 30_000, jitter: 'equal' }) // between 200 and 400
 */
export function backoff(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 52));
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** exponent);
  if (options.jitter === 'none') return ceiling;
  if (options.jitter === 'equal') return Math.floor(ceiling / 2 + (random() * ceiling) / 2);
  return Math.floor(random() * ceiling);
}

/** Delay before the retry that follows failed attempt `attempt` (1-based) under a retry policy. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  return backoff(attempt, { baseMs: policy.baseDelayMs, capMs: policy.maxDelayMs, jitter: policy.jitter }, random);
}

/** True when failed attempt `attempt` was the last the policy allows: the item goes dead instead of retrying. */
export function attemptsExhausted(policy: RetryPolicy, attempt: number): boolean {
  return attempt >= policy.maxAttempts;
}

/**
 * True when an item was claimed more often than the policy allows: earlier attempts ended without
 * an outcome (the worker died), so it goes dead without running again.
 */
export function claimedTooOften(policy: RetryPolicy, attempts: number): boolean {
  return attempts > policy.maxAttempts;
}
