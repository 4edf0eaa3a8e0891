// engine.metrics(): counters and histograms kept from the lifecycle events of this engine, gauges
// read from the store's backlog, and the lag of the projections this engine holds, for health
// endpoints and tests. The same definitions and the same mapping from events feed `@ironflow/otel`.
// Attributes are bounded: workflow type, work kind, outcome, projection name, never ids. Durations
// are in seconds, as OpenTelemetry's conventions ask.
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

/** A summary of recorded values since the engine was created (in the metric's unit, seconds). */
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

/** The attribute names metrics use. */
export const METRIC_ATTRIBUTES = {
  workflowType: 'ironflow.workflow.type',
  kind: 'ironflow.work.kind',
  decisionOutcome: 'ironflow.decision.outcome',
  attemptResult: 'ironflow.attempt.result',
  status: 'ironflow.work.status',
  projection: 'ironflow.projection.name',
} as const;

/** One metric: its name, instrument, unit and attributes, as engine.metrics() and @ironflow/otel report it. */
export interface MetricDefinition {
  readonly name: string;
  readonly instrument: 'counter' | 'histogram' | 'gauge';
  /** UCUM, as OpenTelemetry writes units: `s`, `{decision}`, … */
  readonly unit: string;
  readonly description: string;
  readonly attributes: readonly string[];
}

const TYPE = METRIC_ATTRIBUTES.workflowType;
const KIND = METRIC_ATTRIBUTES.kind;
const OUTCOME = METRIC_ATTRIBUTES.decisionOutcome;
const RESULT = METRIC_ATTRIBUTES.attemptResult;
const STATUS = METRIC_ATTRIBUTES.status;
const PROJECTION = METRIC_ATTRIBUTES.projection;

/** Every metric of an engine. */
export const METRICS: readonly MetricDefinition[] = [
  { name: 'ironflow.decisions', instrument: 'counter', unit: '{decision}', attributes: [TYPE, OUTCOME], description: 'Inputs executed, by outcome: accepted, rejected, duplicate, already-completed, cancelled, failed' },
  { name: 'ironflow.decision.duration', instrument: 'histogram', unit: 's', attributes: [TYPE, OUTCOME], description: 'Time of one execute: load, decide, commit and conflict retries' },
  { name: 'ironflow.commit.duration', instrument: 'histogram', unit: 's', attributes: [TYPE], description: "Time of a decision's applied store commit, group-commit wait included" },
  { name: 'ironflow.decision.conflicts', instrument: 'counter', unit: '{conflict}', attributes: [TYPE], description: 'Version conflicts: a commit refused because another writer moved the instance on first' },
  { name: 'ironflow.instances.completed', instrument: 'counter', unit: '{instance}', attributes: [TYPE], description: 'Instances a decision completed' },
  { name: 'ironflow.instances.cancelled', instrument: 'counter', unit: '{instance}', attributes: [TYPE], description: 'Instances cancelled by engine.cancel' },
  { name: 'ironflow.effect.attempts', instrument: 'counter', unit: '{attempt}', attributes: [TYPE, RESULT], description: 'Effect attempts, by result: succeeded, failed (retried), dead-lettered, cancelled' },
  { name: 'ironflow.effect.duration', instrument: 'histogram', unit: 's', attributes: [TYPE, RESULT], description: "An effect attempt's handler (with the routing of its result when it succeeded), by result: succeeded, failed, dead-lettered; on the engine's clock" },
  { name: 'ironflow.effect.pickup_latency', instrument: 'histogram', unit: 's', attributes: [TYPE], description: "From an effect becoming claimable (created, or its retry time) to its handler's start, on the engine's clock" },
  { name: 'ironflow.timer.attempts', instrument: 'counter', unit: '{attempt}', attributes: [TYPE, RESULT], description: 'Timer deliveries, by result: fired, failed (retried), dead-lettered, cancelled' },
  { name: 'ironflow.timers.fired', instrument: 'counter', unit: '{timer}', attributes: [TYPE], description: 'Timers whose input was delivered' },
  { name: 'ironflow.dead_letters', instrument: 'counter', unit: '{item}', attributes: [TYPE, KIND], description: 'Effects and timers dead-lettered by this engine' },
  { name: 'ironflow.releases', instrument: 'counter', unit: '{item}', attributes: [TYPE, KIND], description: 'Effects and timers this engine gave back unprocessed for a process running newer code: a newer version wrote them, or their payload or input fails its schema, or their instance has events of a newer schema' },
  { name: 'ironflow.instances.deleted', instrument: 'counter', unit: '{instance}', attributes: [TYPE], description: "Ended instances this engine's retention sweeps deleted with everything they owned" },
  { name: 'ironflow.leases.recovered', instrument: 'counter', unit: '{item}', attributes: [TYPE, KIND], description: 'Items claimed after their lease expired unsettled (their worker died or stalled)' },
  { name: 'ironflow.leases.lost', instrument: 'counter', unit: '{item}', attributes: [KIND], description: 'Leases this engine found taken over by another worker' },
  { name: 'ironflow.worker.restarts', instrument: 'counter', unit: '{restart}', attributes: [KIND], description: 'Claim loop iterations that failed and restarted after backoff' },
  { name: 'ironflow.backlog', instrument: 'gauge', unit: '{item}', attributes: [TYPE, KIND, STATUS], description: 'Effects and timers in the store, by status: pending, due, leased, paused, dead' },
  { name: 'ironflow.backlog.oldest_due_age', instrument: 'gauge', unit: 's', attributes: [TYPE, KIND], description: 'How long the oldest due, unclaimed item has been waiting (0 when none)' },
  { name: 'ironflow.projection.events', instrument: 'counter', unit: '{event}', attributes: [PROJECTION], description: "Events a projection's handler applied in this engine (parked ones aside)" },
  { name: 'ironflow.projection.dead_letters', instrument: 'counter', unit: '{event}', attributes: [PROJECTION], description: 'Events a projection parked as dead letters after every try failed' },
  { name: 'ironflow.projection.batch.duration', instrument: 'histogram', unit: 's', attributes: [PROJECTION], description: "One batch of a projection: its handler's tries and its checkpoint write" },
  { name: 'ironflow.projection.lag.events', instrument: 'gauge', unit: '{event}', attributes: [PROJECTION], description: "Events after a projection's checkpoint (counted up to 10 000), as its holder last measured them" },
  { name: 'ironflow.projection.lag.age', instrument: 'gauge', unit: 's', attributes: [PROJECTION], description: 'How long ago the oldest unprojected event was recorded (0 when caught up), as the holder last measured it' },
];

/** Receives one measurement: a counter increment or a histogram value, by metric name. */
export type MeasurementSink = (name: string, attributes: MetricAttributes, value: number) => void;

const seconds = (ms: number): number => ms / 1000;

/**
 * Attribute sets are few (workflow types × a handful of values) and made on every event: each is
 * built once, frozen, and handed out again, so a series is one object whoever counts it.
 */
const ATTRIBUTE_SETS = new Map<string, MetricAttributes>();
function attributeSet(key: string, build: () => Record<string, string>): MetricAttributes {
  let found = ATTRIBUTE_SETS.get(key);
  if (found === undefined) {
    found = Object.freeze(build());
    ATTRIBUTE_SETS.set(key, found);
  }
  return found;
}
const byType = (type: string): MetricAttributes => attributeSet(`t\u0000${type}`, () => ({ [TYPE]: type }));
const byKind = (kind: string): MetricAttributes => attributeSet(`k\u0000${kind}`, () => ({ [KIND]: kind }));
const byProjection = (name: string): MetricAttributes => attributeSet(`p\u0000${name}`, () => ({ [PROJECTION]: name }));
const byTypeAnd = (name: string, type: string, value: string): MetricAttributes =>
  attributeSet(`${name}\u0000${type}\u0000${value}`, () => ({ [TYPE]: type, [name]: value }));

/** The measurements a lifecycle event makes, in the metrics of METRICS (gauges aside). */
export function measurementsOf(event: LifecycleEvent, record: MeasurementSink): void {
  switch (event.type) {
    case 'decision.committed': {
      const type = byType(event.workflowType);
      const outcome = byTypeAnd(OUTCOME, event.workflowType, 'accepted');
      record('ironflow.decisions', outcome, 1);
      record('ironflow.decision.duration', outcome, seconds(event.durationMs));
      record('ironflow.commit.duration', type, seconds(event.commitMs));
      if (event.conflicts > 0) record('ironflow.decision.conflicts', type, event.conflicts);
      if (event.completed) record('ironflow.instances.completed', type, 1);
      break;
    }
    case 'decision.rejected':
    case 'decision.failed': {
      const outcome = byTypeAnd(OUTCOME, event.workflowType, event.type === 'decision.rejected' ? 'rejected' : 'failed');
      record('ironflow.decisions', outcome, 1);
      record('ironflow.decision.duration', outcome, seconds(event.durationMs));
      if (event.conflicts > 0) record('ironflow.decision.conflicts', byType(event.workflowType), event.conflicts);
      break;
    }
    case 'decision.unchanged': {
      const outcome = byTypeAnd(OUTCOME, event.workflowType, event.status);
      record('ironflow.decisions', outcome, 1);
      record('ironflow.decision.duration', outcome, seconds(event.durationMs));
      break;
    }
    case 'effect.started':
      record('ironflow.effect.pickup_latency', byType(event.workflowType), seconds(event.pickupMs));
      break;
    case 'effect.succeeded':
      record('ironflow.effect.attempts', byTypeAnd(RESULT, event.workflowType, 'succeeded'), 1);
      record('ironflow.effect.duration', byTypeAnd(RESULT, event.workflowType, 'succeeded'), seconds(event.durationMs));
      break;
    case 'effect.retried':
    case 'timer.retried': {
      const result = byTypeAnd(RESULT, event.workflowType, 'failed');
      record(`ironflow.${event.type === 'effect.retried' ? 'effect' : 'timer'}.attempts`, result, 1);
      if (event.type === 'effect.retried' && event.durationMs !== undefined) record('ironflow.effect.duration', result, seconds(event.durationMs));
      break;
    }
    case 'effect.dead-lettered':
    case 'timer.dead-lettered': {
      const kind = event.type === 'effect.dead-lettered' ? 'effect' : 'timer';
      const result = byTypeAnd(RESULT, event.workflowType, 'dead-lettered');
      record(`ironflow.${kind}.attempts`, result, 1);
      record('ironflow.dead_letters', byTypeAnd(KIND, event.workflowType, kind), 1);
      if (kind === 'effect' && event.durationMs !== undefined) record('ironflow.effect.duration', result, seconds(event.durationMs));
      break;
    }
    case 'effect.cancelled':
    case 'timer.cancelled':
      record(`ironflow.${event.type === 'effect.cancelled' ? 'effect' : 'timer'}.attempts`, byTypeAnd(RESULT, event.workflowType, 'cancelled'), 1);
      break;
    case 'timer.fired':
      record('ironflow.timer.attempts', byTypeAnd(RESULT, event.workflowType, 'fired'), 1);
      record('ironflow.timers.fired', byType(event.workflowType), 1);
      break;
    case 'effect.recovered':
    case 'timer.recovered':
      record('ironflow.leases.recovered', byTypeAnd(KIND, event.workflowType, event.type === 'effect.recovered' ? 'effect' : 'timer'), 1);
      break;
    case 'effect.released':
    case 'timer.released':
      record('ironflow.releases', byTypeAnd(KIND, event.workflowType, event.type === 'effect.released' ? 'effect' : 'timer'), 1);
      break;
    case 'instance.deleted':
      record('ironflow.instances.deleted', byType(event.workflowType), 1);
      break;
    case 'lease.lost':
      record('ironflow.leases.lost', byKind(event.kind), 1);
      break;
    case 'instance.cancelled':
      record('ironflow.instances.cancelled', byType(event.workflowType), 1);
      break;
    case 'worker.restarted':
      record('ironflow.worker.restarts', byKind(event.pool), 1);
      break;
    case 'projection.batch': {
      const projection = byProjection(event.projection);
      if (event.events > 0) record('ironflow.projection.events', projection, event.events);
      record('ironflow.projection.batch.duration', projection, seconds(event.durationMs));
      break;
    }
    case 'projection.parked':
      record('ironflow.projection.dead_letters', byProjection(event.projection), 1);
      break;
    default:
      break;
  }
}

// Counted on every lifecycle event, so kept cheap: each metric's attributes are always built in
// the same order above, and NUL occurs in no type name, kind or outcome.
const keyOf = (name: string, attributes: MetricAttributes): string => `${name}\u0000${Object.values(attributes).join('\u0000')}`;
const byName = <P extends { name: string; attributes: MetricAttributes }>(a: P, b: P): number => {
  const ka = keyOf(a.name, a.attributes);
  const kb = keyOf(b.name, b.attributes);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

/** The series of one metric, made on first use. */
function seriesOf<P>(metrics: Map<string, Map<MetricAttributes, P>>, name: string): Map<MetricAttributes, P> {
  let series = metrics.get(name);
  if (series === undefined) {
    series = new Map();
    metrics.set(name, series);
  }
  return series;
}

const HISTOGRAMS = new Set(METRICS.filter((m) => m.instrument === 'histogram').map((m) => m.name));

/** Counts what an engine's lifecycle events report. */
export class Metrics {
  // By metric name, then by attribute set: measurementsOf hands out one object per set.
  readonly #counters = new Map<string, Map<MetricAttributes, { name: string; attributes: MetricAttributes; value: number }>>();
  readonly #histograms = new Map<string, Map<MetricAttributes, { name: string; attributes: MetricAttributes; count: number; sum: number; min: number; max: number }>>();
  /** The last lag this engine measured of each projection it holds; dropped when it stops holding it. */
  readonly #lags = new Map<string, { events: number; ageMs: number }>();

  constructor(
    lifecycle: LifecycleEmitter,
    private readonly store: WorkflowStore,
    private readonly now: () => number,
  ) {
    const record: MeasurementSink = (name, attributes, value) => (HISTOGRAMS.has(name) ? this.#observe(name, attributes, value) : this.#count(name, attributes, value));
    lifecycle.on('*', (event) => measurementsOf(event, record));
    lifecycle.on('projection.lag', (event) => this.#lags.set(event.projection, { events: event.events, ageMs: event.ageMs ?? 0 }));
    // The new holder reports the lag from now on; a stale value here would disagree with it.
    lifecycle.on('projection.lost', (event) => this.#lags.delete(event.projection));
    lifecycle.on('projection.released', (event) => this.#lags.delete(event.projection));
  }

  #count(name: string, attributes: MetricAttributes, by: number): void {
    const series = seriesOf(this.#counters, name);
    const point = series.get(attributes);
    if (point === undefined) series.set(attributes, { name, attributes, value: by });
    else point.value += by;
  }

  #observe(name: string, attributes: MetricAttributes, value: number): void {
    const series = seriesOf(this.#histograms, name);
    const point = series.get(attributes);
    if (point === undefined) {
      series.set(attributes, { name, attributes, count: 1, sum: value, min: value, max: value });
      return;
    }
    point.count += 1;
    point.sum += value;
    point.min = Math.min(point.min, value);
    point.max = Math.max(point.max, value);
  }

  /** The counters so far, as copies. */
  counters(): CounterPoint[] {
    return [...this.#counters.values()].flatMap((series) => [...series.values()].map((p) => ({ ...p })));
  }

  /** The backlog gauges, read from the store now, and the lag of the projections this engine holds, as last measured. */
  async gauges(): Promise<GaugePoint[]> {
    const now = this.now();
    const backlog = await this.store.backlog(now);
    const lags = [...this.#lags].flatMap(([name, lag]): GaugePoint[] => [
      { name: 'ironflow.projection.lag.events', attributes: byProjection(name), value: lag.events },
      { name: 'ironflow.projection.lag.age', attributes: byProjection(name), value: seconds(lag.ageMs) },
    ]);
    return [...backlog.flatMap((row) => gaugesOf(row, now)), ...lags].sort(byName);
  }

  /** The counters and histograms so far, and the backlog gauges read now. */
  async snapshot(): Promise<MetricsSnapshot> {
    const gauges = await this.gauges();
    return {
      counters: this.counters().sort(byName),
      histograms: [...this.#histograms.values()].flatMap((series) => [...series.values()].map((p) => ({ ...p }))).sort(byName),
      gauges,
    };
  }
}

/** The gauges of one backlog row. */
function gaugesOf(row: BacklogEntry, now: number): GaugePoint[] {
  const attributes = (status: string) => ({ [TYPE]: row.workflowType, [KIND]: row.kind, [STATUS]: status });
  return [
    { name: 'ironflow.backlog', attributes: attributes('pending'), value: row.pending },
    { name: 'ironflow.backlog', attributes: attributes('due'), value: row.due },
    { name: 'ironflow.backlog', attributes: attributes('leased'), value: row.leased },
    { name: 'ironflow.backlog', attributes: attributes('paused'), value: row.paused },
    { name: 'ironflow.backlog', attributes: attributes('dead'), value: row.dead },
    { name: 'ironflow.backlog.oldest_due_age', attributes: { [TYPE]: row.workflowType, [KIND]: row.kind }, value: row.oldestDueAt === undefined ? 0 : seconds(Math.max(0, now - row.oldestDueAt)) },
  ];
}
