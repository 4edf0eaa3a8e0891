// The gate between simulated processes and the one store they share: every store call and every
// effect handler call becomes a pending operation that runs only when the scheduler delivers it.
// So the scheduler decides the interleaving at every point where a process waits on the outside
// world, and a crash drops exactly the operations its process had in flight.
import type { WorkflowStore } from '@ironflow/core/store';

/** A simulated process, as the gate and the scheduler see it. */
export interface SimProcess {
  readonly name: string;
  alive: boolean;
}

/** An operation a process waits on; the scheduler delivers it, fails it, or drops it. */
export interface PendingOperation {
  readonly process: SimProcess;
  readonly kind: 'store' | 'handler';
  /** What it is, for the trace: `commit order:o-1`, `handler effect e-7 (attempt 2)`. */
  readonly label: string;
  /** True for store calls that can change what is stored. */
  readonly writes: boolean;
  /** Performs it (the store call, the handler); its outcome is not yet told to the process. */
  run(): Promise<unknown>;
  /** Tells the process the outcome. */
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Store methods that only read: failing or crashing around them writes nothing. */
const READS = new Set([
  'load', 'nextTimerAt', 'listDeadLetters', 'countDeadLetters', 'readEvents', 'listInstances', 'listEffects', 'listTimers', 'listObservations',
  'listPaused', 'backlog', 'listWork', 'pageInstances', 'readFeed', 'feedHead', 'feedLag', 'listProjections', 'listProjectionDeadLetters',
]);

/** Store members that pass straight through: no round trip to interleave. */
const DIRECT = new Set(['name', 'subscribe', 'subscribeEnded', 'close', 'projectionTransactions']);

/** Short words naming a store call's target, for the trace. */
function describeCall(method: string, args: readonly unknown[]): string {
  const first = args[0] as Record<string, unknown> | undefined;
  const ref = (value: unknown): string | undefined => {
    const r = value as { type?: unknown; id?: unknown } | undefined;
    return typeof r?.type === 'string' && typeof r.id === 'string' ? `${r.type}:${r.id}` : undefined;
  };
  const commit = (c: Record<string, unknown> | undefined) => `${ref(c?.ref) ?? '?'}@${String(c?.expectedVersion)}${c?.ack ? ` (ack ${String((c.ack as { id: string }).id)})` : ''}`;
  if (method === 'commit') return `commit ${commit(first)}`;
  if (method === 'commitMany' && Array.isArray(first)) return `commit ${first.map((c: Record<string, unknown>) => commit(c)).join(', ')}`;
  if (method === 'settleMany' && Array.isArray(first)) return `settleMany ${first.map((c: { op: string; lease: { id: string } }) => `${c.op} ${c.lease.id}`).join(', ')}`;
  if (['complete', 'retry', 'deadLetter', 'release', 'renewLease'].includes(method)) return `${method} ${String((first as { id?: unknown } | undefined)?.id)}`;
  const target = ref(first) ?? ref(first?.ref);
  return target === undefined ? method : `${method} ${target}`;
}

/**
 * The store as one process sees it: each call waits for the scheduler. `enqueue` registers the
 * pending operation; `observe` sees each call's outcome once it ran (for the invariants).
 */
export function gateStore(
  store: WorkflowStore,
  process: SimProcess,
  enqueue: (operation: PendingOperation) => void,
): WorkflowStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof property !== 'string' || DIRECT.has(property) || typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      return (...args: unknown[]) =>
        new Promise((resolve, reject) =>
          enqueue({
            process,
            kind: 'store',
            label: describeCall(property, args),
            writes: !READS.has(property),
            run: () => method.apply(target, args),
            resolve,
            reject,
          }),
        );
    },
  });
}
