// Runs one claimed effect: checks it may run (type, attempts, deadline), calls its handler under a
// lease kept alive, a timeout, its deadline and an abort signal, and settles it by what happened
// (route, retry, dead, cancelled, lost) — or releases it for newer code when it cannot understand it.
import { IronflowError, isIronflowError } from '@ironflow/core';
import { validateWithSchema } from '@ironflow/core/engine';
import type { Claimed, EffectRecord } from '@ironflow/core/store';
import { Cancellation } from './cancellation.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { LifecycleEmitter } from './lifecycle.js';
import { newerVersion } from './not-understood.js';
import type { EngineSettings, WorkflowEntry } from './options.js';
import { isRoutedInput, type EffectContext } from './registration.js';
import type { Children } from './children.js';
import type { RunningEffects } from './running-effects.js';
import { cancelledError, deadlineError, describeError, isCancellation, type Settler } from './settle.js';

/** How a handler call ended: it returned, it threw, or its signal fired first (timeout, deadline, cancel, lost lease, shutdown). */
type CallOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** When the attempt gives up on its handler, and with which reason. */
interface Limit {
  readonly ms: number;
  readonly error: () => IronflowError;
}

/**
 * One attempt's controls: a cancellation fired by the time limit, a cancel, a lost lease or the
 * pool's shutdown (the handler's `ctx.signal` follows it), and the lease renewal that runs until
 * `close()` (so it also covers result routing).
 */
class EffectAttempt {
  readonly #cancellation = new Cancellation();
  readonly #keeper: LeaseKeeper;
  readonly #stopFollowingShutdown: () => void;
  readonly #environment: EngineSettings['environment'];

  constructor(item: Claimed<EffectRecord>, shutdown: Cancellation, settings: EngineSettings) {
    const { store, clock, logger, effects } = settings;
    this.#environment = settings.environment;
    this.#stopFollowingShutdown = shutdown.onCancel((reason) => this.#cancellation.cancel(reason));
    this.#keeper = new LeaseKeeper({
      lease: item.lease,
      leaseMs: effects.leaseMs,
      renew: () => store.renewLease(item.lease, clock.now(), effects.leaseMs),
      // A row cancelled by another process (or by this one's commit) refuses the renewal as cancelled.
      onLost: (error) => this.#cancellation.cancel(isCancellation(error) ? cancelledError(item, 'the store refused its lease as cancelled') : error),
      logger,
      timeouts: settings.environment,
    }).start();
  }

  /** The handler's `ctx.signal`, made only if the handler reads it. */
  get signal(): AbortSignal {
    return this.#cancellation.signal;
  }

  /** True once a renewal found the lease taken over by another worker (not cancelled). */
  get leaseLost(): boolean {
    return this.#keeper.lost && !this.cancelled;
  }

  /** True once the effect was cancelled: by this engine, or as a renewal found. */
  get cancelled(): boolean {
    return this.#cancellation.cancelled && isIronflowError(this.#cancellation.reason, 'CANCELLED');
  }

  /** The cancellation's reason. */
  get reason(): unknown {
    return this.#cancellation.reason;
  }

  /** Aborts the handler with `reason` (a cancel this engine made). */
  abort(reason: unknown): void {
    this.#cancellation.cancel(reason);
  }

  /**
   * Calls the handler and resolves with the first of: its result, its error, the cancellation's
   * reason. A handler that ignores its signal keeps running, but its result is no longer waited for.
   */
  call(handler: () => unknown, limit: Limit): Promise<CallOutcome> {
    const cancellation = this.#cancellation;
    const environment = this.#environment;
    return new Promise<CallOutcome>((resolve) => {
      let settled = false;
      let stopWaiting: (() => void) | undefined;
      const finish = (outcome: CallOutcome): void => {
        if (settled) return;
        settled = true;
        environment.clearTimeout(timeout);
        stopWaiting?.();
        resolve(outcome);
      };
      const timeout = environment.setTimeout(() => cancellation.cancel(limit.error()), limit.ms);
      // Runs at once when the attempt was cancelled before the handler started.
      stopWaiting = cancellation.onCancel((reason) => finish({ ok: false, error: reason }));
      if (settled) return;
      Promise.resolve()
        .then(handler)
        .then(
          (value) => finish({ ok: true, value }),
          (error: unknown) => finish({ ok: false, error }),
        );
    });
  }

  /** Stops the lease renewal and stops following the pool's shutdown. */
  close(): void {
    this.#keeper.stop();
    this.#stopFollowingShutdown();
  }
}

/** Runs the effects an engine claims. */
export class EffectRunner {
  constructor(
    private readonly settings: EngineSettings,
    private readonly lifecycle: LifecycleEmitter,
    private readonly settler: Settler,
    private readonly running: RunningEffects,
    private readonly children: Children,
  ) {}

  /** Processes one claimed effect to an outcome; `shutdown` fires when shutdown gives up waiting. */
  async run(item: Claimed<EffectRecord>, shutdown: Cancellation): Promise<void> {
    try {
      await this.#run(item, shutdown);
    } finally {
      this.running.forget(item.id);
    }
  }

  async #run(item: Claimed<EffectRecord>, shutdown: Cancellation): Promise<void> {
    // Cancelled by this engine while it waited in the local queue: it must not start.
    const queued = this.running.cancelledWhileQueued(item.id);
    if (queued !== undefined) return this.settler.cancelled(item, queued.reason);
    const entry = await this.settler.entryToRun(item);
    if (!entry) return;
    // Before anything reads it (its deadline's dead letter included): newer code may need to.
    const newer = newerVersion(item, entry.workflow);
    if (newer !== undefined) return this.settler.notUnderstood(item, entry, newer);
    const { clock } = this.settings;
    const deadline = item.settings?.deadline;
    if (deadline !== undefined && clock.now() >= deadline) {
      return this.settler.dead(item, entry, describeError(deadlineError(item, deadline, `claimed at ${new Date(clock.now()).toISOString()}, it was not run`)), 'EFFECT_DEADLINE_EXCEEDED');
    }
    if (this.children.handles(item)) return this.children.run(item, entry);
    const handler = entry.handler;
    if (!handler) return this.settler.failure(item, entry, new IronflowError('HANDLER_MISSING', `Workflow "${item.workflowType}" emitted an effect but has no handler registered`));
    let payload = item.payload;
    if (entry.workflow.effectSchema) {
      try {
        payload = await validateWithSchema(entry.workflow.effectSchema, item.payload, `Effect payload of ${item.workflowType}`);
      } catch (error) {
        // Written by newer code (or by code with another schema): a newer process may run it.
        if (isIronflowError(error, 'VALIDATION_FAILED')) return this.settler.notUnderstood(item, entry, describeError(error));
        return this.settler.failure(item, entry, error);
      }
    }
    const startedAt = clock.now();
    this.lifecycle.emit({ type: 'effect.started', id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts, pickupMs: Math.max(0, startedAt - item.availableAt) });
    const attempt = new EffectAttempt(item, shutdown, this.settings);
    this.running.attach(item, (reason) => attempt.abort(reason));
    try {
      const context: EffectContext = {
        effectId: item.id,
        workflow: { type: item.workflowType, id: item.workflowId },
        attempt: item.attempts,
        createdAt: new Date(item.createdAt),
        idempotencyKey: `${item.workflowType}:${item.workflowId}:${item.id}`,
        get signal() {
          return attempt.signal;
        },
      };
      const outcome = await attempt.call(() => handler(payload, context), this.#limit(item, startedAt));
      if (attempt.cancelled) return this.settler.cancelled(item, attempt.reason);
      if (attempt.leaseLost) return this.settler.lost(item);
      if (shutdown.cancelled) return; // shutdown: the pool releases the lease
      if (!outcome.ok) return await this.settler.failure(item, entry, outcome.error, clock.now() - startedAt);
      // The lease keeps being renewed while the result is routed: conflict retries may take a while.
      await this.#route(item, entry, outcome.value, startedAt, attempt);
    } finally {
      attempt.close();
    }
  }

  /** The handler's time limit: its timeout, or its deadline when that comes first. */
  #limit(item: Claimed<EffectRecord>, startedAt: number): Limit {
    const timeoutMs = item.settings?.timeoutMs ?? this.settings.effectTimeoutMs;
    const deadline = item.settings?.deadline;
    if (deadline !== undefined && deadline - startedAt < timeoutMs) {
      return { ms: deadline - startedAt, error: () => deadlineError(item, deadline, 'its handler was still running') };
    }
    return { ms: timeoutMs, error: () => new IronflowError('EFFECT_TIMEOUT', `Effect handler of ${item.workflowType} exceeded ${timeoutMs} ms`) };
  }

  /** Completes the effect, routing the handler's result when it returned one. */
  async #route(item: Claimed<EffectRecord>, entry: WorkflowEntry, output: unknown, startedAt: number, attempt: EffectAttempt): Promise<void> {
    const { store, clock, entries } = this.settings;
    try {
      let routedTo: string | undefined;
      let outcome: string | undefined;
      if (output === undefined || output === null) {
        await store.complete(item.lease, clock.now());
      } else if (isRoutedInput(output)) {
        routedTo = output.workflowType;
        outcome = await this.settler.deliver(item, entries.get(output.workflowType).workflow, output.input);
      } else {
        routedTo = item.workflowType;
        outcome = await this.settler.deliver(item, entry.workflow, output);
      }
      this.lifecycle.emit({ type: 'effect.succeeded', id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts, durationMs: clock.now() - startedAt, routedTo, outcome });
    } catch (error) {
      // Cancelled while its result was being routed: the store refused the acknowledgement.
      if (attempt.cancelled) return this.settler.cancelled(item, attempt.reason);
      if (isIronflowError(error, 'LEASE_LOST')) return this.settler.lost(item, error);
      return this.settler.failure(item, entry, error, clock.now() - startedAt);
    }
  }
}
