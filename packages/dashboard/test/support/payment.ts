// The workflow the tests drive: a payment whose Charge input asks for a ChargeCard effect and arms
// an expiry timer; the effect's result completes it (cancelling the timer). The effect handler is
// the test's to control: a charge fails for as long as its id is in `gateway.failing`, with the
// message the test gives (one attempt: the first failure dead-letters it).
import { accept, defineStateMachine, defineWorkflow } from '@ironflow/core';
import { register, type Registration } from '@ironflow/runtime';

export type PaymentInput =
  | { type: 'Charge'; paymentId: string; amount: number; note: string }
  | { type: 'Charged'; paymentId: string; receipt: string }
  | { type: 'Expire'; paymentId: string };
type PaymentEvent = { type: 'ChargeRequested'; amount: number; note: string } | { type: 'Charged'; receipt: string } | { type: 'Expired' };
type PaymentEffect = { type: 'ChargeCard'; paymentId: string; amount: number; note: string };
export interface PaymentState {
  status: 'new' | 'charging' | 'paid' | 'expired';
  amount: number;
  note: string;
  receipt?: string;
}

/** An hour: the tests never reach it, so the timer stays pending until the charge cancels it. */
export const EXPIRY_MS = 3_600_000;

/** The machine the payment declares, for the instance page's diagram. */
export const paymentMachine = defineStateMachine({
  initial: 'New',
  states: [{ name: 'New' }, { name: 'Charging' }, { name: 'Paid', terminal: true }, { name: 'Expired', terminal: true }],
  transitions: [
    { from: 'New', to: 'Charging', input: 'Charge', effects: ['ChargeCard'], timers: ['expiry'] },
    { from: 'Charging', to: 'Paid', input: 'Charged' },
    { from: 'Charging', to: 'Expired', input: 'Expire' },
  ],
});

const STATUS = { new: 'New', charging: 'Charging', paid: 'Paid', expired: 'Expired' } as const;

export const payment = defineWorkflow({
  type: 'payment',
  initialState: (): PaymentState => ({ status: 'new', amount: 0, note: '' }),
  evolve: (state: PaymentState, event: PaymentEvent): PaymentState => {
    switch (event.type) {
      case 'ChargeRequested':
        return { ...state, status: 'charging', amount: event.amount, note: event.note };
      case 'Charged':
        return { ...state, status: 'paid', receipt: event.receipt };
      case 'Expired':
        return { ...state, status: 'expired' };
    }
  },
  decide: (input: PaymentInput) => {
    switch (input.type) {
      case 'Charge':
        return accept<PaymentEvent, PaymentEffect, PaymentInput>(
          { type: 'ChargeRequested', amount: input.amount, note: input.note },
          {
            effects: [{ type: 'ChargeCard', paymentId: input.paymentId, amount: input.amount, note: input.note }],
            timers: [{ key: 'expiry', after: EXPIRY_MS, input: { type: 'Expire', paymentId: input.paymentId } }],
          },
        );
      case 'Charged':
        return accept<PaymentEvent, PaymentEffect, PaymentInput>({ type: 'Charged', receipt: input.receipt });
      case 'Expire':
        return accept<PaymentEvent, PaymentEffect, PaymentInput>({ type: 'Expired' });
    }
  },
  workflowId: (input) => input.paymentId,
  isTerminal: (state) => state.status === 'paid' || state.status === 'expired',
  retry: { maxAttempts: 1 },
  stateMachine: { machine: paymentMachine, statusOf: (state) => STATUS[state.status] },
});

/** What the tests control of the effect handler. */
export interface Gateway {
  /** Payment ids whose charge fails, with the error message. */
  readonly failing: Map<string, string>;
}

export function paymentRegistration(gateway: Gateway): Registration {
  return register(payment).handle(async (effect) => {
    const failure = gateway.failing.get(effect.paymentId);
    if (failure !== undefined) throw new Error(failure);
    return { type: 'Charged', paymentId: effect.paymentId, receipt: `r-${effect.paymentId}` };
  });
}
