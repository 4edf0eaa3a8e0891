// What every system in the peer comparison implements, and the measuring tools they share:
// a countdown for completions, the idle-pickup sampler, medians and percentiles.
import { setTimeout as sleep } from 'node:timers/promises';

/** The knobs every system is measured with. */
export interface Workload {
  /** No-op jobs per throughput measurement. */
  readonly jobs: number;
  /** Single jobs sent into an idle system per latency measurement. */
  readonly samples: number;
  /** A fresh name for this measurement's schema, key prefix or queue. */
  readonly namespace: string;
}

/** A bulk enqueue of `jobs` and then the drain of all of them by the system's workers. */
export interface DrainResult {
  readonly enqueuePerSecond: number;
  readonly drainPerSecond: number;
}

/** One job queue (or Ironflow on one store), in its best documented configuration. */
export interface System {
  /** Column of the table. */
  readonly name: string;
  readonly backend: 'postgres' | 'redis';
  /** Its configuration, for the result file. */
  readonly settings: string;
  drain(workload: Workload): Promise<DrainResult>;
  /** Workflows/s whose effect's result is routed back and decided (Ironflow only). */
  routed?(workload: Workload): Promise<number>;
  /**
   * Single enqueues from concurrent callers (one `execute` each), and the backend's raw limit for
   * the same transaction shape from as many callers (Ironflow only).
   */
  singles?(workload: Workload): Promise<{ readonly executePerSecond: number; readonly rawPerSecond: number }>;
  /** Milliseconds from the enqueue call's return (commit acknowledged) to the handler's start. */
  idle?(workload: Workload): Promise<number[]>;
}

/** Generous bound on one measurement, so a stuck system fails the run instead of hanging it. */
const MEASUREMENT_TIMEOUT_MS = 600_000;

/** Resolves once `tick()` has been called `total` times; rejects after the bound. */
export function countdown(total: number): { tick(): void; readonly done: Promise<void>; readonly count: () => number } {
  let count = 0;
  let resolve: () => void = () => {};
  let reject: (error: Error) => void = () => {};
  const done = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  const timer = setTimeout(() => reject(new Error(`only ${count} of ${total} completions within ${MEASUREMENT_TIMEOUT_MS} ms`)), MEASUREMENT_TIMEOUT_MS);
  return {
    tick: () => {
      if (++count === total) {
        clearTimeout(timer);
        resolve();
      }
    },
    done,
    count: () => count,
  };
}

/** Polls `remaining` (a cheap count on the server) until it is 0: completions are durable, not just started. */
export async function settled(remaining: () => Promise<number>): Promise<void> {
  const deadline = performance.now() + MEASUREMENT_TIMEOUT_MS;
  for (let left = await remaining(); left > 0; left = await remaining()) {
    if (performance.now() > deadline) throw new Error(`${left} jobs still not settled after ${MEASUREMENT_TIMEOUT_MS} ms`);
    await sleep(5);
  }
}

/** Enqueues `total` jobs in chunks of `size`, one chunk after another; returns jobs per second. */
export async function inChunks(total: number, size: number, insert: (from: number, to: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let from = 0; from < total; from += size) await insert(from, Math.min(total, from + size));
  return (total / (performance.now() - started)) * 1000;
}

/** Jobs bulk-inserted per statement or call by the peers, as their docs show. */
export const BULK_CHUNK = 1000;

/** Where handlers report that sample `n` started, and the sampler waits for it. */
export class IdleProbe {
  readonly #waiting = new Map<number, (at: number) => void>();

  /** Called by the handler first thing. */
  started(n: number): void {
    const at = performance.now();
    this.#waiting.get(n)?.(at);
    this.#waiting.delete(n);
  }

  /**
   * Sends one job at a time into the idle system; the pause before each lets workers go back to
   * waiting, so every sample measures a pickup from idle. A polling system gets a random extra
   * pause up to its interval, so samples do not fall at the same phase of its polling loop.
   */
  async sample(samples: number, enqueue: (n: number) => Promise<unknown>, pollIntervalMs = 0): Promise<number[]> {
    const latencies: number[] = [];
    for (let n = 0; n < samples; n++) {
      await sleep(30 + Math.random() * pollIntervalMs);
      const start = new Promise<number>((resolve) => this.#waiting.set(n, resolve));
      await enqueue(n);
      const committed = performance.now();
      const startedAt = await withTimeout(start, `idle sample ${n} was never picked up`);
      latencies.push(Math.max(0, startedAt - committed));
    }
    return latencies;
  }
}

async function withTimeout<T>(promise: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), 60_000)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}
