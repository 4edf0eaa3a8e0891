// The order workflow under deterministic simulation (`simulate` of @ironflow/testing): two engines
// share one store while a seeded scheduler interleaves orders, cancellations, handler outcomes and
// store calls, and crashes processes, fails store calls, hangs handlers and jumps the clock. After
// every step two business rules must hold; once the faults stop and everything has run, money is
// never kept for an order that was not delivered. A failure prints its seed and a shrunk trace;
// `simulate({ ...options, seed })` replays it exactly.
import { simulate, type SimulatedInstance, type SimulationOptions } from '@ironflow/testing';
import { describe, expect, it } from 'vitest';
import { ORDER_RETRY, orderFulfilment } from '../src/engine.js';
import { createServices, DECLINED_CARD, FREIGHT_SKU, GOOD_CARD } from '../src/handlers.js';
import type { Order, OrderEvent, OrderInput, OrderState } from '../src/order-workflow.js';

const SEEDS = Number(process.env.ORDER_SIMULATION_SEEDS ?? 1_000);
const FIRST_SEED = Number(process.env.ORDER_SIMULATION_FIRST_SEED ?? 1);

const { workflow } = orderFulfilment();
const orders = (instances: readonly SimulatedInstance[]) => instances.filter((i) => i.workflowType === workflow.type);
const placed = (i: SimulatedInstance): Order | undefined => ((i.state as OrderState).status === 'none' ? undefined : (i.state as Order));
const count = (i: SimulatedInstance, type: OrderEvent['type']) => i.events.filter((e) => e.type === type).length;

/** A few orders, each placed once (again is refused), some with a declined card, freight or a gift card; some cancelled. */
function nextInput(random: { int(n: number): number; pick<T>(items: readonly T[]): T }): OrderInput {
  const orderId = `order-${random.int(6)}`;
  if (random.int(5) === 0) return { type: 'CancelOrder', orderId };
  return {
    type: 'PlaceOrder',
    orderId,
    items: [{ sku: random.pick(['BOOK-1', 'MUG-1', 'LAMP-1', FREIGHT_SKU]), quantity: 1 + random.int(2) }],
    amount: 1_000 + 500 * random.int(10),
    card: random.pick([GOOD_CARD, GOOD_CARD, DECLINED_CARD]),
    ...(random.int(4) === 0 ? { giftCard: { recipient: 'friend@example.com', amount: 2_500 } } : {}),
  };
}

const options = (seed: number): SimulationOptions => ({
  // Fresh simulated services (stock, payments, carrier) for every run and every replay.
  workflows: () => orderFulfilment({ services: createServices() }).engineOptions.workflows,
  seed,
  steps: 90,
  retry: ORDER_RETRY,
  inputs: (random) => ({ workflow, input: nextInput(random) }),
  invariants: [
    {
      name: 'an order is never both delivered and refunded or cancelled',
      check: async (view) =>
        orders(await view.instances()).every((i) => {
          const delivered = count(i, 'OrderDelivered') > 0;
          return !delivered || (count(i, 'PaymentRefunded') === 0 && count(i, 'OrderCancelled') === 0);
        }),
    },
    {
      name: 'a customer is charged at most once, and refunded at most what was charged',
      check: async (view) => {
        for (const i of orders(await view.instances())) {
          const charged = count(i, 'PaymentSucceeded');
          const refunded = count(i, 'PaymentRefunded');
          if (charged > 1 || refunded > charged) return `${i.workflowId}: charged ${charged} times, refunded ${refunded} times`;
        }
        return true;
      },
    },
    {
      name: 'once everything has run, no money is kept for an order that was not delivered',
      check: async (view) => {
        if (!view.settled) return true;
        for (const i of orders(await view.instances())) {
          const order = placed(i);
          if (order === undefined || order.status === 'delivered') continue;
          if (order.payment === 'paid' || order.payment === 'refunding') return `${i.workflowId} ended ${order.status} with its payment ${order.payment}`;
        }
        return true;
      },
    },
  ],
});

describe('order fulfilment under deterministic simulation', () => {
  it(
    `keeps its business rules on ${SEEDS} seeds with crashes, failing store calls, hung handlers and clock jumps`,
    async () => {
      let accepted = 0;
      let crashes = 0;
      let delivered = 0;
      for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
        const report = await simulate(options(seed));
        accepted += report.inputs.accepted;
        crashes += report.faults.crashes;
        delivered += report.completed;
      }
      // The runs did something: orders were placed, processes crashed, orders ended.
      expect(accepted).toBeGreaterThan(SEEDS);
      expect(crashes).toBeGreaterThan(SEEDS / 10);
      expect(delivered).toBeGreaterThan(SEEDS / 2);
    },
    600_000,
  );
});
