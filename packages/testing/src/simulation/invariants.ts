// The engine's invariants (DESIGN §8), checked by a simulation after every step: what every store
// call did is recorded below the gate, so the checks see the truth of the store, not what a
// process believed.
import type { AnyWorkflow, RetryPolicy } from '@ironflow/core';
import { resolveRetryPolicy } from '@ironflow/core/engine';
import type { BatchResult, CommitRequest, EffectRecord, LeaseChange, TimerRecord, WorkflowStore, WorkKind } from '@ironflow/core/store';

/** What the store was asked and answered, as the invariants need it. */
export class Ledger {
  /** Claims per `kind:id`. */
  readonly claims = new Map<string, number>();
  /** Releases per `kind:id` (a release un-counts its claim's attempt). */
  readonly releases = new Map<string, number>();
  /** Applied commits per routed result: `kind:id` of the effect or timer the input came from. */
  readonly routed = new Map<string, number>();
  /** Handler calls per effect id. */
  readonly handled = new Map<string, number>();

  static key(kind: WorkKind, id: string): string {
    return `${kind}:${id}`;
  }

  #bump(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  claimed(kind: WorkKind, ids: readonly string[]): void {
    for (const id of ids) this.#bump(this.claims, Ledger.key(kind, id));
  }

  ran(effectId: string): void {
    this.#bump(this.handled, effectId);
  }

  released(kind: WorkKind, id: string): void {
    this.#bump(this.releases, Ledger.key(kind, id));
  }

  committed(request: CommitRequest): void {
    const causedBy = request.events[0]?.metadata.causedBy;
    if (causedBy !== undefined) this.#bump(this.routed, Ledger.key(causedBy.kind, causedBy.id));
  }
}

/** The store with every outcome recorded in `ledger`; the gate wraps this. */
export function observeStore(store: WorkflowStore, ledger: Ledger): WorkflowStore {
  const settled = (changes: readonly LeaseChange[], results: readonly BatchResult[]) =>
    changes.forEach((change, i) => {
      if (change.op === 'release' && results[i]?.ok) ledger.released(change.lease.kind, change.lease.id);
    });
  return {
    ...store,
    async commit(request) {
      await store.commit(request);
      ledger.committed(request);
    },
    async commitMany(requests) {
      const results = await store.commitMany(requests);
      requests.forEach((request, i) => {
        if (results[i]?.ok) ledger.committed(request);
      });
      return results;
    },
    async claimEffects(request) {
      const claimed = await store.claimEffects(request);
      ledger.claimed('effect', claimed.map((c) => c.id));
      return claimed;
    },
    async claimTimers(request) {
      const claimed = await store.claimTimers(request);
      ledger.claimed('timer', claimed.map((c) => c.id));
      return claimed;
    },
    async release(lease, now, options) {
      await store.release(lease, now, options);
      ledger.released(lease.kind, lease.id);
    },
    async settleMany(changes) {
      const results = await store.settleMany(changes);
      settled(changes, results);
      return results;
    },
  };
}

/** Error codes after which a dead letter before the last attempt is right: retrying cannot help. */
const FINAL_CODES = ['NON_RETRYABLE', 'NOT_UNDERSTOOD', 'HANDLER_MISSING', 'VALIDATION_FAILED', 'EFFECT_DEADLINE_EXCEEDED', 'UNKNOWN_WORKFLOW_TYPE', 'INVALID_DECISION', 'INVALID_ARGUMENT'];

/** Every effect or timer the store holds, page by page. */
async function allWork(store: WorkflowStore): Promise<(EffectRecord | TimerRecord)[]> {
  const rows: (EffectRecord | TimerRecord)[] = [];
  for (const kind of ['effect', 'timer'] as const) {
    let after: string | undefined;
    do {
      const page = await store.listWork({ kind, after, limit: 1000 });
      rows.push(...page.items);
      after = page.next;
    } while (after !== undefined);
  }
  return rows;
}

/** What the invariant checks need besides the store. */
export interface InvariantContext {
  readonly store: WorkflowStore;
  readonly ledger: Ledger;
  readonly workflows: ReadonlyMap<string, AnyWorkflow>;
  readonly retry: Partial<RetryPolicy>;
}

/**
 * The safety invariants, true after every step whatever the faults: events gapless and written
 * once per routed result, at most one live timer per key, attempts counted at claim, handlers run
 * at most maxAttempts times,
 * dead letters only where attempts ran out or retrying cannot help. Returns the first violation.
 */
export async function checkSafety(ctx: InvariantContext): Promise<string | undefined> {
  const { store, ledger } = ctx;
  for (const [key, count] of ledger.routed) {
    if (count > 1) return `routed result applied twice: the input from ${key} was committed ${count} times`;
  }
  let after: string | undefined;
  do {
    const page = await store.pageInstances({ after, limit: 1000 });
    for (const summary of page.items) {
      const ref = { type: summary.workflowType, id: summary.workflowId };
      const events = await store.readEvents(ref);
      const gap = events.findIndex((e, i) => e.sequence !== i + 1);
      if (gap !== -1) return `events of ${ref.type}:${ref.id} are not gapless: position ${gap + 1} holds sequence ${events[gap]!.sequence}`;
      if (events.length !== summary.version) return `${ref.type}:${ref.id} is at version ${summary.version} with ${events.length} events`;
      const live = new Map<string, number>();
      for (const timer of await store.listTimers(ref)) {
        if (timer.key === undefined || (timer.status !== 'pending' && timer.status !== 'leased')) continue;
        live.set(timer.key, (live.get(timer.key) ?? 0) + 1);
        if (live.get(timer.key)! > 1) return `${ref.type}:${ref.id} has two live timers keyed ${timer.key}`;
      }
    }
    after = page.next;
  } while (after !== undefined);
  for (const row of await allWork(store)) {
    const key = Ledger.key(row.kind, row.id);
    const charged = (ledger.claims.get(key) ?? 0) - (ledger.releases.get(key) ?? 0);
    // Attempts are counted when a row is claimed (ADR 0003): a crash between claim and outcome still costs one.
    if (row.attempts < charged) return `${key} was claimed ${charged} times (less releases) but counts ${row.attempts} attempts`;
    const workflow = ctx.workflows.get(row.workflowType);
    const settings = row.kind === 'effect' ? (row.settings?.retry as Partial<RetryPolicy> | undefined) : undefined;
    const policy = resolveRetryPolicy(ctx.retry, workflow?.retry, settings);
    // Claims a crash lost still count; what must stay bounded is how often the handler ran.
    const ran = row.kind === 'effect' ? (ledger.handled.get(row.id) ?? 0) : 0;
    if (ran > policy.maxAttempts) return `the handler of ${key} ran ${ran} times; maxAttempts is ${policy.maxAttempts}`;
    if (row.status === 'dead' && charged < policy.maxAttempts && !FINAL_CODES.some((code) => row.lastError?.includes(code))) {
      return `${key} is dead after ${charged} of ${policy.maxAttempts} attempts, and its error is retryable: ${row.lastError ?? '(none)'}`;
    }
  }
  return undefined;
}

/** Once faults stop and time has run on: nothing pending or leased is left behind. */
export async function checkSettled(store: WorkflowStore): Promise<string | undefined> {
  for (const row of await allWork(store)) {
    if (row.status === 'pending' || row.status === 'leased') {
      return `${row.kind} ${row.id} of ${row.workflowType}:${row.workflowId} is still ${row.status} (attempts ${row.attempts}${row.lastError === undefined ? '' : `, last error ${row.lastError}`}) after the faults stopped`;
    }
  }
  return undefined;
}

/** When the next stored work becomes claimable: a due time, or a lease running out. */
export async function nextStoredDue(store: WorkflowStore): Promise<number | undefined> {
  let next: number | undefined;
  for (const row of await allWork(store)) {
    const at = row.status === 'pending' ? row.availableAt : row.status === 'leased' ? row.leaseExpiresAt : undefined;
    if (at !== undefined && (next === undefined || at < next)) next = at;
  }
  return next;
}
