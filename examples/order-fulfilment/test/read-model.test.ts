// The orders read model the projection keeps matches the instances' own states: in memory (each
// event applied once however often it is delivered), and as a SQL table on PGlite written in the
// checkpoint's transaction (each event applied exactly once, even by a holder that lost its lease
// between reading a batch and saving it).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { createManualClock } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createTestEngine, type TestEngine } from '@ironflow/testing';
import { createPGliteStore } from '@ironflow/store-postgres';
import { orderFulfilment, type OrderFulfilmentOptions } from '../src/engine.js';
import { DECLINED_CARD, FREIGHT_SKU, GOOD_CARD } from '../src/handlers.js';
import { ORDERS_BY_STATUS, READ_MODEL_EVENTS, summarize, type OrdersReadModel } from '../src/order-read-model.js';
import type { OrderLine, OrderWorkflow } from '../src/order-workflow.js';
import { sqlReadModel } from '../src/sql-read-model.js';

const MINUTE = 60_000;
const BOOKS: readonly OrderLine[] = [{ sku: 'BOOK-1', quantity: 1 }];

/** The example on a test engine, with the read model `options.readModel` makes. */
function setup(options: OrderFulfilmentOptions & { store?: WorkflowStore } = {}) {
  const app = orderFulfilment({ ...options, retry: { jitter: 'none' } });
  const t = createTestEngine({ ...app.engineOptions, ...(options.store === undefined ? {} : { store: options.store }) });
  return { ...app, ...t };
}

/** Four orders down four paths: delivered, declined, refused by the carrier (refunded), cancelled at once. */
async function runOrders(t: TestEngine, workflow: OrderWorkflow): Promise<void> {
  const place = (orderId: string, card: string, items: readonly OrderLine[] = BOOKS) => t.engine.execute(workflow, { type: 'PlaceOrder', orderId, items, amount: 1_000, card });
  await place('o-1', GOOD_CARD);
  await place('o-2', DECLINED_CARD);
  await place('o-3', GOOD_CARD, [{ sku: FREIGHT_SKU, quantity: 1 }]);
  await place('o-4', GOOD_CARD);
  await t.engine.execute(workflow, { type: 'CancelOrder', orderId: 'o-4' });
  for (let i = 0; i < 10; i++) await t.advance(MINUTE);
}

/** The read model's rows, as the instances' states say they must be. */
async function expectMatchesInstances(t: TestEngine, workflow: OrderWorkflow, readModel: OrdersReadModel): Promise<void> {
  const expected = [];
  for (const orderId of ['o-1', 'o-2', 'o-3', 'o-4']) {
    const { state, completed } = await t.engine.getState(workflow, orderId);
    expect(completed).toBe(true);
    if (state.status === 'none') throw new Error(`${orderId} was not placed`);
    expected.push({ orderId, status: state.status, amount: state.amount, revenue: state.payment === 'paid' ? state.amount : 0 });
  }
  expect(await readModel.rows()).toEqual(expected);
  expect(expected.map((r) => [r.status, r.revenue])).toEqual([
    ['delivered', 1_000],
    ['cancelled', 0],
    ['cancelled', 0],
    ['cancelled', 0],
  ]);
  expect(summarize(await readModel.rows())).toEqual({ orders: 4, byStatus: { placed: 0, paid: 0, delivered: 1, cancelled: 3 }, revenue: 1_000 });
}

describe('the orders read model', () => {
  it('in memory, matches every order instance, and a replay of every event changes nothing', async () => {
    const t = setup();
    await t.readModel.open(t.engine);
    await runOrders(t, t.workflow);
    await expectMatchesInstances(t, t.workflow, t.readModel);

    // Every event again (as after a crash between a batch and its checkpoint): each is a replay.
    let projected = 0;
    for (const orderId of ['o-1', 'o-2', 'o-3', 'o-4']) {
      projected += (await t.engine.getEvents({ type: t.workflow.type, id: orderId })).filter((e) => (READ_MODEL_EVENTS as readonly string[]).includes(e.type)).length;
    }
    await t.engine.projections.reset(ORDERS_BY_STATUS);
    expect(await t.settle()).toMatchObject({ projected });
    await expectMatchesInstances(t, t.workflow, t.readModel);
  });

  describe('as a SQL table on PGlite, written in the checkpoint transaction', () => {
    let dir: string | undefined;
    let pglite: PGlite | undefined;
    afterEach(async () => {
      await pglite?.close();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      pglite = undefined;
      dir = undefined;
    });

    async function openPGlite() {
      dir = await mkdtemp(join(tmpdir(), 'ironflow-read-model-'));
      pglite = await PGlite.create(join(dir, 'db'));
      return { pglite, store: await createPGliteStore({ pglite }) };
    }

    it('matches every order instance, each event applied exactly once', async () => {
      const { pglite: db, store } = await openPGlite();
      let model: ReturnType<typeof sqlReadModel> | undefined;
      const t = setup({ store, readModel: (workflow) => (model = sqlReadModel(workflow, db)) });
      await t.readModel.open(t.engine);
      await runOrders(t, t.workflow);
      await expectMatchesInstances(t, t.workflow, t.readModel);
      for (const row of await model!.rowsWithCounts()) {
        const events = (await t.engine.getEvents({ type: t.workflow.type, id: row.orderId })).filter((e) => (READ_MODEL_EVENTS as readonly string[]).includes(e.type));
        expect(row.events, row.orderId).toBe(events.length);
      }
    });

    it('a holder that lost its lease between reading a batch and saving it writes nothing: the new holder applies the batch, once', async () => {
      const { pglite: db, store } = await openPGlite();
      // Two engines on one database and one clock, as two processes on one machine.
      const clock = createManualClock();
      let stall = false;
      let other: TestEngine | undefined;
      // Engine a's store stalls once before a checkpoint write: its lease runs out and b takes over meanwhile.
      const stalling: WorkflowStore = {
        ...store,
        async saveProjection(lease, save, apply) {
          if (stall && apply !== undefined) {
            stall = false;
            clock.advance(31_000);
            expect(await other!.settle()).toMatchObject({ projected: 2 });
          }
          return store.saveProjection(lease, save, apply);
        },
      };
      let model: ReturnType<typeof sqlReadModel> | undefined;
      const appA = orderFulfilment({ retry: { jitter: 'none' }, readModel: (workflow) => (model = sqlReadModel(workflow, db)) });
      const appB = orderFulfilment({ retry: { jitter: 'none' }, readModel: (workflow) => sqlReadModel(workflow, db) });
      const a = createTestEngine({ ...appA.engineOptions, store: stalling, clock });
      other = createTestEngine({ ...appB.engineOptions, store, clock });
      await appA.readModel.open(a.engine);

      // a places and settles o-1; then o-2's first event is read by a, whose save stalls past its lease.
      await a.engine.execute(appA.workflow, { type: 'PlaceOrder', orderId: 'o-1', items: BOOKS, amount: 1_000, card: GOOD_CARD });
      await a.settle();
      stall = true;
      await a.engine.execute(appA.workflow, { type: 'PlaceOrder', orderId: 'o-2', items: BOOKS, amount: 2_000, card: DECLINED_CARD });
      expect(await a.settle()).toMatchObject({ heldElsewhere: [ORDERS_BY_STATUS] });
      expect(stall).toBe(false);

      // o-2's OrderPlaced was in a's refused save and in b's: it counts once.
      expect(await model!.rowsWithCounts()).toEqual([
        { orderId: 'o-1', status: 'delivered', amount: 1_000, revenue: 1_000, events: 3 },
        { orderId: 'o-2', status: 'cancelled', amount: 2_000, revenue: 0, events: 2 },
      ]);
      expect(await a.engine.projections.get(ORDERS_BY_STATUS)).toMatchObject({ lag: { events: 0 }, deadLetters: 0 });
    });
  });
});
