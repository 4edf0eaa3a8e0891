// The metrics of `openTelemetry()`: one instrument per entry of METRICS, created once per meter and
// shared by every engine attached. Histograms are recorded from each engine's lifecycle events
// through measurementsOf. Counters are observable: every engine already keeps its counters for
// engine.metrics(), so they are read (and summed across engines) at collection time instead of
// paying the SDK's attribute hashing on every event; gauges (the backlog, read from each engine's
// store, and the lag of the projections each engine holds) are read at collection time.
import { diag, ValueType, type BatchObservableCallback, type Histogram, type Meter, type Observable } from '@opentelemetry/api';
import { measurementsOf, METRICS, type InstrumentedEngine, type MeasurementSink, type MetricAttributes } from '@ironflow/runtime';

/**
 * Histogram buckets in seconds, from a millisecond (an in-memory commit) to a minute (a slow
 * handler); OpenTelemetry's default buckets are for milliseconds and would put everything in one.
 */
export const SECONDS_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface Instruments {
  readonly counters: ReadonlyMap<string, Observable>;
  readonly histograms: ReadonlyMap<string, Histogram>;
  readonly gauges: ReadonlyMap<string, Observable>;
}

function createInstruments(meter: Meter): Instruments {
  const counters = new Map<string, Observable>();
  const histograms = new Map<string, Histogram>();
  const gauges = new Map<string, Observable>();
  for (const m of METRICS) {
    const options = { unit: m.unit, description: m.description, valueType: m.unit === 's' ? ValueType.DOUBLE : ValueType.INT };
    if (m.instrument === 'counter') counters.set(m.name, meter.createObservableCounter(m.name, options));
    else if (m.instrument === 'histogram') histograms.set(m.name, meter.createHistogram(m.name, { ...options, advice: { explicitBucketBoundaries: [...SECONDS_BUCKETS] } }));
    else gauges.set(m.name, meter.createObservableGauge(m.name, options));
  }
  return { counters, histograms, gauges };
}

type Total = { readonly name: string; readonly attributes: MetricAttributes; value: number };

const keyOf = (name: string, attributes: MetricAttributes): string => `${name}\u0000${Object.entries(attributes).join('\u0000')}`;

/** Adds counter points into `totals`, by name and attributes. */
function addInto(totals: Map<string, Total>, points: Iterable<{ readonly name: string; readonly attributes: MetricAttributes; readonly value: number }>): void {
  for (const point of points) {
    const key = keyOf(point.name, point.attributes);
    const total = totals.get(key);
    if (total === undefined) totals.set(key, { name: point.name, attributes: point.attributes, value: point.value });
    else total.value += point.value;
  }
}

/**
 * What one meter reports for every engine attached to it, whichever `openTelemetry()` attached
 * them: its instruments, the engines, and the final counts of engines detached since, so that a
 * cumulative counter never goes down when an engine leaves.
 */
class MeterState {
  readonly instruments: Instruments;
  readonly engines = new Set<InstrumentedEngine>();
  readonly retired = new Map<string, Total>();

  constructor(meter: Meter) {
    this.instruments = createInstruments(meter);
    const observables = [...this.instruments.counters.values(), ...this.instruments.gauges.values()];
    meter.addBatchObservableCallback((result) => this.#observe(result), observables);
  }

  detach(engine: InstrumentedEngine): void {
    if (this.engines.delete(engine)) addInto(this.retired, engine.counters());
  }

  /** One collection: the counters of every engine, live and retired, summed by attributes; the live engines' backlog gauges. */
  async #observe(result: Parameters<BatchObservableCallback>[0]): Promise<void> {
    const totals = new Map<string, Total>();
    addInto(totals, this.retired.values());
    for (const engine of this.engines) addInto(totals, engine.counters());
    for (const { name, attributes, value } of totals.values()) {
      const counter = this.instruments.counters.get(name);
      if (counter !== undefined) result.observe(counter, value, attributes);
    }
    await Promise.all(
      [...this.engines].map(async (engine) => {
        try {
          for (const point of await engine.gauges()) {
            const gauge = this.instruments.gauges.get(point.name);
            if (gauge !== undefined) result.observe(gauge, point.value, point.attributes);
          }
        } catch (error) {
          // A store that cannot answer costs this engine's gauges for this collection, nothing else.
          diag.warn(`@ironflow/otel: could not read the backlog gauges of engine ${engine.workerId}; skipped in this collection`, error);
        }
      }),
    );
  }
}

const STATES = new WeakMap<Meter, MeterState>();

/** Feeds one meter's instruments from the engines attached to it. */
export class EngineMetrics {
  #state: MeterState | undefined;

  /** `meter` is resolved at the first attach, so a global meter provider registered after `openTelemetry()` is still used. */
  constructor(private readonly resolveMeter: () => Meter) {}

  /** Starts recording `engine`'s measurements; returns what stops it. */
  attach(engine: InstrumentedEngine): () => void {
    if (this.#state === undefined) {
      const meter = this.resolveMeter();
      this.#state = STATES.get(meter) ?? new MeterState(meter);
      STATES.set(meter, this.#state);
    }
    const state = this.#state;
    const { histograms } = state.instruments;
    const sink: MeasurementSink = (name, attributes, value) => histograms.get(name)?.record(value, attributes);
    const unsubscribe = engine.on('*', (event) => measurementsOf(event, sink));
    state.engines.add(engine);
    return () => {
      unsubscribe();
      state.detach(engine);
    };
  }
}
