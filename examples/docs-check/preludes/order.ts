// The order workflow of the root README's example, declared, for blocks that use it without
// defining it, and what such blocks take from the surrounding application.
import type { Workflow } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import type { EffectHandlerOf, Engine, EngineOptions } from '@ironflow/runtime';

/** The README's order: Place → a charge effect and a 15-minute expiry timer; Paid or Expire ends it. */
declare const order: Workflow<
  { status: 'new' | 'placed' | 'Paid' | 'Expired' },
  { type: 'Place'; orderId: string; amount: number } | { type: 'Paid' | 'Expire'; orderId: string },
  { type: 'Placed'; amount: number } | { type: 'Paid' } | { type: 'Expired' },
  { kind: 'charge'; orderId: string; amount: number },
  { code: 'ALREADY_PLACED' } | { code: 'NOT_PLACED' }
>;
/** Its effect handler. */
declare const handleOrder: EffectHandlerOf<typeof order>;
/** An engine the application created. */
declare const engine: Engine;
/** A store the application opened, and the registrations it passes to `createEngine`. */
declare const store: WorkflowStore;
declare const workflows: EngineOptions['workflows'];
/** A payment client. */
declare const payments: { charge(amount: number, options: { idempotencyKey: string; signal: AbortSignal }): Promise<{ receipt: string }> };
/** Charges the order's amount; answers with the input the order expects. */
declare function chargeCard(charge: { orderId: string; amount: number }, idempotencyKey: string): Promise<{ type: 'Paid'; orderId: string }>;
/** An input that arrived, and the HTTP request it came with. */
declare const input: { type: 'Place'; orderId: string; amount: number };
declare const request: { headers: Record<string, string | undefined> };
/** A metrics client. */
declare const metrics: { increment(name: string): void };
