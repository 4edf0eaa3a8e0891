// Keeps a lease alive: renews it every third of its length until stopped, and reports a lost lease
// once (another worker owns the item now) so that whoever holds it stops working on it.
import { isIronflowError } from '@ironflow/core';
import type { Lease, ProjectionLease } from '@ironflow/core/store';
import type { Logger } from './lifecycle.js';
import type { EngineEnvironment } from './options.js';

/** What a `LeaseKeeper` renews and whom it tells. */
export interface LeaseKeeperOptions {
  /** An effect's or timer's lease, or a projection's. */
  readonly lease: Lease | ProjectionLease;
  readonly leaseMs: number;
  /** One renewal: `store.renewLease(lease, now, leaseMs)` (`renewProjection` for a projection). */
  readonly renew: () => Promise<void>;
  /** Called once, when a renewal finds the lease gone (LEASE_LOST). */
  readonly onLost: (error: unknown) => void;
  readonly logger: Logger;
  /** Where the renewals wait: the engine's environment. */
  readonly timeouts: Pick<EngineEnvironment, 'setTimeout' | 'clearTimeout'>;
}

/** Renews one lease on an interval; a failed renewal other than LEASE_LOST is logged and tried again. */
export class LeaseKeeper {
  #timer: unknown;
  #lost = false;

  constructor(private readonly options: LeaseKeeperOptions) {}

  /** True once a renewal found the lease taken over. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Starts renewing; a third of the lease leaves two renewals' worth of slack before it expires. */
  start(): this {
    if (this.#timer === undefined) this.#schedule();
    return this;
  }

  /** Stops renewing; the lease then runs out `leaseMs` after the last renewal unless it is settled. */
  stop(): void {
    if (this.#timer !== undefined) this.options.timeouts.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The next renewal, a third of the lease from now (a chain of timeouts, so any clock can drive it). */
  #schedule(): void {
    this.#timer = this.options.timeouts.setTimeout(() => {
      if (this.#timer === undefined) return;
      this.#schedule();
      this.#renew();
    }, Math.max(10, Math.floor(this.options.leaseMs / 3)));
  }

  #renew(): void {
    const { lease, logger } = this.options;
    this.options.renew().catch((error: unknown) => {
      // A renewal that answers after stop() no longer concerns the holder: the item has moved on.
      if (this.#timer === undefined) return;
      if (!isIronflowError(error, 'LEASE_LOST')) {
        const held = 'kind' in lease ? { kind: lease.kind, id: lease.id } : { projection: lease.name, token: lease.token };
        logger.warn({ err: error, ...held }, 'lease renewal failed; will try again');
      } else {
        this.#lost = true;
        this.stop();
        this.options.onLost(error);
      }
    });
  }
}
