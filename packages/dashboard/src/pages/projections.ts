// Projections: every projection the store knows, with its checkpoint, the holder of its lease and
// whether that lease is live, how far it is behind the feed, and its dead letters.
import { h } from 'preact';
import type { ProjectionReport } from '@ironflow/runtime';
import { projectionHref, type PageContext } from '../context.js';
import { formatCount, formatDuration, formatLag, shortPosition } from '../format.js';
import { Badge, Layout, Time } from './components.js';

/** A checkpoint: shortened, the whole position in its title; the feed's start when there is none. */
export function Checkpoint(props: { position: string | undefined; full?: boolean | undefined }) {
  if (props.position === undefined) return h('span', { class: 'muted' }, 'start of the feed');
  return h('span', { class: 'mono', title: props.position }, props.full === true ? props.position : shortPosition(props.position));
}

/** The lease: live and when it runs out, expired and how long ago, or none (released, reset). */
export function LeaseState(props: { ctx: PageContext; projection: ProjectionReport }) {
  const { ctx, projection: p } = props;
  if (p.owner === undefined || p.expiresAt === undefined) return h(Badge, { status: 'none' });
  return h('span', null, h(Badge, { status: p.held ? 'live' : 'expired' }), p.held ? ' runs out ' : ' ', h(Time, { ctx, at: p.expiresAt }));
}

/** The age of the oldest event a projection has not handled yet; a dash when it is caught up. */
export function LagAge(props: { ageMs: number | undefined }) {
  return props.ageMs === undefined ? h('span', { class: 'muted' }, '—') : h('span', null, formatDuration(props.ageMs));
}

/** The projections in name order. */
export function ProjectionsPage(props: { ctx: PageContext; projections: readonly ProjectionReport[] }) {
  const { ctx } = props;
  return h(
    Layout,
    { ctx, section: 'projections', title: 'Projections' },
    h('h1', null, 'Projections'),
    h(
      'p',
      { class: 'hint' },
      'Each projection keeps its checkpoint (a feed position) in the store; one runner at a time holds its lease. Lag is the events after the checkpoint (counted up to 10,000) and the age of the oldest of them.',
    ),
    props.projections.length === 0
      ? h('p', { class: 'muted', id: 'no-projections' }, 'No projections in this store yet: a runner creates one when it first claims it.')
      : h(
          'table',
          { id: 'projections' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'Projection'),
              h('th', null, 'Checkpoint'),
              h('th', null, 'Holder'),
              h('th', null, 'Lease'),
              h('th', { class: 'num' }, 'Lag (events)'),
              h('th', null, 'Oldest unprojected'),
              h('th', { class: 'num' }, 'Dead letters'),
            ),
          ),
          h(
            'tbody',
            null,
            props.projections.map((p) =>
              h(
                'tr',
                { 'data-projection': p.name },
                h('td', { class: 'mono' }, h('a', { href: projectionHref(ctx, p.name) }, p.name)),
                h('td', null, h(Checkpoint, { position: p.position })),
                h('td', { class: 'mono' }, p.owner ?? h('span', { class: 'muted' }, '—')),
                h('td', null, h(LeaseState, { ctx, projection: p })),
                h('td', { class: 'num lag' }, formatLag(p.lag)),
                h('td', null, h(LagAge, { ageMs: p.lag.ageMs })),
                h('td', { class: p.deadLetters > 0 ? 'num alarm' : 'num' }, formatCount(p.deadLetters)),
              ),
            ),
          ),
        ),
  );
}
