// One instance: its summary and actions, current state, the path it took, its event timeline, its
// effects and timers with attempts and last errors, and the inputs observed for it.
import { h, Fragment } from 'preact';
import type { EffectRecord, InstanceSummary, Observation, StoredEvent, TimerRecord } from '@ironflow/core/store';
import { href, instanceHref, type PageContext } from '../context.js';
import { kindOf } from '../format.js';
import { ActionForm, Badge, CancelForm, Folded, Json, Layout, Time } from './components.js';
import { MachineSection, type MachineView } from './machine.js';

/** Most events the timeline shows: the latest ones. */
export const TIMELINE_LIMIT = 500;

/** Everything the instance page shows, read before rendering. */
export interface InstanceData {
  readonly summary: InstanceSummary;
  readonly events: readonly StoredEvent[];
  readonly effects: readonly EffectRecord[];
  readonly timers: readonly TimerRecord[];
  readonly observations: readonly Observation[];
  /** The folded state; `error` when evolve failed; absent without the workflow's definition. */
  readonly state?: { readonly value: unknown } | { readonly error: string } | undefined;
  readonly paused: { readonly instance: boolean; readonly type: boolean };
  readonly machine: MachineView;
  /** Seconds between automatic reloads, when asked for. */
  readonly refreshSeconds?: number | undefined;
}

const workAction = (kind: 'effect' | 'timer', id: string) => `/dead-letters/${kind}/${encodeURIComponent(id)}/redrive`;

/** One instance's page. */
export function InstancePage(props: { ctx: PageContext; data: InstanceData }) {
  const { ctx, data } = props;
  const { summary } = data;
  const type = summary.workflowType;
  const id = summary.workflowId;
  const base = `/instances/${encodeURIComponent(type)}/${encodeURIComponent(id)}`;
  const shown = data.events.length > TIMELINE_LIMIT ? data.events.slice(-TIMELINE_LIMIT) : data.events;
  const refreshLink = (() => {
    const params = new URLSearchParams(ctx.url.search);
    params.delete('notice');
    if (data.refreshSeconds === undefined) params.set('refresh', '5');
    else params.delete('refresh');
    const query = params.toString();
    return `${ctx.url.pathname}${query === '' ? '' : `?${query}`}`;
  })();
  return h(
    Layout,
    { ctx, section: 'instances', title: `${type} ${id}`, refreshSeconds: data.refreshSeconds },
    h('h1', null, h('span', { class: 'muted' }, type), ' ', h('span', { class: 'mono', id: 'instance-id' }, id), ' ', h(Badge, { status: summary.status })),
    h(
      'section',
      { class: 'panel' },
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, 'Status'),
        h('dd', { id: 'instance-status' }, summary.status),
        summary.cancelReason === undefined ? null : h(Fragment, null, h('dt', null, 'Cancel reason'), h('dd', null, summary.cancelReason)),
        h('dt', null, 'Version'),
        h('dd', null, summary.version === 1 ? '1 event' : `${summary.version} events`),
        h('dt', null, 'Created'),
        h('dd', null, h(Time, { ctx, at: summary.createdAt })),
        h('dt', null, 'Updated'),
        h('dd', null, h(Time, { ctx, at: summary.updatedAt })),
        summary.parent === undefined
          ? null
          : h(
              Fragment,
              null,
              h('dt', null, 'Parent'),
              h(
                'dd',
                { class: 'mono' },
                h('a', { href: instanceHref(ctx, summary.parent.type, summary.parent.id) }, `${summary.parent.type} ${summary.parent.id}`),
              ),
            ),
        h('dt', null, 'Children'),
        h('dd', null, h('a', { href: `${href(ctx, '/instances')}?${new URLSearchParams({ parentType: type, parentId: id })}` }, 'instances it started')),
        h('dt', null, 'Paused'),
        h('dd', null, data.paused.type ? 'its whole workflow type is paused' : data.paused.instance ? 'yes' : 'no'),
      ),
      h(
        'div',
        { class: 'actions' },
        summary.status === 'active' ? h(CancelForm, { ctx, type, id }) : null,
        data.paused.instance
          ? h(ActionForm, { ctx, action: `${base}/resume`, label: 'Resume instance' })
          : summary.status === 'active'
          ? h(ActionForm, { ctx, action: `${base}/pause`, label: 'Pause instance' })
          : null,
        h('a', { href: refreshLink }, data.refreshSeconds === undefined ? 'Reload every 5 s' : 'Stop reloading'),
      ),
    ),
    h('h2', null, 'State'),
    data.state === undefined
      ? h('p', { class: 'hint' }, "Give the dashboard this workflow's definition (the `workflows` option) to see its state folded from the events.")
      : 'error' in data.state
      ? h('p', { class: 'error-text' }, data.state.error)
      : h('div', { id: 'state' }, h(Json, { value: data.state.value })),
    h(MachineSection, { ctx, view: data.machine }),
    h('h2', null, 'Events'),
    data.events.length > shown.length ? h('p', { class: 'hint' }, `The latest ${shown.length} of ${data.events.length} events.`) : null,
    shown.length === 0
      ? h('p', { class: 'muted' }, 'No events.')
      : h(
          'table',
          { id: 'events', class: 'timeline' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { class: 'num' }, '#'),
              h('th', null, 'Event'),
              h('th', null, 'Input'),
              h('th', null, 'Caused by'),
              h('th', null, 'Recorded'),
              h('th', null, 'Payload'),
            ),
          ),
          h(
            'tbody',
            null,
            shown.map((event) =>
              h(
                'tr',
                null,
                h('td', { class: 'num seq' }, event.sequence),
                h('td', null, event.type),
                h('td', null, event.metadata.inputType ?? ''),
                h(
                  'td',
                  { class: 'mono' },
                  event.metadata.causedBy === undefined
                    ? ''
                    : h(
                        'a',
                        { href: `#${event.metadata.causedBy.kind}-${event.metadata.causedBy.id}` },
                        `${event.metadata.causedBy.kind} ${event.metadata.causedBy.id}`,
                      ),
                ),
                h('td', null, h(Time, { ctx, at: event.recordedAt })),
                h('td', null, h(Folded, { summary: 'payload', value: event.payload })),
              ),
            ),
          ),
        ),
    h('h2', null, 'Effects'),
    data.effects.length === 0
      ? h('p', { class: 'muted' }, 'No effects.')
      : h(
          'table',
          { id: 'effects' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'Effect'),
              h('th', null, 'Status'),
              h('th', { class: 'num' }, 'Attempts'),
              h('th', null, 'Next attempt'),
              h('th', null, 'Last error'),
              h('th', null, 'Payload'),
              h('th', null),
            ),
          ),
          h(
            'tbody',
            null,
            data.effects.map((effect) =>
              h(
                'tr',
                { id: `effect-${effect.id}` },
                h(
                  'td',
                  null,
                  h('div', null, kindOf(effect.payload)),
                  h('div', { class: 'muted mono' }, effect.id),
                  effect.key === undefined ? null : h('div', { class: 'muted' }, `key ${effect.key}`),
                  effect.tag === undefined ? null : h('div', { class: 'muted' }, `tag ${effect.tag}`),
                  effect.priority === 0 ? null : h('div', { class: 'muted' }, `priority ${effect.priority}`),
                ),
                h('td', null, h(Badge, { status: effect.status })),
                h('td', { class: 'num' }, effect.attempts),
                h(
                  'td',
                  null,
                  effect.status === 'pending'
                    ? h(Time, { ctx, at: effect.availableAt })
                    : effect.status === 'leased'
                    ? h('span', { class: 'muted' }, `leased by ${effect.leaseOwner ?? '?'}`)
                    : '',
                ),
                h('td', { class: 'error-text' }, effect.lastError ?? ''),
                h('td', null, h(Folded, { summary: 'payload', value: effect.payload })),
                h('td', null, effect.status === 'dead' ? h(ActionForm, { ctx, action: workAction('effect', effect.id), label: 'Re-drive' }) : null),
              ),
            ),
          ),
        ),
    h('h2', null, 'Timers'),
    data.timers.length === 0
      ? h('p', { class: 'muted' }, 'No timers.')
      : h(
          'table',
          { id: 'timers' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'Timer'),
              h('th', null, 'Status'),
              h('th', null, 'Fires'),
              h('th', { class: 'num' }, 'Attempts'),
              h('th', null, 'Last error'),
              h('th', null, 'Input'),
              h('th', null),
            ),
          ),
          h(
            'tbody',
            null,
            data.timers.map((timer) =>
              h(
                'tr',
                { id: `timer-${timer.id}` },
                h('td', null, h('div', null, timer.key ?? kindOf(timer.input)), h('div', { class: 'muted mono' }, timer.id)),
                h('td', null, h(Badge, { status: timer.status })),
                h('td', null, h(Time, { ctx, at: timer.fireAt })),
                h('td', { class: 'num' }, timer.attempts),
                h('td', { class: 'error-text' }, timer.lastError ?? ''),
                h('td', null, h(Folded, { summary: 'input', value: timer.input })),
                h('td', null, timer.status === 'dead' ? h(ActionForm, { ctx, action: workAction('timer', timer.id), label: 'Re-drive' }) : null),
              ),
            ),
          ),
        ),
    data.observations.length === 0
      ? null
      : h(
          Fragment,
          null,
          h('h2', null, 'Observed inputs'),
          h(
            'table',
            { id: 'observations' },
            h('thead', null, h('tr', null, h('th', null, 'Input'), h('th', null, 'Outcome'), h('th', null, 'At'), h('th', null, 'Details'))),
            h(
              'tbody',
              null,
              data.observations.map((o) =>
                h(
                  'tr',
                  null,
                  h('td', null, o.inputType),
                  h('td', null, h(Badge, { status: o.outcome })),
                  h('td', null, h(Time, { ctx, at: o.observedAt })),
                  h(
                    'td',
                    null,
                    h(Folded, { summary: 'input', value: o.input }),
                    o.rejection === undefined ? null : h(Folded, { summary: 'rejection', value: o.rejection }),
                  ),
                ),
              ),
            ),
          ),
        ),
  );
}
