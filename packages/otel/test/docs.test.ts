// docs/observability.md documents every metric and span attribute: its metric table is METRICS
// rendered (a changed definition fails here until the page is updated with the table below), and
// its span table names every attribute the spans set.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRICS, type MetricDefinition } from '@ironflow/runtime';
import { COMMIT_EVENT, SPAN_ATTRIBUTES } from '../src/index.js';

const page = readFileSync(new URL('../../../docs/observability.md', import.meta.url), 'utf8');

const INSTRUMENTS: Record<MetricDefinition['instrument'], string> = { counter: 'Counter (observable)', histogram: 'Histogram', gauge: 'Gauge (observable)' };

/** The metric table as the page must show it. */
function metricTable(metrics: readonly MetricDefinition[]): string {
  const rows = metrics.map((m) => `| \`${m.name}\` | ${INSTRUMENTS[m.instrument]} | \`${m.unit}\` | ${m.attributes.map((a) => `\`${a}\``).join(', ')} | ${m.description} |`);
  return ['| Name | Instrument | Unit | Attributes | Description |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** The text between `<!-- name:start -->` and `<!-- name:end -->`. */
function section(name: string): string {
  const start = page.indexOf(`<!-- ${name}:start -->`);
  const end = page.indexOf(`<!-- ${name}:end -->`);
  if (start < 0 || end < start) throw new Error(`docs/observability.md has no ${name} section`);
  return page.slice(start + `<!-- ${name}:start -->`.length, end).trim();
}

describe('docs/observability.md', () => {
  it('its metric table is METRICS: every name, instrument, unit, attribute and description', () => {
    expect(section('metric-table')).toBe(metricTable(METRICS));
  });

  it('its span tables name every attribute and event the spans set', () => {
    const spans = section('span-table');
    for (const name of [...Object.values(SPAN_ATTRIBUTES), COMMIT_EVENT.name, COMMIT_EVENT.outcome, COMMIT_EVENT.duration]) expect(spans).toContain(`\`${name}\``);
  });
});
