// The order decider, transition by transition: given past events, when an input arrives, then
// these events, effects, timers, cancellations and children (or this rejection). No store, no engine.
import { describe, expect, it } from 'vitest';
import type { ChildNotice } from '@ironflow/core';
import { deciderSpec } from '@ironflow/testing';
import { DECLINED_CARD, GOOD_CARD } from '../src/handlers.js';
import { CHARGE, createOrderWorkflow, PAYMENT_DEADLINE, type OrderEffect, type OrderEvent, type OrderInput } from '../src/order-workflow.js';

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
const delivered: OrderEvent = { type: 'OrderDelivered', trackingNumber: 'TRK-0001' };
const released: OrderEvent = { type: 'StockReleased' };
const chargeCancelled: OrderEvent = { type: 'ChargeCancelled' };
const cancelledBy = (reason: Extract<OrderEvent, { type: 'OrderCancelled' }>['reason']): OrderEvent => ({ type: 'OrderCancelled', reason });

const reserveStock: OrderEffect = { type: 'ReserveStock', orderId, items };
const releaseStock: OrderEffect = { type: 'ReleaseStock', orderId, reservationId: 'rsv-o-1' };
const chargePayment: OrderEffect = { type: 'ChargePayment', orderId, amount: 3_998, card: GOOD_CARD };
const refundPayment: OrderEffect = { type: 'RefundPayment', orderId, paymentId: 'pay-1', amount: 3_998 };
/** The shipment child a paid order starts: named by the order's id. */
const shipmentStart = { workflowType: 'shipment', input: { type: 'RequestShipment', shipmentId: orderId, items } };

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
  it('charges the card once the stock is reserved, as the keyed effect "charge"', () => {
    spec
      .given(placed)
      .when({ type: 'StockReserved', orderId, reservationId: 'rsv-o-1' })
      .then([reserved])
      .thenEffects([chargePayment])
      .thenEffectOptions([{ key: CHARGE }])
      .thenTimers([])
      .thenCancelled([]);
  });

  it('releases at once a reservation that arrives after the order was cancelled, and charges nothing', () => {
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
      .thenEffectsCancelled([])
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
  it('a successful payment cancels the deadline and starts the shipment child in the same decision', () => {
    spec
      .given(placed, reserved)
      .when({ type: 'PaymentSucceeded', orderId, paymentId: 'pay-1' })
      .then([paid])
      .thenEffects([])
      .thenStarted([shipmentStart])
      .thenCancelled([PAYMENT_DEADLINE])
      .thenState({ ...order, status: 'paid', stock: 'reserved', payment: 'paid', giftCardStatus: 'none', reservationId: 'rsv-o-1', paymentId: 'pay-1' })
      .thenTerminal(false);
  });

  it('a successful payment of a gift order also sends the gift card', () => {
    spec
      .given(placedWithGift, reserved)
      .when({ type: 'PaymentSucceeded', orderId, paymentId: 'pay-1' })
      .thenEffects([{ type: 'SendGiftCard', orderId, ...giftCard }])
      .thenStarted([shipmentStart]);
  });

  it('refuses a second PaymentSucceeded as ALREADY_PAID', () => {
    spec.given(placed, reserved, paid).when({ type: 'PaymentSucceeded', orderId, paymentId: 'pay-1' }).thenRejected({ code: 'ALREADY_PAID' });
  });

  it('refuses a payment result when no charge is in flight, including after the charge was cancelled', () => {
    spec.given(placed).when({ type: 'PaymentSucceeded', orderId, paymentId: 'pay-1' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'PaymentSucceeded' });
    spec.given(placed).when({ type: 'PaymentDeclined', orderId, reason: 'no' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'PaymentDeclined' });
    spec.given(placed).when({ type: 'PaymentFailed', orderId, error: 'no' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'PaymentFailed' });
    spec
      .given(placed, reserved, cancelledBy('payment-timeout'), chargeCancelled)
      .when({ type: 'PaymentSucceeded', orderId, paymentId: 'pay-1' })
      .thenRejected({ code: 'UNEXPECTED_INPUT', input: 'PaymentSucceeded' });
  });

  it('a declined card cancels the order, releases the stock and cancels the deadline; the charge that answered is not cancelled', () => {
    deciderSpec(orders)
      .given({ ...placed, card: DECLINED_CARD }, reserved)
      .when({ type: 'PaymentDeclined', orderId, reason: 'card declined by issuer' })
      .then([{ type: 'PaymentDeclined', reason: 'card declined by issuer' }, cancelledBy('card-declined')])
      .thenEffects([releaseStock])
      .thenEffectsCancelled([])
      .thenCancelled([PAYMENT_DEADLINE])
      .thenTerminal(false);
  });

  it('a dead-lettered charge (PaymentFailed) cancels the order and releases the stock', () => {
    spec
      .given(placed, reserved)
      .when({ type: 'PaymentFailed', orderId, error: 'attempts exhausted (4/4): Error: payment gateway unavailable (503)' })
      .then([{ type: 'PaymentFailed', error: 'attempts exhausted (4/4): Error: payment gateway unavailable (503)' }, cancelledBy('payment-failed')])
      .thenEffects([releaseStock])
      .thenEffectsCancelled([])
      .thenCancelled([PAYMENT_DEADLINE]);
  });

  it('refuses PaymentRefunded when no refund is in flight', () => {
    spec.given(placed, reserved, paid).when({ type: 'PaymentRefunded', orderId, refundId: 'ref-1' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'PaymentRefunded' });
  });
});

describe('payment deadline', () => {
  it('cancels an unpaid order, cancels the charge by its key instead of refunding it later, and releases the stock', () => {
    spec
      .given(placed, reserved)
      .when({ type: 'PaymentDeadlinePassed', orderId })
      .then([cancelledBy('payment-timeout'), chargeCancelled])
      .thenEffects([releaseStock])
      .thenEffectsCancelled([CHARGE])
      // The firing timer is not cancelled again.
      .thenCancelled([])
      .thenState({ ...order, status: 'cancelled', cancelReason: 'payment-timeout', stock: 'releasing', payment: 'cancelled', giftCardStatus: 'none', reservationId: 'rsv-o-1' })
      .thenTerminal(false);
  });

  it('settles the timed-out order once its stock is released: no money was taken, nothing to refund', () => {
    spec.given(placed, reserved, cancelledBy('payment-timeout'), chargeCancelled).when({ type: 'StockReleased', orderId }).then([released]).thenEffects([]).thenTerminal();
  });

  it('cancels an order whose stock is still being reserved; there is no charge yet, and the reservation is released when it lands', () => {
    spec
      .given(placed)
      .when({ type: 'PaymentDeadlinePassed', orderId })
      .then([cancelledBy('payment-timeout')])
      .thenEffects([])
      .thenEffectsCancelled([])
      .thenTerminal(false);
  });

  it('is refused for a paid order as ALREADY_PAID', () => {
    spec.given(placed, reserved, paid).when({ type: 'PaymentDeadlinePassed', orderId }).thenRejected({ code: 'ALREADY_PAID' });
  });

  it('is refused for a cancelled order as ALREADY_CANCELLED', () => {
    spec.given(placed, cancelledBy('customer-request')).when({ type: 'PaymentDeadlinePassed', orderId }).thenRejected({ code: 'ALREADY_CANCELLED' });
  });
});

describe('customer cancellation', () => {
  it('cancels a placed order, its charge (by key) and its deadline, and releases reserved stock', () => {
    spec
      .given(placed, reserved)
      .when({ type: 'CancelOrder', orderId })
      .then([cancelledBy('customer-request'), chargeCancelled])
      .thenEffects([releaseStock])
      .thenEffectsCancelled([CHARGE])
      .thenCancelled([PAYMENT_DEADLINE]);
  });

  it('is refused once paid (ALREADY_PAID), delivered (ALREADY_DELIVERED) or cancelled (ALREADY_CANCELLED)', () => {
    spec.given(placed, reserved, paid).when({ type: 'CancelOrder', orderId }).thenRejected({ code: 'ALREADY_PAID' });
    spec.given(placed, reserved, paid, delivered).when({ type: 'CancelOrder', orderId }).thenRejected({ code: 'ALREADY_DELIVERED' });
    spec.given(placed, cancelledBy('payment-timeout')).when({ type: 'CancelOrder', orderId }).thenRejected({ code: 'ALREADY_CANCELLED' });
  });
});

describe('the shipment child', () => {
  it('its delivery completes a paid order', () => {
    spec
      .given(placed, reserved, paid)
      .when({ type: 'ShipmentDelivered', orderId, trackingNumber: 'TRK-0001' })
      .then([delivered])
      .thenState({
        ...order,
        status: 'delivered',
        stock: 'reserved',
        payment: 'paid',
        giftCardStatus: 'none',
        reservationId: 'rsv-o-1',
        paymentId: 'pay-1',
        trackingNumber: 'TRK-0001',
      })
      .thenTerminal();
  });

  it('its failure cancels the paid order: the charge, which went through, is refunded and the stock released', () => {
    spec
      .given(placed, reserved, paid)
      .when({ type: 'ShipmentFailed', orderId, error: 'refused by the carrier: too big' })
      .then([{ type: 'ShipmentFailed', error: 'refused by the carrier: too big' }, cancelledBy('shipment-failed')])
      .thenEffects([refundPayment, releaseStock])
      .thenEffectsCancelled([])
      // The deadline was cancelled with the payment.
      .thenCancelled([])
      .thenTerminal(false);
  });

  it('settles the order of a failed shipment once the refund and the release are both done', () => {
    const given = [placed, reserved, paid, { type: 'ShipmentFailed', error: 'x' }, cancelledBy('shipment-failed')] as const;
    spec.given(...given).when({ type: 'PaymentRefunded', orderId, refundId: 'ref-pay-1' }).then([{ type: 'PaymentRefunded', refundId: 'ref-pay-1' }]).thenTerminal(false);
    spec.given(...given, { type: 'PaymentRefunded', refundId: 'ref-pay-1' }).when({ type: 'StockReleased', orderId }).then([released]).thenTerminal();
  });

  it('refuses its ending before payment (UNEXPECTED_INPUT) and a second delivery (ALREADY_DELIVERED)', () => {
    spec.given(placed, reserved).when({ type: 'ShipmentDelivered', orderId, trackingNumber: 'TRK-0001' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'ShipmentDelivered' });
    spec.given(placed, reserved).when({ type: 'ShipmentFailed', orderId, error: 'x' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'ShipmentFailed' });
    spec.given(placed, reserved, paid, delivered).when({ type: 'ShipmentDelivered', orderId, trackingNumber: 'TRK-0001' }).thenRejected({ code: 'ALREADY_DELIVERED' });
  });
});

describe('gift cards', () => {
  it('a delivered gift order completes only once its gift card is settled', () => {
    spec.given(placedWithGift, reserved, paid).when({ type: 'ShipmentDelivered', orderId, trackingNumber: 'TRK-0001' }).thenTerminal(false);
    spec.given(placedWithGift, reserved, paid, delivered).when({ type: 'GiftCardSent', orderId, code: 'GIFT-0001' }).then([{ type: 'GiftCardSent', code: 'GIFT-0001' }]).thenTerminal();
  });

  it('a failed gift card is recorded and the order still completes', () => {
    spec
      .given(placedWithGift, reserved, paid, delivered)
      .when({ type: 'GiftCardFailed', orderId, error: 'NON_RETRYABLE: over the limit' })
      .then([{ type: 'GiftCardFailed', error: 'NON_RETRYABLE: over the limit' }])
      .thenTerminal();
  });

  it('refuses gift card results when no gift card is in flight', () => {
    spec.given(placed, reserved, paid).when({ type: 'GiftCardSent', orderId, code: 'GIFT-0001' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'GiftCardSent' });
    spec.given(placed, reserved, paid).when({ type: 'GiftCardFailed', orderId, error: 'x' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'GiftCardFailed' });
  });
});

describe('dead-letter notices', () => {
  const notice = (effect: OrderEffect) => orders.onDeadLetter?.({ kind: 'effect', id: 'e-1', effect, attempts: 4, error: 'attempts exhausted' });

  it('turn a dead-lettered charge into PaymentFailed', () => {
    expect(notice(chargePayment)).toEqual({ type: 'PaymentFailed', orderId, error: 'attempts exhausted' });
  });

  it('turn a dead-lettered gift card into GiftCardFailed', () => {
    expect(notice({ type: 'SendGiftCard', orderId, ...giftCard })).toEqual({ type: 'GiftCardFailed', orderId, error: 'attempts exhausted' });
  });

  it('leave stock and refunds, and dead timers, to the operator', () => {
    for (const effect of [reserveStock, releaseStock, refundPayment]) expect(notice(effect)).toBeUndefined();
    expect(orders.onDeadLetter?.({ kind: 'timer', id: 't-1', input: { type: 'PaymentDeadlinePassed', orderId }, attempts: 5, error: 'x' })).toBeUndefined();
  });
});

describe('child notices (onChild)', () => {
  const child = { workflowType: 'shipment', workflowId: orderId } as const;
  const heard = (notice: ChildNotice) => orders.onChild?.(notice);

  it('turn a delivered shipment into ShipmentDelivered with its tracking number', () => {
    expect(heard({ ...child, outcome: 'completed', state: { status: 'delivered', items, trackingNumber: 'TRK-0001' } })).toEqual({
      type: 'ShipmentDelivered',
      orderId,
      trackingNumber: 'TRK-0001',
    });
  });

  it('turn a refused, cancelled or failed shipment into ShipmentFailed, saying why', () => {
    expect(heard({ ...child, outcome: 'completed', state: { status: 'refused', items, error: 'NON_RETRYABLE: too big' } })).toEqual({
      type: 'ShipmentFailed',
      orderId,
      error: 'refused by the carrier: NON_RETRYABLE: too big',
    });
    expect(heard({ ...child, outcome: 'cancelled', reason: 'address unknown' })).toEqual({ type: 'ShipmentFailed', orderId, error: 'cancelled: address unknown' });
    expect(heard({ ...child, outcome: 'failed', error: 'carrier down' })).toEqual({ type: 'ShipmentFailed', orderId, error: 'carrier down' });
  });

  it('keep an error within what the order schema accepts', () => {
    const input = heard({ ...child, outcome: 'failed', error: 'x'.repeat(5_000) });
    expect(input?.type === 'ShipmentFailed' && input.error).toHaveLength(2_000);
  });

  it('ignore children of other types', () => {
    expect(heard({ outcome: 'completed', workflowType: 'invoice', workflowId: orderId, state: {} })).toBeUndefined();
  });
});
