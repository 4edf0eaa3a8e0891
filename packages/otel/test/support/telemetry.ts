// OpenTelemetry's SDK set up for tests: spans to an in-memory exporter, metrics to a reader the
// test collects from by hand, and the global context manager and W3C propagator (as NodeSDK
// registers them) so that a span's context follows its async work.
import { context, propagation, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader, type DataPoint, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

let installed = false;

/** Registers the global context manager and propagator, once per test file. */
export function installGlobals(): void {
  if (installed) return;
  installed = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

/** A reader that only exports when the test asks. */
class ManualReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** One collection of metrics, looked up by name and attributes. */
export interface Collected {
  readonly metrics: readonly MetricData[];
  /** Errors the collection reported (a gauge callback that threw). */
  readonly errors: readonly unknown[];
  /** The data points of one metric (none when it recorded nothing). */
  points(name: string): readonly DataPoint<number | Histogram>[];
  /** The value of a counter or gauge point with exactly these attributes, undefined when absent. */
  value(name: string, attributes: Attributes): number | undefined;
  /** The histogram point with exactly these attributes. */
  histogram(name: string, attributes: Attributes): Histogram | undefined;
}

/** A tracer provider and a meter provider with in-memory outputs, as one "process" would have. */
export interface Telemetry {
  readonly tracerProvider: BasicTracerProvider;
  readonly meterProvider: MeterProvider;
  readonly exporter: InMemorySpanExporter;
  /** Finished spans so far. */
  spans(): ReadableSpan[];
  collect(): Promise<Collected>;
  shutdown(): Promise<void>;
}

const sameAttributes = (a: Attributes, b: Attributes): boolean => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
};

export function createTelemetry(): Telemetry {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new ManualReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    exporter,
    spans: () => exporter.getFinishedSpans(),
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
      const points = (name: string) => (metrics.find((m) => m.descriptor.name === name)?.dataPoints ?? []) as DataPoint<number | Histogram>[];
      const point = (name: string, attributes: Attributes) => points(name).find((p) => sameAttributes(p.attributes, attributes));
      return {
        metrics,
        errors,
        points,
        value: (name, attributes) => {
          const found = point(name, attributes)?.value;
          return typeof found === 'number' ? found : undefined;
        },
        histogram: (name, attributes) => {
          const found = point(name, attributes)?.value;
          return typeof found === 'object' ? found : undefined;
        },
      };
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}
