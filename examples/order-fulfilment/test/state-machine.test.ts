// The machines the order and shipment workflows declare, checked against what the code does: the
// scenarios run on the real runtime (manual clock), and every status change of every instance
// must be a declared transition. Also: the README's diagram is `toMermaid` of the order machine,
// and an instance's path renders the same from the memory store and from PGlite.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { accept, defineStateMachine, defineWorkflow, instancePath, toDot, toMermaid, type AnyWorkflow, type InstancePath, type StoredEvent } from '@ironflow/core';
import type { Engine } from '@ironflow/runtime';
import { createPGliteStore } from '@ironflow/store-postgres';
import { createTestEngine } from '@ironflow/testing';
import { orderFulfilment, type OrderFulfilmentOptions } from '../src/engine.js';
import { createServices, DECLINED_CARD, FREIGHT_SKU, GOOD_CARD, type OrderServices } from '../src/handlers.js';
import { orderMachine, type GiftCard, type OrderLine } from '../src/order-workflow.js';
import { shipmentMachine } from '../src/shipment-workflow.js';

const MINUTE = 60_000;
const BOOKS: readonly OrderLine[] = [{ sku: 'BOOK-1', quantity: 2 }];
const GIFT: GiftCard = { recipient: 'ada@example.com', amount: 2_500 };
/** Retries slow enough for a 15-minute deadline to pass between two attempts. */
const SLOW_RETRIES = { baseDelayMs: 2 * MINUTE, maxDelayMs: 60 * MINUTE, maxAttempts: 10 };

/** Makes the first `times.get(key)` calls of `call` with a key fail with a retryable error (a brief outage). */
function failFirst<A extends readonly unknown[], T>(call: (...args: A) => Promise<T>, keyOf: (...args: A) => string, times: ReadonlyMap<string, number>): (...args: A) => Promise<T> {
  const failed = new Map<string, number>();
  return async (...args) => {
    const key = keyOf(...args);
    const count = failed.get(key) ?? 0;
    if (count < (times.get(key) ?? 0)) {
      failed.set(key, count + 1);
      throw new Error('service unavailable (503)');
    }
    return call(...args);
  };
}

/** Failures of the first calls: reservations and gift cards by order id, and the first `refunds` refunds. */
interface Failures {
  readonly reserveFailures?: Record<string, number>;
  readonly giftCardFailures?: Record<string, number>;
  readonly refundFailures?: number;
}

/** A test engine running the example, with some calls to the services failing their first attempts. */
function setup(options: OrderFulfilmentOptions & Failures = {}) {
  const services: OrderServices = options.services ?? createServices();
  const { inventory, giftCards, payments } = services;
  inventory.reserve = failFirst(inventory.reserve.bind(inventory), (orderId) => orderId, new Map(Object.entries(options.reserveFailures ?? {})));
  giftCards.issue = failFirst(giftCards.issue.bind(giftCards), (request) => request.orderId, new Map(Object.entries(options.giftCardFailures ?? {})));
  payments.refund = failFirst(payments.refund.bind(payments), (_paymentId: string, _signal: AbortSignal) => 'every refund', new Map([['every refund', options.refundFailures ?? 0]]));
  const app = orderFulfilment({ ...options, services, retry: { jitter: 'none', ...options.retry } });
  const t = createTestEngine(app.engineOptions);
  return {
    ...t,
    ...app,
    place: (orderId: string, extra: { card?: string; items?: readonly OrderLine[]; giftCard?: GiftCard } = {}) =>
      t.engine.execute(app.workflow, { type: 'PlaceOrder', orderId, items: extra.items ?? BOOKS, amount: 3_998, card: extra.card ?? GOOD_CARD, ...(extra.giftCard ? { giftCard: extra.giftCard } : {}) }),
    cancel: (orderId: string) => t.engine.execute(app.workflow, { type: 'CancelOrder', orderId }),
  };
}

type Setup = ReturnType<typeof setup>;

/** Every scenario of the example, each on its own engine; together they reach every phase of both machines. */
const SCENARIOS: readonly { readonly name: string; readonly options?: Parameters<typeof setup>[0]; run(t: Setup): Promise<void> }[] = [
  {
    name: 'placed orders that deliver, fail, or are cancelled at once',
    // The one refund (of o-106) lands after the stock is back.
    options: { refundFailures: 1 },
    async run(t) {
      await t.place('o-100'); // delivered
      await t.place('o-107'); // ends in 7: the gateway fails, then charges and loses the response
      await t.place('o-102', { card: DECLINED_CARD });
      await t.place('o-103', { items: [{ sku: 'LAMP-1', quantity: 2 }] }); // out of stock
      await t.place('o-104');
      await t.cancel('o-104'); // cancelled while its stock is being reserved
      await t.place('o-105', { items: [{ sku: 'LAMP-1', quantity: 2 }] });
      await t.cancel('o-105'); // cancelled, then the reservation fails
      await t.place('o-106', { items: [{ sku: FREIGHT_SKU, quantity: 1 }] }); // the carrier refuses the parcel: refund and release
      await t.place('o-108', { giftCard: GIFT });
      await t.place('o-109', { giftCard: { ...GIFT, amount: 7_500 } }); // over the provider's limit
      await t.settle();
      for (const wait of [200, 400, 800]) await t.advance(wait);
    },
  },
  {
    name: 'a gateway outage: a deadline, a customer cancellation, a reservation that lands after the deadline',
    options: { retry: SLOW_RETRIES, reserveFailures: { 'o-203': 4 } },
    async run(t) {
      t.services.payments.outage = true;
      await t.place('o-201'); // the deadline cancels the charge
      await t.place('o-202');
      await t.place('o-203'); // reserved only at 30 minutes, after its deadline
      await t.settle();
      await t.cancel('o-202'); // the charge is waiting for its retry
      for (let minute = 0; minute < 15; minute++) await t.advance(MINUTE);
      t.services.payments.outage = false;
      await t.advance(60 * MINUTE);
    },
  },
  {
    name: 'a charge that keeps failing is dead-lettered',
    async run(t) {
      t.services.payments.outage = true;
      await t.place('o-301');
      await t.settle();
      for (const wait of [200, 400, 800]) await t.advance(wait);
    },
  },
  {
    name: 'gift cards still being sent when the shipment ends',
    options: { giftCardFailures: { 'o-401': 1, 'o-402': 4, 'o-403': 1, 'o-404': 4 } },
    async run(t) {
      await t.place('o-401', { giftCard: GIFT }); // sent after the delivery
      await t.place('o-402', { giftCard: GIFT }); // dead-lettered after the delivery
      await t.place('o-403', { giftCard: GIFT, items: [{ sku: FREIGHT_SKU, quantity: 1 }] }); // sent after the refund and release
      await t.place('o-404', { giftCard: GIFT, items: [{ sku: FREIGHT_SKU, quantity: 1 }] }); // dead-lettered after them
      await t.settle();
      for (const wait of [200, 400, 800]) await t.advance(wait);
    },
  },
];

/** A transition as `from -[input]-> to`, to compare steps with declarations. */
const edge = (from: string, input: string | undefined, to: string): string => `${from} -[${input ?? '?'}]-> ${to}`;

interface Walked {
  readonly workflowType: string;
  readonly workflowId: string;
  readonly path: InstancePath;
  readonly completed: boolean;
  readonly status: string;
}

/** The path of every instance of `workflow` in the engine, beside its state as the engine loads it. */
async function walk(engine: Engine, workflow: AnyWorkflow): Promise<Walked[]> {
  const walked: Walked[] = [];
  for (const instance of await engine.listInstances({ workflowType: workflow.type })) {
    const ref = { type: workflow.type, id: instance.workflowId };
    const path = instancePath(workflow, await engine.getEvents(ref));
    const { state, completed } = await engine.getState(workflow, instance.workflowId);
    walked.push({ workflowType: workflow.type, workflowId: instance.workflowId, path, completed, status: workflow.stateMachine?.statusOf(state) ?? '?' });
  }
  return walked;
}

describe('the declared state machines', () => {
  it('every status change of every instance in the scenarios is a declared transition, and the scenarios take every declared transition between two phases', async () => {
    const walked: Walked[] = [];
    for (const scenario of SCENARIOS) {
      const t = setup(scenario.options);
      await scenario.run(t);
      walked.push(...(await walk(t.engine, t.workflow)), ...(await walk(t.engine, t.shipment)));
    }
    const declared = new Set([...orderMachine.transitions, ...shipmentMachine.transitions].map((tr) => edge(tr.from, tr.input, tr.to)));
    const taken = new Set<string>();
    const undeclared: string[] = [];
    for (const { workflowType, workflowId, path, completed, status } of walked) {
      for (const step of path.steps) {
        const key = edge(step.from, step.inputType, step.to);
        taken.add(key);
        if (!declared.has(key)) undeclared.push(`${workflowType} ${workflowId} at event ${step.sequence}: ${key}`);
      }
      // The path ends where the engine's own load of the instance is, terminal exactly when it completed.
      expect({ workflowId, current: path.current, terminal: path.terminal }).toEqual({ workflowId, current: status, terminal: completed });
      expect(completed, `${workflowType} ${workflowId} settles in the scenarios`).toBe(true);
    }
    expect(undeclared).toEqual([]);

    // Nothing declared is made up: every transition between two phases is taken. (Self-loops leave
    // the status as it was, so they make no step.)
    const betweenPhases = [...orderMachine.transitions, ...shipmentMachine.transitions].filter((tr) => tr.from !== tr.to).map((tr) => edge(tr.from, tr.input, tr.to));
    expect(betweenPhases.filter((key) => !taken.has(key))).toEqual([]);
    expect(walked.filter((w) => w.workflowType === 'order')).toHaveLength(17);
  });

  it("the README's diagram is toMermaid of the order machine", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const diagrams = [...readme.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((match) => match[1]);
    expect(diagrams).toEqual([toMermaid(orderMachine)]);
  });
});

/** The steps of a path without their times, which differ between runs. */
const untimed = (path: InstancePath) => ({ ...path, steps: path.steps.map(({ at: _at, ...step }) => step) });

const DECLINED_STEPS = [
  { sequence: 1, from: 'New', to: 'Reserving', inputType: 'PlaceOrder', eventType: 'OrderPlaced' },
  { sequence: 2, from: 'Reserving', to: 'Charging', inputType: 'StockReserved', eventType: 'StockReserved' },
  { sequence: 4, from: 'Charging', to: 'Compensating', inputType: 'PaymentDeclined', eventType: 'OrderCancelled' },
  { sequence: 5, from: 'Compensating', to: 'Cancelled', inputType: 'StockReleased', eventType: 'StockReleased' },
];

describe("an instance's path", () => {
  it('on the memory store: a declined order, rendered from engine.getEvents with its path highlighted', async () => {
    const t = setup();
    await t.place('o-102', { card: DECLINED_CARD });
    await t.settle();
    const path = instancePath(t.workflow, await t.engine.getEvents({ type: 'order', id: 'o-102' }));
    expect(untimed(path)).toEqual({ steps: DECLINED_STEPS, current: 'Cancelled', terminal: true });
    expect(path.steps.every((step) => step.at === t.clock.now())).toBe(true);

    // DOT: the four transitions taken are blue and thick, the state it ends in is filled.
    const plain = toDot(orderMachine).split('\n');
    const taken = new Set(['New -> Reserving [label="PlaceOrder', 'Reserving -> Charging [label="StockReserved', 'Charging -> Compensating [label="PaymentDeclined', 'Compensating -> Cancelled [label="StockReleased"']);
    const highlighted = plain.map((line) => ([...taken].some((start) => line.startsWith(`    ${start}`)) ? line.replace(/];$/, ' color="#2563eb" penwidth=2];') : line));
    highlighted.splice(-1, 0, '', '    Cancelled [style=filled fillcolor="#dbeafe"];');
    expect(toDot(orderMachine, { path })).toBe(highlighted.join('\n'));
    expect(highlighted.filter((line) => line.includes('penwidth'))).toHaveLength(4);

    // Mermaid: the states it went through, then the one it is in.
    expect(toMermaid(orderMachine, { path })).toBe(
      [
        toMermaid(orderMachine),
        '    classDef visited fill:#eff6ff,stroke:#2563eb',
        '    classDef current fill:#dbeafe,stroke:#2563eb,stroke-width:3px',
        '    class New visited',
        '    class Reserving visited',
        '    class Charging visited',
        '    class Compensating visited',
        '    class Cancelled current',
      ].join('\n'),
    );
  });

  it('on PGlite: stored events, read back through JSON and upcast, give the same path', async () => {
    const store = await createPGliteStore({ dataDir: 'memory://' });
    try {
      const t = setup();
      const onPGlite = createTestEngine({ ...t.engineOptions, store });
      await onPGlite.engine.execute(t.workflow, { type: 'PlaceOrder', orderId: 'o-102', items: BOOKS, amount: 3_998, card: DECLINED_CARD });
      await onPGlite.settle();
      const path = instancePath(t.workflow, await onPGlite.engine.getEvents({ type: 'order', id: 'o-102' }));
      expect(untimed(path)).toEqual({ steps: DECLINED_STEPS, current: 'Cancelled', terminal: true });
      expect(toMermaid(orderMachine, { path })).toContain('    class Cancelled current');

      // A workflow whose events were renamed: the old ones stay stored as written, and the path
      // folds them through the new version's upcast, as loading does.
      type Old = { type: 'Opened' } | { type: 'Closed' };
      type New = { type: 'Opened' } | { type: 'Resolved' };
      const before = defineWorkflow({
        type: 'ticket',
        initialState: () => ({ open: false, done: false }),
        evolve: (s: { open: boolean; done: boolean }, e: Old) => (e.type === 'Opened' ? { ...s, open: true } : { ...s, done: true }),
        decide: (input: { id: string; type: 'Open' | 'Close' }) => accept<Old>({ type: input.type === 'Open' ? 'Opened' : 'Closed' }),
        workflowId: (input) => input.id,
      });
      const ticketMachine = defineStateMachine({
        initial: 'New',
        states: [{ name: 'New' }, { name: 'Open' }, { name: 'Resolved', terminal: true }],
        transitions: [{ from: 'New', to: 'Open', input: 'Open' }, { from: 'Open', to: 'Resolved', input: 'Close' }],
      });
      const after = defineWorkflow({
        type: 'ticket',
        initialState: () => ({ status: 'New' as 'New' | 'Open' | 'Resolved' }),
        evolve: (_s: { status: 'New' | 'Open' | 'Resolved' }, e: New) => ({ status: e.type === 'Opened' ? ('Open' as const) : ('Resolved' as const) }),
        decide: (input: { id: string; type: 'Open' | 'Close' }) => accept<New>({ type: input.type === 'Open' ? 'Opened' : 'Resolved' }),
        workflowId: (input) => input.id,
        upcast: (stored: StoredEvent): New => (stored.type === 'Closed' ? { type: 'Resolved' } : (stored.payload as New)),
        stateMachine: { machine: ticketMachine, statusOf: (s) => s.status },
      });
      const old = createTestEngine({ workflows: [before], store });
      await old.engine.execute(before, { id: 't-1', type: 'Open' });
      await old.engine.execute(before, { id: 't-1', type: 'Close' });
      const events = await store.readEvents({ type: 'ticket', id: 't-1' });
      expect(events.map((e) => e.type)).toEqual(['Opened', 'Closed']);
      expect(instancePath(after, events)).toMatchObject({
        steps: [{ from: 'New', to: 'Open', inputType: 'Open', eventType: 'Opened' }, { from: 'Open', to: 'Resolved', inputType: 'Close', eventType: 'Closed' }],
        current: 'Resolved',
        terminal: true,
      });
      await old.engine.stop();
      await onPGlite.engine.stop();
    } finally {
      await store.close();
    }
  });
});
