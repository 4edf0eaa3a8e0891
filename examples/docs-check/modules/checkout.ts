// Stand-in for the checkout workflow of docs/concepts/decider.md and docs/reference/errors.md:
// one open checkout per cart, items added, then closed.
import { accept, defineWorkflow, reject, type Decision } from '@ironflow/core';

export type CheckoutInput =
  | { type: 'Open'; checkoutId: string; cartId: string }
  | { type: 'AddItem'; checkoutId: string; sku: string; quantity: number }
  | { type: 'Close'; checkoutId: string };
export type CheckoutEvent = { type: 'Opened'; cartId: string } | { type: 'ItemAdded'; sku: string; quantity: number } | { type: 'Closed' };
export interface CheckoutState {
  status: 'new' | 'open' | 'closed';
  items: number;
}
export type CheckoutDecision = Decision<CheckoutEvent, never, CheckoutInput, 'not-open' | 'already-open'>;

export const checkout = defineWorkflow({
  type: 'checkout',
  initialState: (): CheckoutState => ({ status: 'new', items: 0 }),
  evolve: (state: CheckoutState, event: CheckoutEvent): CheckoutState => {
    switch (event.type) {
      case 'Opened':
        return { status: 'open', items: 0 };
      case 'ItemAdded':
        return { ...state, items: state.items + event.quantity };
      case 'Closed':
        return { ...state, status: 'closed' };
    }
  },
  decide: (input: CheckoutInput, state: CheckoutState): CheckoutDecision => {
    if (input.type === 'Open') return state.status === 'new' ? accept({ type: 'Opened', cartId: input.cartId }) : reject('already-open');
    if (state.status !== 'open') return reject('not-open');
    return input.type === 'AddItem' ? accept({ type: 'ItemAdded', sku: input.sku, quantity: input.quantity }) : accept({ type: 'Closed' });
  },
  workflowId: (input) => input.checkoutId,
  uniqueKey: (input) => (input.type === 'Open' ? `cart:${input.cartId}` : undefined),
  isTerminal: (state) => state.status === 'closed',
});
