// An engine on the memory store, driven by hand (runUntilIdle), with a few payments in every state:
// p-1 paid, p-2 dead-lettered (charge declined), p-3 charging with its charge pending.
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, silentLogger, type Engine } from '@ironflow/runtime';
import { createMemoryStore } from '@ironflow/store-memory';
import { payment, paymentRegistration, type Gateway } from './payment.js';

export interface MemoryFixture {
  readonly engine: Engine;
  /** The engine's store, for seeding what no engine call writes (projection checkpoints). */
  readonly store: WorkflowStore;
  readonly gateway: Gateway;
  /** The dead charge of p-2. */
  readonly deadId: string;
}

export async function memoryFixture(): Promise<MemoryFixture> {
  const gateway: Gateway = { failing: new Map([['p-2', 'card declined']]) };
  const store = createMemoryStore();
  const engine = createEngine({ store, workflows: [paymentRegistration(gateway)], logger: silentLogger });
  await engine.execute(payment, { type: 'Charge', paymentId: 'p-1', amount: 100, note: 'first' });
  await engine.execute(payment, { type: 'Charge', paymentId: 'p-2', amount: 200, note: 'second' });
  await engine.runUntilIdle();
  await engine.execute(payment, { type: 'Charge', paymentId: 'p-3', amount: 300, note: 'third' });
  const [dead] = await engine.deadLetters.list({ kind: 'effect' });
  if (dead === undefined) throw new Error('fixture: p-2 should have a dead charge');
  return { engine, store, gateway, deadId: dead.id };
}
