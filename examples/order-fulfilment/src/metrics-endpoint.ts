// A Prometheus `/metrics` endpoint for the example's engine: the OpenTelemetry SDK's meter provider
// read by the Prometheus exporter, served from the example's own HTTP server, and the Ironflow
// instrumentation that feeds it. `demo -- --metrics` serves it while the demo runs.
import { createServer } from 'node:http';
import { openTelemetry } from '@ironflow/otel';
import type { Instrumentation } from '@ironflow/runtime';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { listen } from './listen.js';

/** A running `/metrics` endpoint and the instrumentation to give `createEngine`. */
export interface MetricsEndpoint {
  /** Pass to `createEngine({ instrumentation })` (or `createOrderEngine`). */
  readonly instrumentation: Instrumentation;
  /** `http://host:port/metrics`. */
  readonly url: string;
  /** Stops serving and shuts the meter provider down. */
  close(): Promise<void>;
}

/**
 * Serves the engine's metrics in Prometheus' text format on `host:port` (port 0 picks a free one).
 * @example const metrics = await serveMetrics({ port: 9464 }); createOrderEngine({ store, instrumentation: metrics.instrumentation });
 */
export async function serveMetrics(options: { port?: number | undefined; host?: string | undefined } = {}): Promise<MetricsEndpoint> {
  // The exporter is a pull reader: it collects when scraped, and we serve it from our own server.
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url?.split('?')[0] === '/metrics') return exporter.getMetricsRequestHandler(request, response);
    response.statusCode = 404;
    response.end('not found: try /metrics\n');
  });
  const base = await listen(server, options.port ?? 9464, options.host ?? '127.0.0.1');
  const instrumentation = openTelemetry({ meterProvider });
  return {
    instrumentation,
    url: `${base}metrics`,
    async close() {
      instrumentation.detach();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      await meterProvider.shutdown();
    },
  };
}
