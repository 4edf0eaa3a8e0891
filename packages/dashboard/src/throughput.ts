// Throughput and failures per workflow type from `engine.metrics()`: the counters since the engine
// was created, and rates per minute from the difference to an earlier snapshot this dashboard kept
// (the overview keeps one per view, for up to WINDOW_MS), so no background timer is needed.
import type { MetricsSnapshot } from '@ironflow/runtime';
import { METRIC_ATTRIBUTES } from '@ironflow/runtime';

/** How far back a rate looks at most. */
export const WINDOW_MS = 5 * 60_000;

/** How far back a rate must look at least: over less, a burst reads as a rate. */
export const MIN_WINDOW_MS = 5_000;

/** The columns of the throughput table. */
export const COLUMNS = ['decisions', 'rejected', 'failed', 'effectsSucceeded', 'effectsFailed', 'timersFired', 'deadLettered', 'completed', 'cancelled'] as const;
/** One column of the throughput table. */
export type Column = (typeof COLUMNS)[number];

/** One workflow type's counts (since the engine was created) and rates (per minute, when known). */
export interface ThroughputRow {
  readonly workflowType: string;
  readonly totals: Readonly<Record<Column, number>>;
  readonly perMinute?: Readonly<Record<Column, number>> | undefined;
}

/** The table, and the span the rates cover. */
export interface Throughput {
  readonly rows: ThroughputRow[];
  /** Milliseconds between the earlier snapshot and now, when there was one. */
  readonly windowMs?: number | undefined;
}

type Totals = Map<string, Record<Column, number>>;

const zero = (): Record<Column, number> => Object.fromEntries(COLUMNS.map((c) => [c, 0])) as Record<Column, number>;

/** The columns a counter point adds to, by metric name and attributes. */
function columnsOf(name: string, attributes: Readonly<Record<string, string>>): Column[] {
  const outcome = attributes[METRIC_ATTRIBUTES.decisionOutcome];
  const result = attributes[METRIC_ATTRIBUTES.attemptResult];
  switch (name) {
    case 'ironflow.decisions':
      return outcome === 'rejected' ? ['decisions', 'rejected'] : outcome === 'failed' ? ['decisions', 'failed'] : ['decisions'];
    case 'ironflow.effect.attempts':
      return result === 'succeeded' ? ['effectsSucceeded'] : result === 'failed' || result === 'dead-lettered' ? ['effectsFailed'] : [];
    case 'ironflow.timers.fired':
      return ['timersFired'];
    case 'ironflow.dead_letters':
      return ['deadLettered'];
    case 'ironflow.instances.completed':
      return ['completed'];
    case 'ironflow.instances.cancelled':
      return ['cancelled'];
    default:
      return [];
  }
}

/** Sums a snapshot's counters per workflow type. */
function totalsOf(snapshot: MetricsSnapshot): Totals {
  const totals: Totals = new Map();
  for (const point of snapshot.counters) {
    const type = point.attributes[METRIC_ATTRIBUTES.workflowType];
    if (type === undefined) continue;
    for (const column of columnsOf(point.name, point.attributes)) {
      const row = totals.get(type) ?? zero();
      row[column] += point.value;
      totals.set(type, row);
    }
  }
  return totals;
}

/** Keeps earlier snapshots' totals to turn counters into rates. */
export class ThroughputTracker {
  readonly #samples: { at: number; totals: Totals }[] = [];

  /** The table for a snapshot taken at `now`; remembers it for later rates. */
  observe(snapshot: MetricsSnapshot, now: number): Throughput {
    const totals = totalsOf(snapshot);
    while (this.#samples.length > 0 && now - this.#samples[0]!.at > WINDOW_MS) this.#samples.shift();
    // A counter that went down belongs to another engine (a restart): no rate against it.
    const earlier = this.#samples.find((s) => now - s.at >= MIN_WINDOW_MS);
    this.#samples.push({ at: now, totals });
    if (this.#samples.length > 600) this.#samples.splice(1, 1);
    const windowMs = earlier === undefined ? undefined : now - earlier.at;
    const rows = [...totals.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([workflowType, row]): ThroughputRow => {
        const before = earlier?.totals.get(workflowType) ?? zero();
        const perMinute =
          windowMs === undefined || COLUMNS.some((c) => row[c] < before[c])
            ? undefined
            : (Object.fromEntries(COLUMNS.map((c) => [c, ((row[c] - before[c]) * 60_000) / windowMs])) as Record<Column, number>);
        return { workflowType, totals: row, perMinute };
      });
    return { rows, windowMs };
  }
}
