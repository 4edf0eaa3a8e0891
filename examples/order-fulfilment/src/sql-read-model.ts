// The orders read model as a SQL table in the store's own database (PostgreSQL or PGlite), written
// by a transactional projection: the handler's statements run in the transaction that moves the
// checkpoint, so each event changes the table exactly once, across crashes and takeovers, with no
// idempotency bookkeeping. It is durable with the checkpoint, so nothing is rebuilt at start.
import { defineProjection } from '@ironflow/runtime';
import { postgresTransaction } from '@ironflow/store-postgres';
import type { OrderStatus, OrderWorkflow } from './order-workflow.js';
import { ORDERS_BY_STATUS, READ_MODEL_EVENTS, type OrderRow, type OrdersReadModel } from './order-read-model.js';

/** A SQL client outside projections (a `pg` pool, a PGlite instance): to create the table and read it. */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** The table: one row per order; `events` counts the events applied to it, for the exactly-once check. */
export const READ_MODEL_TABLE = 'order_read_model';

const CREATE = `CREATE TABLE IF NOT EXISTS ${READ_MODEL_TABLE} (
  order_id text PRIMARY KEY,
  status text NOT NULL,
  amount integer NOT NULL,
  revenue integer NOT NULL,
  events integer NOT NULL
)`;

/**
 * Each statement changes the row relative to what it holds (`revenue + amount`, `events + 1`), so
 * an event applied twice would show. None is: a batch's statements commit with its checkpoint, and
 * a holder that lost its lease has its save refused and its statements rolled back with it.
 */
const APPLY: Record<(typeof READ_MODEL_EVENTS)[number], string> = {
  OrderPlaced: `INSERT INTO ${READ_MODEL_TABLE} (order_id, status, amount, revenue, events) VALUES ($1, 'placed', $2, 0, 1)`,
  PaymentSucceeded: `UPDATE ${READ_MODEL_TABLE} SET status = 'paid', revenue = revenue + amount, events = events + 1 WHERE order_id = $1`,
  PaymentRefunded: `UPDATE ${READ_MODEL_TABLE} SET revenue = revenue - amount, events = events + 1 WHERE order_id = $1`,
  OrderCancelled: `UPDATE ${READ_MODEL_TABLE} SET status = 'cancelled', events = events + 1 WHERE order_id = $1`,
  OrderDelivered: `UPDATE ${READ_MODEL_TABLE} SET status = 'delivered', events = events + 1 WHERE order_id = $1`,
};

/** An order row with the number of events applied to it. */
export interface SqlOrderRow extends OrderRow {
  readonly events: number;
}

/** The read model in `client`'s database, kept by a transactional projection; the store must be on the same database. */
export function sqlReadModel(workflow: OrderWorkflow, client: SqlClient): OrdersReadModel & { rowsWithCounts(): Promise<SqlOrderRow[]> } {
  const rowsWithCounts = async (): Promise<SqlOrderRow[]> => {
    const { rows } = await client.query(`SELECT order_id, status, amount, revenue, events FROM ${READ_MODEL_TABLE} ORDER BY order_id COLLATE "C"`);
    return (rows as { order_id: string; status: OrderStatus; amount: number; revenue: number; events: number }[]).map((r) => ({
      orderId: r.order_id,
      status: r.status,
      amount: Number(r.amount),
      revenue: Number(r.revenue),
      events: Number(r.events),
    }));
  };
  return {
    where: `the SQL table ${READ_MODEL_TABLE}, written with the checkpoint`,
    projection: defineProjection({
      name: ORDERS_BY_STATUS,
      workflows: [workflow],
      eventTypes: READ_MODEL_EVENTS,
      transactional: true,
      async handle(batch, ctx) {
        const sql = postgresTransaction(ctx.transaction);
        for (const e of batch) {
          const values = e.event.type === 'OrderPlaced' ? [e.workflowId, e.event.amount] : [e.workflowId];
          // The projection reads only READ_MODEL_EVENTS (eventTypes).
          await sql.query(APPLY[e.event.type as keyof typeof APPLY], values);
        }
      },
    }),
    async open() {
      await client.query(CREATE);
    },
    rows: async () => (await rowsWithCounts()).map(({ events: _events, ...row }) => row),
    rowsWithCounts,
  };
}
