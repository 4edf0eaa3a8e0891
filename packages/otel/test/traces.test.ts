// Spans of a workflow run on every store: the parent/child structure of a three-step workflow (the
// trace continues through the store from each execute to the work it wrote), what failures look
// like, and that nothing is stored when tracing is off.
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, isIronflowError } from '@ironflow/core';
import { openTelemetry, SPAN_ATTRIBUTES as A } from '../src/index.js';
import { flowEngine, eventually, spanTrees, spanWith } from './support/engine.js';
import { flow, WAKE_AFTER_MS } from './support/flow.js';
import { STORES, type TestStore } from './support/stores.js';
import { createTelemetry, installGlobals, type Telemetry } from './support/telemetry.js';

installGlobals();

for (const { name, open } of STORES) {
  describe.skipIf(open === undefined)(`spans (${name})`, () => {
    let data: TestStore;
    let telemetry: Telemetry;
    beforeEach(async () => {
      data = await (open as () => Promise<TestStore>)();
      telemetry = createTelemetry();
    });
    afterEach(async () => {
      await data.close();
      await telemetry.shutdown();
    });

    it('a three-step workflow is one trace: each execute is the parent of the work it wrote, and each item the parent of the execute of its result', async () => {
      const clock = createManualClock();
      const engine = flowEngine(data.store, clock, openTelemetry({ tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider }));
      const ref = { type: flow.type, id: 'f-1' };
      try {
        const request = telemetry.tracerProvider.getTracer('test');
        await request.startActiveSpan('POST /flows', { kind: SpanKind.SERVER }, async (span) => {
          await engine.execute(flow, { type: 'Start', id: 'f-1' });
          span.end();
        });
        await eventually('the timer is scheduled', async () => (await data.store.listTimers(ref)).some((t) => t.status === 'pending'));
        clock.advance(WAKE_AFTER_MS);
        expect((await engine.waitFor(flow, 'f-1', { timeoutMs: 120_000 })).status).toBe('completed');
      } finally {
        await engine.stop();
      }

      const spans = telemetry.spans();
      expect(spanTrees(spans)).toEqual([
        {
          name: 'POST /flows',
          kind: SpanKind.SERVER,
          children: [
            {
              name: 'execute flow',
              kind: SpanKind.PRODUCER,
              children: [
                {
                  name: 'effect flow',
                  kind: SpanKind.CONSUMER,
                  children: [
                    {
                      name: 'execute flow',
                      kind: SpanKind.PRODUCER,
                      children: [
                        {
                          name: 'effect flow',
                          kind: SpanKind.CONSUMER,
                          children: [
                            {
                              name: 'execute flow',
                              kind: SpanKind.PRODUCER,
                              children: [
                                {
                                  name: 'timer flow',
                                  kind: SpanKind.CONSUMER,
                                  children: [{ name: 'execute flow', kind: SpanKind.PRODUCER, children: [] }],
                                },
                              ],
                            },
                          ],
                        },
                      ],
                    },
                  ],
                },
              ],
            },
          ],
        },
      ]);
      expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
      expect(spans).toHaveLength(8);

      // Each execute by its input: the store's work ties them together.
      const start = spanWith(spans, 'execute flow', A.inputType, 'Start');
      const aDone = spanWith(spans, 'execute flow', A.inputType, 'ADone');
      const bDone = spanWith(spans, 'execute flow', A.inputType, 'BDone');
      const wake = spanWith(spans, 'execute flow', A.inputType, 'Wake');
      const [effectA, effectB] = await data.store.listEffects(ref);
      const [timer] = await data.store.listTimers(ref);
      const spanA = spanWith(spans, 'effect flow', A.messageId, effectA?.id);
      const spanB = spanWith(spans, 'effect flow', A.messageId, effectB?.id);
      const timerSpan = spanWith(spans, 'timer flow', A.messageId, timer?.id);
      const parentOf = (s: typeof start) => s.parentSpanContext?.spanId;
      const idOf = (s: typeof start) => s.spanContext().spanId;
      expect([parentOf(spanA), parentOf(aDone), parentOf(spanB), parentOf(bDone), parentOf(timerSpan), parentOf(wake)]).toEqual([
        idOf(start),
        idOf(spanA),
        idOf(aDone),
        idOf(spanB),
        idOf(bDone),
        idOf(timerSpan),
      ]);

      expect(start.attributes).toMatchObject({
        [A.messagingSystem]: 'ironflow',
        [A.operationType]: 'send',
        [A.operationName]: 'execute',
        [A.destination]: 'flow',
        [A.workflowType]: 'flow',
        [A.workflowId]: 'f-1',
        [A.decisionOutcome]: 'accepted',
        [A.version]: 1,
        [A.effects]: 1,
        [A.timers]: 0,
        [A.conflicts]: 0,
        [A.completed]: false,
      });
      // Its commit was applied at once: a duration on the span, no event.
      expect(start.events).toEqual([]);
      expect(start.attributes['ironflow.commit.duration']).toBeGreaterThanOrEqual(0);
      expect(bDone.attributes).toMatchObject({ [A.timers]: 1, [A.effects]: 0 });
      expect(wake.attributes).toMatchObject({ [A.completed]: true, [A.version]: 4 });
      expect(spanA.attributes).toMatchObject({
        [A.messagingSystem]: 'ironflow',
        [A.operationType]: 'process',
        [A.operationName]: 'effect',
        [A.destination]: 'flow',
        [A.workflowType]: 'flow',
        [A.workflowId]: 'f-1',
        [A.kind]: 'effect',
        [A.attempt]: 1,
        [A.recovered]: false,
        [A.attemptResult]: 'succeeded',
        [A.routedTo]: 'flow',
        [A.routedOutcome]: 'accepted',
      });
      expect(timerSpan.attributes).toMatchObject({ [A.operationName]: 'timer', [A.kind]: 'timer', [A.attemptResult]: 'fired', [A.routedOutcome]: 'accepted' });
      for (const span of spans) expect(span.status.code).toBe(SpanStatusCode.UNSET);
      // What each execute stored is its own span's context.
      expect(effectA?.trace?.traceparent).toBe(`00-${start.spanContext().traceId}-${idOf(start)}-01`);
      expect(timer?.trace?.traceparent).toBe(`00-${bDone.spanContext().traceId}-${idOf(bDone)}-01`);
    });

    it('runUntilIdle (test engines) traces work as the pools do: the effect continues its execute, the routed result is its child', async () => {
      const clock = createManualClock();
      const engine = flowEngine(data.store, clock, openTelemetry({ tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider }), false);
      await engine.execute(flow, { type: 'Start', id: 'idle-1' });
      await engine.runUntilIdle();
      const spans = telemetry.spans();
      const [execute] = spans.filter((s) => s.name === 'execute flow' && s.parentSpanContext === undefined);
      const effect = spans.find((s) => s.name === 'effect flow');
      expect(effect?.parentSpanContext?.spanId).toBe(execute!.spanContext().spanId);
      expect(effect?.spanContext().traceId).toBe(execute!.spanContext().traceId);
      const routed = spans.find((s) => s.name === 'execute flow' && s.parentSpanContext?.spanId === effect!.spanContext().spanId);
      expect(routed).toBeDefined();
    });

    it('a version conflict is an ironflow.commit event on the execute span, and the retried commit its duration', async () => {
      const clock = createManualClock();
      const instrumentation = openTelemetry({ tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider });
      const a = flowEngine(data.store, clock, undefined, false);
      const b = flowEngine(data.store, clock, instrumentation, false);
      await a.execute(flow, { type: 'Note', id: 'c-1' });
      await b.execute(flow, { type: 'Note', id: 'c-1' }); // b now holds c-1 at version 2 in its cache
      await a.execute(flow, { type: 'Note', id: 'c-1' }); // … which a moves on to 3
      telemetry.exporter.reset();
      expect(await b.execute(flow, { type: 'Note', id: 'c-1' })).toMatchObject({ status: 'accepted', version: 4 });
      const [span] = telemetry.spans();
      expect(span!.events.map((e) => [e.name, e.attributes?.['ironflow.commit.outcome']])).toEqual([['ironflow.commit', 'conflict']]);
      expect(span!.attributes).toMatchObject({ [A.conflicts]: 1, [A.version]: 4 });
      expect(span!.attributes['ironflow.commit.duration']).toBeGreaterThanOrEqual(0);
    });

    it('a failing handler makes effect spans with status ERROR, an exception event and error.type: one retried, then one dead-lettered', async () => {
      const clock = createManualClock();
      const engine = flowEngine(data.store, clock, openTelemetry({ tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider }));
      const ref = { type: flow.type, id: 'f-fail' };
      try {
        await engine.execute(flow, { type: 'Fail', id: 'f-fail' });
        await eventually('the first attempt failed', () => telemetry.spans().some((s) => s.name === 'effect flow'));
        clock.advance(1_000);
        await eventually('the effect is dead-lettered', async () => (await data.store.listEffects(ref)).some((e) => e.status === 'dead'));
      } finally {
        await engine.stop();
      }
      const attempts = telemetry.spans().filter((s) => s.name === 'effect flow');
      expect(attempts.map((s) => [s.attributes[A.attempt], s.attributes[A.attemptResult], s.status.code, s.attributes[A.errorType]])).toEqual([
        [1, 'failed', SpanStatusCode.ERROR, 'GatewayError'],
        [2, 'dead-lettered', SpanStatusCode.ERROR, 'GatewayError'],
      ]);
      const [retried, dead] = attempts;
      expect(retried?.status.message).toBe('GatewayError: gateway unavailable');
      expect(retried?.attributes[A.retryAt]).toBe(new Date(clock.now()).toISOString());
      expect(dead?.status.message).toBe('attempts exhausted (2/2): GatewayError: gateway unavailable');
      for (const span of attempts) {
        expect(span.events.map((e) => [e.name, e.attributes?.['exception.type'], e.attributes?.['exception.message']])).toEqual([
          ['exception', 'GatewayError', span.status.message],
        ]);
      }
    });

    it('a decide that throws makes an execute span with status ERROR, the exception and error.type, and the error still reaches the caller', async () => {
      const engine = flowEngine(data.store, createManualClock(), openTelemetry({ tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider }), false);
      const thrown = await engine.execute(flow, { type: 'Explode', id: 'f-x' }).catch((error: unknown) => error);
      expect(isIronflowError(thrown, 'DECIDE_FAILED')).toBe(true);
      expect((thrown as Error).cause).toEqual(new TypeError('decide exploded'));
      const [span, ...others] = telemetry.spans();
      expect(others).toEqual([]);
      expect(span?.name).toBe('execute flow');
      expect(span?.status.code).toBe(SpanStatusCode.ERROR);
      expect(span?.status.message).toBe((thrown as Error).message);
      expect(span?.attributes).toMatchObject({ [A.errorType]: 'DECIDE_FAILED', [A.inputType]: 'Explode', [A.conflicts]: 0 });
      expect(span?.events.map((e) => [e.name, e.attributes?.['exception.type'], e.attributes?.['exception.message']])).toEqual([['exception', 'DECIDE_FAILED', (thrown as Error).message]]);
    });

    it('nothing is stored with effects and timers when tracing is off: no instrumentation, or openTelemetry() with no tracer provider registered', async () => {
      expect(trace.getTracerProvider().getTracer('probe').startSpan('probe').isRecording()).toBe(false);
      for (const [id, instrumentation] of [
        ['off-none', undefined],
        ['off-noop', openTelemetry()],
      ] as const) {
        const clock = createManualClock();
        const engine = flowEngine(data.store, clock, instrumentation);
        const ref = { type: flow.type, id };
        try {
          await engine.execute(flow, { type: 'Start', id });
          await eventually('the timer is scheduled', async () => (await data.store.listTimers(ref)).length === 1);
        } finally {
          await engine.stop();
        }
        const work = [...(await data.store.listEffects(ref)), ...(await data.store.listTimers(ref))];
        expect(work).toHaveLength(3);
        for (const item of work) expect(Object.keys(item)).not.toContain('trace');
      }
      expect(telemetry.spans()).toEqual([]);
    });
  });
}
