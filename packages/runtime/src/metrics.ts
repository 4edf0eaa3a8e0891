// engine.metrics(): counters and histograms kept from the lifecycle events of this engine, and
// gauges read from the store's backlog, for health endpoints and tests. Attributes are bounded:
// workflow type, work kind and outcome, never ids.
import type { BacklogEntry, WorkflowStore } from '@ironflow/core/store';
import type { LifecycleEmitter, LifecycleEvent } from './lifecycle.js';

/** Attributes of a data point; names follow OpenTelemetry's dotted style. */
export type MetricAttributes = Readonly<Record<string, string>>;

/** A monotonic count since the engine was created. */
export interface CounterPoint {
  readonly name: string;
  readonly attributes: MetricAttributes;
  readonly value: number;
}

/** A summary of recorded values since the engine was created (milliseconds). */
export interface HistogramPoint {
  readonly name: string;
  readonly attributes: MetricAttributes;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

/** A value read now. */
export interface GaugePoint {
  readonly name: string;
  readonly attributes: MetricAttributes;
  readonly value: number;
}

/** What `engine.metrics()` returns, each list sorted by name, then attributes. */
export interface MetricsSnapshot {
  readonly counters: readonly CounterPoint[];
  readonly histograms: readonly HistogramPoint[];
  /** From the store's backlog, across every process on it. */
  readonly gauges: readonly GaugePoint[];
}

// Counted on every lifecycle event, so kept cheap: each metric's attributes are always built in
// the same order below, and NUL occurs in no type name, kind or outcome.
const keyOf = (name: string, attributes: MetricAttributes): string => `${name}\u0000${Object.values(attributes).join('\u0000')}`;
const byName = <P extends { name: string; attributes: MetricAttributes }>(a: P, b: P): number => {
  const ka = keyOf(a.name, a.attributes);
  const kb = keyOf(b.name, b.attributes);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

/** Counts what an engine's lifecycle events report. */
export class Metrics {
  readonly #counters = new Map<string, { name: string; attributes: MetricAttributes; value: number }>();
  readonly #histograms = new Map<string, { name: string; attributes: MetricAttributes; count: number; sum: number; min: number; max: number }>();

  constructor(
    lifecycle: LifecycleEmitter,
    private readonly store: WorkflowStore,
    private readonly now: () => number,
  ) {
    lifecycle.on('*', (event) => this.#record(event));
  }

  #count(name: string, attributes: MetricAttributes, by = 1): void {
    const key = keyOf(name, attributes);
    const point = this.#counters.get(key) ?? { name, attributes, value: 0 };
    point.value += by;
    this.#counters.set(key, point);
  }

  #observe(name: string, attributes: MetricAttributes, value: number): void {
    const key = keyOf(name, attributes);
    const point = this.#histograms.get(key) ?? { name, attributes, count: 0, sum: 0, min: value, max: value };
    point.count += 1;
    point.sum += value;
    point.min = Math.min(point.min, value);
    point.max = Math.max(point.max, value);
    this.#histograms.set(key, point);
  }

  #record(event: LifecycleEvent): void {
    switch (event.type) {
      case 'decision.committed':
        this.#count('ironflow.decisions', { 'workflow.type': event.workflowType, outcome: 'accepted' });
        if (event.completed) this.#count('ironflow.instances.completed', { 'workflow.type': event.workflowType });
        break;
      case 'decision.rejected':
        this.#count('ironflow.decisions', { 'workflow.type': event.workflowType, outcome: 'rejected' });
        break;
      case 'effect.succeeded':
        this.#count('ironflow.effect.attempts', { 'workflow.type': event.workflowType, result: 'succeeded' });
        this.#observe('ironflow.effect.duration', { 'workflow.type': event.workflowType }, event.durationMs);
        break;
      case 'effect.retried':
      case 'timer.retried':
        this.#count(`ironflow.${event.type === 'effect.retried' ? 'effect' : 'timer'}.attempts`, { 'workflow.type': event.workflowType, result: 'failed' });
        break;
      case 'effect.dead-lettered':
      case 'timer.dead-lettered': {
        const kind = event.type === 'effect.dead-lettered' ? 'effect' : 'timer';
        this.#count(`ironflow.${kind}.attempts`, { 'workflow.type': event.workflowType, result: 'dead-lettered' });
        this.#count('ironflow.dead_letters', { 'workflow.type': event.workflowType, kind });
        break;
      }
      case 'effect.cancelled':
      case 'timer.cancelled':
        this.#count(`ironflow.${event.type === 'effect.cancelled' ? 'effect' : 'timer'}.attempts`, { 'workflow.type': event.workflowType, result: 'cancelled' });
        break;
      case 'timer.fired':
        this.#count('ironflow.timer.attempts', { 'workflow.type': event.workflowType, result: 'fired' });
        this.#count('ironflow.timers.fired', { 'workflow.type': event.workflowType });
        break;
      case 'effect.recovered':
      case 'timer.recovered':
        this.#count('ironflow.leases.recovered', { 'workflow.type': event.workflowType, kind: event.type === 'effect.recovered' ? 'effect' : 'timer' });
        break;
      case 'lease.lost':
        this.#count('ironflow.leases.lost', { kind: event.kind });
        break;
      case 'instance.cancelled':
        this.#count('ironflow.instances.cancelled', { 'workflow.type': event.workflowType });
        break;
      case 'worker.restarted':
        this.#count('ironflow.worker.restarts', { kind: event.pool });
        break;
      default:
        break;
    }
  }

  /** The counters and histograms so far, and the backlog gauges read now. */
  async snapshot(): Promise<MetricsSnapshot> {
    const now = this.now();
    const backlog = await this.store.backlog(now);
    return {
      counters: [...this.#counters.values()].map((p) => ({ ...p })).sort(byName),
      histograms: [...this.#histograms.values()].map((p) => ({ ...p })).sort(byName),
      gauges: backlog.flatMap((row) => gaugesOf(row, now)).sort(byName),
    };
  }
}

/** The gauges of one backlog row. */
function gaugesOf(row: BacklogEntry, now: number): GaugePoint[] {
  const attributes = (status: string) => ({ 'workflow.type': row.workflowType, kind: row.kind, status });
  return [
    { name: 'ironflow.backlog', attributes: attributes('pending'), value: row.pending },
    { name: 'ironflow.backlog', attributes: attributes('due'), value: row.due },
    { name: 'ironflow.backlog', attributes: attributes('leased'), value: row.leased },
    { name: 'ironflow.backlog', attributes: attributes('paused'), value: row.paused },
    { name: 'ironflow.backlog', attributes: attributes('dead'), value: row.dead },
    { name: 'ironflow.backlog.oldest_due_age', attributes: { 'workflow.type': row.workflowType, kind: row.kind }, value: row.oldestDueAt === undefined ? 0 : Math.max(0, now - row.oldestDueAt) },
  ];
}
