// Child workflows (started atomically with the parent's decision, their endings routed back to the
// parent's onChild), waiting for instances, bulk operations, idempotency retention and duplicates.
import { afterEach, describe, expect, it } from 'vitest';
import { accept, createManualClock, defineWorkflow, isIronflowError, reject, startChild, type ChildNotice } from '@ironflow/core';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, register, silentLogger, type Engine } from '../src/index.js';

type ShipInput = { type: 'Ship'; shipmentId: string; fail?: boolean } | { type: 'Shipped'; shipmentId: string } | { type: 'Lost'; shipmentId: string };
type ShipEvent = { type: 'ShipmentRequested'; fail: boolean } | { type: 'ShipmentDelivered' } | { type: 'ShipmentLost' };
type ShipState = { status: 'new' | 'shipping' | 'delivered' | 'lost' };

const shipment = defineWorkflow({
  type: 'shipment',
  initialState: (): ShipState => ({ status: 'new' }),
  evolve: (_state: ShipState, event: ShipEvent): ShipState =>
    event.type === 'ShipmentRequested' ? { status: 'shipping' } : event.type === 'ShipmentDelivered' ? { status: 'delivered' } : { status: 'lost' },
  decide: (input: ShipInput, state: ShipState) => {
    switch (input.type) {
      case 'Ship':
        if (state.status !== 'new') return reject('already shipping' as const);
        if (input.shipmentId.startsWith('refuse')) return reject('no carrier' as const);
        return accept({ type: 'ShipmentRequested', fail: input.fail === true } as ShipEvent, { effects: [{ type: 'book', shipmentId: input.shipmentId, fail: input.fail === true }] });
      case 'Shipped':
        return accept({ type: 'ShipmentDelivered' } as ShipEvent);
      case 'Lost':
        return accept({ type: 'ShipmentLost' } as ShipEvent);
    }
  },
  workflowId: (input) => input.shipmentId,
  isTerminal: (state) => state.status === 'delivered' || state.status === 'lost',
  retry: { maxAttempts: 1 },
});

type OrderInput = { type: 'Place'; orderId: string; shipments: number; failing?: boolean } | { type: 'ChildEnded'; orderId: string; notice: ChildNotice };
type OrderEvent = { type: 'Placed'; shipments: number } | { type: 'ChildReported'; notice: ChildNotice };
type OrderState = { expected: number; reports: ChildNotice[] };

const order = defineWorkflow({
  type: 'order',
  initialState: (): OrderState => ({ expected: 0, reports: [] }),
  evolve: (state: OrderState, event: OrderEvent): OrderState =>
    event.type === 'Placed' ? { expected: event.shipments, reports: [] } : { ...state, reports: [...state.reports, event.notice] },
  decide: (input: OrderInput) =>
    input.type === 'Place'
      ? accept({ type: 'Placed', shipments: input.shipments } as OrderEvent, {
          start: Array.from({ length: input.shipments }, (_, i) => startChild(shipment, { type: 'Ship', shipmentId: `${input.failing === true && i === 0 ? 'refuse' : 's'}-${input.orderId}-${i}`, fail: input.failing === true && i === 1 })),
        })
      : accept({ type: 'ChildReported', notice: input.notice } as OrderEvent),
  workflowId: (input) => input.orderId,
  isTerminal: (state) => state.expected > 0 && state.reports.length === state.expected,
  onChild: (notice): OrderInput => ({ type: 'ChildEnded', orderId: orderIdOf(notice.workflowId), notice }),
});

const orderIdOf = (shipmentId: string): string => shipmentId.split('-').slice(1, -1).join('-');

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});

function setup(options: { idempotencyRetentionMs?: number } = {}) {
  const store = createMemoryStore();
  const clock = createManualClock();
  const booked: string[] = [];
  const engine = createEngine({
    store, clock, logger: silentLogger, ...options,
    workflows: [
      register(order),
      register(shipment).handle(async (effect) => {
        booked.push(effect.shipmentId);
        if (effect.fail) throw new Error('carrier down');
        return undefined;
      }),
    ],
  });
  engines.push(engine);
  return { store, clock, engine, booked };
}

describe('child workflows', () => {
  it('a decision starts children atomically; each child records its parent, and its completion reaches the parent', async () => {
    const t = setup();
    const placed = await t.engine.execute(order, { type: 'Place', orderId: 'o1', shipments: 2 });
    expect(placed).toMatchObject({ status: 'accepted', effects: 2 });
    // The start is committed with the decision, as effects of the parent.
    expect((await t.engine.listEffects({ type: 'order', id: 'o1' })).map((e) => e.payload)).toEqual([
      { $ironflow: 'start', workflowType: 'shipment', input: { type: 'Ship', shipmentId: 's-o1-0', fail: false } },
      { $ironflow: 'start', workflowType: 'shipment', input: { type: 'Ship', shipmentId: 's-o1-1', fail: false } },
    ]);
    await t.engine.runUntilIdle();
    expect(t.booked.sort()).toEqual(['s-o1-0', 's-o1-1']);
    const children = await t.engine.pageInstances({ parent: { type: 'order', id: 'o1' } });
    expect(children.items.map((c) => [c.workflowId, c.status, c.parent])).toEqual([
      ['s-o1-0', 'active', { type: 'order', id: 'o1' }],
      ['s-o1-1', 'active', { type: 'order', id: 'o1' }],
    ]);

    await t.engine.execute(shipment, { type: 'Shipped', shipmentId: 's-o1-0' });
    await t.engine.execute(shipment, { type: 'Lost', shipmentId: 's-o1-1' });
    await t.engine.runUntilIdle();
    const state = await t.engine.getState(order, 'o1');
    expect(state.status).toBe('completed');
    expect(state.state.reports).toEqual([
      { outcome: 'completed', workflowType: 'shipment', workflowId: 's-o1-0', state: { status: 'delivered' } },
      { outcome: 'completed', workflowType: 'shipment', workflowId: 's-o1-1', state: { status: 'lost' } },
    ]);
  });

  it('a start runs once even when its effect runs twice, and a refused start or a dead-lettered child effect is told to the parent as failed', async () => {
    const t = setup();
    await t.engine.execute(order, { type: 'Place', orderId: 'o2', shipments: 2, failing: true });
    await t.engine.runUntilIdle();
    const reports = (await t.engine.getState(order, 'o2')).state.reports;
    expect(reports).toEqual([
      { outcome: 'failed', workflowType: 'shipment', workflowId: 'refuse-o2-0', error: 'its start input was rejected', reason: 'no carrier' },
      { outcome: 'failed', workflowType: 'shipment', workflowId: 's-o2-1', error: expect.stringContaining('carrier down') },
    ]);
    // The failed child is left as it is; its dead letter stays for an operator.
    expect(await t.engine.getState(shipment, 's-o2-1')).toMatchObject({ status: 'active', state: { status: 'shipping' } });
    expect(await t.engine.deadLetters.count({ kind: 'effect', workflowType: 'shipment' })).toBe(1);
    // Re-running a start (as after a crash between the child's creation and the effect's
    // completion) finds the child by its idempotency key and creates nothing twice.
    const [start] = (await t.engine.listEffects({ type: 'order', id: 'o2' })).filter((e) => (e.payload as { $ironflow?: string }).$ironflow === 'start');
    const again = await t.engine.executeDynamic('shipment', { type: 'Ship', shipmentId: 's-o2-1' }, { idempotencyKey: `ironflow:start:${start!.id}` });
    expect(again.status).toBe('rejected');
  });

  it('cancelling a parent cancels its active children, and a cancelled child tells its parent', async () => {
    const t = setup();
    await t.engine.execute(order, { type: 'Place', orderId: 'o3', shipments: 2 });
    await t.engine.runUntilIdle();
    expect(await t.engine.cancel({ type: 'shipment', id: 's-o3-0' }, 'address wrong')).toMatchObject({ outcome: 'cancelled' });
    await t.engine.runUntilIdle();
    expect((await t.engine.getState(order, 'o3')).state.reports).toEqual([{ outcome: 'cancelled', workflowType: 'shipment', workflowId: 's-o3-0', reason: 'address wrong' }]);

    expect(await t.engine.cancel({ type: 'order', id: 'o3' }, 'customer left')).toMatchObject({ outcome: 'cancelled' });
    const child = await t.engine.pageInstances({ workflowType: 'shipment', status: 'cancelled' });
    expect(child.items.map((c) => [c.workflowId, c.cancelReason])).toEqual([
      ['s-o3-0', 'address wrong'],
      ['s-o3-1', 'parent order:o3 cancelled: customer left'],
    ]);
    // The parent is cancelled: the child's notice is dropped there, quietly.
    await t.engine.runUntilIdle();
    expect((await t.engine.getState(order, 'o3')).state.reports).toHaveLength(1);
  });

  it('children: false leaves the children running', async () => {
    const t = setup();
    await t.engine.execute(order, { type: 'Place', orderId: 'o4', shipments: 1 });
    await t.engine.runUntilIdle();
    await t.engine.cancel({ type: 'order', id: 'o4' }, 'r', { children: false });
    expect(await t.engine.getState(shipment, 's-o4-0')).toMatchObject({ status: 'active' });
  });
});

describe('waitFor', () => {
  it('resolves when the instance completes, from a commit of this process', async () => {
    const t = setup();
    await t.engine.execute(order, { type: 'Place', orderId: 'w1', shipments: 1 });
    await t.engine.runUntilIdle();
    const waiting = t.engine.waitFor(order, 'w1', { timeoutMs: 60_000 });
    await t.engine.execute(shipment, { type: 'Shipped', shipmentId: 's-w1-0' });
    await t.engine.runUntilIdle();
    const done = await waiting;
    expect(done).toMatchObject({ status: 'completed', state: { reports: [{ outcome: 'completed' }] } });
  });

  it('resolves on a predicate, resolves at once when it already holds, and rejects when the instance ends without it', async () => {
    const t = setup();
    await t.engine.execute(order, { type: 'Place', orderId: 'w2', shipments: 2 });
    await t.engine.runUntilIdle();
    const one = t.engine.waitFor(order, 'w2', { timeoutMs: 60_000, until: ({ state }) => state.reports.length >= 1 });
    await t.engine.execute(shipment, { type: 'Shipped', shipmentId: 's-w2-0' });
    await t.engine.runUntilIdle();
    expect((await one).state.reports).toHaveLength(1);
    expect((await t.engine.waitFor(order, 'w2', { timeoutMs: 1, until: ({ state }) => state.expected === 2 })).version).toBe(2);

    const never = t.engine.waitFor(order, 'w2', { timeoutMs: 60_000, until: ({ state }) => state.reports.length > 5 });
    await t.engine.cancel({ type: 'order', id: 'w2' }, 'stop');
    const error = await never.then(() => undefined, (e: unknown) => e);
    expect(isIronflowError(error, 'WAIT_UNSATISFIABLE')).toBe(true);
  });

  it('hears a cancellation made through the store by another process', async () => {
    const t = setup();
    await t.engine.execute(order, { type: 'Place', orderId: 'w3', shipments: 1 });
    const waiting = t.engine.waitFor(order, 'w3', { timeoutMs: 60_000 });
    // Straight through the store, as another process would: only the terminal notification tells.
    await t.store.cancelInstance({ ref: { type: 'order', id: 'w3' }, now: t.clock.now(), reason: 'elsewhere' });
    expect(await waiting).toMatchObject({ status: 'cancelled' });
  });

  it('times out with WAIT_TIMEOUT, aborts with the signal, and refuses bad options', async () => {
    const t = setup();
    await t.engine.execute(order, { type: 'Place', orderId: 'w4', shipments: 1 });
    const error = await t.engine.waitFor(order, 'w4', { timeoutMs: 5 }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'WAIT_TIMEOUT', retryable: true });
    const controller = new AbortController();
    const waiting = t.engine.waitFor(order, 'w4', { timeoutMs: 60_000, signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(waiting).rejects.toThrow('caller gave up');
    await expect(t.engine.waitFor(order, 'w4', { timeoutMs: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(t.engine.waitFor(order, 'w4', { timeoutMs: 10, until: 'done' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('bulk operations and retention', () => {
  it('re-drives dead letters by filter, with a dry run that only counts', async () => {
    const t = setup();
    for (const id of ['a', 'b', 'c']) await t.engine.execute(shipment, { type: 'Ship', shipmentId: `x-${id}`, fail: true });
    await t.engine.runUntilIdle();
    expect(await t.engine.deadLetters.count({ kind: 'effect' })).toBe(3);
    const progress: number[] = [];
    expect(await t.engine.deadLetters.redriveWhere({ kind: 'effect', workflowType: 'shipment' }, { dryRun: true, onProgress: (n) => progress.push(n) })).toEqual({ matched: 3, changed: 0 });
    expect(progress).toEqual([3]);
    expect(await t.engine.deadLetters.count({ kind: 'effect' })).toBe(3);
    expect(await t.engine.deadLetters.redriveWhere({ kind: 'effect', workflowId: 'x-b' })).toEqual({ matched: 1, changed: 1 });
    expect(await t.engine.deadLetters.count({ kind: 'effect' })).toBe(2);
    await expect(t.engine.deadLetters.redriveWhere({ kind: 'effect', status: 'dead' } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('cancels instances by filter, with a count preview', async () => {
    const t = setup();
    for (const id of ['a', 'b', 'c']) await t.engine.execute(shipment, { type: 'Ship', shipmentId: `y-${id}` });
    await t.engine.execute(shipment, { type: 'Shipped', shipmentId: 'y-c' });
    expect(await t.engine.cancelWhere({ workflowType: 'shipment' }, 'recall', { dryRun: true })).toEqual({ matched: 2, changed: 0 });
    expect(await t.engine.cancelWhere({ workflowType: 'shipment' }, 'recall')).toEqual({ matched: 2, changed: 2 });
    expect((await t.engine.pageInstances({ workflowType: 'shipment' })).items.map((i) => [i.workflowId, i.status])).toEqual([
      ['y-a', 'cancelled'],
      ['y-b', 'cancelled'],
      ['y-c', 'completed'],
    ]);
  });

  it('a repeated idempotency key returns the original events, until the key is forgotten', async () => {
    const t = setup({ idempotencyRetentionMs: 60_000 });
    const first = await t.engine.execute(shipment, { type: 'Ship', shipmentId: 'z' }, { idempotencyKey: 'req-1' });
    const again = await t.engine.execute(shipment, { type: 'Ship', shipmentId: 'z' }, { idempotencyKey: 'req-1' });
    expect(again).toMatchObject({ status: 'duplicate', version: 1, eventCount: 1 });
    expect(again.status === 'duplicate' && again.events).toEqual(first.status === 'accepted' && first.events);
    t.clock.advance(60_001);
    expect(await t.engine.purgeIdempotencyKeys(60_000)).toBe(1);
    // Forgotten: the input is decided again (and rejected, as the shipment already started).
    expect((await t.engine.execute(shipment, { type: 'Ship', shipmentId: 'z' }, { idempotencyKey: 'req-1' })).status).toBe('rejected');
  });

  it('a started engine forgets keys past idempotencyRetentionMs by itself', async () => {
    const t = setup({ idempotencyRetentionMs: 1000 });
    await t.engine.execute(shipment, { type: 'Ship', shipmentId: 'k' }, { idempotencyKey: 'req-k' });
    t.clock.advance(5000);
    t.engine.start();
    const deadline = Date.now() + 30_000;
    while ((await t.store.load({ type: 'shipment', id: 'k' }, { idempotencyKey: 'req-k' })).idempotent !== undefined) {
      if (Date.now() > deadline) throw new Error('the key was not forgotten');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });
});
