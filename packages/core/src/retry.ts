// Retry policy math shared by effects, timers and version-conflict retries: exponential backoff,
// capped, with full jitter (AWS "Exponential Backoff and Jitter"): delay = random(0, min(cap, base·2^(n-1))).
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

/**
 * Delay before the retry that follows failed attempt `attempt` (1-based).
 * `random` returns a number in [0, 1); pass a fixed function for deterministic tests.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 52));
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  return policy.jitter === 'none' ? ceiling : Math.floor(random() * ceiling);
}

/** True when another attempt may follow failed attempt `attempt`. */
export function shouldRetry(policy: RetryPolicy, attempt: number): boolean {
  return attempt < policy.maxAttempts;
}
