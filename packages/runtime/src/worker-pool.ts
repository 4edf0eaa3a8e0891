// One supervised claim loop per kind of work: claims batches up to its free concurrency plus a local
// queue (prefetch), runs each item, sleeps until a wake-up, a freed slot or the poll interval, and
// restarts with backoff when an iteration throws. An item re-claimed after its lease expired
// unsettled runs alone (poison isolation).
import { IronflowError } from '@ironflow/core';
import { backoff, type BackoffOptions } from '@ironflow/core/engine';
import type { Claimed, EffectRecord, TimerRecord, WorkKind } from '@ironflow/core/store';
import { Cancellation } from './cancellation.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { LifecycleEmitter, Logger } from './lifecycle.js';
import type { EngineEnvironment, PoolSettings } from './options.js';

/** Health of one pool. */
export interface PoolHealth {
  readonly running: boolean;
  /** Items held by this pool: running, queued locally, or re-claimed after a lost lease and waiting to run alone. */
  readonly inFlight: number;
  /** Of those, claimed items queued locally for a free slot (prefetch). */
  readonly queued: number;
  /** Loop iterations that failed in a row; 0 when healthy. */
  readonly consecutiveFailures: number;
  readonly lastError?: string | undefined;
  readonly lastClaimAt?: number | undefined;
}

/** What a pool needs: its settings, the store calls of its kind, and how to process one item. */
export interface WorkerPoolOptions<T extends EffectRecord | TimerRecord> {
  readonly kind: WorkKind;
  readonly settings: PoolSettings;
  readonly claim: (limit: number) => Promise<Claimed<T>[]>;
  /** Processes an item to an outcome; `shutdown` fires when shutdown stops waiting for it. */
  readonly process: (item: Claimed<T>, shutdown: Cancellation) => Promise<void>;
  /** Extends the item's lease by `settings.leaseMs` (a recovered item waiting for its turn). */
  readonly renew: (item: Claimed<T>) => Promise<void>;
  /** Gives a lease back unfinished, its attempt uncounted (shutdown). */
  readonly release: (item: Claimed<T>) => Promise<void>;
  /** Reports that a renewal was refused: another worker took the item over, or it was cancelled. */
  readonly lost: (item: Claimed<T>, error: unknown) => void;
  /** Milliseconds until the next known due item, if the pool can tell (timers). */
  readonly nextDueInMs?: (() => Promise<number | undefined>) | undefined;
  readonly logger: Logger;
  readonly lifecycle: LifecycleEmitter;
  readonly now: () => number;
  /** Where lease renewals wait. */
  readonly timeouts: Pick<EngineEnvironment, 'setTimeout' | 'clearTimeout'>;
}

/** Restarts of a failing loop: 100 ms doubling up to 30 s, never at once (equal jitter). */
const RESTART_BACKOFF: BackoffOptions = { baseMs: 100, capMs: 30_000, jitter: 'equal' };

interface Slot<T extends EffectRecord | TimerRecord> {
  readonly item: Claimed<T>;
  readonly shutdown: Cancellation;
  readonly done: Promise<void>;
}

interface Waiting<T extends EffectRecord | TimerRecord> {
  readonly item: Claimed<T>;
  readonly keeper: LeaseKeeper;
}

/**
 * A claim loop with a fixed number of slots. A recovered item (its previous holder died or stalled,
 * perhaps because of it) is claimed alone by the store; the pool then claims nothing more until it
 * settles, and starts it only once the items already in flight have settled, keeping its lease
 * alive meanwhile. A handler that kills its process thus takes no other item down with it.
 */
export class WorkerPool<T extends EffectRecord | TimerRecord> {
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #woken = false;
  #failures = 0;
  #lastError: string | undefined;
  #lastClaimAt: number | undefined;
  readonly #inFlight = new Map<string, Slot<T>>();
  /** Recovered items, in claim order, waiting for the pool to empty. */
  readonly #waiting: Waiting<T>[] = [];
  /** Fresh items claimed ahead (prefetch), in claim order, waiting for a free slot; leases kept alive. */
  readonly #queued: Waiting<T>[] = [];
  /** Id of the recovered item running alone now. */
  #alone: string | undefined;

  constructor(private readonly options: WorkerPoolOptions<T>) {}

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
      inFlight: this.#inFlight.size + this.#waiting.length + this.#queued.length,
      queued: this.#queued.length,
      consecutiveFailures: this.#failures,
      lastError: this.#lastError,
      lastClaimAt: this.#lastClaimAt,
    };
  }

  /** Stops claiming, releases recovered items that have not started, waits up to `drainMs` for the rest, then aborts and releases them. */
  async stop(drainMs: number): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.poke();
    await this.#loop;
    const waiting = [...this.#queued.splice(0), ...this.#waiting.splice(0)];
    for (const { keeper } of waiting) keeper.stop();
    await Promise.all(waiting.map(({ item }) => this.#release(item)));
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
    const reason = new IronflowError('SHUTTING_DOWN', `The engine stopped after waiting ${drainMs} ms for this handler; its lease is released and it will run again`);
    for (const slot of left) slot.shutdown.cancel(reason);
    await Promise.all(
      left.map((slot) => {
        this.#inFlight.delete(slot.item.id);
        return this.#release(slot.item);
      }),
    );
  }

  /** True from a recovered item's claim until it settles: nothing else is claimed meanwhile. */
  #isolating(): boolean {
    return this.#waiting.length > 0 || this.#alone !== undefined;
  }

  /**
   * How many items a claim may take now: none while isolating a recovered item, or while the local
   * queue is still at least half full (so claims stay large); else up to the free slots plus the
   * free places of the local queue, at most a batch.
   */
  #room(): number {
    if (this.#isolating()) return 0;
    const { concurrency, batchSize, prefetch } = this.options.settings;
    if (prefetch > 0 && this.#queued.length > Math.floor(prefetch / 2)) return 0;
    return Math.max(0, Math.min(batchSize, concurrency + prefetch - this.#inFlight.size - this.#queued.length));
  }

  async #run(): Promise<void> {
    const o = this.options;
    const { pollIntervalMs } = o.settings;
    while (this.#running) {
      let sleepMs = pollIntervalMs;
      try {
        const limit = this.#room();
        let full = false;
        if (limit > 0) {
          this.#woken = false;
          const batch = await o.claim(limit);
          this.#lastClaimAt = o.now();
          for (const item of batch) this.#accept(item);
          full = batch.length === limit;
        }
        this.#failures = 0;
        this.#lastError = undefined;
        // Claim again at once only after a full batch. A short batch means the store ran dry, or
        // stopped before a recovered row: that row is taken by the claim a freed slot triggers
        // (every settled item pokes the loop), so a lone effect never costs an extra empty claim.
        const open = this.#room() > 0;
        if (full && open) continue;
        if (o.nextDueInMs && open) {
          const due = await o.nextDueInMs();
          if (due !== undefined) sleepMs = Math.max(0, Math.min(sleepMs, due));
        }
      } catch (error) {
        this.#failures += 1;
        this.#lastError = error instanceof Error ? error.message : String(error);
        sleepMs = backoff(this.#failures, RESTART_BACKOFF);
        o.logger.error({ err: error, pool: o.kind, failures: this.#failures, delayMs: sleepMs }, 'worker loop failed; restarting after backoff');
        o.lifecycle.emit({ type: 'worker.restarted', pool: o.kind, error: this.#lastError, delayMs: sleepMs, failures: this.#failures });
      }
      if (!this.#running) break;
      await this.#sleep(sleepMs);
    }
  }

  /**
   * Starts a fresh item when a slot is free, else queues it locally with its lease kept alive; a
   * recovered one runs alone, once the items in flight and queued have settled.
   */
  #accept(item: Claimed<T>): void {
    if (!item.recovered) {
      if (this.#inFlight.size < this.options.settings.concurrency && this.#queued.length === 0) return this.#spawn(item);
      return this.#hold(this.#queued, item);
    }
    const o = this.options;
    const { id, workflowType, workflowId, attempts } = item;
    o.lifecycle.emit({ type: `${o.kind}.recovered`, id, workflowType, workflowId, attempt: attempts });
    o.logger.warn({ kind: o.kind, id, workflowType, workflowId, attempt: attempts, waitingFor: this.#inFlight.size }, 'lease expired unsettled: re-claimed alone');
    this.#hold(this.#waiting, item);
    this.#admitRecovered();
  }

  /** Keeps `item` in `list` with its lease renewed until it starts; a lost lease drops it. */
  #hold(list: Waiting<T>[], item: Claimed<T>): void {
    const o = this.options;
    const keeper = new LeaseKeeper({
      lease: item.lease,
      leaseMs: o.settings.leaseMs,
      renew: () => o.renew(item),
      onLost: (error) => {
        const index = list.findIndex((w) => w.item.id === item.id);
        if (index >= 0) list.splice(index, 1);
        o.lost(item, error);
        this.poke();
      },
      logger: o.logger,
      timeouts: o.timeouts,
    }).start();
    list.push({ item, keeper });
  }

  /** Starts queued items in the free slots, in claim order. */
  #admitQueued(): void {
    while (this.#running && this.#queued.length > 0 && this.#inFlight.size < this.options.settings.concurrency) {
      const next = this.#queued.shift()!;
      next.keeper.stop();
      this.#spawn(next.item);
    }
  }

  /** Starts the next waiting recovered item when nothing else is in flight or queued. */
  #admitRecovered(): void {
    if (!this.#running || this.#inFlight.size > 0 || this.#queued.length > 0) return;
    const next = this.#waiting.shift();
    if (next === undefined) return;
    next.keeper.stop();
    this.#alone = next.item.id;
    this.#spawn(next.item);
  }

  #spawn(item: Claimed<T>): void {
    const shutdown = new Cancellation();
    const done = this.options
      .process(item, shutdown)
      .catch((error: unknown) => {
        this.options.logger.error({ err: error, kind: this.options.kind, id: item.id }, 'processing failed unexpectedly');
      })
      .finally(() => {
        this.#inFlight.delete(item.id);
        if (this.#alone === item.id) this.#alone = undefined;
        this.#admitQueued();
        this.#admitRecovered();
        this.poke();
      });
    this.#inFlight.set(item.id, { item, shutdown, done });
  }

  async #release(item: Claimed<T>): Promise<void> {
    try {
      await this.options.release(item);
    } catch (error) {
      this.options.logger.warn({ err: error, kind: this.options.kind, id: item.id }, 'could not release lease at shutdown');
    }
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
