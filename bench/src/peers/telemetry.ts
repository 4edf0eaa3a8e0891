// OpenTelemetry as a production setup would have it, for the "tracing and metrics on" variant of
// Ironflow: AsyncLocalStorage context, W3C propagation, every span sampled and sent through a batch
// processor (to an exporter that counts and drops them, so the network is not measured), and a
// meter provider with a reader collected at the end. The check proves nothing was dropped.
import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { openTelemetry } from '@ironflow/otel';
import type { Instrumentation } from '@ironflow/runtime';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';

/** For the result file. */
export const TELEMETRY_SETTINGS =
  '`@ironflow/otel` with the OpenTelemetry SDK: AsyncLocalStorage context, W3C propagation, every span sampled, a batch span processor (queue 200 000, batches of 2 048) to an exporter that drops them, and a meter provider collected at the end';

let registered = false;

/** Counts exported spans and drops them. */
class CountingExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.spans += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}

/** A reader collected on demand. */
class PullReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** A fresh tracer and meter provider and the instrumentation over them. */
export function benchTelemetry(): { instrumentation: Instrumentation; check(jobs: number): Promise<void>; shutdown(): Promise<void> } {
  if (!registered) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    registered = true;
  }
  const exporter = new CountingExporter();
  const tracerProvider = new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 200_000, maxExportBatchSize: 2048, scheduledDelayMillis: 200 })],
  });
  const reader = new PullReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const instrumentation = openTelemetry({ tracerProvider, meterProvider });
  return {
    instrumentation,
    // Every job made at least an execute span and an effect span, and its decisions were counted.
    async check(jobs) {
      await tracerProvider.forceFlush();
      if (exporter.spans < 2 * jobs) throw new Error(`tracing dropped spans: ${exporter.spans} exported for ${jobs} jobs`);
      const { resourceMetrics } = await reader.collect();
      const decisions = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'ironflow.decisions');
      const counted = (decisions?.dataPoints ?? []).reduce((sum, p) => sum + (typeof p.value === 'number' ? p.value : 0), 0);
      if (counted < jobs) throw new Error(`metrics counted ${counted} decisions for ${jobs} jobs`);
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}
