// How a claimed effect or timer ends: its result routed with the acknowledgement, a failure retried
// with backoff or dead-lettered, a lost lease reported. Every change is fenced by the lease token.
import { isIronflowError, type AnyWorkflow } from '@ironflow/core';
import { attemptsExhausted, backoffDelay, claimedTooOften, inputTypeOf } from '@ironflow/core/engine';
import type { Claimed, EffectRecord, Lease, TimerRecord } from '@ironflow/core/store';
import type { Executor } from './executor.js';
import type { LifecycleEmitter } from './lifecycle.js';
import type { EngineSettings, WorkflowEntry } from './options.js';

/** A claimed effect or timer. */
export type ClaimedItem = Claimed<EffectRecord> | Claimed<TimerRecord>;

/** Errors retrying cannot fix: the input or payload itself is wrong. */
function isPermanent(error: unknown): boolean {
  return (
    isIronflowError(error, 'NON_RETRYABLE') ||
    isIronflowError(error, 'VALIDATION_FAILED') ||
    isIronflowError(error, 'UNKNOWN_WORKFLOW_TYPE') ||
    isIronflowError(error, 'HANDLER_MISSING')
  );
}

/** An error as `lastError` keeps it: `"<code>: <message>"` for Ironflow errors, `"<name>: <message>"` otherwise. */
function describeError(error: unknown): string {
  if (error instanceof Error) return isIronflowError(error) ? `${error.code}: ${error.message}` : `${error.name}: ${error.message}`;
  return String(error);
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
      poke();
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
      await this.dead(item, undefined, `UNKNOWN_WORKFLOW_TYPE: no workflow "${item.workflowType}" is registered`);
      return undefined;
    }
    if (claimedTooOften(entry.retry, item.attempts)) {
      await this.dead(item, entry, `attempts exhausted: claimed ${item.attempts} times (max ${entry.retry.maxAttempts}); earlier attempts ended without an outcome (worker crash, or maxAttempts lowered)`);
      return undefined;
    }
    return entry;
  }

  /** Reports that another worker owns the item now; nothing of this attempt is recorded. */
  lost(lease: Lease): void {
    this.lifecycle.emit({ type: 'lease.lost', kind: lease.kind, id: lease.id });
    this.settings.logger.info({ kind: lease.kind, id: lease.id }, 'lease lost; another worker owns this item now');
  }

  /** Routes `input` (a handler's result or a timer's input) with the acknowledgement; completes alone when nothing was committed. */
  async deliver(item: ClaimedItem, target: AnyWorkflow, input: unknown): Promise<string> {
    const { store, clock, logger } = this.settings;
    const result = await this.executor.run(target, input, { ack: { ...item.lease, outcome: 'done' } });
    if (result.status !== 'accepted') await store.complete(item.lease, clock.now());
    if (result.status === 'already-completed') {
      logger.warn(
        { kind: item.kind, id: item.id, workflowType: target.type, workflowId: result.workflowId, inputType: inputTypeOf(target, input) },
        `the ${item.kind}'s input reached an instance that had already completed and was dropped`,
      );
    }
    return result.status;
  }

  /** Retries a failed attempt after its backoff, or dead-letters it when it is permanent or the last one. */
  async failure(item: ClaimedItem, entry: WorkflowEntry | undefined, error: unknown): Promise<void> {
    const { store, clock } = this.settings;
    const text = describeError(error);
    const policy = entry?.retry ?? this.settings.defaultRetry;
    if (isPermanent(error)) return this.dead(item, entry, text);
    if (attemptsExhausted(policy, item.attempts)) return this.dead(item, entry, `attempts exhausted (${item.attempts}/${policy.maxAttempts}): ${text}`);
    const now = clock.now();
    const retryAt = now + backoffDelay(policy, item.attempts);
    try {
      await store.retry(item.lease, now, retryAt, text);
    } catch (retryError) {
      if (isIronflowError(retryError, 'LEASE_LOST')) return this.lost(item.lease);
      throw retryError;
    }
    this.lifecycle.emit({ type: `${item.kind}.retried`, id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts, error: text, retryAt });
    if (item.kind === 'effect') this.retryWake.schedule(retryAt);
  }

  /** Dead-letters the item, routing the workflow's `onDeadLetter` input in the same commit when it has one. */
  async dead(item: ClaimedItem, entry: WorkflowEntry | undefined, error: string): Promise<void> {
    const { store, clock, logger } = this.settings;
    const now = clock.now();
    let routed = false;
    if (entry?.workflow.onDeadLetter) {
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
        if (isIronflowError(routeError, 'LEASE_LOST')) return this.lost(item.lease);
        logger.error({ err: routeError, kind: item.kind, id: item.id }, 'could not route the dead-letter notice; dead-lettering without it');
      }
    }
    if (!routed) {
      try {
        await store.deadLetter(item.lease, now, error);
      } catch (deadError) {
        if (isIronflowError(deadError, 'LEASE_LOST')) return this.lost(item.lease);
        throw deadError;
      }
    }
    this.lifecycle.emit({ type: `${item.kind}.dead-lettered`, id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts, error });
    logger.warn({ kind: item.kind, id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempts: item.attempts, error }, `${item.kind} dead-lettered`);
  }
}
