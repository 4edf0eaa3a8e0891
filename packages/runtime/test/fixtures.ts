// A small payment workflow shared by the runtime tests.
import { accept, defineWorkflow, reject, type DeadLetterNotice } from '@ironflow/core';
import type { StandardSchemaV1 } from '@ironflow/core';
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

/** Waits until `check` holds, polling every 5 ms, failing after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
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
