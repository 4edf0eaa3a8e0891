// Stand-in for `./payment.js`, the payment workflow of docs/concepts/effects.md and
// docs/configuration.md: it charges a card, then notifies shipping.
import { accept, defineWorkflow, reject, type Decision } from '@ironflow/core';
import type { EffectHandlerOf } from '@ironflow/runtime';

export type PayInput =
  | { type: 'Start'; paymentId: string; orderId: string; card: string; amount: number }
  | { type: 'Settled'; paymentId: string; receipt: string }
  | { type: 'Declined'; paymentId: string; reason: string };
export type PayEvent =
  | { type: 'Started'; orderId: string; card: string; amount: number }
  | { type: 'Settled'; receipt: string }
  | { type: 'Declined'; reason: string };
export type PayEffect = { type: 'charge'; paymentId: string; orderId: string; card: string; amount: number } | { type: 'notify'; orderId: string };
export interface PayState {
  status: 'new' | 'charging' | 'settled' | 'declined';
  orderId: string;
}
export type PayDecision = Decision<PayEvent, PayEffect, PayInput, 'already-started' | 'not-charging'>;

export const payment = defineWorkflow({
  type: 'payment',
  initialState: (): PayState => ({ status: 'new', orderId: '' }),
  evolve: (state: PayState, event: PayEvent): PayState => {
    switch (event.type) {
      case 'Started':
        return { status: 'charging', orderId: event.orderId };
      case 'Settled':
        return { ...state, status: 'settled' };
      case 'Declined':
        return { ...state, status: 'declined' };
    }
  },
  decide: (input: PayInput, state: PayState): PayDecision => {
    if (input.type === 'Start') {
      if (state.status !== 'new') return reject('already-started');
      const { paymentId, orderId, card, amount } = input;
      return accept({ type: 'Started', orderId, card, amount }, { effects: [{ type: 'charge', paymentId, orderId, card, amount }] });
    }
    if (state.status !== 'charging') return reject('not-charging');
    if (input.type === 'Settled') return accept({ type: 'Settled', receipt: input.receipt }, { effects: [{ type: 'notify', orderId: state.orderId }] });
    return accept({ type: 'Declined', reason: input.reason });
  },
  workflowId: (input) => input.paymentId,
  isTerminal: (state) => state.status === 'settled' || state.status === 'declined',
});

/** The payment workflow's effect handler. */
export declare const handlePayment: EffectHandlerOf<typeof payment>;
