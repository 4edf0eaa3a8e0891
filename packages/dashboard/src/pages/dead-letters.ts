// Dead letters: a cursor page of dead effects or timers, filtered by workflow type, each with its
// last error and payload, a re-drive button and a cancel form for its instance.
import { h } from 'preact';
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

/** The dead letters of one kind: a cursor page with re-drive and cancel forms. */
export function DeadLettersPage(props: {
  ctx: PageContext;
  filters: DeadLetterFilters;
  types: readonly string[];
  items: readonly (EffectRecord | TimerRecord)[];
  next: string | undefined;
  total: number;
}) {
  const { ctx, filters } = props;
  return h(
    Layout,
    { ctx, section: 'dead-letters', title: 'Dead letters' },
    h('h1', null, 'Dead letters'),
    h(
      'form',
      { class: 'filters', method: 'get', action: ctx.url.pathname },
      h(
        'label',
        null,
        'Kind',
        h(
          'select',
          { name: 'kind' },
          h('option', { value: 'effect', selected: filters.kind === 'effect' }, 'effects'),
          h('option', { value: 'timer', selected: filters.kind === 'timer' }, 'timers'),
        ),
      ),
      h(
        'label',
        null,
        'Workflow type',
        h(
          'select',
          { name: 'type' },
          h('option', { value: '' }, 'all types'),
          props.types.map((type) => h('option', { value: type, selected: type === filters.type }, type)),
        ),
      ),
      h('button', { type: 'submit' }, 'Show'),
    ),
    h(
      'p',
      { class: 'hint', id: 'dead-total' },
      `${props.total} dead ${filters.kind === 'effect' ? 'effect' : 'timer'}${props.total === 1 ? '' : 's'}${
        filters.type === undefined ? '' : ` of ${filters.type}`
      }. Re-driving makes one claimable again with its attempts reset.`,
    ),
    props.items.length === 0
      ? h('p', { class: 'muted', id: 'no-dead-letters' }, 'No dead letters here.')
      : h(
          'table',
          { id: 'dead-letters' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'Instance'),
              h('th', null, filters.kind === 'effect' ? 'Effect' : 'Timer'),
              h('th', { class: 'num' }, 'Attempts'),
              h('th', null, 'Last error'),
              h('th', null, 'Dead since'),
              h('th', null, filters.kind === 'effect' ? 'Payload' : 'Input'),
              h('th', null, 'Actions'),
            ),
          ),
          h(
            'tbody',
            null,
            props.items.map((item) =>
              h(
                'tr',
                { id: `${item.kind}-${item.id}` },
                h(
                  'td',
                  { class: 'mono' },
                  h('div', { class: 'muted' }, item.workflowType),
                  h('a', { href: instanceHref(ctx, item.workflowType, item.workflowId) }, item.workflowId),
                ),
                h(
                  'td',
                  null,
                  h('div', null, item.kind === 'effect' ? kindOf(item.payload) : item.key ?? kindOf(item.input)),
                  h('div', { class: 'muted mono' }, item.id),
                ),
                h('td', { class: 'num' }, item.attempts),
                h('td', { class: 'error-text' }, item.lastError ?? ''),
                h('td', null, h(Time, { ctx, at: item.updatedAt })),
                h('td', null, h(Folded, { summary: item.kind === 'effect' ? 'payload' : 'input', value: item.kind === 'effect' ? item.payload : item.input })),
                h(
                  'td',
                  null,
                  h(ActionForm, { ctx, action: `/dead-letters/${item.kind}/${encodeURIComponent(item.id)}/redrive`, label: 'Re-drive' }),
                  h(CancelForm, { ctx, type: item.workflowType, id: item.workflowId }),
                ),
              ),
            ),
          ),
        ),
    h(Pager, { ctx, next: props.next, first: filters.after === undefined }),
  );
}
