// Runs workflows end to end in a test: memory store (or any store), a manual clock, and time
// advanced by hand; every effect and due timer is processed before `advance` resolves. No sleeps.
import { createManualClock, type ManualClock } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, silentLogger, type Engine, type EngineOptions, type IdleReport } from '@ironflow/runtime';
import { createMemoryStore } from '@ironflow/store-memory';

/** An engine driven by hand. */
export interface TestEngine {
  readonly engine: Engine;
  readonly clock: ManualClock;
  readonly store: WorkflowStore;
  /** Processes every claimable effect and due timer now. */
  settle(): Promise<IdleReport>;
  /** Moves the clock forward by `ms` and settles. */
  advance(ms: number): Promise<IdleReport>;
}

/** Options of `createTestEngine`: those of `createEngine`, with store and clock optional. */
export type TestEngineOptions = Omit<EngineOptions, 'store' | 'clock'> & {
  store?: WorkflowStore | undefined;
  clock?: ManualClock | undefined;
};

/**
 * Creates an engine on a manual clock (memory store unless given) for end-to-end tests.
 * @example
 * const t = createTestEngine({ workflows: [register(order).handle(handler)] });
 * await t.engine.execute(order, { type: 'Place', orderId: 'o-1' });
 * await t.advance(15 * 60_000);
 */
export function createTestEngine(options: TestEngineOptions): TestEngine {
  const clock = options.clock ?? createManualClock();
  const store = options.store ?? createMemoryStore();
  const engine = createEngine({ logger: silentLogger, ...options, store, clock });
  return {
    engine,
    clock,
    store,
    settle: () => engine.runUntilIdle(),
    async advance(ms) {
      clock.advance(ms);
      return engine.runUntilIdle();
    },
  };
}
