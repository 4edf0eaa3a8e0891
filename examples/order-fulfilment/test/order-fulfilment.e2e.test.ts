// The order workflow end to end on the real runtime: memory store, manual clock, simulated
// services. Time moves only through `advance`, which runs every effect and due timer.
import { describe, expect, it } from 'vitest';
import type { EffectRecord, TimerRecord } from '@ironflow/core/store';
import type { LifecycleEvent } from '@ironflow/runtime';
import { createTestEngine } from '@ironflow/testing';
import { orderFulfilment, type OrderFulfilmentOptions } from '../src/engine.js';
import { DECLINED_CARD, GOOD_CARD } from '../src/handlers.js';
import type { GiftCard, OrderLine } from '../src/order-workflow.js';

const MINUTE = 60_000;
const BOOKS: readonly OrderLine[] = [{ sku: 'BOOK-1', quantity: 2 }];

/** A test engine running the example; jitter off so retry times are exact. */
function setup(options: OrderFulfilmentOptions = {}) {
  const app = orderFulfilment({ ...options, retry: { jitter: 'none', ...options.retry } });
  const t = createTestEngine(app.engineOptions);
  const { engine, settle, advance } = t;
  const { workflow, services } = app;
  const lifecycle: LifecycleEvent[] = [];
  engine.on('*', (event) => lifecycle.push(event));
  const ref = (orderId: string) => ({ type: workflow.type, id: orderId });
  return {
    engine,
    workflow,
    services,
    settle,
    advance,
    lifecycle,
    place: (orderId: string, extra: { card?: string; items?: readonly OrderLine[]; giftCard?: GiftCard } = {}) =>
      engine.execute(workflow, { type: 'PlaceOrder', orderId, items: extra.items ?? BOOKS, amount: 3_998, card: extra.card ?? GOOD_CARD, ...(extra.giftCard ? { giftCard: extra.giftCard } : {}) }),
    state: async (orderId: string) => engine.getState(workflow, orderId),
    eventTypes: async (orderId: string) => (await engine.getEvents(ref(orderId))).map((e) => e.type),
    effects: async (orderId: string) => (await engine.listEffects(ref(orderId))).map((e) => ({ type: kindOf(e), status: e.status, attempts: e.attempts })),
    timers: async (orderId: string) => (await engine.listTimers(ref(orderId))).map((timer) => [timer.key, timer.status]),
    effectOf: async (orderId: string, type: string) => (await engine.listEffects(ref(orderId))).find((e) => kindOf(e) === type),
  };
}

/** The `type` of an effect payload. */
function kindOf(record: EffectRecord | TimerRecord): string {
  const payload = record.kind === 'effect' ? record.payload : record.input;
  return typeof payload === 'object' && payload !== null && 'type' in payload ? String(payload.type) : '?';
}

describe('order fulfilment, end to end', () => {
  it('a paid order ships and completes; its payment deadline is cancelled and never fires', async () => {
    const t = setup();
    expect((await t.place('o-100')).status).toBe('accepted');
    expect(await t.settle()).toEqual({ effects: 3, timers: 0 });

    expect(await t.eventTypes('o-100')).toEqual(['OrderPlaced', 'StockReserved', 'PaymentSucceeded', 'OrderShipped']);
    const { state, completed } = await t.state('o-100');
    expect(completed).toBe(true);
    expect(state).toMatchObject({ status: 'shipped', stock: 'reserved', payment: 'paid', trackingNumber: 'TRK-0001' });
    // Effects written in the same millisecond list in no fixed order (see the README), so compare as a set.
    const effects = await t.effects('o-100');
    expect(effects).toHaveLength(3);
    expect(effects).toEqual(
      expect.arrayContaining([
        { type: 'ReserveStock', status: 'done', attempts: 1 },
        { type: 'ChargePayment', status: 'done', attempts: 1 },
        { type: 'ShipOrder', status: 'done', attempts: 1 },
      ]),
    );
    expect(t.services.inventory.available('BOOK-1')).toBe(98);
    expect(t.services.payments.chargesOf('o-100')).toHaveLength(1);

    expect(await t.timers('o-100')).toEqual([['payment-deadline', 'cancelled']]);
    expect(await t.advance(15 * MINUTE)).toEqual({ effects: 0, timers: 0 });
    expect(await t.engine.listInstances({ workflowType: t.workflow.type, status: 'completed' })).toHaveLength(1);
  });

  it('transient gateway failures are retried with backoff, and the idempotency key prevents a double charge', async () => {
    const t = setup();
    await t.place('o-107'); // ends in 7: the gateway fails, then charges but loses the response
    await t.settle();
    expect(await t.effectOf('o-107', 'ChargePayment')).toMatchObject({ status: 'pending', attempts: 1, lastError: 'Error: payment gateway unavailable (503)' });

    await t.advance(200); // baseDelayMs
    expect(await t.effectOf('o-107', 'ChargePayment')).toMatchObject({ status: 'pending', attempts: 2, lastError: 'Error: payment gateway timed out after charging' });
    expect(await t.advance(399)).toEqual({ effects: 0, timers: 0 }); // the second delay doubles to 400 ms
    await t.advance(1);

    expect(await t.effectOf('o-107', 'ChargePayment')).toMatchObject({ status: 'done', attempts: 3 });
    const retried = t.lifecycle.filter((e) => e.type === 'effect.retried');
    expect(retried.map((e) => e.type === 'effect.retried' && [e.attempt, e.error])).toEqual([
      [1, 'Error: payment gateway unavailable (503)'],
      [2, 'Error: payment gateway timed out after charging'],
    ]);
    expect(t.services.payments.chargesOf('o-107')).toHaveLength(1);
    expect(await t.state('o-107')).toMatchObject({ state: { status: 'shipped', paymentId: 'pay-1' }, completed: true });
  });

  it('a declined card cancels the order and the stock is released', async () => {
    const t = setup();
    await t.place('o-102', { card: DECLINED_CARD });
    expect(await t.settle()).toEqual({ effects: 3, timers: 0 });

    expect(await t.eventTypes('o-102')).toEqual(['OrderPlaced', 'StockReserved', 'PaymentDeclined', 'OrderCancelled', 'StockReleased']);
    expect(await t.state('o-102')).toMatchObject({ state: { status: 'cancelled', cancelReason: 'card-declined', stock: 'released', payment: 'declined' }, completed: true });
    expect(t.services.inventory.available('BOOK-1')).toBe(100);
    expect(t.services.shipping.shipments.size).toBe(0);
    expect(await t.timers('o-102')).toEqual([['payment-deadline', 'cancelled']]);
  });

  it('when the clock passes the payment deadline first, the order is cancelled and its stock released; a charge that lands later is refunded', async () => {
    // A gateway outage, with retries slow enough to outlast the 15-minute deadline.
    const t = setup({ retry: { baseDelayMs: 2 * MINUTE, maxDelayMs: 60 * MINUTE, maxAttempts: 10 } });
    t.services.payments.outage = true;
    await t.place('o-103');
    await t.settle();

    for (let minute = 1; minute < 15; minute++) await t.advance(MINUTE);
    expect((await t.state('o-103')).state).toMatchObject({ status: 'placed', payment: 'charging' });

    expect(await t.advance(MINUTE)).toEqual({ effects: 1, timers: 1 }); // the deadline, then ReleaseStock
    expect(await t.timers('o-103')).toEqual([['payment-deadline', 'fired']]);
    expect(await t.state('o-103')).toMatchObject({
      state: { status: 'cancelled', cancelReason: 'payment-timeout', stock: 'released', payment: 'charging' },
      completed: false, // the charge is still in flight
    });
    expect(t.services.inventory.available('BOOK-1')).toBe(100);

    t.services.payments.outage = false;
    await t.advance(60 * MINUTE);
    expect(await t.eventTypes('o-103')).toEqual(['OrderPlaced', 'StockReserved', 'OrderCancelled', 'StockReleased', 'PaymentSucceeded', 'PaymentRefunded']);
    expect(t.services.payments.chargesOf('o-103')).toEqual([expect.objectContaining({ refunded: true })]);
    expect(await t.state('o-103')).toMatchObject({ state: { payment: 'refunded' }, completed: true });
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
    expect(await t.advance(30 * MINUTE)).toEqual({ effects: 0, timers: 0 });
    expect(await t.state('o-104')).toMatchObject({ state: { status: 'shipped' }, completed: true });
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
    expect(history.slice(3).sort()).toEqual(['GiftCardFailed', 'OrderShipped']); // ShipOrder and SendGiftCard run side by side
    expect(await t.state('o-106')).toMatchObject({ state: { status: 'shipped', giftCardStatus: 'failed' }, completed: true });
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
    expect(await t.settle()).toEqual({ effects: 1, timers: 0 });

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
    expect(await t.settle()).toEqual({ effects: 2, timers: 0 });

    expect(await t.eventTypes('o-109')).toEqual(['OrderPlaced', 'OrderCancelled', 'StockReserved', 'StockReleased']);
    expect(await t.state('o-109')).toMatchObject({ state: { cancelReason: 'customer-request', stock: 'released', payment: 'none' }, completed: true });
    expect(t.services.inventory.available('BOOK-1')).toBe(100);
    expect(t.services.payments.charges.size).toBe(0);
  });

  it('an order for stock that is not there is cancelled as out-of-stock', async () => {
    const t = setup();
    await t.place('o-110', { items: [{ sku: 'LAMP-1', quantity: 2 }] });
    expect(await t.settle()).toEqual({ effects: 1, timers: 0 });
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
