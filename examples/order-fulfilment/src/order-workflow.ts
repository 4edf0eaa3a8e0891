// The order workflow as a pure decider: place → reserve stock → charge → ship (a child shipment
// workflow) → delivered, with a payment deadline that cancels a charge not yet made, compensation
// (release stock, refund a charge whose shipment failed) and dead-letter notices.
import { accept, defineStateMachine, defineWorkflow, effect, reject, startChild, type ChildNotice, type Decision, type DeadLetterNotice, type Workflow } from '@ironflow/core';
import { orderInputSchema } from './schema.js';
import { SHIPMENT_WORKFLOW_TYPE, shipmentWorkflow, type ShipmentState } from './shipment-workflow.js';

/** One line of an order. */
export interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
}

/** A gift card bought with the order, e-mailed to `recipient`; `amount` in cents. */
export interface GiftCard {
  readonly recipient: string;
  readonly amount: number;
}

/** Why an order was cancelled. */
export type CancelReason = 'payment-timeout' | 'card-declined' | 'payment-failed' | 'out-of-stock' | 'customer-request' | 'shipment-failed';

/** Everything the order workflow accepts: commands from outside, results of its effects and child, its timer. */
export type OrderInput =
  // Commands. `amount` is in cents; `card` stands in for the payment-method token a real shop would keep.
  // `placedAt` (epoch ms) is when the customer placed the order, if that was before it reached the
  // workflow (a checkout queue): the payment deadline counts from it.
  | {
      readonly type: 'PlaceOrder';
      readonly orderId: string;
      readonly items: readonly OrderLine[];
      readonly amount: number;
      readonly card: string;
      readonly giftCard?: GiftCard;
      readonly placedAt?: number;
    }
  | { readonly type: 'CancelOrder'; readonly orderId: string }
  // Results routed back from effect handlers (and from onDeadLetter).
  | { readonly type: 'StockReserved'; readonly orderId: string; readonly reservationId: string }
  | { readonly type: 'StockUnavailable'; readonly orderId: string; readonly sku: string }
  | { readonly type: 'StockReleased'; readonly orderId: string }
  | { readonly type: 'PaymentSucceeded'; readonly orderId: string; readonly paymentId: string }
  | { readonly type: 'PaymentDeclined'; readonly orderId: string; readonly reason: string }
  | { readonly type: 'PaymentFailed'; readonly orderId: string; readonly error: string }
  | { readonly type: 'PaymentRefunded'; readonly orderId: string; readonly refundId: string }
  | { readonly type: 'GiftCardSent'; readonly orderId: string; readonly code: string }
  | { readonly type: 'GiftCardFailed'; readonly orderId: string; readonly error: string }
  // How the shipment child ended, from onChild.
  | { readonly type: 'ShipmentDelivered'; readonly orderId: string; readonly trackingNumber: string }
  | { readonly type: 'ShipmentFailed'; readonly orderId: string; readonly error: string }
  // The deadline timer.
  | { readonly type: 'PaymentDeadlinePassed'; readonly orderId: string };

/** What happened to an order; the state is a fold of these. */
export type OrderEvent =
  | {
      readonly type: 'OrderPlaced';
      readonly orderId: string;
      readonly items: readonly OrderLine[];
      readonly amount: number;
      readonly card: string;
      readonly giftCard?: GiftCard;
      readonly placedAt?: number;
    }
  | { readonly type: 'StockReserved'; readonly reservationId: string }
  | { readonly type: 'StockUnavailable'; readonly sku: string }
  | { readonly type: 'StockReleased' }
  | { readonly type: 'PaymentSucceeded'; readonly paymentId: string }
  | { readonly type: 'PaymentDeclined'; readonly reason: string }
  | { readonly type: 'PaymentFailed'; readonly error: string }
  /** The charge was cancelled before it went through: no money moved, nothing to refund. */
  | { readonly type: 'ChargeCancelled' }
  | { readonly type: 'PaymentRefunded'; readonly refundId: string }
  | { readonly type: 'OrderCancelled'; readonly reason: CancelReason }
  | { readonly type: 'ShipmentFailed'; readonly error: string }
  | { readonly type: 'OrderDelivered'; readonly trackingNumber: string }
  | { readonly type: 'GiftCardSent'; readonly code: string }
  | { readonly type: 'GiftCardFailed'; readonly error: string };

/** Side effects the workflow asks for; `src/handlers.ts` runs them. The shipment is a child workflow. */
export type OrderEffect =
  | { readonly type: 'ReserveStock'; readonly orderId: string; readonly items: readonly OrderLine[] }
  | { readonly type: 'ReleaseStock'; readonly orderId: string; readonly reservationId: string }
  | { readonly type: 'ChargePayment'; readonly orderId: string; readonly amount: number; readonly card: string }
  | { readonly type: 'RefundPayment'; readonly orderId: string; readonly paymentId: string; readonly amount: number }
  | { readonly type: 'SendGiftCard'; readonly orderId: string; readonly recipient: string; readonly amount: number };

/** Why an input was refused; nothing is written. */
export type OrderRejection =
  | { readonly code: 'ORDER_EXISTS' }
  | { readonly code: 'ORDER_NOT_FOUND' }
  | { readonly code: 'ALREADY_PAID' }
  | { readonly code: 'ALREADY_DELIVERED' }
  | { readonly code: 'ALREADY_CANCELLED' }
  /** A result that does not fit the state, e.g. a duplicate delivery. */
  | { readonly code: 'UNEXPECTED_INPUT'; readonly input: OrderInput['type'] };

/** Where the order is, from the customer's point of view; `paid` means its shipment is under way. */
export type OrderStatus = 'placed' | 'paid' | 'delivered' | 'cancelled';
/** Where the reserved stock is; `reserving` and `releasing` mean a handler is at work. */
export type StockStatus = 'reserving' | 'reserved' | 'releasing' | 'released' | 'unavailable';
/**
 * Where the money is; `charging` and `refunding` mean a handler is at work. `cancelled`: the charge
 * was cancelled before it went through.
 */
export type PaymentStatus = 'none' | 'charging' | 'paid' | 'declined' | 'failed' | 'cancelled' | 'refunding' | 'refunded';
/** Where the gift card is, when the order has one. */
export type GiftCardStatus = 'none' | 'sending' | 'sent' | 'failed';

/** An order that was placed. */
export interface Order {
  readonly status: OrderStatus;
  readonly orderId: string;
  readonly items: readonly OrderLine[];
  readonly amount: number;
  readonly card: string;
  readonly giftCard?: GiftCard;
  readonly placedAt?: number;
  readonly stock: StockStatus;
  readonly payment: PaymentStatus;
  readonly giftCardStatus: GiftCardStatus;
  readonly reservationId?: string;
  readonly paymentId?: string;
  readonly trackingNumber?: string;
  readonly shipmentError?: string;
  readonly cancelReason?: CancelReason;
}

/** The state of an order instance: nothing yet, or a placed order. */
export type OrderState = { readonly status: 'none' } | Order;

/** The order workflow's type. */
export type OrderWorkflow = Workflow<OrderState, OrderInput, OrderEvent, OrderEffect, OrderRejection>;

/** Options of `createOrderWorkflow`. */
export interface OrderWorkflowOptions {
  /**
   * How long a placed order waits for its payment before it is cancelled, counted from
   * `placedAt` when the order has one.
   * @default 900000 (15 minutes)
   */
  paymentDeadlineMs?: number | undefined;
}

/** Key of the payment deadline timer: one per order, cancelled when the payment succeeds. */
export const PAYMENT_DEADLINE = 'payment-deadline';

/** Key of the charge effect: one per order, cancelled when the order is cancelled before it went through. */
export const CHARGE = 'charge';

/** Stable type key of the workflow. */
export const ORDER_WORKFLOW_TYPE = 'order';

type OrderDecision = Decision<OrderEvent, OrderEffect, OrderInput, OrderRejection>;

const paymentSettled = (payment: PaymentStatus): boolean =>
  payment === 'none' || payment === 'declined' || payment === 'failed' || payment === 'cancelled' || payment === 'refunded';

/**
 * The order workflow is finished once nothing is in flight: delivered (with its gift card settled),
 * or cancelled with the stock given back and no money held. Until then late results still count.
 */
export function isOrderSettled(state: OrderState): boolean {
  switch (state.status) {
    case 'delivered':
      return state.giftCardStatus !== 'sending';
    case 'cancelled':
      return (state.stock === 'released' || state.stock === 'unavailable') && paymentSettled(state.payment) && state.giftCardStatus !== 'sending';
    default:
      return false;
  }
}

function evolve(state: OrderState, event: OrderEvent): OrderState {
  if (event.type === 'OrderPlaced') {
    const { type: _type, ...order } = event;
    return { ...order, status: 'placed', stock: 'reserving', payment: 'none', giftCardStatus: 'none' };
  }
  if (state.status === 'none') throw new Error(`${event.type} recorded before OrderPlaced`);
  switch (event.type) {
    case 'StockReserved':
      // A reservation that lands after the order was cancelled is released in the same decision;
      // otherwise the same decision charges the card.
      if (state.status === 'cancelled') return { ...state, reservationId: event.reservationId, stock: 'releasing' };
      return { ...state, reservationId: event.reservationId, stock: 'reserved', payment: 'charging' };
    case 'StockUnavailable':
      return { ...state, stock: 'unavailable' };
    case 'StockReleased':
      return { ...state, stock: 'released' };
    case 'PaymentSucceeded':
      return { ...state, paymentId: event.paymentId, status: 'paid', payment: 'paid', giftCardStatus: state.giftCard ? 'sending' : 'none' };
    case 'PaymentDeclined':
      return { ...state, payment: 'declined' };
    case 'PaymentFailed':
      return { ...state, payment: 'failed' };
    case 'ChargeCancelled':
      return { ...state, payment: 'cancelled' };
    case 'PaymentRefunded':
      return { ...state, payment: 'refunded' };
    case 'OrderCancelled':
      // What is held is given back in the same decision: reserved stock is released, money taken refunded.
      return {
        ...state,
        status: 'cancelled',
        cancelReason: event.reason,
        stock: state.stock === 'reserved' ? 'releasing' : state.stock,
        payment: state.payment === 'paid' ? 'refunding' : state.payment,
      };
    case 'ShipmentFailed':
      return { ...state, shipmentError: event.error };
    case 'OrderDelivered':
      return { ...state, status: 'delivered', trackingNumber: event.trackingNumber };
    case 'GiftCardSent':
      return { ...state, giftCardStatus: 'sent' };
    case 'GiftCardFailed':
      return { ...state, giftCardStatus: 'failed' };
  }
}

/**
 * Cancels a placed or paid order: records why, cancels a charge that has not gone through (no
 * refund needed: its handler is stopped and its result can never arrive), and gives back what is
 * held: reserved stock, and money a charge already took.
 */
function cancel(order: Order, reason: CancelReason, options: { before?: OrderEvent; timerFired?: boolean } = {}): OrderDecision {
  const { before, timerFired = false } = options;
  // Decide on the state the events of this decision lead to: `before` may settle the payment.
  const current = before ? (evolve(order, before) as Order) : order;
  const events: [OrderEvent, ...OrderEvent[]] = before ? [before, { type: 'OrderCancelled', reason }] : [{ type: 'OrderCancelled', reason }];
  const charging = current.payment === 'charging';
  if (charging) events.push({ type: 'ChargeCancelled' });
  const effects: OrderEffect[] = [];
  if (current.payment === 'paid' && current.paymentId !== undefined) {
    effects.push({ type: 'RefundPayment', orderId: order.orderId, paymentId: current.paymentId, amount: order.amount });
  }
  if (current.stock === 'reserved' && current.reservationId !== undefined) {
    effects.push({ type: 'ReleaseStock', orderId: order.orderId, reservationId: current.reservationId });
  }
  return accept(events, {
    effects,
    cancelEffects: charging ? [CHARGE] : [],
    // A paid order's deadline was cancelled with the payment; the deadline timer being delivered
    // right now must not cancel itself.
    cancelTimers: current.status === 'placed' && !timerFired ? [PAYMENT_DEADLINE] : [],
  });
}

const unexpected = (input: OrderInput): OrderDecision => reject({ code: 'UNEXPECTED_INPUT', input: input.type });

/** Refusal for commands that come too late, by how far the order got. */
function tooLate(order: Order): OrderDecision {
  if (order.status === 'cancelled') return reject({ code: 'ALREADY_CANCELLED' });
  if (order.status === 'delivered') return reject({ code: 'ALREADY_DELIVERED' });
  return reject({ code: 'ALREADY_PAID' });
}

function decideFor(paymentDeadlineMs: number) {
  return (input: OrderInput, state: OrderState): OrderDecision => {
    if (input.type === 'PlaceOrder') {
      if (state.status !== 'none') return reject({ code: 'ORDER_EXISTS' });
      const { type: _type, ...order } = input;
      const deadline = { type: 'PaymentDeadlinePassed', orderId: input.orderId } as const;
      return accept(
        { type: 'OrderPlaced', ...order },
        {
          effects: [{ type: 'ReserveStock', orderId: input.orderId, items: input.items }],
          timers: [
            input.placedAt === undefined
              ? { key: PAYMENT_DEADLINE, after: paymentDeadlineMs, input: deadline }
              : { key: PAYMENT_DEADLINE, at: input.placedAt + paymentDeadlineMs, input: deadline },
          ],
        },
      );
    }
    if (state.status === 'none') return reject({ code: 'ORDER_NOT_FOUND' });
    const order = state;

    switch (input.type) {
      case 'CancelOrder':
        return order.status === 'placed' ? cancel(order, 'customer-request') : tooLate(order);

      case 'PaymentDeadlinePassed':
        return order.status === 'placed' ? cancel(order, 'payment-timeout', { timerFired: true }) : tooLate(order);

      case 'StockReserved': {
        if (order.stock !== 'reserving') return unexpected(input);
        const reserved: OrderEvent = { type: 'StockReserved', reservationId: input.reservationId };
        if (order.status === 'cancelled') {
          return accept(reserved, { effects: [{ type: 'ReleaseStock', orderId: order.orderId, reservationId: input.reservationId }] });
        }
        // Keyed, so that a cancellation before it went through cancels it instead of refunding it.
        const charge: OrderEffect = { type: 'ChargePayment', orderId: order.orderId, amount: order.amount, card: order.card };
        return accept(reserved, { effects: [effect(charge, { key: CHARGE })] });
      }

      case 'StockUnavailable': {
        if (order.stock !== 'reserving') return unexpected(input);
        const unavailable: OrderEvent = { type: 'StockUnavailable', sku: input.sku };
        return order.status === 'cancelled' ? accept(unavailable) : cancel(order, 'out-of-stock', { before: unavailable });
      }

      case 'StockReleased':
        return order.stock === 'releasing' ? accept({ type: 'StockReleased' }) : unexpected(input);

      // A cancelled order never has a charge in flight: the cancellation cancelled it, so none of
      // the charge's results below can arrive after it.
      case 'PaymentSucceeded': {
        if (order.payment === 'paid' || order.payment === 'refunding' || order.payment === 'refunded') return reject({ code: 'ALREADY_PAID' });
        if (order.payment !== 'charging') return unexpected(input);
        const effects: OrderEffect[] = order.giftCard ? [{ type: 'SendGiftCard', orderId: order.orderId, ...order.giftCard }] : [];
        return accept(
          { type: 'PaymentSucceeded', paymentId: input.paymentId },
          {
            effects,
            cancelTimers: [PAYMENT_DEADLINE],
            // The shipment runs as a child workflow, started in this same commit; how it ends
            // comes back through onChild as ShipmentDelivered or ShipmentFailed.
            start: [startChild(shipmentWorkflow, { type: 'RequestShipment', shipmentId: order.orderId, items: order.items })],
          },
        );
      }

      case 'PaymentDeclined': {
        if (order.payment !== 'charging') return unexpected(input);
        return cancel(order, 'card-declined', { before: { type: 'PaymentDeclined', reason: input.reason } });
      }

      case 'PaymentFailed': {
        // The charge was dead-lettered: whether money moved is unknown, so an operator reconciles
        // through the gateway with the effect's idempotency key; the order gives its stock back.
        if (order.payment !== 'charging') return unexpected(input);
        return cancel(order, 'payment-failed', { before: { type: 'PaymentFailed', error: input.error } });
      }

      case 'PaymentRefunded':
        return order.payment === 'refunding' ? accept({ type: 'PaymentRefunded', refundId: input.refundId }) : unexpected(input);

      case 'ShipmentDelivered':
        if (order.status === 'delivered') return reject({ code: 'ALREADY_DELIVERED' });
        return order.status === 'paid' ? accept({ type: 'OrderDelivered', trackingNumber: input.trackingNumber }) : unexpected(input);

      case 'ShipmentFailed':
        // The customer paid and gets nothing: refund the charge, which did go through, and release the stock.
        return order.status === 'paid' ? cancel(order, 'shipment-failed', { before: { type: 'ShipmentFailed', error: input.error } }) : unexpected(input);

      case 'GiftCardSent':
        return order.giftCardStatus === 'sending' ? accept({ type: 'GiftCardSent', code: input.code }) : unexpected(input);

      case 'GiftCardFailed':
        return order.giftCardStatus === 'sending' ? accept({ type: 'GiftCardFailed', error: input.error }) : unexpected(input);
    }
  };
}

/** Turns a dead-lettered charge or gift card into an input, so the order records it; others stay with the operator. */
function onDeadLetter(notice: DeadLetterNotice<OrderEffect, OrderInput>): OrderInput | undefined {
  if (notice.kind !== 'effect') return undefined;
  const effect = notice.effect;
  switch (effect.type) {
    case 'ChargePayment':
      return { type: 'PaymentFailed', orderId: effect.orderId, error: notice.error };
    case 'SendGiftCard':
      return { type: 'GiftCardFailed', orderId: effect.orderId, error: notice.error };
    default:
      // Stock and refund effects must eventually succeed: an operator fixes the cause and redrives them.
      return undefined;
  }
}

/** The longest error text an order input carries (see the schema). */
const MAX_ERROR = 2_000;

/**
 * Turns how the shipment child ended into an order input. A shipment is named by its order's id. A
 * completed shipment was delivered or refused by the carrier; a cancelled one (an operator's
 * `engine.cancel` of the shipment) or a failed one (its tracking dead-lettered) did not deliver either.
 */
export function onChild(notice: ChildNotice): OrderInput | undefined {
  if (notice.workflowType !== SHIPMENT_WORKFLOW_TYPE) return undefined;
  const orderId = notice.workflowId;
  const failed = (error: string): OrderInput => ({ type: 'ShipmentFailed', orderId, error: error.slice(0, MAX_ERROR) });
  switch (notice.outcome) {
    case 'completed': {
      // The child's final state, as the shipment workflow folded it.
      const shipment = notice.state as ShipmentState;
      if (shipment.status === 'delivered') return { type: 'ShipmentDelivered', orderId, trackingNumber: shipment.trackingNumber };
      return failed(shipment.status === 'refused' ? `refused by the carrier: ${shipment.error}` : `ended ${shipment.status}`);
    }
    case 'cancelled':
      return failed(`cancelled: ${notice.reason}`);
    case 'failed':
      return failed(notice.error);
  }
}

/**
 * The order's state machine, for diagrams and instance paths (`toMermaid`, `instancePath`). A state
 * is a phase of `orderStatusOf`; `test/state-machine.test.ts` runs the scenarios and checks that
 * every status change they make is a transition declared here. Self-loops are inputs `decide`
 * accepts without leaving the phase (a gift card settled mid-shipment, one compensation of several done).
 */
export const orderMachine = defineStateMachine({
  initial: 'New',
  states: [
    { name: 'New', description: 'no order yet' },
    { name: 'Reserving', description: 'placed; the stock is being reserved' },
    { name: 'Charging', description: 'placed, the stock reserved; the card is being charged' },
    { name: 'Shipping', description: 'paid; the shipment child is under way' },
    { name: 'SendingGiftCard', description: 'delivered; the gift card is still being sent' },
    { name: 'Delivered', terminal: true, description: 'delivered, the gift card settled' },
    { name: 'Compensating', description: 'cancelled; stock, money or a gift card still in flight' },
    { name: 'Cancelled', terminal: true, description: 'cancelled, the stock back and no money held' },
  ],
  transitions: [
    { from: 'New', to: 'Reserving', input: 'PlaceOrder', effects: ['ReserveStock'], timers: [PAYMENT_DEADLINE] },
    { from: 'Reserving', to: 'Charging', input: 'StockReserved', effects: ['ChargePayment'] },
    { from: 'Reserving', to: 'Cancelled', input: 'StockUnavailable' },
    { from: 'Reserving', to: 'Compensating', input: 'CancelOrder', description: 'waits for the reservation to land' },
    { from: 'Reserving', to: 'Compensating', input: 'PaymentDeadlinePassed', description: 'waits for the reservation to land' },
    { from: 'Charging', to: 'Shipping', input: 'PaymentSucceeded', effects: ['start shipment', 'SendGiftCard'], description: 'SendGiftCard only for an order with a gift card' },
    { from: 'Charging', to: 'Compensating', input: 'CancelOrder', effects: ['ReleaseStock'], description: 'cancels the charge by its key' },
    { from: 'Charging', to: 'Compensating', input: 'PaymentDeadlinePassed', effects: ['ReleaseStock'], description: 'cancels the charge by its key' },
    { from: 'Charging', to: 'Compensating', input: 'PaymentDeclined', effects: ['ReleaseStock'] },
    { from: 'Charging', to: 'Compensating', input: 'PaymentFailed', effects: ['ReleaseStock'] },
    { from: 'Shipping', to: 'Shipping', input: 'GiftCardSent' },
    { from: 'Shipping', to: 'Shipping', input: 'GiftCardFailed' },
    { from: 'Shipping', to: 'Delivered', input: 'ShipmentDelivered' },
    { from: 'Shipping', to: 'SendingGiftCard', input: 'ShipmentDelivered' },
    { from: 'Shipping', to: 'Compensating', input: 'ShipmentFailed', effects: ['RefundPayment', 'ReleaseStock'] },
    { from: 'SendingGiftCard', to: 'Delivered', input: 'GiftCardSent' },
    { from: 'SendingGiftCard', to: 'Delivered', input: 'GiftCardFailed' },
    { from: 'Compensating', to: 'Compensating', input: 'StockReserved', effects: ['ReleaseStock'] },
    { from: 'Compensating', to: 'Compensating', input: 'StockReleased' },
    { from: 'Compensating', to: 'Compensating', input: 'PaymentRefunded' },
    { from: 'Compensating', to: 'Compensating', input: 'GiftCardSent' },
    { from: 'Compensating', to: 'Compensating', input: 'GiftCardFailed' },
    { from: 'Compensating', to: 'Cancelled', input: 'StockUnavailable' },
    { from: 'Compensating', to: 'Cancelled', input: 'StockReleased' },
    { from: 'Compensating', to: 'Cancelled', input: 'PaymentRefunded' },
    { from: 'Compensating', to: 'Cancelled', input: 'GiftCardSent' },
    { from: 'Compensating', to: 'Cancelled', input: 'GiftCardFailed' },
  ],
});

/**
 * The phase of `orderMachine` an order is in. The states a decision passes through between its
 * events (stock unavailable or a payment declined, before `OrderCancelled`) keep the phase it
 * started in, so each decision is at most one step of an instance's path.
 */
export function orderStatusOf(state: OrderState): string {
  switch (state.status) {
    case 'none':
      return 'New';
    case 'placed':
      return state.stock === 'reserved' ? 'Charging' : 'Reserving';
    case 'paid':
      return 'Shipping';
    case 'delivered':
      return isOrderSettled(state) ? 'Delivered' : 'SendingGiftCard';
    case 'cancelled':
      return isOrderSettled(state) ? 'Cancelled' : 'Compensating';
  }
}

/**
 * Creates the order workflow; tests and the demo shorten the payment deadline.
 * @example const orders = createOrderWorkflow({ paymentDeadlineMs: 1_500 });
 */
export function createOrderWorkflow(options: OrderWorkflowOptions = {}): OrderWorkflow {
  const paymentDeadlineMs = options.paymentDeadlineMs ?? 15 * 60_000;
  return defineWorkflow<OrderState, OrderInput, OrderEvent, OrderDecision>({
    type: ORDER_WORKFLOW_TYPE,
    initialState: () => ({ status: 'none' }),
    evolve,
    decide: decideFor(paymentDeadlineMs),
    workflowId: (input) => input.orderId,
    isTerminal: isOrderSettled,
    // No uniqueKey: the order id is the only business identity, and the workflow id already
    // makes it unique; a duplicate PlaceOrder is refused by `decide` as ORDER_EXISTS.
    schema: orderInputSchema,
    onDeadLetter,
    onChild,
    stateMachine: { machine: orderMachine, statusOf: orderStatusOf },
    // terminalPolicy is left at its default, 'cancel': an order completes only once nothing is in
    // flight (isOrderSettled), so there is nothing for it to cancel.
  });
}
