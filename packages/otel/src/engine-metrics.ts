// The metrics of `openTelemetry()`: one instrument per entry of METRICS, created once per meter and
// shared by every engine attached; counters and histograms fed by each engine's lifecycle events
// through measurementsOf, backlog gauges read from each engine's store at collection time.
import { diag, ValueType, type BatchObservableCallback, type Counter, type Histogram, type Meter, type Observable } from '@opentelemetry/api';
import { measurementsOf, METRICS, type InstrumentedEngine, type MeasurementSink } from '@ironflow/runtime';

/**
 * Histogram buckets in seconds, from a millisecond (an in-memory commit) to a minute (a slow
 * handler); OpenTelemetry's default buckets are for milliseconds and would put everything in one.
 */
export const SECONDS_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface Instruments {
  readonly counters: ReadonlyMap<string, Counter>;
  readonly histograms: ReadonlyMap<string, Histogram>;
  readonly gauges: ReadonlyMap<string, Observable>;
}

function createInstruments(meter: Meter): Instruments {
  const counters = new Map<string, Counter>();
  const histograms = new Map<string, Histogram>();
  const gauges = new Map<string, Observable>();
  for (const m of METRICS) {
    const options = { unit: m.unit, description: m.description, valueType: m.unit === 's' ? ValueType.DOUBLE : ValueType.INT };
    if (m.instrument === 'counter') counters.set(m.name, meter.createCounter(m.name, options));
    else if (m.instrument === 'histogram') histograms.set(m.name, meter.createHistogram(m.name, { ...options, advice: { explicitBucketBoundaries: [...SECONDS_BUCKETS] } }));
    else gauges.set(m.name, meter.createObservableGauge(m.name, options));
  }
  return { counters, histograms, gauges };
}

/** Feeds one meter's instruments from the engines attached to it. */
export class EngineMetrics {
  #instruments: Instruments | undefined;
  #meter: Meter | undefined;

  /** `meter` is resolved at the first attach, so a global meter provider registered after `openTelemetry()` is still used. */
  constructor(private readonly resolveMeter: () => Meter) {}

  /** Starts recording `engine`'s measurements; returns what stops it. */
  attach(engine: InstrumentedEngine): () => void {
    this.#meter ??= this.resolveMeter();
    const meter = this.#meter;
    const { counters, histograms, gauges } = (this.#instruments ??= createInstruments(meter));
    const sink: MeasurementSink = (name, attributes, value) => {
      const counter = counters.get(name);
      if (counter !== undefined) counter.add(value, attributes);
      else histograms.get(name)?.record(value, attributes);
    };
    const unsubscribe = engine.on('*', (event) => measurementsOf(event, sink));
    const observables = [...gauges.values()];
    const observe: BatchObservableCallback = async (result) => {
      try {
        for (const point of await engine.gauges()) {
          const gauge = gauges.get(point.name);
          if (gauge !== undefined) result.observe(gauge, point.value, point.attributes);
        }
      } catch (error) {
        // A store that cannot answer costs this engine's gauges for this collection, nothing else.
        diag.warn(`@ironflow/otel: could not read the backlog gauges of engine ${engine.workerId}; skipped in this collection`, error);
      }
    };
    meter.addBatchObservableCallback(observe, observables);
    return () => {
      unsubscribe();
      meter.removeBatchObservableCallback(observe, observables);
    };
  }
}
