// A read model of the orders — each order's status and the revenue it keeps (charged and not
// refunded), summed by status — kept by a projection of the order workflow's events. This one
// lives in memory and applies each (order, sequence) once, so the projection's at-least-once
// delivery (a batch replayed after a crash or a takeover) changes nothing; being in memory, it is
// rebuilt from the feed when the process starts. `sql-read-model.ts` keeps the same rows in a SQL
// table written in the checkpoint's transaction instead.
import { defineProjection, type Engine, type ProjectedEventOf, type Projection } from '@ironflow/runtime';
import type { OrderStatus, OrderWorkflow } from './order-workflow.js';

/** The projection's name: its checkpoint and dead letters are stored under it. */
export const ORDERS_BY_STATUS = 'orders-by-status';

/** The only event kinds the read model needs; the feed skips the others for it. */
export const READ_MODEL_EVENTS = ['OrderPlaced', 'PaymentSucceeded', 'PaymentRefunded', 'OrderCancelled', 'OrderDelivered'] as const;

/** An event the projection receives. */
export type OrderProjected = ProjectedEventOf<OrderWorkflow>;

/** One order as a read model keeps it. */
export interface OrderRow {
  readonly orderId: string;
  readonly status: OrderStatus;
  readonly amount: number;
  /** Money kept: the amount once charged, 0 again once refunded. */
  readonly revenue: number;
}

/** Orders by status, and the revenue kept, across a read model's rows. */
export interface ReadModelSummary {
  readonly orders: number;
  readonly byStatus: Readonly<Record<OrderStatus, number>>;
  readonly revenue: number;
}

/** A read model of the orders and the projection that keeps it. */
export interface OrdersReadModel {
  /** Where it lives, for the demo's summary. */
  readonly where: string;
  readonly projection: Projection<readonly [OrderWorkflow]>;
  /** Gets it ready before the engine starts. */
  open(engine: Engine): Promise<void>;
  /** Every order it knows, by id. */
  rows(): Promise<OrderRow[]>;
}

/** The row an order has after `e`, from the one it had before (undefined before its OrderPlaced). */
export function rowAfter(row: OrderRow | undefined, e: OrderProjected): OrderRow {
  const event = e.event;
  if (event.type === 'OrderPlaced') return { orderId: e.workflowId, status: 'placed', amount: event.amount, revenue: 0 };
  // Events of one order arrive in sequence order, so its OrderPlaced came first.
  if (row === undefined) throw new Error(`${event.type} of order ${e.workflowId} arrived before its OrderPlaced`);
  switch (event.type) {
    case 'PaymentSucceeded':
      return { ...row, status: 'paid', revenue: row.amount };
    case 'PaymentRefunded':
      return { ...row, revenue: 0 };
    case 'OrderCancelled':
      return { ...row, status: 'cancelled' };
    case 'OrderDelivered':
      return { ...row, status: 'delivered' };
    default:
      return row;
  }
}

/** Counts `rows` by status and sums their revenue. */
export function summarize(rows: readonly OrderRow[]): ReadModelSummary {
  const byStatus: Record<OrderStatus, number> = { placed: 0, paid: 0, delivered: 0, cancelled: 0 };
  let revenue = 0;
  for (const row of rows) {
    byStatus[row.status] += 1;
    revenue += row.revenue;
  }
  return { orders: rows.length, byStatus, revenue };
}

const byOrderId = (a: OrderRow, b: OrderRow): number => (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0);

/**
 * The read model in this process's memory. Each row remembers the sequence of the last event
 * applied to it; an event at or below it is a replay and is ignored. It belongs to this process:
 * other processes running the same projection name would each hold the lease in turn and leave the
 * others' copies behind — give each its own name, or keep the rows in a shared database.
 */
export function memoryReadModel(workflow: OrderWorkflow): OrdersReadModel {
  const rows = new Map<string, { row: OrderRow; sequence: number }>();
  return {
    where: 'in memory',
    projection: defineProjection({
      name: ORDERS_BY_STATUS,
      workflows: [workflow],
      eventTypes: READ_MODEL_EVENTS,
      handle(batch) {
        for (const e of batch) {
          const kept = rows.get(e.workflowId);
          if (kept !== undefined && e.sequence <= kept.sequence) continue;
          rows.set(e.workflowId, { row: rowAfter(kept?.row, e), sequence: e.sequence });
        }
      },
    }),
    // The checkpoint is kept by the store and would resume after events this process never saw:
    // empty the rows and move the checkpoint back to the start, so every order event is replayed.
    async open(engine) {
      rows.clear();
      await engine.projections.reset(ORDERS_BY_STATUS);
    },
    async rows() {
      return [...rows.values()].map((kept) => kept.row).sort(byOrderId);
    },
  };
}
