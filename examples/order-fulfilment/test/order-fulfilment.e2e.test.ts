// The order workflow and its shipment child end to end on the real runtime: memory store, manual
// clock, simulated services. Time moves only through `advance`, which runs every effect and due timer.
import { describe, expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import type { EffectRecord, TimerRecord } from '@ironflow/core/store';
import type { LifecycleEvent } from '@ironflow/runtime';
import { createTestEngine } from '@ironflow/testing';
import { orderFulfilment, type OrderFulfilmentOptions } from '../src/engine.js';
import { createServices, DECLINED_CARD, FREIGHT_SKU, GOOD_CARD, SLOW_ISSUER_CARD } from '../src/handlers.js';
import type { GiftCard, OrderLine } from '../src/order-workflow.js';

const MINUTE = 60_000;
const BOOKS: readonly OrderLine[] = [{ sku: 'BOOK-1', quantity: 2 }];

/** A test engine running the example; jitter off so retry times are exact. */
function setup(options: OrderFulfilmentOptions = {}) {
  const app = orderFulfilment({ ...options, retry: { jitter: 'none', ...options.retry } });
  const t = createTestEngine(app.engineOptions);
  const { engine, settle, advance } = t;
  const { workflow, shipment, services } = app;
  const lifecycle: LifecycleEvent[] = [];
  engine.on('*', (event) => lifecycle.push(event));
  const ref = (orderId: string) => ({ type: workflow.type, id: orderId });
  // A shipment is named by its order's id.
  const shipmentRef = (orderId: string) => ({ type: shipment.type, id: orderId });
  return {
    engine,
    workflow,
    shipment,
    services,
    settle,
    advance,
    lifecycle,
    ref,
    shipmentRef,
    place: (orderId: string, extra: { card?: string; items?: readonly OrderLine[]; giftCard?: GiftCard } = {}) =>
      engine.execute(workflow, { type: 'PlaceOrder', orderId, items: extra.items ?? BOOKS, amount: 3_998, card: extra.card ?? GOOD_CARD, ...(extra.giftCard ? { giftCard: extra.giftCard } : {}) }),
    state: async (orderId: string) => engine.getState(workflow, orderId),
    shipmentState: async (orderId: string) => engine.getState(shipment, orderId),
    eventTypes: async (orderId: string) => (await engine.getEvents(ref(orderId))).map((e) => e.type),
    shipmentEventTypes: async (orderId: string) => (await engine.getEvents(shipmentRef(orderId))).map((e) => e.type),
    effects: async (orderId: string) => (await engine.listEffects(ref(orderId))).map((e) => ({ type: kindOf(e), status: e.status, attempts: e.attempts })),
    timers: async (orderId: string) => (await engine.listTimers(ref(orderId))).map((timer) => [timer.key, timer.status]),
    effectOf: async (orderId: string, type: string) => (await engine.listEffects(ref(orderId))).find((e) => kindOf(e) === type),
    shipmentEffectOf: async (orderId: string, type: string) => (await engine.listEffects(shipmentRef(orderId))).find((e) => kindOf(e) === type),
  };
}

/** The `type` of an effect payload; `start <type>` for the runtime's effect that starts a child. */
function kindOf(record: EffectRecord | TimerRecord): string {
  const payload = record.kind === 'effect' ? record.payload : record.input;
  if (typeof payload !== 'object' || payload === null) return '?';
  if ('$ironflow' in payload && payload.$ironflow === 'start' && 'workflowType' in payload) return `start ${String(payload.workflowType)}`;
  return 'type' in payload ? String(payload.type) : '?';
}

describe('order fulfilment, end to end', () => {
  it('a paid order starts its shipment child; the delivery comes back through onChild and completes the order', async () => {
    const t = setup();
    expect((await t.place('o-100')).status).toBe('accepted');
    await t.settle();

    expect(await t.eventTypes('o-100')).toEqual(['OrderPlaced', 'StockReserved', 'PaymentSucceeded', 'OrderDelivered']);
    const { state, completed } = await t.state('o-100');
    expect(completed).toBe(true);
    expect(state).toMatchObject({ status: 'delivered', stock: 'reserved', payment: 'paid', trackingNumber: 'TRK-0001' });
    // Effects written in the same millisecond list in no fixed order (see the README), so compare as a set.
    const effects = await t.effects('o-100');
    expect(effects).toHaveLength(3);
    expect(effects).toEqual(
      expect.arrayContaining([
        { type: 'ReserveStock', status: 'done', attempts: 1 },
        { type: 'ChargePayment', status: 'done', attempts: 1 },
        { type: 'start shipment', status: 'done', attempts: 1 },
      ]),
    );
    expect(await t.effectOf('o-100', 'ChargePayment')).toMatchObject({ key: 'charge' });

    // The child records its parent, and ended delivered; its ending was routed to the order.
    const children = await t.engine.pageInstances({ parent: t.ref('o-100') });
    expect(children.items.map((c) => [c.workflowType, c.workflowId, c.status])).toEqual([['shipment', 'o-100', 'completed']]);
    expect(await t.shipmentEventTypes('o-100')).toEqual(['ShipmentRequested', 'ParcelBooked', 'ParcelDelivered']);
    expect((await t.shipmentState('o-100')).state).toEqual({ status: 'delivered', items: BOOKS, trackingNumber: 'TRK-0001' });
    expect(t.lifecycle.filter((e) => e.type === 'child.reported')).toEqual([
      { type: 'child.reported', parentType: 'order', parentId: 'o-100', childType: 'shipment', childId: 'o-100', outcome: 'completed' },
    ]);
    expect(t.services.inventory.available('BOOK-1')).toBe(98);
    expect(t.services.payments.chargesOf('o-100')).toHaveLength(1);
    expect([...t.services.shipping.parcels.values()]).toEqual([{ shipmentId: 'o-100', trackingNumber: 'TRK-0001', delivered: true }]);

    expect(await t.timers('o-100')).toEqual([['payment-deadline', 'cancelled']]);
    expect(await t.advance(15 * MINUTE)).toMatchObject({ effects: 0, timers: 0 });
    expect(await t.engine.listInstances({ workflowType: t.workflow.type, status: 'completed' })).toHaveLength(1);
  });

  it('engine.waitFor resolves once the order is delivered, woken by the commits that get it there', async () => {
    const t = setup();
    await t.place('o-115');
    const waiting = t.engine.waitFor(t.workflow, 'o-115', { timeoutMs: 60_000 });
    await t.settle();
    expect(await waiting).toMatchObject({ status: 'completed', state: { status: 'delivered' } });
  });

  it('transient gateway failures are retried with backoff, and the idempotency key prevents a double charge', async () => {
    const t = setup();
    await t.place('o-107'); // ends in 7: the gateway fails, then charges but loses the response
    await t.settle();
    expect(await t.effectOf('o-107', 'ChargePayment')).toMatchObject({ status: 'pending', attempts: 1, lastError: 'Error: payment gateway unavailable (503)' });

    await t.advance(200); // baseDelayMs
    expect(await t.effectOf('o-107', 'ChargePayment')).toMatchObject({ status: 'pending', attempts: 2, lastError: 'Error: payment gateway timed out after charging' });
    expect(await t.advance(399)).toMatchObject({ effects: 0, timers: 0 }); // the second delay doubles to 400 ms
    await t.advance(1);

    expect(await t.effectOf('o-107', 'ChargePayment')).toMatchObject({ status: 'done', attempts: 3 });
    const retried = t.lifecycle.filter((e) => e.type === 'effect.retried');
    expect(retried.map((e) => e.type === 'effect.retried' && [e.attempt, e.error])).toEqual([
      [1, 'Error: payment gateway unavailable (503)'],
      [2, 'Error: payment gateway timed out after charging'],
    ]);
    expect(t.services.payments.chargesOf('o-107')).toHaveLength(1);
    expect(await t.state('o-107')).toMatchObject({ state: { status: 'delivered', paymentId: 'pay-1' }, completed: true });
  });

  it('a declined card cancels the order and the stock is released; no shipment is started', async () => {
    const t = setup();
    await t.place('o-102', { card: DECLINED_CARD });
    expect(await t.settle()).toMatchObject({ effects: 3, timers: 0 });

    expect(await t.eventTypes('o-102')).toEqual(['OrderPlaced', 'StockReserved', 'PaymentDeclined', 'OrderCancelled', 'StockReleased']);
    expect(await t.state('o-102')).toMatchObject({ state: { status: 'cancelled', cancelReason: 'card-declined', stock: 'released', payment: 'declined' }, completed: true });
    expect(t.services.inventory.available('BOOK-1')).toBe(100);
    expect((await t.shipmentState('o-102')).version).toBe(0);
    expect(await t.timers('o-102')).toEqual([['payment-deadline', 'cancelled']]);
  });

  it('when the clock passes the payment deadline first, the charge is cancelled by its key: it never runs again, and nothing is charged or refunded', async () => {
    // A gateway outage, with retries slow enough to outlast the 15-minute deadline.
    const t = setup({ retry: { baseDelayMs: 2 * MINUTE, maxDelayMs: 60 * MINUTE, maxAttempts: 10 } });
    t.services.payments.outage = true;
    await t.place('o-103');
    await t.settle();

    for (let minute = 1; minute < 15; minute++) await t.advance(MINUTE);
    expect((await t.state('o-103')).state).toMatchObject({ status: 'placed', payment: 'charging' });
    expect(await t.effectOf('o-103', 'ChargePayment')).toMatchObject({ status: 'pending', attempts: 4 }); // retried at 2, 6 and 14 min; the next is due at 30

    expect(await t.advance(MINUTE)).toMatchObject({ effects: 1, timers: 1 }); // the deadline, then ReleaseStock
    expect(await t.timers('o-103')).toEqual([['payment-deadline', 'fired']]);
    expect(await t.effectOf('o-103', 'ChargePayment')).toMatchObject({ status: 'cancelled', attempts: 4 });
    expect(await t.eventTypes('o-103')).toEqual(['OrderPlaced', 'StockReserved', 'OrderCancelled', 'ChargeCancelled', 'StockReleased']);
    // Nothing is in flight any more: the order completes as soon as its stock is back.
    expect(await t.state('o-103')).toMatchObject({ state: { status: 'cancelled', cancelReason: 'payment-timeout', stock: 'released', payment: 'cancelled' }, completed: true });
    expect(t.services.inventory.available('BOOK-1')).toBe(100);

    t.services.payments.outage = false;
    expect(await t.advance(60 * MINUTE)).toMatchObject({ effects: 0, timers: 0 });
    expect(t.services.payments.charges.size).toBe(0);
    expect(await t.effectOf('o-103', 'RefundPayment')).toBeUndefined();
  });

  it('a customer cancellation while the charge is running aborts its handler (CANCELLED); its result is never routed and nothing is charged', async () => {
    let issuerHasTheCall!: () => void;
    const calling = new Promise<void>((resolve) => (issuerHasTheCall = resolve));
    let abortReason: unknown;
    const services = createServices({
      // The issuer never answers; the call ends when its signal aborts.
      slowIssuer: (_orderId, signal) =>
        new Promise((_resolve, reject) => {
          issuerHasTheCall();
          signal.addEventListener('abort', () => reject((abortReason = signal.reason)), { once: true });
        }),
    });
    const t = setup({ services });
    await t.place('o-112', { card: SLOW_ISSUER_CARD });
    const settling = t.settle();
    await calling;
    expect(await t.effectOf('o-112', 'ChargePayment')).toMatchObject({ status: 'leased', key: 'charge' });

    expect(await t.engine.execute(t.workflow, { type: 'CancelOrder', orderId: 'o-112' })).toMatchObject({ status: 'accepted' });
    await settling;
    await t.settle();

    expect(isIronflowError(abortReason, 'CANCELLED')).toBe(true);
    expect(await t.effectOf('o-112', 'ChargePayment')).toMatchObject({ status: 'cancelled' });
    expect(t.lifecycle.some((e) => e.type === 'effect.cancelled' && e.workflowId === 'o-112')).toBe(true);
    expect(await t.eventTypes('o-112')).toEqual(['OrderPlaced', 'StockReserved', 'OrderCancelled', 'ChargeCancelled', 'StockReleased']);
    expect(await t.state('o-112')).toMatchObject({ state: { cancelReason: 'customer-request', payment: 'cancelled', stock: 'released' }, completed: true });
    expect(t.services.payments.charges.size).toBe(0);
    expect(await t.effectOf('o-112', 'RefundPayment')).toBeUndefined();
  });

  it('when the payment arrives before the deadline, the deadline timer is cancelled and never fires', async () => {
    const t = setup({ retry: { baseDelayMs: 2 * MINUTE, maxDelayMs: 60 * MINUTE, maxAttempts: 10 } });
    t.services.payments.outage = true;
    await t.place('o-104');
    await t.settle();
    await t.advance(2 * MINUTE); // attempt 2 fails; attempt 3 is due 4 minutes later
    t.services.payments.outage = false;
    await t.advance(4 * MINUTE);
    expect(await t.effectOf('o-104', 'ChargePayment')).toMatchObject({ status: 'done', attempts: 3 });

    expect(await t.timers('o-104')).toEqual([['payment-deadline', 'cancelled']]);
    expect(await t.advance(30 * MINUTE)).toMatchObject({ effects: 0, timers: 0 });
    expect(await t.state('o-104')).toMatchObject({ state: { status: 'delivered' }, completed: true });
  });

  it('a charge that keeps failing is dead-lettered, and the notice cancels the order through PaymentFailed', async () => {
    const t = setup();
    t.services.payments.outage = true;
    await t.place('o-105');
    await t.settle();
    for (const wait of [200, 400, 800]) await t.advance(wait); // attempts 2, 3 and 4 of 4

    expect(await t.engine.deadLetters.count({ kind: 'effect', workflowType: t.workflow.type })).toBe(1);
    expect(await t.eventTypes('o-105')).toEqual(['OrderPlaced', 'StockReserved', 'PaymentFailed', 'OrderCancelled', 'StockReleased']);
    const { state, completed } = await t.state('o-105');
    expect(state).toMatchObject({ status: 'cancelled', cancelReason: 'payment-failed', payment: 'failed', stock: 'released' });
    expect(completed).toBe(true);
    const events = await t.engine.getEvents({ type: t.workflow.type, id: 'o-105' });
    expect(events[2]?.payload).toEqual({ type: 'PaymentFailed', error: 'attempts exhausted (4/4): Error: payment gateway unavailable (503)' });
    expect(events[2]?.metadata.causedBy).toMatchObject({ kind: 'effect' });
  });

  it('a gift card the provider refuses is dead-lettered at once; the order records GiftCardFailed and still completes', async () => {
    const t = setup();
    await t.place('o-106', { giftCard: { recipient: 'ada@example.com', amount: 7_500 } }); // the provider's limit is 5 000
    await t.settle();

    expect(await t.engine.deadLetters.count({ kind: 'effect', workflowType: t.workflow.type })).toBe(1);
    const [dead] = await t.engine.deadLetters.list({ kind: 'effect', workflowType: t.workflow.type });
    expect(dead).toMatchObject({ kind: 'effect', workflowId: 'o-106', status: 'dead', attempts: 1 });
    expect(dead && kindOf(dead)).toBe('SendGiftCard');
    expect(dead?.lastError).toContain('NON_RETRYABLE: gift card of 7500 cents exceeds the provider limit of 5000');
    expect(t.lifecycle.filter((e) => e.type === 'effect.retried')).toEqual([]);

    const history = await t.eventTypes('o-106');
    expect(history.slice(0, 3)).toEqual(['OrderPlaced', 'StockReserved', 'PaymentSucceeded']);
    expect(history.slice(3).sort()).toEqual(['GiftCardFailed', 'OrderDelivered']); // the gift card and the shipment run side by side
    expect(await t.state('o-106')).toMatchObject({ state: { status: 'delivered', giftCardStatus: 'failed' }, completed: true });
  });

  it('redriving the dead letter runs the effect again once the cause is fixed', async () => {
    const t = setup();
    await t.place('o-108', { giftCard: { recipient: 'ada@example.com', amount: 7_500 } });
    await t.settle();
    const [dead] = await t.engine.deadLetters.list({ kind: 'effect', workflowType: t.workflow.type });
    if (!dead) throw new Error('expected a dead letter');

    t.services.giftCards.limit = 10_000; // the operator gets the limit raised
    expect(await t.engine.deadLetters.redrive('effect', dead.id)).toBe(true);
    expect(await t.engine.deadLetters.count({ kind: 'effect', workflowType: t.workflow.type })).toBe(0);
    expect(await t.settle()).toMatchObject({ effects: 1, timers: 0 });

    expect(await t.effectOf('o-108', 'SendGiftCard')).toMatchObject({ status: 'done', attempts: 1 });
    expect([...t.services.giftCards.issued.values()]).toEqual([{ orderId: 'o-108', recipient: 'ada@example.com', amount: 7_500, code: 'GIFT-0001' }]);
    expect(await t.engine.deadLetters.redrive('effect', dead.id)).toBe(false);
    // The order had already completed, so the engine answered the routed GiftCardSent with
    // already-completed: the card exists, but the order's history keeps GiftCardFailed.
    const history = await t.eventTypes('o-108');
    expect(history).toContain('GiftCardFailed');
    expect(history).not.toContain('GiftCardSent');
  });

  it('a customer cancellation while stock is being reserved releases the reservation when it lands', async () => {
    const t = setup();
    await t.place('o-109');
    expect(await t.engine.execute(t.workflow, { type: 'CancelOrder', orderId: 'o-109' })).toMatchObject({ status: 'accepted', completed: false });
    expect(await t.engine.execute(t.workflow, { type: 'CancelOrder', orderId: 'o-109' })).toMatchObject({ status: 'rejected', reason: { code: 'ALREADY_CANCELLED' } });
    expect(await t.settle()).toMatchObject({ effects: 2, timers: 0 });

    expect(await t.eventTypes('o-109')).toEqual(['OrderPlaced', 'OrderCancelled', 'StockReserved', 'StockReleased']);
    expect(await t.state('o-109')).toMatchObject({ state: { cancelReason: 'customer-request', stock: 'released', payment: 'none' }, completed: true });
    expect(t.services.inventory.available('BOOK-1')).toBe(100);
    expect(t.services.payments.charges.size).toBe(0);
  });

  it('an order for stock that is not there is cancelled as out-of-stock', async () => {
    const t = setup();
    await t.place('o-110', { items: [{ sku: 'LAMP-1', quantity: 2 }] });
    expect(await t.settle()).toMatchObject({ effects: 1, timers: 0 });
    expect(await t.state('o-110')).toMatchObject({ state: { status: 'cancelled', cancelReason: 'out-of-stock', stock: 'unavailable' }, completed: true });
    expect(t.services.inventory.available('LAMP-1')).toBe(1);
  });

  it('inputs are validated by the schema, refused with typed reasons, and deduplicated by idempotency key', async () => {
    const t = setup();
    await expect(
      t.engine.execute(t.workflow, { type: 'PlaceOrder', orderId: 'o-111', items: [], amount: -1, card: GOOD_CARD }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await t.engine.execute(t.workflow, { type: 'CancelOrder', orderId: 'o-111' })).toMatchObject({ status: 'rejected', reason: { code: 'ORDER_NOT_FOUND' } });

    const input = { type: 'PlaceOrder', orderId: 'o-111', items: BOOKS, amount: 3_998, card: GOOD_CARD } as const;
    expect(await t.engine.execute(t.workflow, input, { idempotencyKey: 'checkout-o-111' })).toMatchObject({ status: 'accepted', version: 1 });
    expect(await t.engine.execute(t.workflow, input, { idempotencyKey: 'checkout-o-111' })).toMatchObject({ status: 'duplicate', version: 1 });
    expect(await t.engine.execute(t.workflow, input)).toMatchObject({ status: 'rejected', reason: { code: 'ORDER_EXISTS' } });
  });
});

describe('the shipment child, end to end', () => {
  it('a parcel the carrier refuses ends the shipment as refused; the order hears it, refunds the charge that went through and releases the stock', async () => {
    const t = setup();
    await t.place('o-113', { items: [{ sku: FREIGHT_SKU, quantity: 1 }] });
    await t.settle();

    // The refused booking is dead-lettered, and the shipment's onDeadLetter ends it as refused.
    const [dead] = await t.engine.deadLetters.list({ kind: 'effect', workflowType: t.shipment.type });
    expect(dead).toMatchObject({ workflowId: 'o-113', attempts: 1 });
    expect(dead && kindOf(dead)).toBe('BookParcel');
    expect(await t.shipmentState('o-113')).toMatchObject({ status: 'completed', state: { status: 'refused' } });

    const history = await t.eventTypes('o-113');
    expect(history.slice(0, 5)).toEqual(['OrderPlaced', 'StockReserved', 'PaymentSucceeded', 'ShipmentFailed', 'OrderCancelled']);
    expect(history.slice(5).sort()).toEqual(['PaymentRefunded', 'StockReleased']);
    const { state, completed } = await t.state('o-113');
    expect(state).toMatchObject({ status: 'cancelled', cancelReason: 'shipment-failed', payment: 'refunded', stock: 'released' });
    expect(state.status === 'cancelled' && state.shipmentError).toContain(`refused by the carrier: NON_RETRYABLE: the carrier does not take ${FREIGHT_SKU}`);
    expect(completed).toBe(true);
    expect(t.services.payments.chargesOf('o-113')).toEqual([expect.objectContaining({ refunded: true })]);
    expect(t.services.inventory.available(FREIGHT_SKU)).toBe(5);
  });

  it('an operator cancelling a paid order cancels its shipment child, whose pending work never runs', async () => {
    const t = setup();
    // Hold the carrier's work: the child is created, its booking stays pending.
    await t.engine.pauseType(t.shipment.type);
    await t.place('o-114');
    await t.settle();
    expect(await t.shipmentState('o-114')).toMatchObject({ status: 'active', state: { status: 'booking' } });

    expect(await t.engine.cancel(t.ref('o-114'), 'fraud suspected')).toMatchObject({ outcome: 'cancelled' });
    const cancelled = await t.engine.pageInstances({ workflowType: t.shipment.type, status: 'cancelled' });
    expect(cancelled.items.map((c) => [c.workflowId, c.cancelReason])).toEqual([['o-114', 'parent order:o-114 cancelled: fraud suspected']]);
    expect(await t.shipmentEffectOf('o-114', 'BookParcel')).toMatchObject({ status: 'cancelled' });

    await t.engine.resumeType(t.shipment.type);
    await t.settle();
    expect(t.services.shipping.parcels.size).toBe(0);
    // The shipment's cancellation reached a cancelled order: dropped, nothing decided.
    expect(await t.eventTypes('o-114')).toEqual(['OrderPlaced', 'StockReserved', 'PaymentSucceeded']);
    expect(await t.state('o-114')).toMatchObject({ status: 'cancelled', completed: true });
  });

  it('an operator cancelling only the shipment tells the order, which refunds and releases', async () => {
    const t = setup();
    t.services.shipping.outage = true; // the booking fails and waits for its retry
    await t.place('o-116');
    await t.settle();
    expect(await t.shipmentEffectOf('o-116', 'BookParcel')).toMatchObject({ status: 'pending', attempts: 1 });

    expect(await t.engine.cancel(t.shipmentRef('o-116'), 'address unknown')).toMatchObject({ outcome: 'cancelled' });
    await t.settle();

    expect(t.lifecycle.filter((e) => e.type === 'child.reported')).toMatchObject([{ childId: 'o-116', outcome: 'cancelled' }]);
    const { state, completed } = await t.state('o-116');
    expect(state).toMatchObject({ status: 'cancelled', cancelReason: 'shipment-failed', shipmentError: 'cancelled: address unknown', payment: 'refunded', stock: 'released' });
    expect(completed).toBe(true);
    expect(t.services.payments.chargesOf('o-116')).toEqual([expect.objectContaining({ refunded: true })]);
  });
});
