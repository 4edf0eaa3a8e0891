// One supervised claim loop per kind of work: claims batches up to its free concurrency, runs
// each item, sleeps until a wake-up, a freed slot or the poll interval, and restarts with backoff
// when an iteration throws (database down, bug) instead of dying.
import type { Claimed, EffectRecord, TimerRecord, WorkKind } from '@ironflow/core/store';
import type { LifecycleEmitter, Logger } from './lifecycle.js';

/** Health of one pool. */
export interface PoolHealth {
  readonly running: boolean;
  readonly inFlight: number;
  /** Loop iterations that failed in a row; 0 when healthy. */
  readonly consecutiveFailures: number;
  readonly lastError?: string | undefined;
  readonly lastClaimAt?: number | undefined;
}

export interface PoolOptions<T extends EffectRecord | TimerRecord> {
  readonly kind: WorkKind;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly pollIntervalMs: number;
  readonly claim: (limit: number) => Promise<Claimed<T>[]>;
  readonly process: (item: Claimed<T>, signal: AbortSignal) => Promise<void>;
  /** Milliseconds until the next known due item, if the pool can tell (timers). */
  readonly nextDueInMs?: (() => Promise<number | undefined>) | undefined;
  readonly release: (item: Claimed<T>) => Promise<void>;
  readonly logger: Logger;
  readonly lifecycle: LifecycleEmitter;
  readonly now: () => number;
}

const MAX_RESTART_DELAY_MS = 30_000;

export class WorkerPool<T extends EffectRecord | TimerRecord> {
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #woken = false;
  #failures = 0;
  #lastError: string | undefined;
  #lastClaimAt: number | undefined;
  readonly #inFlight = new Map<string, { item: Claimed<T>; controller: AbortController; done: Promise<void> }>();

  constructor(private readonly options: PoolOptions<T>) {}

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Wakes the loop now (store wake-up or freed slot). */
  poke(): void {
    this.#woken = true;
    this.#wake?.();
  }

  health(): PoolHealth {
    return {
      running: this.#running,
      inFlight: this.#inFlight.size,
      consecutiveFailures: this.#failures,
      lastError: this.#lastError,
      lastClaimAt: this.#lastClaimAt,
    };
  }

  /** Stops claiming, waits up to `drainMs` for in-flight items, then aborts and releases the rest. */
  async stop(drainMs: number): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.poke();
    await this.#loop;
    const pending = [...this.#inFlight.values()];
    if (pending.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = await Promise.race([
      Promise.allSettled(pending.map((p) => p.done)).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), drainMs);
      }),
    ]);
    clearTimeout(timer);
    if (drained) return;
    const left = [...this.#inFlight.values()];
    for (const entry of left) entry.controller.abort(new Error('runtime is shutting down'));
    await Promise.allSettled(
      left.map(async (entry) => {
        this.#inFlight.delete(entry.item.id);
        try {
          await this.options.release(entry.item);
        } catch (error) {
          this.options.logger.warn({ err: error, kind: this.options.kind, id: entry.item.id }, 'could not release lease at shutdown');
        }
      }),
    );
  }

  async #run(): Promise<void> {
    const o = this.options;
    while (this.#running) {
      let sleepMs = o.pollIntervalMs;
      try {
        const free = o.concurrency - this.#inFlight.size;
        let claimedAll = false;
        if (free > 0) {
          this.#woken = false;
          const limit = Math.min(o.batchSize, free);
          const batch = await o.claim(limit);
          this.#lastClaimAt = o.now();
          for (const item of batch) this.#spawn(item);
          claimedAll = batch.length === limit;
        }
        this.#failures = 0;
        this.#lastError = undefined;
        if (claimedAll && this.#inFlight.size < o.concurrency) continue;
        if (o.nextDueInMs && this.#inFlight.size < o.concurrency) {
          const due = await o.nextDueInMs();
          if (due !== undefined) sleepMs = Math.max(0, Math.min(sleepMs, due));
        }
      } catch (error) {
        this.#failures += 1;
        this.#lastError = error instanceof Error ? error.message : String(error);
        sleepMs = Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** Math.min(this.#failures - 1, 10));
        o.logger.error({ err: error, pool: o.kind, failures: this.#failures, delayMs: sleepMs }, 'worker loop failed; restarting after backoff');
        o.lifecycle.emit({ type: 'worker.restarted', pool: o.kind, error: this.#lastError, delayMs: sleepMs, failures: this.#failures });
      }
      if (!this.#running) break;
      await this.#sleep(sleepMs);
    }
  }

  #spawn(item: Claimed<T>): void {
    const controller = new AbortController();
    const done = this.options
      .process(item, controller.signal)
      .catch((error: unknown) => {
        this.options.logger.error({ err: error, kind: this.options.kind, id: item.id }, 'processing failed unexpectedly');
      })
      .finally(() => {
        this.#inFlight.delete(item.id);
        this.poke();
      });
    this.#inFlight.set(item.id, { item, controller, done });
  }

  #sleep(ms: number): Promise<void> {
    if (this.#woken || ms <= 0) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      const self = this;
      function finish() {
        clearTimeout(timer);
        self.#wake = undefined;
        self.#woken = false;
        resolve();
      }
      this.#wake = finish;
    });
  }
}
