// One projection: its checkpoint, lease, lag and dead letters (a cursor page, filtered by status),
// each parked one with a re-drive button and a link to confirm skipping it; and the form that leads
// to the confirmation of a reset.
import { h, Fragment } from 'preact';
import type { ProjectionDeadLetter, ProjectionDeadLetterStatus } from '@ironflow/core/store';
import type { ProjectionReport } from '@ironflow/runtime';
import { CONFIRMED } from '../actions.js';
import { href, instanceHref, type PageContext } from '../context.js';
import { formatCount, formatLag } from '../format.js';
import { ActionForm, Badge, Layout, Pager, Time } from './components.js';
import { Checkpoint, LagAge, LeaseState } from './projections.js';

/** The filters as the query gave them. */
export interface ProjectionDeadLetterFilters {
  readonly status?: ProjectionDeadLetterStatus | undefined;
  readonly after?: string | undefined;
}

/** The path of a dead letter's action or confirmation page. */
export const deadLetterPath = (projection: string, id: string, action: 'redrive' | 'skip'): string =>
  `/projections/${encodeURIComponent(projection)}/dead-letters/${encodeURIComponent(id)}/${action}`;

/** The facts of one projection. */
export function ProjectionFacts(props: { ctx: PageContext; projection: ProjectionReport }) {
  const { ctx, projection: p } = props;
  return h(
    'dl',
    { class: 'facts' },
    h('dt', null, 'Checkpoint'),
    h('dd', { id: 'checkpoint' }, h(Checkpoint, { position: p.position, full: true })),
    h('dt', null, 'Holder'),
    h('dd', { class: 'mono', id: 'holder' }, p.owner ?? h('span', { class: 'muted' }, 'none')),
    h('dt', null, 'Lease'),
    h('dd', { id: 'lease' }, h(LeaseState, { ctx, projection: p })),
    h('dt', null, 'Token'),
    h('dd', null, p.token),
    h('dt', null, 'Updated'),
    h('dd', null, h(Time, { ctx, at: p.updatedAt })),
    h('dt', null, 'Lag'),
    h('dd', { id: 'lag' }, `${formatLag(p.lag)} event${!p.lag.capped && p.lag.events === 1 ? '' : 's'}`, p.lag.ageMs === undefined ? null : h(Fragment, null, ', the oldest recorded ', h(LagAge, { ageMs: p.lag.ageMs }), ' ago')),
    h('dt', null, 'Dead letters'),
    h('dd', { id: 'dead-letter-count' }, formatCount(p.deadLetters)),
  );
}

/** The instance and event a dead letter holds. */
export function LetterEvent(props: { ctx: PageContext; letter: ProjectionDeadLetter }) {
  const { ctx, letter } = props;
  return h(
    Fragment,
    null,
    h('div', null, letter.eventType, h('span', { class: 'muted' }, ` #${letter.sequence}`)),
    h('div', { class: 'mono' }, h('span', { class: 'muted' }, `${letter.workflowType} `), h('a', { href: instanceHref(ctx, letter.workflowType, letter.workflowId) }, letter.workflowId)),
  );
}

/** One projection with a page of its dead letters. */
export function ProjectionPage(props: {
  ctx: PageContext;
  projection: ProjectionReport;
  filters: ProjectionDeadLetterFilters;
  items: readonly ProjectionDeadLetter[];
  next: string | undefined;
}) {
  const { ctx, projection: p, filters } = props;
  const base = `/projections/${encodeURIComponent(p.name)}`;
  return h(
    Layout,
    { ctx, section: 'projections', title: `Projection ${p.name}` },
    h('h1', null, h('span', { class: 'muted' }, 'Projection '), h('span', { class: 'mono', id: 'projection-name' }, p.name)),
    h('section', { class: 'panel' }, h(ProjectionFacts, { ctx, projection: p })),
    ctx.canAct
      ? h(
          Fragment,
          null,
          h('h2', null, 'Reset'),
          h(
            'p',
            { class: 'hint' },
            'Moves the checkpoint (to the start: a rebuild) and ends the lease; the runner holding it stops at its next write and resumes from there. The next page says what it will do and asks to confirm.',
          ),
          h(
            'form',
            { class: 'filters', method: 'get', action: href(ctx, `${base}/reset`), id: 'reset-form' },
            h('label', null, 'After position', h('input', { type: 'text', name: 'position', placeholder: 'empty: from the first event', size: 32, maxLength: 4096 })),
            h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'keep', value: CONFIRMED }), 'keep its dead letters'),
            h('button', { type: 'submit', class: 'danger' }, 'Reset…'),
          ),
        )
      : null,
    h('h2', null, 'Dead letters'),
    h(
      'form',
      { class: 'filters', method: 'get', action: ctx.url.pathname },
      h(
        'label',
        null,
        'Status',
        h(
          'select',
          { name: 'status' },
          h('option', { value: '' }, 'parked and re-driven'),
          h('option', { value: 'parked', selected: filters.status === 'parked' }, 'parked'),
          h('option', { value: 'redriven', selected: filters.status === 'redriven' }, 're-driven'),
        ),
      ),
      h('button', { type: 'submit' }, 'Show'),
    ),
    h(
      'p',
      { class: 'hint' },
      "A parked event waits here while the projection goes on. Re-driving hands it back to the projection's runner, which resolves it or parks it again; skipping deletes it, leaving the event unprojected.",
    ),
    props.items.length === 0
      ? h('p', { class: 'muted', id: 'no-projection-dead-letters' }, 'No dead letters here.')
      : h(
          'table',
          { id: 'projection-dead-letters' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'Dead letter'),
              h('th', null, 'Status'),
              h('th', null, 'Event'),
              h('th', null, 'Position'),
              h('th', { class: 'num' }, 'Attempts'),
              h('th', null, 'Last error'),
              h('th', null, 'Parked'),
              ctx.canAct ? h('th', null, 'Actions') : null,
            ),
          ),
          h(
            'tbody',
            null,
            props.items.map((letter) =>
              h(
                'tr',
                { 'data-id': letter.id },
                h('td', { class: 'mono' }, letter.id),
                h('td', null, h(Badge, { status: letter.status })),
                h('td', null, h(LetterEvent, { ctx, letter })),
                h('td', null, h(Checkpoint, { position: letter.position })),
                h('td', { class: 'num' }, letter.attempts),
                h('td', { class: 'error-text' }, letter.error),
                h('td', null, h(Time, { ctx, at: letter.parkedAt })),
                ctx.canAct
                  ? h(
                      'td',
                      null,
                      letter.status === 'parked' ? h(ActionForm, { ctx, action: deadLetterPath(p.name, letter.id, 'redrive'), label: 'Re-drive' }) : null,
                      h('a', { class: 'button-link', href: href(ctx, deadLetterPath(p.name, letter.id, 'skip')) }, 'Skip…'),
                    )
                  : null,
              ),
            ),
          ),
        ),
    h(Pager, { ctx, next: props.next, first: filters.after === undefined }),
    h('p', null, h('a', { href: href(ctx, '/projections') }, '« All projections')),
  );
}
