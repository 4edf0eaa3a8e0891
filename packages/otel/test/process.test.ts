// The trace crosses a real process boundary: this process executes an input inside a user's span;
// a worker process (node, loading the TypeScript sources) with its own SDK runs the effects on the
// same PostgreSQL or Redis data and reports its spans. Its effect span's parent is this process's
// execute span, known to it only through the carrier stored with the effect.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SpanKind } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createEngine, silentLogger } from '@ironflow/runtime';
import { openTelemetry, SPAN_ATTRIBUTES as A } from '../src/index.js';
import { spanWith } from './support/engine.js';
import { flow } from './support/flow.js';
import { STORES, type StoreTarget, type TestStore } from './support/stores.js';
import { createTelemetry, installGlobals } from './support/telemetry.js';
import { SPANS_LINE, type ReportedSpan, type WorkerConfig } from './fixtures/worker-protocol.js';

installGlobals();

const workerPath = fileURLToPath(new URL('./fixtures/effect-worker.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Runs the worker process to its end and returns the spans it reports. */
function runWorker(config: WorkerConfig): Promise<ReportedSpan[]> {
  const child = spawn(process.execPath, ['--conditions=@ironflow/source', '--import', 'tsx', workerPath, JSON.stringify(config)], {
    cwd: packageDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const line = stdout.split('\n').find((l) => l.startsWith(SPANS_LINE));
      if (code !== 0 || line === undefined) reject(new Error(`the worker exited with code ${code}, signal ${signal} and no spans:\n${stderr}`));
      else resolve(JSON.parse(line.slice(SPANS_LINE.length)) as ReportedSpan[]);
    });
  });
}

for (const { name, open } of STORES.filter((s) => s.name !== 'memory')) {
  describe.skipIf(open === undefined)(`trace propagation across processes (${name})`, () => {
    it("a worker process's effect span has this process's execute span as its parent, in the same trace", async () => {
      const data: TestStore = await (open as () => Promise<TestStore>)();
      const telemetry = createTelemetry();
      try {
        // The system clock here: the worker process has no other.
        const engine = createEngine({ store: data.store, logger: silentLogger, workflows: [flow], instrumentation: openTelemetry({ tracerProvider: telemetry.tracerProvider }) });
        await telemetry.tracerProvider.getTracer('test').startActiveSpan('POST /flows', { kind: SpanKind.SERVER }, async (span) => {
          await engine.execute(flow, { type: 'Start', id: 'x-1' });
          span.end();
        });
        const execute = spanWith(telemetry.spans(), 'execute flow', A.inputType, 'Start');

        const reported = await runWorker({ ...(data.target as StoreTarget), workflowId: 'x-1' });
        const [effectA] = await data.store.listEffects({ type: flow.type, id: 'x-1' });
        const effectSpans = reported.filter((s) => s.name === 'effect flow' && s.attributes[A.messageId] === effectA?.id);
        expect(effectSpans).toHaveLength(1);
        const effectSpan = effectSpans[0] as ReportedSpan;
        expect(effectSpan).toMatchObject({ kind: SpanKind.CONSUMER, traceId: execute.spanContext().traceId, parentSpanId: execute.spanContext().spanId, parentIsRemote: true });
        const routed = reported.find((s) => s.name === 'execute flow' && s.attributes[A.inputType] === 'ADone');
        expect(routed).toMatchObject({ traceId: execute.spanContext().traceId, parentSpanId: effectSpan.spanId });
        expect(new Set(reported.map((s) => s.traceId))).toEqual(new Set([execute.spanContext().traceId]));
      } finally {
        await data.close();
        await telemetry.shutdown();
      }
    });
  });
}
