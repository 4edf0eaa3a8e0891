// A projection's metrics reach OpenTelemetry like the rest: events applied and parked (counters),
// batch durations (histogram), and the lag its holder measured (gauges), equal to engine.metrics().
import { afterEach, describe, expect, it } from 'vitest';
import { accept, createManualClock, defineWorkflow } from '@ironflow/core';
import { createEngine, defineProjection, silentLogger } from '@ironflow/runtime';
import { createMemoryStore } from '@ironflow/store-memory';
import { openTelemetry } from '../src/index.js';
import { createTelemetry, installGlobals, type Telemetry } from './support/telemetry.js';

installGlobals();

const ledger = defineWorkflow({
  type: 'ledger',
  initialState: () => 0,
  evolve: (total: number, event: { type: 'Booked'; cents: number }) => total + event.cents,
  decide: (input: { type: 'Book'; id: string; cents: number }) => accept({ type: 'Booked' as const, cents: input.cents }),
  workflowId: (input) => input.id,
});

const NAME = { 'ironflow.projection.name': 'balances' };

describe('projection metrics', () => {
  let telemetry: Telemetry;
  afterEach(async () => {
    await telemetry.shutdown();
  });

  it('events applied and parked, batch durations and lag gauges are collected, as engine.metrics() reports them', async () => {
    telemetry = createTelemetry();
    const balances = defineProjection({
      name: 'balances',
      workflows: [ledger],
      retry: { maxAttempts: 1 },
      handle(batch) {
        if (batch.some((e) => e.event.cents < 0)) throw new Error('negative booking');
      },
    });
    const engine = createEngine({
      store: createMemoryStore(),
      clock: createManualClock(),
      logger: silentLogger,
      workflows: [ledger],
      projections: [balances],
      instrumentation: openTelemetry({ tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider }),
    });
    for (const cents of [100, -5, 250]) await engine.execute(ledger, { type: 'Book', id: `l-${cents}`, cents });
    expect(await engine.runUntilIdle()).toMatchObject({ projected: 2 });

    const collected = await telemetry.collect();
    expect(collected.errors).toEqual([]);
    expect(collected.value('ironflow.projection.events', NAME)).toBe(2);
    expect(collected.value('ironflow.projection.dead_letters', NAME)).toBe(1);
    expect(collected.histogram('ironflow.projection.batch.duration', NAME)?.count).toBe(1);
    expect(collected.value('ironflow.projection.lag.events', NAME)).toBe(0);
    expect(collected.value('ironflow.projection.lag.age', NAME)).toBe(0);
    const { counters, gauges } = await engine.metrics();
    for (const c of counters.filter((p) => p.name.startsWith('ironflow.projection.'))) expect(collected.value(c.name, c.attributes)).toBe(c.value);
    for (const g of gauges.filter((p) => p.name.startsWith('ironflow.projection.'))) expect(collected.value(g.name, g.attributes)).toBe(g.value);
  });
});
