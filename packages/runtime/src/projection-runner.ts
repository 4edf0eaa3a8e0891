// One projection's runner in one engine: stands by claiming the projection's lease until it wins,
// then keeps the lease renewed and the read model caught up with the feed (projection-batch.ts),
// measures its lag, and gives the lease back at stop(). A failing loop restarts with backoff and
// shows in health; a lost lease drops the batch in hand and goes back to standing by. An event of
// a schema newer than this code knows makes it give the lease up for a holder running newer code
// and wait before claiming again. The same steps, without timers, are what `runUntilIdle` drives.
import { IronflowError, isIronflowError, type Clock } from '@ironflow/core';
import { backoff, type BackoffOptions } from '@ironflow/core/engine';
import type { FeedPosition, WorkflowStore } from '@ironflow/core/store';
import { Cancellation } from './cancellation.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { LifecycleEmitter, Logger } from './lifecycle.js';
import type { EngineEnvironment } from './options.js';
import { lagOf, type ProjectionLag } from './projection-admin.js';
import { releaseDelay, type NotUnderstoodSettings } from './not-understood.js';
import { Holding, isNewerThanCode, ProjectionBatches, type Pace } from './projection-batch.js';
import type { ProjectionSettings, ResolvedProjection } from './projection-settings.js';
import { describeError } from './settle.js';

/** A projection as `health()` reports it, in this engine. */
export interface ProjectionHealth {
  /** `active`: this engine holds the lease; `standby`: another does (it keeps trying); `stopped`: not running here. */
  readonly state: 'active' | 'standby' | 'stopped';
  /** The checkpoint as this engine last saved or claimed it. */
  readonly position?: FeedPosition | undefined;
  /** The lag this engine last measured, while it held the lease. */
  readonly lag?: ProjectionLag | undefined;
  /** Loop iterations that failed in a row (the store, not the handler); 0 when healthy. */
  readonly consecutiveFailures: number;
  readonly lastError?: string | undefined;
  /** When this engine last applied a batch, on the engine's clock. */
  readonly lastBatchAt?: number | undefined;
}

/** What a runner needs from the engine. */
export interface ProjectionRunnerOptions {
  readonly resolved: ResolvedProjection;
  readonly settings: ProjectionSettings;
  /** The delays of giving the lease up for newer code, as those of releasing work. */
  readonly notUnderstood: NotUnderstoodSettings;
  readonly store: WorkflowStore;
  readonly clock: Clock;
  readonly workerId: string;
  readonly lifecycle: LifecycleEmitter;
  readonly logger: Logger;
  /** Where lease renewals wait. */
  readonly timeouts: Pick<EngineEnvironment, 'setTimeout' | 'clearTimeout'>;
}

/** Restarts of a failing loop: as the worker pools', 100 ms doubling up to 30 s, never at once. */
const RESTART_BACKOFF: BackoffOptions = { baseMs: 100, capMs: 30_000, jitter: 'equal' };

/** Tries in `runUntilIdle` follow one another at once: tests run on a manual clock. */
const AT_ONCE: Pace = { sleep: async () => undefined, stopping: false };

/** Runs one projection in one engine. */
export class ProjectionRunner {
  readonly #batches: ProjectionBatches;
  #holding: Holding | undefined;
  #keeper: { readonly holding: Holding; readonly keeper: LeaseKeeper } | undefined;
  #running = false;
  /** Fired by stop(): wakes every wait and makes the batch in hand the last one. */
  #halt = new Cancellation();
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #woken = false;
  #failures = 0;
  #lastError: string | undefined;
  #lastBatchAt: number | undefined;
  #position: FeedPosition | undefined;
  #lag: ProjectionLag | undefined;
  /** performance.now() of the last lag measurement. */
  #lagAt = Number.NEGATIVE_INFINITY;
  /** Times in a row this engine gave the lease up for newer code; its wait grows with them. */
  #yields = 0;
  /** No claim before this time (the engine's clock) after giving the lease up for newer code. */
  #notBefore = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: ProjectionRunnerOptions) {
    this.#batches = new ProjectionBatches({ ...options, leaseMs: options.settings.leaseMs });
  }

  get name(): string {
    return this.options.resolved.projection.name;
  }

  /** True when an event of this type (with events of these kinds) is one this projection reads. */
  reads(workflowType: string, eventTypes: readonly string[]): boolean {
    const { workflowTypes, eventTypes: kinds } = this.options.resolved;
    return (workflowTypes === undefined || workflowTypes.includes(workflowType)) && (kinds === undefined || eventTypes.some((t) => kinds.includes(t)));
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#halt = new Cancellation();
    this.#loop = this.#run();
  }

  /** Wakes a caught-up holder now (this engine committed events it reads). */
  poke(): void {
    this.#woken = true;
    this.#wake?.();
  }

  health(): ProjectionHealth {
    return {
      state: this.#holding !== undefined ? 'active' : this.#running ? 'standby' : 'stopped',
      position: this.#holding?.position ?? this.#position,
      lag: this.#lag,
      consecutiveFailures: this.#failures,
      lastError: this.#lastError,
      lastBatchAt: this.#lastBatchAt,
    };
  }

  /**
   * Stops claiming, lets the batch in hand finish for up to `drainMs` (then aborts its signal and
   * drops it), and releases the lease so that another engine takes over at once.
   */
  async stop(drainMs: number): Promise<void> {
    if (this.#running) {
      this.#running = false;
      this.#halt.cancel(undefined);
      this.poke();
      const loop = this.#loop!;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finished = await Promise.race([loop.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), drainMs)))]);
      clearTimeout(timer);
      if (!finished) {
        this.#holding?.cancellation.cancel(new IronflowError('SHUTTING_DOWN', `The engine stopped after waiting ${drainMs} ms for projection ${this.name}'s batch; it is dropped and handled again by the next holder`));
        await loop;
      }
    }
    await this.#release();
  }

  /**
   * `runUntilIdle`'s step: renews the lease this engine kept (or claims it), applies every batch
   * until the feed is caught up and no re-driven dead letter is left, with tries one after
   * another, and measures the lag. `held` is false when another engine holds the lease.
   */
  async drive(): Promise<{ handled: number; held: boolean }> {
    const { store, clock, settings } = this.options;
    let h = this.#holding;
    if (h !== undefined) {
      try {
        await store.renewProjection(h.lease, clock.now(), settings.leaseMs);
      } catch (error) {
        if (!isIronflowError(error, 'LEASE_LOST')) throw error;
        this.#lose(h, error);
        h = undefined;
      }
    }
    h ??= await this.#claim();
    if (h === undefined) return { handled: 0, held: false };
    const count = { handled: 0 };
    try {
      await this.#catchUp(h, AT_ONCE, count);
    } catch (error) {
      if (isNewerThanCode(error)) {
        await this.#yield(h, error);
        return { handled: count.handled, held: false };
      }
      if (!this.#isLoss(h, error)) throw error;
      this.#lose(h, error);
      return { handled: count.handled, held: false };
    }
    await this.#measureLag(h);
    return { handled: count.handled, held: true };
  }

  async #run(): Promise<void> {
    const { settings, logger } = this.options;
    const halt = this.#halt;
    const pace: Pace = {
      sleep: (ms) => this.#sleep(ms, false),
      get stopping() {
        return halt.cancelled;
      },
    };
    while (this.#running) {
      let sleepMs = settings.pollIntervalMs;
      let h = this.#holding;
      try {
        h ??= await this.#claim();
        if (h === undefined) {
          sleepMs = settings.claimIntervalMs;
        } else {
          this.#keep(h);
          this.#woken = false;
          await this.#catchUp(h, pace, { handled: 0 });
          await this.#lagIfDue(h);
          sleepMs = Math.max(0, Math.min(settings.pollIntervalMs, this.#lagAt + settings.lagIntervalMs - performance.now()));
        }
        this.#failures = 0;
        this.#lastError = undefined;
      } catch (error) {
        if (!this.#running && (this.#halt.cancelled || isIronflowError(error, 'SHUTTING_DOWN'))) break;
        if (h !== undefined && isNewerThanCode(error)) {
          sleepMs = await this.#yield(h, error);
        } else if (h !== undefined && this.#isLoss(h, error)) {
          this.#lose(h, error);
          sleepMs = settings.claimIntervalMs;
        } else {
          this.#failures += 1;
          this.#lastError = describeError(error);
          sleepMs = backoff(this.#failures, RESTART_BACKOFF);
          logger.error({ err: error, projection: this.name, failures: this.#failures, delayMs: sleepMs }, 'projection loop failed; restarting after backoff');
        }
      }
      if (!this.#running) break;
      await this.#sleep(sleepMs, true);
    }
  }

  /** Batches until a read finds nothing new, then the re-driven dead letters. */
  async #catchUp(h: Holding, pace: Pace, count: { handled: number }): Promise<void> {
    for (;;) {
      if (pace.stopping) return;
      const { read, handled, newer } = await this.#batches.page(h, pace);
      count.handled += handled;
      if (newer !== undefined) {
        this.#position = h.position;
        throw newer;
      }
      // A long catch-up after a failure is healthy from its first good page on.
      this.#failures = 0;
      this.#lastError = undefined;
      if (read === 0) break;
      this.#lastBatchAt = this.options.clock.now();
      this.#position = h.position;
      if (pace !== AT_ONCE) await this.#lagIfDue(h);
    }
    this.#position = h.position;
    count.handled += await this.#batches.redriven(h, pace);
    this.#yields = 0;
  }

  /**
   * Gives the lease of `h` up because its next event needs newer code, so that a holder running
   * it takes over, and keeps this engine from claiming again for a while (growing with each time
   * in a row). Returns the wait in ms.
   */
  async #yield(h: Holding, error: unknown): Promise<number> {
    const { clock, logger, notUnderstood } = this.options;
    this.#yields += 1;
    const waitMs = releaseDelay(notUnderstood, this.#yields);
    this.#notBefore = clock.now() + waitMs;
    const reason = describeError(error);
    logger.warn(
      { projection: this.name, position: h.position, times: this.#yields, waitMs, reason },
      'projection lease given up: its next event has a schema version newer than this code knows; a process running newer code takes it over',
    );
    await this.#release(reason);
    return waitMs;
  }

  async #claim(): Promise<Holding | undefined> {
    const { store, clock, workerId, settings, lifecycle, logger } = this.options;
    if (clock.now() < this.#notBefore) return undefined;
    const claim = await store.claimProjection({ name: this.name, owner: workerId, now: clock.now(), leaseMs: settings.leaseMs });
    if (claim === undefined) return undefined;
    const h = new Holding(claim.lease, claim.position);
    this.#holding = h;
    this.#position = claim.position;
    this.#lagAt = Number.NEGATIVE_INFINITY;
    lifecycle.emit({ type: 'projection.claimed', projection: this.name, token: claim.lease.token, position: claim.position });
    logger.info({ projection: this.name, token: claim.lease.token, position: claim.position }, 'projection claimed: this engine runs it now');
    return h;
  }

  /** Renews the lease of `h` every third of it while this engine holds it (a started engine). */
  #keep(h: Holding): void {
    if (this.#keeper?.holding === h) return;
    const { store, clock, settings, logger } = this.options;
    const keeper = new LeaseKeeper({
      lease: h.lease,
      leaseMs: settings.leaseMs,
      renew: () => store.renewProjection(h.lease, clock.now(), settings.leaseMs),
      onLost: (error) => {
        this.#lose(h, error);
        this.poke();
      },
      logger,
      timeouts: this.options.timeouts,
    }).start();
    this.#keeper = { holding: h, keeper };
  }

  /** True when `error` ends the tenure of `h`: a write or renewal found the lease gone. */
  #isLoss(h: Holding, error: unknown): boolean {
    return isIronflowError(error, 'LEASE_LOST') || (h.cancellation.cancelled && isIronflowError(h.cancellation.reason, 'LEASE_LOST'));
  }

  /** Ends the tenure of `h` once: aborts its signal, drops the batch in hand, and reports it. */
  #lose(h: Holding, error: unknown): void {
    if (this.#holding !== h) return;
    this.#holding = undefined;
    this.#stopKeeper();
    h.cancellation.cancel(error);
    this.#lag = undefined;
    const { lifecycle, logger } = this.options;
    lifecycle.emit({ type: 'projection.lost', projection: this.name, token: h.lease.token, error: describeError(error) });
    logger.warn({ projection: this.name, token: h.lease.token, err: error }, 'projection lease lost (taken over, or the projection was reset); the batch in hand is dropped');
  }

  /** Gives the lease back, so that another engine claims the projection at once; `reason` when it is for newer code. */
  async #release(reason?: string): Promise<void> {
    const h = this.#holding;
    if (h === undefined) return;
    this.#holding = undefined;
    this.#stopKeeper();
    this.#lag = undefined;
    const { store, clock, lifecycle, logger } = this.options;
    try {
      await store.releaseProjection(h.lease, clock.now());
      lifecycle.emit({ type: 'projection.released', projection: this.name, token: h.lease.token, position: h.position, ...(reason === undefined ? {} : { reason }) });
    } catch (error) {
      if (isIronflowError(error, 'LEASE_LOST')) lifecycle.emit({ type: 'projection.lost', projection: this.name, token: h.lease.token, error: describeError(error) });
      else logger.warn({ err: error, projection: this.name }, 'could not release the projection lease at stop; another engine takes it over once it expires');
    }
  }

  #stopKeeper(): void {
    this.#keeper?.keeper.stop();
    this.#keeper = undefined;
  }

  async #lagIfDue(h: Holding): Promise<void> {
    if (performance.now() - this.#lagAt >= this.options.settings.lagIntervalMs) await this.#measureLag(h);
  }

  /** Lag from the checkpoint; a failure to measure it is logged, not a failure of the loop. */
  async #measureLag(h: Holding): Promise<void> {
    const { store, clock, lifecycle, logger } = this.options;
    this.#lagAt = performance.now();
    try {
      const lag = await lagOf(store, clock, h.position);
      if (this.#holding !== h) return;
      this.#lag = lag;
      lifecycle.emit({ type: 'projection.lag', projection: this.name, events: lag.events, capped: lag.capped, ageMs: lag.ageMs });
    } catch (error) {
      logger.warn({ err: error, projection: this.name }, 'could not measure the projection lag; trying again at the next interval');
    }
  }

  /** Waits `ms`, or less when stopped — and, when `wakeable`, when poked. */
  #sleep(ms: number, wakeable: boolean): Promise<void> {
    if (this.#halt.cancelled || ms <= 0 || (wakeable && this.#woken)) {
      if (wakeable) this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        offHalt();
        if (wakeable) {
          this.#wake = undefined;
          this.#woken = false;
        }
        resolve();
      };
      const timer = setTimeout(finish, ms);
      const offHalt = this.#halt.onCancel(finish);
      if (wakeable) this.#wake = finish;
    });
  }
}
