// A small payment workflow shared by the runtime tests.
import { accept, defineWorkflow, effect, reject, type CancelNotice, type DeadLetterNotice, type EffectOptions, type RetryPolicy } from '@ironflow/core';
import type { StandardSchemaV1 } from '@ironflow/core';
import type { Logger } from '../src/index.js';
import { LeaseLostError, type BatchResult, type Lease, type WorkflowStore } from '@ironflow/core/store';

export type PayInput =
  | { type: 'Start'; id: string; amount: number; customer?: string }
  | { type: 'Charged'; id: string; receipt: string }
  | { type: 'Failed'; id: string; error: string }
  | { type: 'Remind'; id: string; n: number }
  | { type: 'Finish'; id: string };
export type PayEvent =
  | { type: 'Started'; amount: number }
  | { type: 'Charged'; receipt: string }
  | { type: 'ChargeFailed'; error: string }
  | { type: 'Reminded'; n: number }
  | { type: 'Finished' };
export type PayEffect = { type: 'charge'; id: string; amount: number };
export interface PayState {
  status: 'new' | 'started' | 'charged' | 'failed' | 'finished';
  amount: number;
  reminders: number;
  receipt?: string;
}

/** A Standard Schema v1 validator written by hand (no dependency). */
export const payInputSchema: StandardSchemaV1<unknown, PayInput> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate(value) {
      if (typeof value !== 'object' || value === null) return { issues: [{ message: 'expected an object' }] };
      const v = value as Record<string, unknown>;
      if (typeof v.id !== 'string') return { issues: [{ message: 'expected a string', path: ['id'] }] };
      if (!['Start', 'Charged', 'Failed', 'Remind', 'Finish'].includes(String(v.type))) return { issues: [{ message: 'unknown type', path: ['type'] }] };
      if (v.type === 'Start' && (typeof v.amount !== 'number' || v.amount <= 0)) return { issues: [{ message: 'must be positive', path: ['amount'] }] };
      return { value: value as PayInput };
    },
  },
};

export function payWorkflow(type = 'payment', extra: { snapshotEvery?: number | undefined; revision?: string | undefined; onDeadLetter?: boolean | undefined } = {}) {
  return defineWorkflow({
    type,
    initialState: (): PayState => ({ status: 'new', amount: 0, reminders: 0 }),
    evolve: (state: PayState, event: PayEvent): PayState => {
      switch (event.type) {
        case 'Started':
          return { ...state, status: 'started', amount: event.amount };
        case 'Charged':
          return { ...state, status: 'charged', receipt: event.receipt };
        case 'ChargeFailed':
          return { ...state, status: 'failed' };
        case 'Reminded':
          return { ...state, reminders: event.n };
        case 'Finished':
          return { ...state, status: 'finished' };
      }
    },
    decide: (input: PayInput, state) => {
      switch (input.type) {
        case 'Start':
          if (state.status !== 'new') return reject({ code: 'ALREADY_STARTED' as const });
          return accept<PayEvent, PayEffect, PayInput>({ type: 'Started', amount: input.amount }, { effects: [{ type: 'charge', id: input.id, amount: input.amount }] });
        case 'Charged':
          return accept({ type: 'Charged', receipt: input.receipt });
        case 'Failed':
          return accept({ type: 'ChargeFailed', error: input.error });
        case 'Remind':
          return accept({ type: 'Reminded', n: input.n });
        case 'Finish':
          return accept({ type: 'Finished' });
      }
    },
    workflowId: (input) => input.id,
    isTerminal: (state) => state.status === 'finished',
    uniqueKey: (input) => (input.type === 'Start' ? input.customer : undefined),
    schema: payInputSchema,
    retry: { baseDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 3, jitter: 'none' },
    ...(extra.snapshotEvery ? { snapshot: { every: extra.snapshotEvery, revision: extra.revision } } : {}),
    ...(extra.onDeadLetter
      ? { onDeadLetter: (notice: DeadLetterNotice<PayEffect, PayInput>) => (notice.kind === 'effect' ? { type: 'Failed' as const, id: notice.effect.id, error: notice.error } : undefined) }
      : {}),
  });
}

/** Waits until `check` holds, polling every 5 ms, failing after `ms` (generous: a busy machine may stall for seconds). */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * `inner`, except that renewing a lease for which `lost(lease)` holds fails with LEASE_LOST, as if
 * another worker had taken it over; alone (`renewLease`) or in a group-commit batch (`settleMany`).
 */
export function withLostRenewals(inner: WorkflowStore, lost: (lease: Lease) => boolean | Promise<boolean>): WorkflowStore {
  return {
    ...inner,
    renewLease: async (lease, now, leaseMs) => {
      if (await lost(lease)) throw new LeaseLostError(lease.kind, lease.id);
      return inner.renewLease(lease, now, leaseMs);
    },
    settleMany: async (changes) => {
      const refused: boolean[] = [];
      for (const change of changes) refused.push(change.op === 'renew' && (await lost(change.lease)));
      const applied = await inner.settleMany(changes.filter((_, i) => !refused[i]));
      return changes.map((change, i): BatchResult => (refused[i] ? { ok: false, error: new LeaseLostError(change.lease.kind, change.lease.id) } : applied.shift()!));
    },
  };
}

export interface Job {
  name: string;
  options?: EffectOptions | undefined;
}
export type JobInput =
  | { type: 'Queue'; id: string; jobs: Job[]; cancel?: string[]; remindAfter?: number }
  | { type: 'Done'; id: string; name: string }
  | { type: 'Remind'; id: string }
  | { type: 'Finish'; id: string; jobs?: Job[] }
  | { type: 'Compensate'; id: string; reason: string }
  | { type: 'Lost'; id: string; name: string; error: string };
export type JobEvent =
  | { type: 'Queued'; names: string[] }
  | { type: 'Did'; name: string }
  | { type: 'Reminded' }
  | { type: 'Finished'; reason?: string }
  | { type: 'Lost'; name: string; error: string };
export type JobEffect = { name: string; id: string };
export interface JobState {
  finished: boolean;
  done: string[];
  lost: string[];
  reminded: number;
}

/**
 * A workflow that queues named jobs as effects (with options when given), cancels them by key,
 * finishes on demand, and compensates when `onCancel` is on.
 */
export function jobWorkflow(
  type = 'job',
  extra: { terminalPolicy?: 'cancel' | 'run' | undefined; onCancel?: boolean | undefined; onDeadLetter?: boolean | undefined; retry?: Partial<RetryPolicy> | undefined } = {},
) {
  const effects = (id: string, jobs: Job[] = []) => jobs.map((j) => (j.options ? effect({ name: j.name, id }, j.options) : { name: j.name, id }));
  return defineWorkflow({
    type,
    initialState: (): JobState => ({ finished: false, done: [], lost: [], reminded: 0 }),
    evolve: (s: JobState, e: JobEvent): JobState => {
      switch (e.type) {
        case 'Queued':
          return s;
        case 'Did':
          return { ...s, done: [...s.done, e.name] };
        case 'Reminded':
          return { ...s, reminded: s.reminded + 1 };
        case 'Finished':
          return { ...s, finished: true };
        case 'Lost':
          return { ...s, lost: [...s.lost, e.name] };
      }
    },
    decide: (input: JobInput) => {
      switch (input.type) {
        case 'Queue':
          return accept<JobEvent, JobEffect, JobInput>(
            { type: 'Queued', names: input.jobs.map((j) => j.name) },
            {
              effects: effects(input.id, input.jobs),
              cancelEffects: input.cancel,
              timers: input.remindAfter === undefined ? [] : [{ key: 'remind', after: input.remindAfter, input: { type: 'Remind', id: input.id } }],
            },
          );
        case 'Done':
          return accept<JobEvent, JobEffect, JobInput>({ type: 'Did', name: input.name });
        case 'Remind':
          return accept<JobEvent, JobEffect, JobInput>({ type: 'Reminded' });
        case 'Finish':
          return accept<JobEvent, JobEffect, JobInput>({ type: 'Finished' }, { effects: effects(input.id, input.jobs) });
        case 'Compensate':
          return accept<JobEvent, JobEffect, JobInput>({ type: 'Finished', reason: input.reason }, { effects: [{ name: 'refund', id: input.id }] });
        case 'Lost':
          return accept<JobEvent, JobEffect, JobInput>({ type: 'Lost', name: input.name, error: input.error });
      }
    },
    workflowId: (input) => input.id,
    isTerminal: (s) => s.finished,
    ...(extra.terminalPolicy ? { terminalPolicy: extra.terminalPolicy } : {}),
    ...(extra.retry ? { retry: extra.retry } : {}),
    ...(extra.onCancel ? { onCancel: (n: CancelNotice): JobInput => ({ type: 'Compensate', id: n.workflowId, reason: n.reason }) } : {}),
    ...(extra.onDeadLetter
      ? { onDeadLetter: (n: DeadLetterNotice<JobEffect, JobInput>): JobInput | undefined => (n.kind === 'effect' ? { type: 'Lost', id: n.effect.id, name: n.effect.name, error: n.error } : undefined) }
      : {}),
  });
}

/** A promise with its resolve, for handlers that wait on the test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Resolves when `signal` aborts (at once if it has). */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** A logger that keeps what it is given, by level. */
export function recordingLogger(): Logger & { lines: { level: string; obj: object; msg?: string | undefined }[] } {
  const lines: { level: string; obj: object; msg?: string | undefined }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push({ level, obj, msg });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
