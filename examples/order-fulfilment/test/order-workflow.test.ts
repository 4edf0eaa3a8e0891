// The order decider, transition by transition: given past events, when an input arrives, then
// these events, effects, timers and cancellations (or this rejection). No store, no engine.
import { describe, expect, it } from 'vitest';
import { deciderSpec } from '@ironflow/testing';
import { DECLINED_CARD, GOOD_CARD } from '../src/handlers.js';
import { createOrderWorkflow, PAYMENT_DEADLINE, type OrderEffect, type OrderEvent, type OrderInput } from '../src/order-workflow.js';

const orders = createOrderWorkflow();
const spec = deciderSpec(orders);

const orderId = 'o-1';
const items = [{ sku: 'BOOK-1', quantity: 2 }];
const giftCard = { recipient: 'ada@example.com', amount: 2_500 };
const place = { type: 'PlaceOrder', orderId, items, amount: 3_998, card: GOOD_CARD } satisfies OrderInput;

const order = { orderId, items, amount: 3_998, card: GOOD_CARD };
const placed: OrderEvent = { type: 'OrderPlaced', ...order };
const placedWithGift: OrderEvent = { ...placed, giftCard };
const reserved: OrderEvent = { type: 'StockReserved', reservationId: 'rsv-o-1' };
const paid: OrderEvent = { type: 'PaymentSucceeded', paymentId: 'pay-1' };
const shipped: OrderEvent = { type: 'OrderShipped', trackingNumber: 'TRK-0001' };
const released: OrderEvent = { type: 'StockReleased' };
const cancelledBy = (reason: Extract<OrderEvent, { type: 'OrderCancelled' }>['reason']): OrderEvent => ({ type: 'OrderCancelled', reason });

const reserveStock: OrderEffect = { type: 'ReserveStock', orderId, items };
const releaseStock: OrderEffect = { type: 'ReleaseStock', orderId, reservationId: 'rsv-o-1' };
const chargePayment: OrderEffect = { type: 'ChargePayment', orderId, amount: 3_998, card: GOOD_CARD };
const shipOrder: OrderEffect = { type: 'ShipOrder', orderId, items };

describe('placing an order', () => {
  it('records the order, reserves its stock and schedules a 15-minute payment deadline', () => {
    spec
      .when(place)
      .then([placed])
      .thenEffects([reserveStock])
      .thenTimers([{ key: PAYMENT_DEADLINE, after: 15 * 60_000, input: { type: 'PaymentDeadlinePassed', orderId } }])
      .thenState({ ...order, status: 'placed', stock: 'reserving', payment: 'none', giftCardStatus: 'none' })
      .thenTerminal(false);
  });

  it('keeps a gift card bought with the order', () => {
    spec.when({ ...place, giftCard }).then([placedWithGift]);
  });

  it('counts the payment deadline from placedAt when the customer placed the order earlier', () => {
    const placedAt = Date.UTC(2026, 0, 1, 11, 50);
    spec
      .when({ ...place, placedAt })
      .then([{ ...placed, placedAt }])
      .thenTimers([{ key: PAYMENT_DEADLINE, at: placedAt + 15 * 60_000, input: { type: 'PaymentDeadlinePassed', orderId } }]);
  });

  it('takes the payment deadline from the workflow options', () => {
    deciderSpec(createOrderWorkflow({ paymentDeadlineMs: 1_500 }))
      .when(place)
      .thenTimers([{ key: PAYMENT_DEADLINE, after: 1_500, input: { type: 'PaymentDeadlinePassed', orderId } }]);
  });

  it('refuses a second PlaceOrder for the same id as ORDER_EXISTS', () => {
    spec.given(placed).when(place).thenRejected({ code: 'ORDER_EXISTS' });
  });

  it('refuses any other input for an order that was never placed as ORDER_NOT_FOUND', () => {
    spec.when({ type: 'CancelOrder', orderId }).thenRejected({ code: 'ORDER_NOT_FOUND' });
    spec.when({ type: 'StockReserved', orderId, reservationId: 'rsv-o-1' }).thenRejected({ code: 'ORDER_NOT_FOUND' });
  });
});

describe('stock', () => {
  it('charges the card once the stock is reserved', () => {
    spec
      .given(placed)
      .when({ type: 'StockReserved', orderId, reservationId: 'rsv-o-1' })
      .then([reserved])
      .thenEffects([chargePayment])
      .thenTimers([])
      .thenCancelled([]);
  });

  it('releases at once a reservation that arrives after the order was cancelled', () => {
    spec
      .given(placed, cancelledBy('customer-request'))
      .when({ type: 'StockReserved', orderId, reservationId: 'rsv-o-1' })
      .then([reserved])
      .thenEffects([releaseStock])
      .thenTerminal(false);
  });

  it('refuses a second StockReserved as UNEXPECTED_INPUT', () => {
    spec
      .given(placed, reserved)
      .when({ type: 'StockReserved', orderId, reservationId: 'rsv-o-1' })
      .thenRejected({ code: 'UNEXPECTED_INPUT', input: 'StockReserved' });
  });

  it('cancels the order as out-of-stock when stock is unavailable, with nothing to give back', () => {
    spec
      .given(placed)
      .when({ type: 'StockUnavailable', orderId, sku: 'BOOK-1' })
      .then([{ type: 'StockUnavailable', sku: 'BOOK-1' }, cancelledBy('out-of-stock')])
      .thenEffects([])
      .thenCancelled([PAYMENT_DEADLINE])
      .thenTerminal();
  });

  it('settles an already cancelled order when its stock turns out unavailable', () => {
    spec
      .given(placed, cancelledBy('customer-request'))
      .when({ type: 'StockUnavailable', orderId, sku: 'BOOK-1' })
      .then([{ type: 'StockUnavailable', sku: 'BOOK-1' }])
      .thenEffects([])
      .thenTerminal();
  });

  it('settles a cancelled order once its stock is released', () => {
    spec
      .given(placed, reserved, { type: 'PaymentDeclined', reason: 'card declined by issuer' }, cancelledBy('card-declined'))
      .when({ type: 'StockReleased', orderId })
      .then([released])
      .thenTerminal();
  });

  it('refuses StockReleased when no release is in flight', () => {
    spec.given(placed, reserved).when({ type: 'StockReleased', orderId }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'StockReleased' });
  });
});

describe('payment', () => {
  it('a successful payment cancels the deadline and ships the order', () => {
    spec
      .given(placed, reserved)
      .when({ type: 'PaymentSucceeded', orderId, paymentId: 'pay-1' })
      .then([paid])
      .thenEffects([shipOrder])
      .thenCancelled([PAYMENT_DEADLINE])
      .thenTerminal(false);
  });

  it('a successful payment of a gift order also sends the gift card', () => {
    spec
      .given(placedWithGift, reserved)
      .when({ type: 'PaymentSucceeded', orderId, paymentId: 'pay-1' })
      .thenEffects([shipOrder, { type: 'SendGiftCard', orderId, ...giftCard }]);
  });

  it('refuses a second PaymentSucceeded as ALREADY_PAID', () => {
    spec.given(placed, reserved, paid).when({ type: 'PaymentSucceeded', orderId, paymentId: 'pay-1' }).thenRejected({ code: 'ALREADY_PAID' });
  });

  it('refuses a payment result when no charge is in flight', () => {
    spec.given(placed).when({ type: 'PaymentSucceeded', orderId, paymentId: 'pay-1' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'PaymentSucceeded' });
    spec.given(placed).when({ type: 'PaymentDeclined', orderId, reason: 'no' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'PaymentDeclined' });
    spec.given(placed).when({ type: 'PaymentFailed', orderId, error: 'no' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'PaymentFailed' });
  });

  it('a declined card cancels the order, releases the stock and cancels the deadline', () => {
    deciderSpec(orders)
      .given({ ...placed, card: DECLINED_CARD }, reserved)
      .when({ type: 'PaymentDeclined', orderId, reason: 'card declined by issuer' })
      .then([{ type: 'PaymentDeclined', reason: 'card declined by issuer' }, cancelledBy('card-declined')])
      .thenEffects([releaseStock])
      .thenCancelled([PAYMENT_DEADLINE])
      .thenTerminal(false);
  });

  it('a dead-lettered charge (PaymentFailed) cancels the order and releases the stock', () => {
    spec
      .given(placed, reserved)
      .when({ type: 'PaymentFailed', orderId, error: 'attempts exhausted (4/4): Error: payment gateway unavailable (503)' })
      .then([{ type: 'PaymentFailed', error: 'attempts exhausted (4/4): Error: payment gateway unavailable (503)' }, cancelledBy('payment-failed')])
      .thenEffects([releaseStock])
      .thenCancelled([PAYMENT_DEADLINE]);
  });

  it('refunds a charge that succeeds after the order was cancelled', () => {
    spec
      .given(placed, reserved, cancelledBy('payment-timeout'), released)
      .when({ type: 'PaymentSucceeded', orderId, paymentId: 'pay-1' })
      .then([paid])
      .thenEffects([{ type: 'RefundPayment', orderId, paymentId: 'pay-1', amount: 3_998 }])
      .thenCancelled([])
      .thenTerminal(false);
  });

  it('settles the cancelled order once the late charge is refunded', () => {
    spec
      .given(placed, reserved, cancelledBy('payment-timeout'), released, paid)
      .when({ type: 'PaymentRefunded', orderId, refundId: 'ref-pay-1' })
      .then([{ type: 'PaymentRefunded', refundId: 'ref-pay-1' }])
      .thenTerminal();
  });

  it('settles a cancelled order when its late charge is declined or dead-lettered, with nothing more to do', () => {
    const given = [placed, reserved, cancelledBy('customer-request'), released] as const;
    spec
      .given(...given)
      .when({ type: 'PaymentDeclined', orderId, reason: 'card declined by issuer' })
      .then([{ type: 'PaymentDeclined', reason: 'card declined by issuer' }])
      .thenEffects([])
      .thenTerminal();
    spec.given(...given).when({ type: 'PaymentFailed', orderId, error: 'gateway down' }).then([{ type: 'PaymentFailed', error: 'gateway down' }]).thenEffects([]).thenTerminal();
  });

  it('refuses PaymentRefunded when no refund is in flight', () => {
    spec.given(placed, reserved, paid).when({ type: 'PaymentRefunded', orderId, refundId: 'ref-1' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'PaymentRefunded' });
  });
});

describe('payment deadline', () => {
  it('cancels an unpaid order and releases its stock; the firing timer is not cancelled again', () => {
    spec
      .given(placed, reserved)
      .when({ type: 'PaymentDeadlinePassed', orderId })
      .then([cancelledBy('payment-timeout')])
      .thenEffects([releaseStock])
      .thenCancelled([])
      .thenTerminal(false);
  });

  it('cancels an order whose stock is still being reserved; the reservation is released when it lands', () => {
    spec.given(placed).when({ type: 'PaymentDeadlinePassed', orderId }).then([cancelledBy('payment-timeout')]).thenEffects([]).thenTerminal(false);
  });

  it('is refused for a paid order as ALREADY_PAID', () => {
    spec.given(placed, reserved, paid).when({ type: 'PaymentDeadlinePassed', orderId }).thenRejected({ code: 'ALREADY_PAID' });
  });

  it('is refused for a cancelled order as ALREADY_CANCELLED', () => {
    spec.given(placed, cancelledBy('customer-request')).when({ type: 'PaymentDeadlinePassed', orderId }).thenRejected({ code: 'ALREADY_CANCELLED' });
  });
});

describe('customer cancellation', () => {
  it('cancels a placed order, cancels the deadline and releases reserved stock', () => {
    spec
      .given(placed, reserved)
      .when({ type: 'CancelOrder', orderId })
      .then([cancelledBy('customer-request')])
      .thenEffects([releaseStock])
      .thenCancelled([PAYMENT_DEADLINE]);
  });

  it('is refused once paid (ALREADY_PAID), shipped (ALREADY_SHIPPED) or cancelled (ALREADY_CANCELLED)', () => {
    spec.given(placed, reserved, paid).when({ type: 'CancelOrder', orderId }).thenRejected({ code: 'ALREADY_PAID' });
    spec.given(placed, reserved, paid, shipped).when({ type: 'CancelOrder', orderId }).thenRejected({ code: 'ALREADY_SHIPPED' });
    spec.given(placed, cancelledBy('payment-timeout')).when({ type: 'CancelOrder', orderId }).thenRejected({ code: 'ALREADY_CANCELLED' });
  });
});

describe('shipping and gift cards', () => {
  it('shipping completes a paid order', () => {
    spec
      .given(placed, reserved, paid)
      .when({ type: 'OrderShipped', orderId, trackingNumber: 'TRK-0001' })
      .then([shipped])
      .thenState({
        ...order,
        status: 'shipped',
        stock: 'reserved',
        payment: 'paid',
        giftCardStatus: 'none',
        reservationId: 'rsv-o-1',
        paymentId: 'pay-1',
        trackingNumber: 'TRK-0001',
      })
      .thenTerminal();
  });

  it('a shipped gift order completes only once its gift card is settled', () => {
    spec.given(placedWithGift, reserved, paid).when({ type: 'OrderShipped', orderId, trackingNumber: 'TRK-0001' }).thenTerminal(false);
    spec.given(placedWithGift, reserved, paid, shipped).when({ type: 'GiftCardSent', orderId, code: 'GIFT-0001' }).then([{ type: 'GiftCardSent', code: 'GIFT-0001' }]).thenTerminal();
  });

  it('a failed gift card is recorded and the order still completes', () => {
    spec
      .given(placedWithGift, reserved, paid, shipped)
      .when({ type: 'GiftCardFailed', orderId, error: 'NON_RETRYABLE: over the limit' })
      .then([{ type: 'GiftCardFailed', error: 'NON_RETRYABLE: over the limit' }])
      .thenTerminal();
  });

  it('refuses OrderShipped before payment (UNEXPECTED_INPUT) and twice (ALREADY_SHIPPED)', () => {
    spec.given(placed, reserved).when({ type: 'OrderShipped', orderId, trackingNumber: 'TRK-0001' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'OrderShipped' });
    spec.given(placed, reserved, paid, shipped).when({ type: 'OrderShipped', orderId, trackingNumber: 'TRK-0001' }).thenRejected({ code: 'ALREADY_SHIPPED' });
  });

  it('refuses gift card results when no gift card is in flight', () => {
    spec.given(placed, reserved, paid).when({ type: 'GiftCardSent', orderId, code: 'GIFT-0001' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'GiftCardSent' });
    spec.given(placed, reserved, paid).when({ type: 'GiftCardFailed', orderId, error: 'x' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'GiftCardFailed' });
  });
});

describe('dead-letter notices', () => {
  const notice = (effect: OrderEffect) =>
    orders.onDeadLetter?.({ kind: 'effect', id: 'e-1', effect, attempts: 4, error: 'attempts exhausted' });

  it('turn a dead-lettered charge into PaymentFailed', () => {
    expect(notice(chargePayment)).toEqual({ type: 'PaymentFailed', orderId, error: 'attempts exhausted' });
  });

  it('turn a dead-lettered gift card into GiftCardFailed', () => {
    expect(notice({ type: 'SendGiftCard', orderId, ...giftCard })).toEqual({ type: 'GiftCardFailed', orderId, error: 'attempts exhausted' });
  });

  it('leave stock, shipping and refunds, and dead timers, to the operator', () => {
    for (const effect of [reserveStock, releaseStock, shipOrder, { type: 'RefundPayment', orderId, paymentId: 'pay-1', amount: 1 } as const]) {
      expect(notice(effect)).toBeUndefined();
    }
    expect(orders.onDeadLetter?.({ kind: 'timer', id: 't-1', input: { type: 'PaymentDeadlinePassed', orderId }, attempts: 5, error: 'x' })).toBeUndefined();
  });
});
