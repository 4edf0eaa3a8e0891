/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// Dead letters: a cursor page of dead effects or timers, filtered by workflow type, each with its
// last error and payload, a re-drive button and a cancel form for its instance.
import type { EffectRecord, TimerRecord, WorkKind } from '@ironflow/core/store';
import { instanceHref, type PageContext } from '../context.js';
import { kindOf } from '../format.js';
import { ActionForm, CancelForm, Folded, Layout, Pager, Time } from './components.js';

/** The filters as the query gave them. */
export interface DeadLetterFilters {
  readonly kind: WorkKind;
  readonly type?: string | undefined;
  readonly after?: string | undefined;
}

export function DeadLettersPage(props: { ctx: PageContext; filters: DeadLetterFilters; types: readonly string[]; items: readonly (EffectRecord | TimerRecord)[]; next: string | undefined; total: number }) {
  const { ctx, filters } = props;
  return (
    <Layout ctx={ctx} section="dead-letters" title="Dead letters">
      <h1>Dead letters</h1>
      <form class="filters" method="get" action={ctx.url.pathname}>
        <label>
          Kind
          <select name="kind">
            <option value="effect" selected={filters.kind === 'effect'}>
              effects
            </option>
            <option value="timer" selected={filters.kind === 'timer'}>
              timers
            </option>
          </select>
        </label>
        <label>
          Workflow type
          <select name="type">
            <option value="">all types</option>
            {props.types.map((type) => (
              <option value={type} selected={type === filters.type}>
                {type}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Show</button>
      </form>
      <p class="hint" id="dead-total">{`${props.total} dead ${filters.kind === 'effect' ? 'effect' : 'timer'}${props.total === 1 ? '' : 's'}${filters.type === undefined ? '' : ` of ${filters.type}`}. Re-driving makes one claimable again with its attempts reset.`}</p>
      {props.items.length === 0 ? (
        <p class="muted" id="no-dead-letters">
          No dead letters here.
        </p>
      ) : (
        <table id="dead-letters">
          <thead>
            <tr>
              <th>Instance</th>
              <th>{filters.kind === 'effect' ? 'Effect' : 'Timer'}</th>
              <th class="num">Attempts</th>
              <th>Last error</th>
              <th>Dead since</th>
              <th>{filters.kind === 'effect' ? 'Payload' : 'Input'}</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {props.items.map((item) => (
              <tr id={`${item.kind}-${item.id}`}>
                <td class="mono">
                  <div class="muted">{item.workflowType}</div>
                  <a href={instanceHref(ctx, item.workflowType, item.workflowId)}>{item.workflowId}</a>
                </td>
                <td>
                  <div>{item.kind === 'effect' ? kindOf(item.payload) : (item.key ?? kindOf(item.input))}</div>
                  <div class="muted mono">{item.id}</div>
                </td>
                <td class="num">{item.attempts}</td>
                <td class="error-text">{item.lastError ?? ''}</td>
                <td>
                  <Time ctx={ctx} at={item.updatedAt} />
                </td>
                <td>
                  <Folded summary={item.kind === 'effect' ? 'payload' : 'input'} value={item.kind === 'effect' ? item.payload : item.input} />
                </td>
                <td>
                  <ActionForm ctx={ctx} action={`/dead-letters/${item.kind}/${encodeURIComponent(item.id)}/redrive`} label="Re-drive" />
                  <CancelForm ctx={ctx} type={item.workflowType} id={item.workflowId} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager ctx={ctx} next={props.next} first={filters.after === undefined} />
    </Layout>
  );
}
