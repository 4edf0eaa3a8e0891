// The overview: the store's backlog per workflow type and kind (across every process), this engine's
// throughput and failures from engine.metrics(), dead letters per type, and what is paused.
import { h, Fragment } from 'preact';
import type { BacklogEntry, PausedEntry } from '@ironflow/core/store';
import { href, type PageContext } from '../context.js';
import { formatCount, formatDuration } from '../format.js';
import { COLUMNS, type Column, type Throughput } from '../throughput.js';
import { ActionForm, Layout } from './components.js';

const LABELS: Readonly<Record<Column, string>> = {
  decisions: 'Decisions',
  rejected: 'Rejected',
  failed: 'Failed',
  effectsSucceeded: 'Effects ok',
  effectsFailed: 'Effects failed',
  timersFired: 'Timers fired',
  deadLettered: 'Dead-lettered',
  completed: 'Completed',
  cancelled: 'Cancelled',
};

/** Everything the overview shows, read before rendering. */
export interface OverviewData {
  readonly backlog: readonly BacklogEntry[];
  readonly throughput: Throughput;
  readonly paused: readonly PausedEntry[];
  readonly health: string;
  /** Workflow types the dashboard knows of: the engine's, the given definitions', the backlog's. */
  readonly types: readonly string[];
}

/** The overview: backlog, throughput, dead letters per type, pause switches. */
export function OverviewPage(props: { ctx: PageContext; data: OverviewData }) {
  const { ctx, data } = props;
  const sum = (field: 'pending' | 'due' | 'leased' | 'paused' | 'dead') => data.backlog.reduce((n, row) => n + row[field], 0);
  const oldest = data.backlog.reduce<number | undefined>(
    (min, row) => (row.oldestDueAt === undefined ? min : min === undefined ? row.oldestDueAt : Math.min(min, row.oldestDueAt)),
    undefined,
  );
  const pausedTypes = new Set(data.paused.filter((p) => p.id === undefined).map((p) => p.type));
  const deadByType = new Map<string, { effect: number; timer: number }>();
  for (const row of data.backlog) {
    if (row.dead === 0) continue;
    const counts = deadByType.get(row.workflowType) ?? { effect: 0, timer: 0 };
    counts[row.kind] += row.dead;
    deadByType.set(row.workflowType, counts);
  }
  return h(
    Layout,
    { ctx, section: 'overview', title: 'Overview' },
    h('h1', null, 'Overview'),
    h(
      'div',
      { class: 'cards' },
      h(Card, { label: 'Pending', value: sum('pending') }),
      h(Card, { label: 'Due now', value: sum('due') }),
      h(Card, { label: 'Leased (running)', value: sum('leased') }),
      h(Card, { label: 'Held by pauses', value: sum('paused') }),
      h(Card, { label: 'Dead letters', value: sum('dead'), alarm: sum('dead') > 0, link: href(ctx, '/dead-letters') }),
      h(
        'div',
        { class: 'card' },
        h('div', { class: 'value' }, oldest === undefined ? '—' : formatDuration(Math.max(0, ctx.now - oldest))),
        h('div', { class: 'label' }, 'Oldest due work waiting'),
      ),
      h('div', { class: 'card' }, h('div', { class: 'value' }, data.health), h('div', { class: 'label' }, "This engine's worker pools")),
    ),
    h('h2', null, 'Backlog'),
    h('p', { class: 'hint' }, 'Effects and timers in the store by workflow type, read now, across every process on it.'),
    data.backlog.length === 0
      ? h('p', { class: 'muted' }, 'No effects or timers in the store.')
      : h(
          'table',
          { id: 'backlog' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'Workflow type'),
              h('th', null, 'Kind'),
              h('th', { class: 'num' }, 'Pending'),
              h('th', { class: 'num' }, 'Due'),
              h('th', { class: 'num' }, 'Leased'),
              h('th', { class: 'num' }, 'Paused'),
              h('th', { class: 'num' }, 'Dead'),
              h('th', null, 'Oldest due'),
            ),
          ),
          h(
            'tbody',
            null,
            data.backlog.map((row) =>
              h(
                'tr',
                null,
                h(
                  'td',
                  null,
                  h('a', { href: `${href(ctx, '/instances')}?${new URLSearchParams({ type: row.workflowType })}` }, row.workflowType),
                  pausedTypes.has(row.workflowType) ? h(Fragment, null, ' ', h('span', { class: 'badge s-paused' }, 'paused')) : null,
                ),
                h('td', null, row.kind),
                h('td', { class: 'num' }, formatCount(row.pending)),
                h('td', { class: 'num' }, formatCount(row.due)),
                h('td', { class: 'num' }, formatCount(row.leased)),
                h('td', { class: 'num' }, formatCount(row.paused)),
                h(
                  'td',
                  { class: 'num' },
                  row.dead === 0
                    ? '0'
                    : h(
                        'a',
                        { href: `${href(ctx, '/dead-letters')}?${new URLSearchParams({ kind: row.kind, type: row.workflowType })}` },
                        formatCount(row.dead),
                      ),
                ),
                h('td', null, row.oldestDueAt === undefined ? '—' : `${formatDuration(Math.max(0, ctx.now - row.oldestDueAt))}`),
              ),
            ),
          ),
        ),
    h('h2', null, 'Throughput and failures'),
    h(
      'p',
      { class: 'hint' },
      data.throughput.windowMs === undefined
        ? "Counted by this process's engine since it started (open this page again a few seconds from now for rates per minute)."
        : `Counted by this process's engine since it started; rates per minute over the last ${formatDuration(
            data.throughput.windowMs,
          )} (since an earlier view of this page).`,
    ),
    data.throughput.rows.length === 0
      ? h('p', { class: 'muted' }, 'This engine has not done anything yet.')
      : h(
          'table',
          { id: 'throughput' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'Workflow type'),
              COLUMNS.map((c) => h('th', { class: 'num' }, LABELS[c])),
            ),
          ),
          h(
            'tbody',
            null,
            data.throughput.rows.map((row) =>
              h(
                'tr',
                null,
                h('td', null, row.workflowType),
                COLUMNS.map((c) =>
                  h(
                    'td',
                    { class: 'num' },
                    formatCount(row.totals[c]),
                    row.perMinute === undefined ? null : h('div', { class: 'muted' }, `${formatCount(Math.round(row.perMinute[c] * 10) / 10)}/min`),
                  ),
                ),
              ),
            ),
          ),
        ),
    h('h2', null, 'Dead letters per type'),
    deadByType.size === 0
      ? h('p', { class: 'muted' }, 'No dead letters.')
      : h(
          'table',
          { id: 'dead-per-type' },
          h('thead', null, h('tr', null, h('th', null, 'Workflow type'), h('th', { class: 'num' }, 'Effects'), h('th', { class: 'num' }, 'Timers'))),
          h(
            'tbody',
            null,
            [...deadByType.entries()].map(([type, counts]) =>
              h(
                'tr',
                null,
                h('td', null, type),
                h(
                  'td',
                  { class: 'num' },
                  h('a', { href: `${href(ctx, '/dead-letters')}?${new URLSearchParams({ kind: 'effect', type })}` }, formatCount(counts.effect)),
                ),
                h(
                  'td',
                  { class: 'num' },
                  h('a', { href: `${href(ctx, '/dead-letters')}?${new URLSearchParams({ kind: 'timer', type })}` }, formatCount(counts.timer)),
                ),
              ),
            ),
          ),
        ),
    h('h2', null, 'Workflow types'),
    h(
      'table',
      { id: 'types' },
      h('thead', null, h('tr', null, h('th', null, 'Workflow type'), h('th', null, 'Work'), h('th', null))),
      h(
        'tbody',
        null,
        data.types.map((type) =>
          h(
            'tr',
            null,
            h('td', null, h('a', { href: `${href(ctx, '/instances')}?${new URLSearchParams({ type })}` }, type)),
            h('td', null, pausedTypes.has(type) ? h('span', { class: 'badge s-paused' }, 'paused') : h('span', { class: 'badge s-active' }, 'running')),
            h(
              'td',
              null,
              pausedTypes.has(type)
                ? h(ActionForm, { ctx, action: `/types/${encodeURIComponent(type)}/resume`, label: `Resume ${type}` })
                : h(ActionForm, { ctx, action: `/types/${encodeURIComponent(type)}/pause`, label: `Pause ${type}`, danger: true }),
            ),
          ),
        ),
      ),
    ),
  );
}

function Card(props: { label: string; value: number; alarm?: boolean | undefined; link?: string | undefined }) {
  const value = formatCount(props.value);
  return h(
    'div',
    { class: props.alarm === true ? 'card alarm' : 'card' },
    h('div', { class: 'value' }, props.link === undefined ? value : h('a', { href: props.link }, value)),
    h('div', { class: 'label' }, props.label),
  );
}
