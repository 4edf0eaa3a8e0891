// The one store contract, as titled tests: every store package runs this against a real backend.
import { afterAll, beforeAll, describe } from 'vitest';
import { acknowledgementCases } from './acknowledgement.js';
import { concurrencyCases } from './concurrency.js';
import type { ConformanceContext, StoreConformanceOptions, StoreUnderTest } from './context.js';
import { effectCases } from './effects.js';
import { eventCases } from './events.js';
import { queryCases } from './queries.js';
import { runtimeCases } from './runtime.js';
import { timerCases } from './timers.js';
import { uniqueKeyCases } from './unique-keys.js';
import { wakeUpCases } from './wake-ups.js';

/**
 * Declares the store conformance suite for one store.
 * @example
 * describeStoreConformance({ name: 'memory', setup: async () => ({ store: createMemoryStore(), teardown: async () => {} }) });
 */
export function describeStoreConformance(options: StoreConformanceOptions): void {
  describe(`WorkflowStore conformance (${options.name})`, () => {
    const ctx = {} as ConformanceContext;
    let underTest: StoreUnderTest | undefined;
    beforeAll(async () => {
      underTest = await options.setup();
      ctx.store = underTest.store;
    });
    afterAll(async () => {
      await underTest?.teardown();
    });

    describe('events and versions', () => eventCases(ctx));
    describe('concurrency', () => concurrencyCases(ctx));
    describe('unique keys', () => uniqueKeyCases(ctx));
    describe('effects', () => effectCases(ctx));
    describe('timers', () => timerCases(ctx));
    describe('atomic acknowledgement', () => acknowledgementCases(ctx));
    describe('queries and retention', () => queryCases(ctx));
    describe('wake-ups', () => wakeUpCases(ctx));
    describe('runtime end to end', () => runtimeCases(ctx));
  });
}
