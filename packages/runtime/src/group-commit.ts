// Group commit: the commits and lease changes this process issues concurrently reach the store as
// batches (`commitMany`, `settleMany`). A lone call goes out at once; calls made while a batch is in
// flight wait for it and go out together, so batching costs no latency and grows with the load.
import type { BatchResult, CommitRequest, Lease, LeaseChange, WorkflowStore } from '@ironflow/core/store';

/** How calls are grouped. */
export interface GroupCommitSettings {
  /** Most items in one batch. */
  readonly maxBatch: number;
  /** Batches of one kind in flight at once; further calls wait for one to return. */
  readonly maxInFlight: number;
}

interface Queued<I> {
  readonly item: I;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Gathers items and sends them in batches: everything submitted in one turn of the event loop, or
 * while `maxInFlight` batches are out, goes in the next batch. Each submitter gets its own item's
 * result (its typed error, or the whole batch's error when the batch call failed).
 */
export class Batcher<I> {
  readonly #queue: Queued<I>[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(
    private readonly send: (items: I[]) => Promise<readonly BatchResult[]>,
    private readonly settings: GroupCommitSettings,
  ) {}

  /** Items waiting for a batch. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Resolves when the item was applied; rejects with its own error otherwise. */
  submit(item: I): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#scheduled) return;
      // A microtask, not a timer: calls made in the same turn share a batch, and none waits longer.
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#flush();
      });
    });
  }

  #flush(): void {
    while (this.#inFlight < this.settings.maxInFlight && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.settings.maxBatch);
      this.#inFlight += 1;
      this.send(batch.map((q) => q.item))
        .then(
          (results) => batch.forEach((q, i) => settleOne(q, results[i])),
          (error: unknown) => batch.forEach((q) => q.reject(error)),
        )
        .finally(() => {
          this.#inFlight -= 1;
          this.#flush();
        });
    }
  }
}

function settleOne<I>(queued: Queued<I>, result: BatchResult | undefined): void {
  if (result === undefined) queued.reject(new Error('the store returned fewer results than items in the batch'));
  else if (result.ok) queued.resolve();
  else queued.reject(result.error);
}

/**
 * The store as the engine's parts use it: commits and lease changes go through group commit, the
 * rest straight to `store`. Each call keeps the single call's contract (its typed errors included).
 */
export function withGroupCommit(store: WorkflowStore, settings: GroupCommitSettings): WorkflowStore {
  const commits = new Batcher<CommitRequest>((items) => store.commitMany(items), settings);
  const changes = new Batcher<LeaseChange>((items) => store.settleMany(items), settings);
  const grouped: Partial<WorkflowStore> = {
    commit: (request) => commits.submit(request),
    renewLease: (lease: Lease, now: number, leaseMs: number) => changes.submit({ op: 'renew', lease, now, leaseMs }),
    complete: (lease, now) => changes.submit({ op: 'complete', lease, now }),
    retry: (lease, now, retryAt, error) => changes.submit({ op: 'retry', lease, now, retryAt, error }),
    deadLetter: (lease, now, error) => changes.submit({ op: 'deadLetter', lease, now, error }),
    release: (lease, now, options) => changes.submit({ op: 'release', lease, now, ...options }),
  };
  // Delegation, not a copy: the store's own methods (and getters such as `name`) stay its own.
  return Object.assign(Object.create(store) as WorkflowStore, grouped);
}
