// Work this code cannot understand yet (issue 13): an effect or timer written by a newer version of
// its workflow, a payload or input its schema refuses, an instance holding events of a newer schema.
// In a rolling deploy a process running newer code understands it, so it is released, not failed.
import { IronflowError } from '@ironflow/core';
import { backoff } from '@ironflow/core/engine';
import { invalidArgument } from '@ironflow/core/store';

/** How an engine gives back work it cannot understand yet (`createEngine({ notUnderstood })`). */
export interface NotUnderstoodOptions {
  /**
   * Releases of one item before it is dead-lettered with NOT_UNDERSTOOD: by then no running
   * process seems to understand it. Counted on the row (`releases`) across processes; `redrive`
   * resets it.
   * @default 20
   */
  maxReleases?: number | undefined;
  /**
   * Delay before a released item may be claimed again after its first release, doubling with each
   * release (with jitter), so a process running newer code gets to it first.
   * @default 1000
   */
  delayMs?: number | undefined;
  /**
   * Largest delay between releases.
   * @default 60000
   */
  maxDelayMs?: number | undefined;
}

/** `NotUnderstoodOptions` with defaults filled in and checked. */
export interface NotUnderstoodSettings {
  readonly maxReleases: number;
  readonly delayMs: number;
  readonly maxDelayMs: number;
}

/** Checks `notUnderstood` (INVALID_ARGUMENT) and fills in its defaults. */
export function resolveNotUnderstood(options: unknown): NotUnderstoodSettings {
  if (options === undefined) return { maxReleases: 20, delayMs: 1_000, maxDelayMs: 60_000 };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidArgument('notUnderstood must be an object { maxReleases?, delayMs?, maxDelayMs? }');
  }
  const given = options as NotUnderstoodOptions;
  const whole = (value: unknown, fallback: number, name: string, min: number): number => {
    const v = value ?? fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw invalidArgument(`notUnderstood.${name} must be a whole number >= ${min}, got ${String(v)}`);
    return v;
  };
  const maxReleases = whole(given.maxReleases, 20, 'maxReleases', 0);
  const delayMs = whole(given.delayMs, 1_000, 'delayMs', 0);
  const maxDelayMs = whole(given.maxDelayMs, Math.max(60_000, delayMs), 'maxDelayMs', 0);
  if (maxDelayMs < delayMs) throw invalidArgument(`notUnderstood.maxDelayMs (${maxDelayMs}) must be at least delayMs (${delayMs})`);
  return { maxReleases, delayMs, maxDelayMs };
}

/**
 * How long the `release`-th release (1-based) keeps the item away: `delayMs` doubling up to
 * `maxDelayMs`, drawn from the upper half (never at once, so a newer process can claim it first).
 */
export function releaseDelay(settings: NotUnderstoodSettings, release: number, random?: () => number): number {
  return backoff(release, { baseMs: settings.delayMs, capMs: settings.maxDelayMs, jitter: 'equal' }, random);
}

/** The error a dead letter carries once an item was released `releases` times and still not understood. */
export function notUnderstoodError(item: { readonly kind: string; readonly id: string; readonly workflowType: string; readonly workflowId: string }, releases: number, reason: string): IronflowError {
  return new IronflowError(
    'NOT_UNDERSTOOD',
    `${item.kind} ${item.id} of ${item.workflowType}:${item.workflowId} was released ${releases} times as not understood and no running process understood it; last reason: ${reason}`,
    { details: { workflowType: item.workflowType, workflowId: item.workflowId, id: item.id, kind: item.kind, releases, reason } },
  );
}

/** Why this code cannot run `item`, when a newer version of its workflow wrote it; undefined when it can. */
export function newerVersion(item: { readonly version?: number | undefined; readonly workflowType: string }, workflow: { readonly version?: number | undefined }): string | undefined {
  const written = item.version ?? 1;
  const running = workflow.version ?? 1;
  return written > running ? `written by version ${written} of ${item.workflowType}; this process runs version ${running}` : undefined;
}
