// The confirmation steps of the two destructive projection actions. Each is a page (GET, so it
// changes nothing) that says what the action will do, with the one form that does it: a POST that
// carries `confirm=yes`, which the action refuses without.
import { h, Fragment } from 'preact';
import type { ProjectionDeadLetter } from '@ironflow/core/store';
import type { ProjectionReport } from '@ironflow/runtime';
import { CONFIRMED } from '../actions.js';
import { projectionHref, type PageContext } from '../context.js';
import { ActionForm, Layout, Time } from './components.js';
import { Checkpoint, LeaseState } from './projections.js';
import { deadLetterPath, LetterEvent } from './projection.js';

/** The note of a read-only dashboard, where the confirmation button would be. */
function ReadOnly(props: { ctx: PageContext }) {
  return props.ctx.canAct ? null : h('p', { class: 'notice refused' }, 'This dashboard is read-only: actions need an authorize hook.');
}

/** Confirms skipping one dead letter: what it holds, and that its event stays unprojected. */
export function ConfirmSkipPage(props: { ctx: PageContext; projection: string; letter: ProjectionDeadLetter }) {
  const { ctx, projection, letter } = props;
  const back = projectionHref(ctx, projection);
  return h(
    Layout,
    { ctx, section: 'projections', title: `Skip a dead letter of ${projection}` },
    h('h1', null, 'Skip a dead letter of ', h('span', { class: 'mono' }, projection), '?'),
    h(
      'section',
      { class: 'panel', id: 'confirm-skip' },
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, 'Dead letter'),
        h('dd', { class: 'mono' }, letter.id),
        h('dt', null, 'Event'),
        h('dd', null, h(LetterEvent, { ctx, letter })),
        h('dt', null, 'Position'),
        h('dd', null, h(Checkpoint, { position: letter.position, full: true })),
        h('dt', null, 'Attempts'),
        h('dd', null, letter.attempts),
        h('dt', null, 'Last error'),
        h('dd', { class: 'error-text' }, letter.error),
        h('dt', null, 'Parked'),
        h('dd', null, h(Time, { ctx, at: letter.parkedAt })),
      ),
    ),
    h(
      'p',
      { id: 'consequence' },
      'Skipping deletes this dead letter: its event is never handed to the projection again (unless the projection is reset to a position before it). Re-drive it instead to have it tried again.',
    ),
    h(ReadOnly, { ctx }),
    h(
      'div',
      { class: 'actions' },
      h(ActionForm, { ctx, action: deadLetterPath(projection, letter.id, 'skip'), label: 'Skip it', danger: true, returnTo: back }, h('input', { type: 'hidden', name: 'confirm', value: CONFIRMED })),
      h('a', { href: back }, 'Back: keep it'),
    ),
  );
}

/** Confirms a reset: rebuild from the start or resume after a position, what happens to the dead letters and the runner, and the read model warning. */
export function ConfirmResetPage(props: { ctx: PageContext; projection: ProjectionReport; position: string | undefined; keepDeadLetters: boolean }) {
  const { ctx, projection: p, position, keepDeadLetters } = props;
  const back = projectionHref(ctx, p.name);
  return h(
    Layout,
    { ctx, section: 'projections', title: `Reset ${p.name}` },
    h('h1', null, position === undefined ? 'Rebuild ' : 'Reset ', h('span', { class: 'mono' }, p.name), '?'),
    h(
      'section',
      { class: 'panel', id: 'confirm-reset' },
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, 'Checkpoint now'),
        h('dd', null, h(Checkpoint, { position: p.position, full: true })),
        h('dt', null, 'After the reset'),
        h('dd', { id: 'reset-to' }, position === undefined ? 'the start of the feed: every event is handed to the projection again' : h(Fragment, null, 'resumes after ', h(Checkpoint, { position, full: true }))),
        h('dt', null, 'Dead letters'),
        h(
          'dd',
          { id: 'reset-dead-letters' },
          p.deadLetters === 0 ? 'none' : keepDeadLetters ? `its ${p.deadLetters} dead letter${p.deadLetters === 1 ? ' is' : 's are'} kept` : `its ${p.deadLetters} dead letter${p.deadLetters === 1 ? ' is' : 's are'} deleted`,
        ),
        h('dt', null, 'Lease'),
        h('dd', null, h(LeaseState, { ctx, projection: p }), p.held ? ` (${p.owner ?? ''}): it stops at its next write and resumes from the new checkpoint` : ''),
      ),
    ),
    h(
      'p',
      { class: 'warning', id: 'read-model-warning' },
      'Clear the read model first unless the projection is idempotent: the events after the new checkpoint are handed to its handler again, and a handler that adds up (counts, sums, inserts) would count them twice.',
    ),
    h(ReadOnly, { ctx }),
    h(
      'div',
      { class: 'actions' },
      h(
        ActionForm,
        { ctx, action: `/projections/${encodeURIComponent(p.name)}/reset`, label: position === undefined ? 'Rebuild from the start' : 'Reset to this position', danger: true, returnTo: back },
        h('input', { type: 'hidden', name: 'confirm', value: CONFIRMED }),
        position === undefined ? null : h('input', { type: 'hidden', name: 'position', value: position }),
        keepDeadLetters ? h('input', { type: 'hidden', name: 'keep', value: CONFIRMED }) : null,
      ),
      h('a', { href: back }, 'Back: change nothing'),
    ),
  );
}
