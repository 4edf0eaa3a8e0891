/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// The overview: the store's backlog per workflow type and kind (across every process), this engine's
// throughput and failures from engine.metrics(), dead letters per type, and what is paused.
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

export function OverviewPage(props: { ctx: PageContext; data: OverviewData }) {
  const { ctx, data } = props;
  const sum = (field: 'pending' | 'due' | 'leased' | 'paused' | 'dead') => data.backlog.reduce((n, row) => n + row[field], 0);
  const oldest = data.backlog.reduce<number | undefined>((min, row) => (row.oldestDueAt === undefined ? min : min === undefined ? row.oldestDueAt : Math.min(min, row.oldestDueAt)), undefined);
  const pausedTypes = new Set(data.paused.filter((p) => p.id === undefined).map((p) => p.type));
  const deadByType = new Map<string, { effect: number; timer: number }>();
  for (const row of data.backlog) {
    if (row.dead === 0) continue;
    const counts = deadByType.get(row.workflowType) ?? { effect: 0, timer: 0 };
    counts[row.kind] += row.dead;
    deadByType.set(row.workflowType, counts);
  }
  return (
    <Layout ctx={ctx} section="overview" title="Overview">
      <h1>Overview</h1>
      <div class="cards">
        <Card label="Pending" value={sum('pending')} />
        <Card label="Due now" value={sum('due')} />
        <Card label="Leased (running)" value={sum('leased')} />
        <Card label="Held by pauses" value={sum('paused')} />
        <Card label="Dead letters" value={sum('dead')} alarm={sum('dead') > 0} link={href(ctx, '/dead-letters')} />
        <div class="card">
          <div class="value">{oldest === undefined ? '—' : formatDuration(Math.max(0, ctx.now - oldest))}</div>
          <div class="label">Oldest due work waiting</div>
        </div>
        <div class="card">
          <div class="value">{data.health}</div>
          <div class="label">This engine's worker pools</div>
        </div>
      </div>

      <h2>Backlog</h2>
      <p class="hint">Effects and timers in the store by workflow type, read now, across every process on it.</p>
      {data.backlog.length === 0 ? (
        <p class="muted">No effects or timers in the store.</p>
      ) : (
        <table id="backlog">
          <thead>
            <tr>
              <th>Workflow type</th>
              <th>Kind</th>
              <th class="num">Pending</th>
              <th class="num">Due</th>
              <th class="num">Leased</th>
              <th class="num">Paused</th>
              <th class="num">Dead</th>
              <th>Oldest due</th>
            </tr>
          </thead>
          <tbody>
            {data.backlog.map((row) => (
              <tr>
                <td>
                  <a href={`${href(ctx, '/instances')}?${new URLSearchParams({ type: row.workflowType })}`}>{row.workflowType}</a>
                  {pausedTypes.has(row.workflowType) ? <> <span class="badge s-paused">paused</span></> : null}
                </td>
                <td>{row.kind}</td>
                <td class="num">{formatCount(row.pending)}</td>
                <td class="num">{formatCount(row.due)}</td>
                <td class="num">{formatCount(row.leased)}</td>
                <td class="num">{formatCount(row.paused)}</td>
                <td class="num">
                  {row.dead === 0 ? '0' : <a href={`${href(ctx, '/dead-letters')}?${new URLSearchParams({ kind: row.kind, type: row.workflowType })}`}>{formatCount(row.dead)}</a>}
                </td>
                <td>{row.oldestDueAt === undefined ? '—' : `${formatDuration(Math.max(0, ctx.now - row.oldestDueAt))}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Throughput and failures</h2>
      <p class="hint">
        {data.throughput.windowMs === undefined
          ? "Counted by this process's engine since it started (open this page again a few seconds from now for rates per minute)."
          : `Counted by this process's engine since it started; rates per minute over the last ${formatDuration(data.throughput.windowMs)} (since an earlier view of this page).`}
      </p>
      {data.throughput.rows.length === 0 ? (
        <p class="muted">This engine has not done anything yet.</p>
      ) : (
        <table id="throughput">
          <thead>
            <tr>
              <th>Workflow type</th>
              {COLUMNS.map((c) => (
                <th class="num">{LABELS[c]}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.throughput.rows.map((row) => (
              <tr>
                <td>{row.workflowType}</td>
                {COLUMNS.map((c) => (
                  <td class="num">
                    {formatCount(row.totals[c])}
                    {row.perMinute === undefined ? null : <div class="muted">{`${formatCount(Math.round(row.perMinute[c] * 10) / 10)}/min`}</div>}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Dead letters per type</h2>
      {deadByType.size === 0 ? (
        <p class="muted">No dead letters.</p>
      ) : (
        <table id="dead-per-type">
          <thead>
            <tr>
              <th>Workflow type</th>
              <th class="num">Effects</th>
              <th class="num">Timers</th>
            </tr>
          </thead>
          <tbody>
            {[...deadByType.entries()].map(([type, counts]) => (
              <tr>
                <td>{type}</td>
                <td class="num">
                  <a href={`${href(ctx, '/dead-letters')}?${new URLSearchParams({ kind: 'effect', type })}`}>{formatCount(counts.effect)}</a>
                </td>
                <td class="num">
                  <a href={`${href(ctx, '/dead-letters')}?${new URLSearchParams({ kind: 'timer', type })}`}>{formatCount(counts.timer)}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Workflow types</h2>
      <table id="types">
        <thead>
          <tr>
            <th>Workflow type</th>
            <th>Work</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {data.types.map((type) => (
            <tr>
              <td>
                <a href={`${href(ctx, '/instances')}?${new URLSearchParams({ type })}`}>{type}</a>
              </td>
              <td>{pausedTypes.has(type) ? <span class="badge s-paused">paused</span> : <span class="badge s-active">running</span>}</td>
              <td>
                {pausedTypes.has(type) ? (
                  <ActionForm ctx={ctx} action={`/types/${encodeURIComponent(type)}/resume`} label={`Resume ${type}`} />
                ) : (
                  <ActionForm ctx={ctx} action={`/types/${encodeURIComponent(type)}/pause`} label={`Pause ${type}`} danger />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}

function Card(props: { label: string; value: number; alarm?: boolean | undefined; link?: string | undefined }) {
  const value = formatCount(props.value);
  return (
    <div class={props.alarm === true ? 'card alarm' : 'card'}>
      <div class="value">{props.link === undefined ? value : <a href={props.link}>{value}</a>}</div>
      <div class="label">{props.label}</div>
    </div>
  );
}
