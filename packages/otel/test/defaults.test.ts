// openTelemetry() with no options uses the global tracer provider, meter provider and propagator,
// as an SDK registers them; one instrumentation serves several engines with one set of
// instruments; detach() stops observing them.
import { metrics, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createMemoryStore } from '@ironflow/store-memory';
import { openTelemetry, SPAN_ATTRIBUTES as A } from '../src/index.js';
import { flowEngine } from './support/engine.js';
import { flow } from './support/flow.js';
import { createTelemetry, installGlobals } from './support/telemetry.js';

installGlobals();
const telemetry = createTelemetry();
trace.setGlobalTracerProvider(telemetry.tracerProvider);
metrics.setGlobalMeterProvider(telemetry.meterProvider);

const ACCEPTED = { 'ironflow.workflow.type': 'flow', 'ironflow.decision.outcome': 'accepted' };

/** A memory store that counts the backlog reads made for gauges. */
function countingStore(): { store: WorkflowStore; reads: () => number } {
  const store = createMemoryStore();
  let reads = 0;
  const counted = new Proxy(store, {
    get: (target, key) => {
      if (key !== 'backlog') return Reflect.get(target, key);
      return (now: number) => {
        reads += 1;
        return target.backlog(now);
      };
    },
  });
  return { store: counted, reads: () => reads };
}

describe('openTelemetry() with the global providers', () => {
  it('spans go to the global tracer provider and the carrier is written by the global propagator', async () => {
    const store = createMemoryStore();
    const engine = flowEngine(store, createManualClock(), openTelemetry(), false);
    await engine.execute(flow, { type: 'Start', id: 'd-1' });
    const execute = telemetry.spans().find((s) => s.name === 'execute flow' && s.attributes[A.workflowId] === 'd-1');
    expect(execute?.instrumentationScope).toMatchObject({ name: '@ironflow/otel', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    const [effect] = await store.listEffects({ type: flow.type, id: 'd-1' });
    expect(effect?.trace).toEqual({ traceparent: `00-${execute?.spanContext().traceId}-${execute?.spanContext().spanId}-01` });
  });

  it('two engines share one set of instruments; detach() stops counting their events and reading their gauges', async () => {
    const before = (await telemetry.collect()).value('ironflow.decisions', ACCEPTED) ?? 0;
    const instrumentation = openTelemetry();
    const one = countingStore();
    const two = countingStore();
    const first = flowEngine(one.store, createManualClock(), instrumentation, false);
    const second = flowEngine(two.store, createManualClock(), instrumentation, false);
    await first.execute(flow, { type: 'Note', id: 'd-2' });
    await second.execute(flow, { type: 'Note', id: 'd-2' });
    const collected = await telemetry.collect();
    expect(collected.value('ironflow.decisions', ACCEPTED)).toBe(before + 2);
    expect(collected.metrics.filter((m) => m.descriptor.name === 'ironflow.decisions')).toHaveLength(1);
    // One gauge callback per engine, each reading its own store once per collection.
    expect([one.reads(), two.reads()]).toEqual([1, 1]);

    instrumentation.detach();
    await first.execute(flow, { type: 'Note', id: 'd-3' });
    await second.execute(flow, { type: 'Note', id: 'd-3' });
    const after = await telemetry.collect();
    expect(after.value('ironflow.decisions', ACCEPTED)).toBe(before + 2);
    expect([one.reads(), two.reads()]).toEqual([1, 1]);
    // Spans still wrap what the engines do.
    expect(telemetry.spans().filter((s) => s.attributes[A.workflowId] === 'd-3')).toHaveLength(2);
  });
});
