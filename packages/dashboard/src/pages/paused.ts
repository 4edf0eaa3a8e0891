// Paused work: the pauses in force (whole workflow types, then instances) with a resume button each,
// and a form to pause a workflow type.
import { h, Fragment } from 'preact';
import type { PausedEntry } from '@ironflow/core/store';
import { instanceHref, type PageContext } from '../context.js';
import { ActionForm, Layout, Time } from './components.js';

/** The pauses in force, with resume buttons, and pause buttons per type. */
export function PausedPage(props: { ctx: PageContext; paused: readonly PausedEntry[]; types: readonly string[] }) {
  const { ctx } = props;
  const pausedTypes = new Set(props.paused.filter((p) => p.id === undefined).map((p) => p.type));
  const pausable = props.types.filter((type) => !pausedTypes.has(type));
  return h(
    Layout,
    { ctx, section: 'paused', title: 'Paused' },
    h('h1', null, 'Paused work'),
    h('p', { class: 'hint' }, 'The effects and timers of paused work stay pending (a timer due meanwhile fires on resume); inputs are still decided.'),
    props.paused.length === 0
      ? h('p', { class: 'muted', id: 'nothing-paused' }, 'Nothing is paused.')
      : h(
          'table',
          { id: 'paused' },
          h('thead', null, h('tr', null, h('th', null, 'Workflow type'), h('th', null, 'Instance'), h('th', null, 'Paused'), h('th', null))),
          h(
            'tbody',
            null,
            props.paused.map((entry) =>
              h(
                'tr',
                null,
                h('td', null, entry.type),
                h(
                  'td',
                  { class: 'mono' },
                  entry.id === undefined
                    ? h('span', { class: 'muted' }, 'the whole type')
                    : h('a', { href: instanceHref(ctx, entry.type, entry.id) }, entry.id),
                ),
                h('td', null, h(Time, { ctx, at: entry.since })),
                h(
                  'td',
                  null,
                  h(ActionForm, {
                    ctx,
                    action:
                      entry.id === undefined
                        ? `/types/${encodeURIComponent(entry.type)}/resume`
                        : `/instances/${encodeURIComponent(entry.type)}/${encodeURIComponent(entry.id)}/resume`,
                    label: entry.id === undefined ? `Resume ${entry.type}` : 'Resume',
                  }),
                ),
              ),
            ),
          ),
        ),
    !ctx.canAct || pausable.length === 0
      ? null
      : h(
          Fragment,
          null,
          h('h2', null, 'Pause a workflow type'),
          h('p', { class: 'hint' }, 'Every process stops claiming its effects and timers until it is resumed.'),
          pausable.map((type) => h(ActionForm, { ctx, action: `/types/${encodeURIComponent(type)}/pause`, label: `Pause ${type}`, danger: true })),
        ),
  );
}
