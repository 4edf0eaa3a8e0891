// Per-effect options of a decision: `effect(payload, { key, tag, priority, retry, timeoutMs,
// deadline })`, and the checks that turn them into a stored effect before anything is written.
import { IronflowError } from './errors.js';
import { resolveRetryPolicy, type RetryPolicy } from './retry.js';
import { MAX_PRIORITY, MIN_PRIORITY, type EffectSettings, type NewEffect } from './store/port.js';
import { parseKey } from './store/rules.js';
import { stripUndefined } from './store/support.js';

const EFFECT: unique symbol = Symbol.for('ironflow.effect');

/** How one effect of a decision is run, besides its payload. Every field is optional. */
export interface EffectOptions {
  /**
   * Names the effect within its instance: at most one pending or running effect per (instance,
   * key), and a later decision cancels it with `cancelEffects: [key]`. Writing a key that a live
   * effect holds fails with EFFECT_KEY_CONFLICT unless the same decision cancels it.
   */
  readonly key?: string | undefined;
  /** Only effect pools started for this tag (`effects.tags`), or for no tags, run it. */
  readonly tag?: string | undefined;
  /**
   * From -1000 to 1000; higher runs first. One level is worth one second of waiting, so a low
   * priority effect is never held back longer than the difference in seconds.
   * @default 0
   */
  readonly priority?: number | undefined;
  /** Retry policy fields for this effect, over the workflow's and the engine's. */
  readonly retry?: Partial<RetryPolicy> | undefined;
  /** Handler timeout of this effect in whole milliseconds, instead of the pool's `effects.timeoutMs`. */
  readonly timeoutMs?: number | undefined;
  /**
   * The instant after which the effect must not run: claimed at or after it, it is dead-lettered
   * with EFFECT_DEADLINE_EXCEEDED; a handler still running then is aborted with that reason.
   */
  readonly deadline?: Date | number | undefined;
}

/** An effect payload with its options, as `effect()` makes it; the handler receives `payload` alone. */
export interface EffectRequest<F> {
  readonly [EFFECT]: true;
  readonly payload: F;
  readonly options: EffectOptions;
}

/** The payload type of an entry of `effects`: a plain payload, or the payload of an `effect()`. */
export type PayloadOf<X> = X extends EffectRequest<infer P> ? P : X;

/**
 * Gives one effect of a decision a key, tag, priority, retry policy, timeout or deadline.
 * @example accept(event, { effects: [effect({ type: 'charge', orderId }, { key: 'charge', deadline: ctx.now.getTime() + 60_000 })] })
 */
export function effect<F>(payload: F, options: EffectOptions = {}): EffectRequest<F> {
  return { [EFFECT]: true, payload, options };
}

/** True for values made by `effect()`, from any copy of core. */
export function isEffectRequest(value: unknown): value is EffectRequest<unknown> {
  return typeof value === 'object' && value !== null && (value as { [EFFECT]?: unknown })[EFFECT] === true;
}

const OPTION_NAMES: ReadonlySet<string> = new Set(['key', 'tag', 'priority', 'retry', 'timeoutMs', 'deadline']);
const RETRY_FIELDS: ReadonlySet<string> = new Set(['maxAttempts', 'baseDelayMs', 'maxDelayMs', 'jitter']);

function invalid(workflowType: string, message: string): IronflowError {
  return new IronflowError('INVALID_DECISION', `An effect of ${workflowType}: ${message}`, { details: { workflowType } });
}

/**
 * The stored form of one effect of a decision, its options checked (INVALID_DECISION for any bad
 * one, before anything is written); `keys` collects the keys of the decision to refuse repeats.
 */
export function toNewEffect(workflowType: string, id: string, payload: unknown, options: unknown, keys: Set<string>): NewEffect {
  if (options === undefined) return { id, payload };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalid(workflowType, 'options must be an object');
  const o = options as Record<string, unknown>;
  for (const name of Object.keys(o)) if (!OPTION_NAMES.has(name)) throw invalid(workflowType, `unknown option "${name}"`);
  const key = o.key === undefined ? undefined : parseKey(o.key, `effect key of ${workflowType}`, 'INVALID_DECISION');
  if (key !== undefined) {
    if (keys.has(key)) throw invalid(workflowType, `key "${key}" is used twice in one decision`);
    keys.add(key);
  }
  const tag = o.tag === undefined ? undefined : parseKey(o.tag, `effect tag of ${workflowType}`, 'INVALID_DECISION');
  const priority = o.priority;
  if (priority !== undefined && (typeof priority !== 'number' || !Number.isSafeInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY)) {
    throw invalid(workflowType, `priority must be a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY}, got ${String(priority)}`);
  }
  const settings = stripUndefined<EffectSettings>({ retry: checkRetry(workflowType, o.retry), timeoutMs: checkTimeout(workflowType, o.timeoutMs), deadline: checkDeadline(workflowType, o.deadline) });
  return stripUndefined<NewEffect>({ id, payload, key, tag, priority, settings: Object.keys(settings).length === 0 ? undefined : settings });
}

function checkRetry(workflowType: string, retry: unknown): Partial<RetryPolicy> | undefined {
  if (retry === undefined) return undefined;
  if (typeof retry !== 'object' || retry === null || Array.isArray(retry)) throw invalid(workflowType, 'retry must be an object of retry policy fields');
  for (const name of Object.keys(retry)) if (!RETRY_FIELDS.has(name)) throw invalid(workflowType, `unknown retry field "${name}"`);
  const fields = stripUndefined(retry as Partial<RetryPolicy>);
  try {
    resolveRetryPolicy(fields);
  } catch (error) {
    throw invalid(workflowType, error instanceof Error ? error.message : String(error));
  }
  return fields;
}

function checkTimeout(workflowType: string, timeoutMs: unknown): number | undefined {
  if (timeoutMs === undefined) return undefined;
  if (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
    throw invalid(workflowType, `timeoutMs must be a whole number of milliseconds >= 1, got ${String(timeoutMs)}`);
  }
  return timeoutMs;
}

function checkDeadline(workflowType: string, deadline: unknown): number | undefined {
  if (deadline === undefined) return undefined;
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (typeof at !== 'number' || !Number.isFinite(at) || at < 0 || at > Number.MAX_SAFE_INTEGER) {
    throw invalid(workflowType, 'deadline must be a Date or epoch milliseconds');
  }
  return Math.floor(at);
}
