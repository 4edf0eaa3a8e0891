// openTelemetry(): the Instrumentation an engine takes to report OpenTelemetry spans and metrics,
// through the providers and propagator given, or the global ones of @opentelemetry/api.
import { metrics, propagation, trace, type MeterProvider, type TextMapPropagator, type TracerProvider } from '@opentelemetry/api';
import type { EngineTracer, Instrumentation, InstrumentedEngine } from '@ironflow/runtime';
import { EngineMetrics } from './engine-metrics.js';
import { SpanTracer } from './span-tracer.js';
import { SCOPE_NAME, SCOPE_VERSION } from './version.js';

/** Where `openTelemetry()` sends its spans and metrics. */
export interface OpenTelemetryOptions {
  /**
   * Creates the `@ironflow/otel` tracer.
   * @default the global tracer provider (`trace.getTracerProvider()`), looked up at each span, so one registered later still counts
   */
  tracerProvider?: TracerProvider | undefined;
  /**
   * Creates the `@ironflow/otel` meter and its instruments.
   * @default the global meter provider (`metrics.getMeterProvider()`) at the time the first engine is created: register it before
   */
  meterProvider?: MeterProvider | undefined;
  /**
   * Writes the trace context stored with effects and timers, and reads it back when they run.
   * @default the global propagator (`propagation`), W3C trace context once an SDK is set up
   */
  propagator?: TextMapPropagator | undefined;
}

/** An Instrumentation for `createEngine`, which can stop observing the engines it was given. */
export interface OpenTelemetryInstrumentation extends Instrumentation {
  readonly tracer: EngineTracer;
  attach(engine: InstrumentedEngine): void;
  /**
   * Stops observing every engine attached so far: their lifecycle listeners are removed and their
   * gauges no longer read. Spans still wrap their executes and work.
   */
  detach(): void;
}

/**
 * OpenTelemetry traces and metrics for Ironflow engines: a span per execute, per effect attempt and
 * per timer delivery, with the trace context stored with the work so that it continues in the
 * process that runs it; the counters, histograms and backlog gauges of METRICS.
 *
 * @example
 * const engine = createEngine({ store, workflows, instrumentation: openTelemetry() });
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): OpenTelemetryInstrumentation {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE_NAME, SCOPE_VERSION);
  const spans = new SpanTracer(tracer, options.propagator ?? propagation);
  const engineMetrics = new EngineMetrics(() => (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE_NAME, SCOPE_VERSION));
  const detachers = new Set<() => void>();
  return {
    tracer: spans,
    attach(engine) {
      const stopSpans = engine.on('*', (event) => spans.observe(event));
      const stopMetrics = engineMetrics.attach(engine);
      detachers.add(() => {
        stopSpans();
        stopMetrics();
      });
    },
    detach() {
      for (const stop of detachers) stop();
      detachers.clear();
    },
  };
}
