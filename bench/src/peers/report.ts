// The side-by-side table and the ratios against the targets, from every run's values:
// medians of the runs, and ratios taken within one run (Ironflow ÷ peer) before their median.
import { median, percentile } from './harness.js';

/** A row of the table. */
export type RowKey =
  | 'pg-drain'
  | 'pg-routed'
  | 'pg-enqueue'
  | 'pg-execute'
  | 'pg-raw'
  | 'redis-drain'
  | 'redis-routed'
  | 'redis-enqueue'
  | 'redis-execute'
  | 'redis-raw'
  | 'pg-idle'
  | 'redis-idle';

export const ROWS: readonly { key: RowKey; label: string }[] = [
  { key: 'pg-drain', label: 'PostgreSQL drain, fire-and-forget jobs/s' },
  { key: 'pg-routed', label: 'PostgreSQL routed workflows/s (effect + result decided)' },
  { key: 'pg-enqueue', label: 'PostgreSQL bulk enqueue/s (Ironflow: `executeMany`)' },
  { key: 'pg-execute', label: 'PostgreSQL single enqueue/s, 16 callers (Ironflow: `execute`)' },
  { key: 'pg-raw', label: 'PostgreSQL raw limit of that transaction, 16 callers' },
  { key: 'redis-drain', label: 'Redis drain, fire-and-forget jobs/s' },
  { key: 'redis-routed', label: 'Redis routed workflows/s' },
  { key: 'redis-enqueue', label: 'Redis bulk enqueue/s (Ironflow: `executeMany`)' },
  { key: 'redis-execute', label: 'Redis single enqueue/s, 16 callers (Ironflow: `execute`)' },
  { key: 'redis-raw', label: 'Redis raw limit of that script call, 16 callers' },
  { key: 'pg-idle', label: 'idle pickup latency p50 / p99 (ms), PostgreSQL' },
  { key: 'redis-idle', label: 'idle pickup latency p50 / p99 (ms), Redis' },
];

/** One run's value: a rate, or an idle latency's p50 and p99. */
export type Value = { rate: number } | { p50: number; p99: number } | { error: string };

/** Every value of every run, by row, column and run index. */
export class Results {
  readonly #values = new Map<string, Value[]>();

  record(row: RowKey, column: string, run: number, value: Value): void {
    const key = `${row}\u0000${column}`;
    const list = this.#values.get(key) ?? [];
    list[run] = value;
    this.#values.set(key, list);
  }

  runs(row: RowKey, column: string): Value[] {
    return this.#values.get(`${row}\u0000${column}`) ?? [];
  }

  /** The cell of the table: median of the runs (p50 and p99 each), or the first failure. */
  cell(row: RowKey, column: string): string {
    const values = this.runs(row, column).filter((v) => v !== undefined);
    if (values.length === 0) return '';
    const failed = values.find((v): v is { error: string } => 'error' in v);
    if (failed) return `failed: ${failed.error.replace(/\|/g, '/').slice(0, 80)}`;
    if (values.every((v): v is { rate: number } => 'rate' in v)) return group(median(values.map((v) => v.rate)));
    const latencies = values.filter((v): v is { p50: number; p99: number } => 'p50' in v);
    return `${median(latencies.map((v) => v.p50)).toFixed(1)} / ${median(latencies.map((v) => v.p99)).toFixed(1)}`;
  }

  /** Median over runs of (a ÷ b) within each run, or undefined when a run lacks either. */
  ratio(a: { row: RowKey; column: string }, b: { row: RowKey; column: string }): number | undefined {
    const as = this.runs(a.row, a.column);
    const bs = this.runs(b.row, b.column);
    const ratios: number[] = [];
    for (let run = 0; run < Math.max(as.length, bs.length); run++) {
      const x = as[run];
      const y = bs[run];
      if (x === undefined || y === undefined || !('rate' in x) || !('rate' in y)) return undefined;
      ratios.push(x.rate / y.rate);
    }
    return ratios.length === 0 ? undefined : median(ratios);
  }

  /** Median of the runs' idle p50. */
  idleP50(row: RowKey, column: string): number | undefined {
    const latencies = this.runs(row, column).filter((v): v is { p50: number; p99: number } => v !== undefined && 'p50' in v);
    return latencies.length === 0 ? undefined : median(latencies.map((v) => v.p50));
  }
}

/** One idle measurement's samples as a value. */
export function latency(samples: readonly number[]): Value {
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** 12345.6 → "12 346", as in the table. */
export function group(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** The markdown table, one column per system. */
export function table(results: Results, columns: readonly string[]): string {
  let out = `| | ${columns.join(' | ')} |\n| --- |${columns.map(() => ' ---: |').join('')}\n`;
  for (const { key, label } of ROWS) {
    const cells = columns.map((c) => results.cell(key, c));
    if (cells.some((c) => c !== '')) out += `| ${label} | ${cells.join(' | ')} |\n`;
  }
  return out;
}
