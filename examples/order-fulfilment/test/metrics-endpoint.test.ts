// The example's Prometheus endpoint over real HTTP: after orders ran, a scrape of /metrics shows the
// engine's counters, histograms and backlog gauges in Prometheus' text format, with the same
// values as engine.metrics().
import { afterEach, describe, expect, it } from 'vitest';
import { createTestEngine } from '@ironflow/testing';
import { orderFulfilment } from '../src/engine.js';
import { DECLINED_CARD, GOOD_CARD } from '../src/handlers.js';
import { serveMetrics, type MetricsEndpoint } from '../src/metrics-endpoint.js';

let endpoint: MetricsEndpoint | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

/** The value of one sample line, found by its metric name and labels. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics', () => {
  it('serves the engine\'s metrics in Prometheus text format, agreeing with engine.metrics()', async () => {
    endpoint = await serveMetrics({ port: 0 });
    const app = orderFulfilment({ retry: { jitter: 'none' } });
    const { engine, settle } = createTestEngine({ ...app.engineOptions, instrumentation: endpoint.instrumentation });
    const place = (orderId: string, card: string) =>
      engine.execute(app.workflow, { type: 'PlaceOrder', orderId, items: [{ sku: 'BOOK-1', quantity: 1 }], amount: 1_999, card });
    await place('o-1', GOOD_CARD);
    await place('o-2', DECLINED_CARD);
    await settle();
    // Placed, not yet worked on: its first effects and its payment deadline are in the backlog.
    await place('o-3', GOOD_CARD);

    const response = await fetch(endpoint.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toContain('# TYPE ironflow_decisions_total counter');
    expect(text).toContain('# TYPE ironflow_decision_duration histogram');
    expect(text).toContain('# TYPE ironflow_backlog gauge');

    const snapshot = await engine.metrics();
    const accepted = snapshot.counters.find((c) => c.name === 'ironflow.decisions' && c.attributes['ironflow.workflow.type'] === 'order' && c.attributes['ironflow.decision.outcome'] === 'accepted');
    expect(accepted?.value).toBeGreaterThan(3);
    expect(sample(text, 'ironflow_decisions_total', { ironflow_workflow_type: 'order', ironflow_decision_outcome: 'accepted' })).toBe(accepted!.value);
    const succeeded = snapshot.counters.find((c) => c.name === 'ironflow.effect.attempts' && c.attributes['ironflow.workflow.type'] === 'order' && c.attributes['ironflow.attempt.result'] === 'succeeded');
    expect(sample(text, 'ironflow_effect_attempts_total', { ironflow_workflow_type: 'order', ironflow_attempt_result: 'succeeded' })).toBe(succeeded!.value);
    const timings = snapshot.histograms.find((h) => h.name === 'ironflow.decision.duration' && h.attributes['ironflow.workflow.type'] === 'order' && h.attributes['ironflow.decision.outcome'] === 'accepted');
    expect(sample(text, 'ironflow_decision_duration_count', { ironflow_workflow_type: 'order', ironflow_decision_outcome: 'accepted' })).toBe(timings!.count);
    // The gauges read the store at the scrape: o-3's deadline timer waits, o-1's and o-2's were cancelled.
    expect(sample(text, 'ironflow_backlog', { ironflow_workflow_type: 'order', ironflow_work_kind: 'timer', ironflow_work_status: 'pending' })).toBe(1);
    const pendingEffects = snapshot.gauges.find((g) => g.name === 'ironflow.backlog' && g.attributes['ironflow.work.kind'] === 'effect' && g.attributes['ironflow.work.status'] === 'pending' && g.attributes['ironflow.workflow.type'] === 'order');
    expect(pendingEffects!.value).toBeGreaterThan(0);
    expect(sample(text, 'ironflow_backlog', { ironflow_workflow_type: 'order', ironflow_work_kind: 'effect', ironflow_work_status: 'pending' })).toBe(pendingEffects!.value);

    expect((await fetch(endpoint.url.replace('/metrics', '/other'))).status).toBe(404);
  });
});
