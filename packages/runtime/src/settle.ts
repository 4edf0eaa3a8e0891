// How a claimed effect or timer ends: its result routed with the acknowledgement, a failure retried
// with backoff or dead-lettered, a lost lease reported. Every change is fenced by the lease token.
import { IronflowError, isIronflowError, type AnyWorkflow, type RetryPolicy } from '@ironflow/core';
import { attemptsExhausted, backoffDelay, claimedTooOften, inputTypeOf, resolveRetryPolicy, systemEffectOf } from '@ironflow/core/engine';
import type { Claimed, EffectRecord, TimerRecord } from '@ironflow/core/store';
import type { Executor } from './executor.js';
import type { LifecycleEmitter } from './lifecycle.js';
import { notUnderstoodError, releaseDelay } from './not-understood.js';
import type { EngineSettings, WorkflowEntry } from './options.js';

/** A claimed effect or timer. */
export type ClaimedItem = Claimed<EffectRecord> | Claimed<TimerRecord>;

/** Errors retrying cannot fix: the input or payload itself is wrong, or the effect's deadline passed. */
function isPermanent(error: unknown): boolean {
  return (
    isIronflowError(error, 'NON_RETRYABLE') ||
    isIronflowError(error, 'VALIDATION_FAILED') ||
    isIronflowError(error, 'UNKNOWN_WORKFLOW_TYPE') ||
    isIronflowError(error, 'HANDLER_MISSING') ||
    isIronflowError(error, 'EFFECT_DEADLINE_EXCEEDED')
  );
}

/**
 * True when `error` says the item was cancelled: CANCELLED (this engine aborted it), or a lost
 * lease whose row was cancelled (the store refused a change, perhaps for another process's cancel).
 */
export function isCancellation(error: unknown): boolean {
  return isIronflowError(error, 'CANCELLED') || (isIronflowError(error, 'LEASE_LOST') && error.cancelled);
}

/** The abort reason of a handler whose effect was cancelled. */
export function cancelledError(item: { readonly id: string; readonly workflowType: string; readonly workflowId: string }, why: string): IronflowError {
  return new IronflowError('CANCELLED', `Effect ${item.id} of ${item.workflowType}:${item.workflowId} was cancelled: ${why}`, {
    details: { workflowType: item.workflowType, workflowId: item.workflowId, effectId: item.id, reason: why },
  });
}

/** An error as `lastError` keeps it: `"<code>: <message>"` for Ironflow errors, `"<name>: <message>"` otherwise. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return isIronflowError(error) ? `${error.code}: ${error.message}` : `${error.name}: ${error.message}`;
  return String(error);
}

/** A low-cardinality class of an error (OpenTelemetry's `error.type`): its code, else its class name. */
export function errorTypeOf(error: unknown): string {
  if (isIronflowError(error)) return error.code;
  return error instanceof Error ? error.name : OTHER_ERROR;
}

/** The class of an error that is none of ours and not an Error, as OpenTelemetry's conventions name it. */
export const OTHER_ERROR = '_OTHER';

/** EFFECT_DEADLINE_EXCEEDED for an effect, saying when. */
export function deadlineError(item: { readonly id: string; readonly workflowType: string; readonly workflowId: string }, deadline: number, what: string): IronflowError {
  return new IronflowError('EFFECT_DEADLINE_EXCEEDED', `Effect ${item.id} of ${item.workflowType} passed its deadline ${new Date(deadline).toISOString()}: ${what}`, {
    details: { workflowType: item.workflowType, workflowId: item.workflowId, effectId: item.id, deadline },
  });
}

/**
 * Wakes the effect pool when a retry this process scheduled falls due, so a retry waits its
 * backoff, not its backoff rounded up to the poll interval. (Timers sleep until nextTimerAt.)
 */
export class RetryWake {
  #poke: (() => void) | undefined;
  #next: { at: number; handle: ReturnType<typeof setTimeout> } | undefined;

  constructor(private readonly now: () => number) {}

  /** Starts waking `poke` (the started effect pool). */
  attach(poke: () => void): void {
    this.#poke = poke;
  }

  /** Stops waking and forgets the pending wake-up. */
  detach(): void {
    this.#poke = undefined;
    clearTimeout(this.#next?.handle);
    this.#next = undefined;
  }

  /** Pokes at `at` unless an earlier wake-up is pending already. */
  schedule(at: number): void {
    const poke = this.#poke;
    if (poke === undefined || (this.#next && this.#next.at <= at)) return;
    clearTimeout(this.#next?.handle);
    const handle = setTimeout(() => {
      this.#next = undefined;
      // A timer may fire a millisecond before the clock reads `at` (Node's timers and Date.now()
      // round differently): a claim then finds the retry not yet due, and nothing would wake
      // the pool again before its poll interval. Wait out the rest instead.
      if (this.now() < at) this.schedule(at);
      else poke();
    }, Math.max(0, at - this.now()));
    handle.unref?.();
    this.#next = { at, handle };
  }
}

/** Settles claimed items for one engine. */
export class Settler {
  constructor(
    private readonly settings: EngineSettings,
    private readonly lifecycle: LifecycleEmitter,
    private readonly executor: Executor,
    private readonly retryWake: RetryWake,
  ) {}

  /**
   * The entry an item runs under, or undefined after dead-lettering it: its type is not registered,
   * or it was claimed more often than allowed (earlier attempts ended without an outcome).
   */
  async entryToRun(item: ClaimedItem): Promise<WorkflowEntry | undefined> {
    const entry = this.settings.entries.find(item.workflowType);
    if (!entry) {
      await this.dead(item, undefined, `UNKNOWN_WORKFLOW_TYPE: no workflow "${item.workflowType}" is registered`, 'UNKNOWN_WORKFLOW_TYPE');
      return undefined;
    }
    const policy = this.policyFor(item, entry);
    if (claimedTooOften(policy, item.attempts)) {
      await this.dead(item, entry, `attempts exhausted: claimed ${item.attempts} times (max ${policy.maxAttempts}); earlier attempts ended without an outcome (worker crash, or maxAttempts lowered)`, OTHER_ERROR);
      return undefined;
    }
    return entry;
  }

  /** The retry policy of an item: the effect's own fields (from its decision) over its workflow's. */
  policyFor(item: ClaimedItem, entry: WorkflowEntry | undefined): RetryPolicy {
    const base = entry?.retry ?? this.settings.defaultRetry;
    const own = item.kind === 'effect' ? item.settings?.retry : undefined;
    if (own === undefined) return base;
    try {
      return resolveRetryPolicy(base, own);
    } catch (error) {
      // Checked when the decision was committed; a stored policy that no longer resolves is ignored.
      this.settings.logger.warn({ err: error, id: item.id }, "the effect's own retry policy is invalid; using its workflow's");
      return base;
    }
  }

  /**
   * Reports that this attempt's outcome was refused: the item was cancelled (see `cancelled`), or
   * another worker owns it now. Nothing of this attempt is recorded.
   */
  lost(item: ClaimedItem, error?: unknown): void {
    if (isCancellation(error)) return this.cancelled(item, error);
    this.lifecycle.emit({ type: 'lease.lost', kind: item.kind, id: item.id });
    // Not a cancellation: the lease ran out under this worker (a stall, or a lease too short for
    // the handler), so the item may run twice. Worth a warning.
    this.settings.logger.warn({ kind: item.kind, id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts }, 'lease lost: another worker may run this item again (a stalled process, or leaseMs too short for the handler)');
  }

  /** Reports that the item was cancelled while this process held it: expected, so logged at info. */
  cancelled(item: ClaimedItem, reason: unknown): void {
    const text = describeError(reason);
    const { id, workflowType, workflowId, attempts } = item;
    this.lifecycle.emit({ type: `${item.kind}.cancelled`, id, workflowType, workflowId, attempt: attempts, reason: text });
    this.settings.logger.info({ kind: item.kind, id, workflowType, workflowId, reason: text }, `${item.kind} cancelled while running; its outcome is dropped`);
  }

  /** Routes `input` (a handler's result or a timer's input) with the acknowledgement; completes alone when nothing was committed. */
  async deliver(item: ClaimedItem, target: AnyWorkflow, input: unknown): Promise<string> {
    const { store, clock, logger } = this.settings;
    const result = await this.executor.run(target, input, { ack: { ...item.lease, outcome: 'done' } });
    if (result.status !== 'accepted') await store.complete(item.lease, clock.now());
    if (result.status === 'already-completed' || result.status === 'cancelled') {
      const fields = { kind: item.kind, id: item.id, workflowType: target.type, workflowId: result.workflowId, inputType: inputTypeOf(target, input) };
      const message = `the ${item.kind}'s input reached an instance that had already ${result.status === 'cancelled' ? 'been cancelled' : 'completed'} and was dropped`;
      // A cancelled instance drops late results by design; a completed one may mean a lost result.
      if (result.status === 'cancelled') logger.info(fields, message);
      else logger.warn(fields, message);
    }
    return result.status;
  }

  /** Retries a failed attempt after its backoff, or dead-letters it when it is permanent or the last one. */
  /** `handlerMs`: how long the effect's handler ran, when it did. */
  async failure(item: ClaimedItem, entry: WorkflowEntry | undefined, error: unknown, handlerMs?: number): Promise<void> {
    const { store, clock } = this.settings;
    const text = describeError(error);
    const policy = this.policyFor(item, entry);
    const errorType = errorTypeOf(error);
    // The instance holds events of a newer schema: a process running newer code can decide it.
    if (isIronflowError(error, 'EVENT_VERSION_UNKNOWN')) return this.notUnderstood(item, entry, text);
    if (isPermanent(error)) return this.dead(item, entry, text, errorType, handlerMs);
    if (attemptsExhausted(policy, item.attempts)) return this.dead(item, entry, `attempts exhausted (${item.attempts}/${policy.maxAttempts}): ${text}`, errorType, handlerMs);
    const now = clock.now();
    const retryAt = now + backoffDelay(policy, item.attempts, this.settings.environment.random);
    const deadline = item.kind === 'effect' ? item.settings?.deadline : undefined;
    if (deadline !== undefined && retryAt >= deadline) {
      // The retry could only be dead-lettered when claimed: do it now, and say why.
      return this.dead(item, entry, describeError(deadlineError(item, deadline, `its next attempt (at ${new Date(retryAt).toISOString()}) would start after it; last error: ${text}`)), 'EFFECT_DEADLINE_EXCEEDED', handlerMs);
    }
    try {
      await store.retry(item.lease, now, retryAt, text);
    } catch (retryError) {
      if (isIronflowError(retryError, 'LEASE_LOST')) return this.lost(item, retryError);
      throw retryError;
    }
    this.lifecycle.emit({ type: `${item.kind}.retried`, id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts, error: text, errorType, retryAt, ...(handlerMs === undefined ? {} : { durationMs: handlerMs }) });
    this.settings.logger.warn(
      { kind: item.kind, id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts, maxAttempts: policy.maxAttempts, retryAt: new Date(retryAt).toISOString(), err: error },
      `${item.kind} attempt ${item.attempts} failed; retrying`,
    );
    if (item.kind === 'effect') this.retryWake.schedule(retryAt);
  }

  /**
   * Gives back an item this code cannot understand yet (not-understood.ts): released with `reason`
   * for a process running newer code, claimable again after a delay that grows with its releases,
   * its attempt not counted; dead-lettered with NOT_UNDERSTOOD once it was released `maxReleases`
   * times.
   */
  async notUnderstood(item: ClaimedItem, entry: WorkflowEntry | undefined, reason: string): Promise<void> {
    const { store, clock, logger, notUnderstood } = this.settings;
    const released = item.releases ?? 0;
    if (released >= notUnderstood.maxReleases) {
      return this.dead(item, entry, describeError(notUnderstoodError(item, released, reason)), 'NOT_UNDERSTOOD');
    }
    const now = clock.now();
    const releases = released + 1;
    const availableAt = now + releaseDelay(notUnderstood, releases, this.settings.environment.random);
    try {
      await store.release(item.lease, now, { reason, availableAt });
    } catch (error) {
      if (isIronflowError(error, 'LEASE_LOST')) return this.lost(item, error);
      throw error;
    }
    const { id, workflowType, workflowId } = item;
    this.lifecycle.emit({ type: `${item.kind}.released`, id, workflowType, workflowId, reason, releases, availableAt });
    // No wake-up is scheduled here: the item is for another process, found by its poll.
    logger.warn(
      { kind: item.kind, id, workflowType, workflowId, releases, maxReleases: notUnderstood.maxReleases, availableAt: new Date(availableAt).toISOString(), reason },
      `${item.kind} released for a process running newer code: this one cannot understand it (dead-lettered as NOT_UNDERSTOOD after ${notUnderstood.maxReleases} releases)`,
    );
  }

  /** Called before a dead letter that no `onDeadLetter` input handled (a child tells its parent). */
  onUnhandledDeadLetter: ((item: ClaimedItem, error: string) => Promise<void>) | undefined;

  /** Dead-letters the item, routing the workflow's `onDeadLetter` input in the same commit when it has one. */
  async dead(item: ClaimedItem, entry: WorkflowEntry | undefined, error: string, errorType: string, handlerMs?: number): Promise<void> {
    const { store, clock, logger } = this.settings;
    let routed = false;
    // A system effect (a child's start or ending) is not the workflow's own effect type.
    const system = item.kind === 'effect' && systemEffectOf(item.payload) !== undefined;
    if (entry?.workflow.onDeadLetter && !system) {
      const notice =
        item.kind === 'effect'
          ? { kind: 'effect' as const, id: item.id, effect: item.payload, attempts: item.attempts, error }
          : { kind: 'timer' as const, id: item.id, input: item.input, attempts: item.attempts, error };
      try {
        const input = entry.workflow.onDeadLetter(notice);
        if (input !== undefined) {
          const result = await this.executor.run(entry.workflow, input, { ack: { ...item.lease, outcome: 'dead', error } });
          routed = result.status === 'accepted';
        }
      } catch (routeError) {
        if (isIronflowError(routeError, 'LEASE_LOST')) return this.lost(item, routeError);
        logger.error({ err: routeError, kind: item.kind, id: item.id }, 'could not route the dead-letter notice; dead-lettering without it');
      }
    }
    if (!routed) {
      if (!system) await this.onUnhandledDeadLetter?.(item, error);
      try {
        await store.deadLetter(item.lease, clock.now(), error);
      } catch (deadError) {
        if (isIronflowError(deadError, 'LEASE_LOST')) return this.lost(item, deadError);
        throw deadError;
      }
    }
    this.lifecycle.emit({ type: `${item.kind}.dead-lettered`, id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts, error, errorType, ...(handlerMs === undefined ? {} : { durationMs: handlerMs }) });
    logger.error({ kind: item.kind, id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempts: item.attempts, error }, `${item.kind} dead-lettered`);
  }
}
