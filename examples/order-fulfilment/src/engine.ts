// Wires the order workflow and its shipment child to their handlers and an engine, with a retry
// policy sized for the demo, and the projection that keeps the orders read model.
// `orderFulfilment()` gives the pieces (tests pass them to createTestEngine); `createOrderEngine()` builds one.
import type { Clock, RetryPolicy } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, register, type Engine, type EngineOptions, type Instrumentation, type Logger } from '@ironflow/runtime';
import { createOrderHandler, createServices, createShipmentHandler, type OrderServices } from './handlers.js';
import { memoryReadModel, type OrdersReadModel } from './order-read-model.js';
import { createOrderWorkflow, type OrderWorkflow } from './order-workflow.js';
import { shipmentWorkflow, type ShipmentWorkflow } from './shipment-workflow.js';

/** Retries of the example: quick enough to watch, few enough to dead-letter within seconds. */
export const ORDER_RETRY: Readonly<Partial<RetryPolicy>> = Object.freeze({ baseDelayMs: 200, maxDelayMs: 5_000, maxAttempts: 4 });

/** Options of `orderFulfilment`. */
export interface OrderFulfilmentOptions {
  /** The simulated services. @default createServices() */
  services?: OrderServices | undefined;
  /** @default 900000 (15 minutes) */
  paymentDeadlineMs?: number | undefined;
  /** Overrides fields of `ORDER_RETRY`. */
  retry?: Partial<RetryPolicy> | undefined;
  /**
   * Longest wait of the worker pools between claims; retried effects become due in between.
   * @default 250
   */
  pollIntervalMs?: number | undefined;
  /**
   * Lease of a claimed effect or timer (renewed every third of it while a handler runs). After a
   * crash, the work the dead process held is claimed again once its lease expires.
   * @default 30000
   */
  leaseMs?: number | undefined;
  /**
   * How long `engine.stop()` lets in-flight handlers finish before aborting them and releasing
   * their leases (a released attempt is not counted).
   * @default 10000
   */
  shutdownTimeoutMs?: number | undefined;
  /**
   * The read model of orders by status and revenue, kept by a projection the engine runs.
   * @default memoryReadModel (in this process's memory, rebuilt at start)
   */
  readModel?: ((workflow: OrderWorkflow) => OrdersReadModel) | undefined;
}

/** The workflows, their services, and the engine options that register them. */
export interface OrderFulfilment {
  readonly workflow: OrderWorkflow;
  /** The child workflow each paid order starts. */
  readonly shipment: ShipmentWorkflow;
  readonly services: OrderServices;
  /** Orders by status and revenue, kept by the projection in `engineOptions.projections`. */
  readonly readModel: OrdersReadModel;
  readonly engineOptions: Omit<EngineOptions, 'store' | 'clock' | 'logger'>;
}

/**
 * Assembles the example without building an engine, for `createEngine` or `createTestEngine`.
 * @example const { workflow, engineOptions } = orderFulfilment(); const t = createTestEngine(engineOptions);
 */
export function orderFulfilment(options: OrderFulfilmentOptions = {}): OrderFulfilment {
  const services = options.services ?? createServices();
  const workflow = createOrderWorkflow({ paymentDeadlineMs: options.paymentDeadlineMs });
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const readModel = (options.readModel ?? memoryReadModel)(workflow);
  return {
    workflow,
    shipment: shipmentWorkflow,
    services,
    readModel,
    engineOptions: {
      // Both types in one engine: the order's start effects create shipments, and a shipment's
      // ending is decided as an input of its order.
      workflows: [register(workflow).handle(createOrderHandler(services)), register(shipmentWorkflow).handle(createShipmentHandler(services))],
      retry: { ...ORDER_RETRY, ...options.retry },
      effects: { pollIntervalMs, leaseMs: options.leaseMs },
      timers: { pollIntervalMs, leaseMs: options.leaseMs },
      shutdownTimeoutMs: options.shutdownTimeoutMs,
      projections: [readModel.projection],
      // A commit of this engine wakes the projection at once; the poll is for other processes' commits.
      projectionOptions: { pollIntervalMs, lagIntervalMs: 1_000 },
    },
  };
}

/** Options of `createOrderEngine`. */
export interface OrderEngineOptions extends OrderFulfilmentOptions {
  store: WorkflowStore;
  /** @default systemClock */
  clock?: Clock | undefined;
  /** @default the runtime's console logger */
  logger?: Logger | undefined;
  /** Tracing and metrics, e.g. `openTelemetry()` from `@ironflow/otel` (see `serveMetrics`). */
  instrumentation?: Instrumentation | undefined;
}

/** An engine running the order and shipment workflows, with the workflows to address them and the services they call. */
export interface OrderEngine {
  readonly engine: Engine;
  readonly workflow: OrderWorkflow;
  readonly shipment: ShipmentWorkflow;
  readonly services: OrderServices;
  readonly readModel: OrdersReadModel;
}

/**
 * Builds an engine for the order and shipment workflows and their read model; call
 * `readModel.open(engine)`, then `engine.start()` to run its workers.
 * @example
 * const { engine, workflow } = createOrderEngine({ store: createMemoryStore() });
 * engine.start();
 * await engine.execute(workflow, { type: 'PlaceOrder', orderId: 'o-1', items: [{ sku: 'BOOK-1', quantity: 1 }], amount: 1999, card: GOOD_CARD });
 */
export function createOrderEngine(options: OrderEngineOptions): OrderEngine {
  const { workflow, shipment, services, readModel, engineOptions } = orderFulfilment(options);
  const engine = createEngine({ ...engineOptions, store: options.store, clock: options.clock, logger: options.logger, instrumentation: options.instrumentation });
  return { engine, workflow, shipment, services, readModel };
}
