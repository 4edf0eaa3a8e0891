// The instance list: a filter form (type, id prefix, status, parent) and a cursor page of instances.
import { h, Fragment } from 'preact';
import type { InstanceStatus, InstanceSummary } from '@ironflow/core/store';
import { instanceHref, type PageContext } from '../context.js';
import { Badge, Layout, Pager, Time } from './components.js';

/** The filters as the query gave them. */
export interface InstanceFilters {
  readonly type?: string | undefined;
  readonly prefix?: string | undefined;
  readonly status?: InstanceStatus | undefined;
  readonly parent?: { readonly type: string; readonly id: string } | undefined;
  readonly after?: string | undefined;
}

/** The instance list: its filter form and one cursor page. */
export function InstancesPage(props: {
  ctx: PageContext;
  filters: InstanceFilters;
  types: readonly string[];
  items: readonly InstanceSummary[];
  next: string | undefined;
}) {
  const { ctx, filters } = props;
  return h(
    Layout,
    { ctx, section: 'instances', title: 'Instances' },
    h('h1', null, 'Instances'),
    h(
      'form',
      { class: 'filters', method: 'get', action: ctx.url.pathname },
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
      h('label', null, 'Id starts with', h('input', { type: 'search', name: 'id', value: filters.prefix ?? '', placeholder: 'needs a type', maxLength: 512 })),
      h(
        'label',
        null,
        'Status',
        h(
          'select',
          { name: 'status' },
          h('option', { value: '' }, 'any'),
          (['active', 'completed', 'cancelled'] as const).map((status) => h('option', { value: status, selected: status === filters.status }, status)),
        ),
      ),
      filters.parent === undefined
        ? null
        : h(
            Fragment,
            null,
            h('input', { type: 'hidden', name: 'parentType', value: filters.parent.type }),
            h('input', { type: 'hidden', name: 'parentId', value: filters.parent.id }),
          ),
      h('button', { type: 'submit' }, 'Search'),
    ),
    filters.parent === undefined
      ? null
      : h(
          'p',
          { class: 'hint' },
          'Children of ',
          h('a', { href: instanceHref(ctx, filters.parent.type, filters.parent.id), class: 'mono' }, `${filters.parent.type} ${filters.parent.id}`),
        ),
    props.items.length === 0
      ? h('p', { class: 'muted', id: 'no-instances' }, 'No instances match.')
      : h(
          'table',
          { id: 'instances' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'Workflow type'),
              h('th', null, 'Id'),
              h('th', null, 'Status'),
              h('th', { class: 'num' }, 'Version'),
              h('th', null, 'Parent'),
              h('th', null, 'Updated'),
              h('th', null, 'Created'),
            ),
          ),
          h(
            'tbody',
            null,
            props.items.map((item) =>
              h(
                'tr',
                null,
                h('td', null, item.workflowType),
                h('td', { class: 'mono' }, h('a', { href: instanceHref(ctx, item.workflowType, item.workflowId) }, item.workflowId)),
                h('td', null, h(Badge, { status: item.status })),
                h('td', { class: 'num' }, item.version),
                h(
                  'td',
                  { class: 'mono' },
                  item.parent === undefined
                    ? ''
                    : h('a', { href: instanceHref(ctx, item.parent.type, item.parent.id) }, `${item.parent.type} ${item.parent.id}`),
                ),
                h('td', null, h(Time, { ctx, at: item.updatedAt })),
                h('td', null, h(Time, { ctx, at: item.createdAt })),
              ),
            ),
          ),
        ),
    h(Pager, { ctx, next: props.next, first: filters.after === undefined }),
  );
}
