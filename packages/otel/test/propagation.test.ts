// A trace that crosses "processes" through the store: engine A (its own tracer provider, no workers)
// executes an input inside a user's span; engine B (another provider, workers started, the same
// data through a store of its own) runs the effect. B's spans continue A's trace: nothing but the
// carrier stored with the effect connects them.
import { SpanKind } from '@opentelemetry/api';
import { AlwaysOffSampler, BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '@ironflow/core';
import { openTelemetry, SPAN_ATTRIBUTES as A } from '../src/index.js';
import { eventually, flowEngine, spanWith } from './support/engine.js';
import { flow } from './support/flow.js';
import { STORES, type TestStore } from './support/stores.js';
import { createTelemetry, installGlobals, type Telemetry } from './support/telemetry.js';

installGlobals();

for (const { name, open } of STORES) {
  describe.skipIf(open === undefined)(`trace propagation through the store (${name})`, () => {
    let data: TestStore;
    let telemetryA: Telemetry;
    let telemetryB: Telemetry;
    beforeEach(async () => {
      data = await (open as () => Promise<TestStore>)();
      telemetryA = createTelemetry();
      telemetryB = createTelemetry();
    });
    afterEach(async () => {
      await data.close();
      await telemetryA.shutdown();
      await telemetryB.shutdown();
    });

    it("the effect's span in another engine is a child of the execute that wrote it, in the same trace, and the execute of its result is the effect span's child", async () => {
      const clock = createManualClock();
      const engineA = flowEngine(data.store, clock, openTelemetry({ tracerProvider: telemetryA.tracerProvider, meterProvider: telemetryA.meterProvider }), false);
      const ref = { type: flow.type, id: 'p-1' };
      await telemetryA.tracerProvider.getTracer('test').startActiveSpan('POST /flows', { kind: SpanKind.SERVER }, async (span) => {
        await engineA.execute(flow, { type: 'Start', id: 'p-1' });
        span.end();
      });
      expect(telemetryB.spans()).toEqual([]);

      const engineB = flowEngine(await data.another(), clock, openTelemetry({ tracerProvider: telemetryB.tracerProvider, meterProvider: telemetryB.meterProvider }));
      try {
        await eventually('engine B ran both effects', async () => (await data.store.listTimers(ref)).length === 1);
      } finally {
        await engineB.stop();
      }

      const spansA = telemetryA.spans();
      const spansB = telemetryB.spans();
      expect(spansA.map((s) => s.name).sort()).toEqual(['POST /flows', 'execute flow']);
      const request = spansA.find((s) => s.name === 'POST /flows');
      const execute = spanWith(spansA, 'execute flow', A.inputType, 'Start');
      expect(execute.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);

      const [effectA] = await data.store.listEffects(ref);
      const effectSpan = spanWith(spansB, 'effect flow', A.messageId, effectA?.id);
      const routed = spanWith(spansB, 'execute flow', A.inputType, 'ADone');
      const traceId = execute.spanContext().traceId;
      expect(effectSpan.spanContext().traceId).toBe(traceId);
      expect(effectSpan.parentSpanContext).toMatchObject({ traceId, spanId: execute.spanContext().spanId, isRemote: true });
      expect(effectSpan.kind).toBe(SpanKind.CONSUMER);
      expect(routed.parentSpanContext?.spanId).toBe(effectSpan.spanContext().spanId);
      expect(routed.spanContext().traceId).toBe(traceId);
      // Everything engine B did belongs to the trace engine A started.
      expect(new Set(spansB.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
    });

    it("an unsampled execute still stores its context, and the effect's span in another engine follows that decision: not sampled either", async () => {
      const clock = createManualClock();
      const unsampled = new BasicTracerProvider({ sampler: new AlwaysOffSampler(), spanProcessors: [new SimpleSpanProcessor(telemetryA.exporter)] });
      const engineA = flowEngine(data.store, clock, openTelemetry({ tracerProvider: unsampled, meterProvider: telemetryA.meterProvider }), false);
      await engineA.execute(flow, { type: 'Start', id: 'p-2' });
      const ref = { type: flow.type, id: 'p-2' };
      const [effect] = await data.store.listEffects(ref);
      expect(effect?.trace?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);

      // Engine B samples every trace it starts, and follows its parent's decision otherwise (the SDK's default).
      const engineB = flowEngine(await data.another(), clock, openTelemetry({ tracerProvider: telemetryB.tracerProvider, meterProvider: telemetryB.meterProvider }));
      try {
        await eventually('engine B ran both effects', async () => (await data.store.listTimers(ref)).length === 1);
      } finally {
        await engineB.stop();
      }
      expect(telemetryA.spans()).toEqual([]);
      expect(telemetryB.spans()).toEqual([]);
      const [timer] = await data.store.listTimers(ref);
      expect(timer?.trace?.traceparent?.slice(3, 35)).toBe(effect?.trace?.traceparent?.slice(3, 35));
    });
  });
}
