// The pieces every page is built of: the layout with its navigation, times, JSON, status badges and
// the action forms (a POST with the CSRF token, shown only when actions are allowed). All stored data
// is rendered as text or attribute values, which Preact escapes; nothing uses raw HTML.
import { h, Fragment } from 'preact';
import type { ComponentChildren } from 'preact';
import { href, type PageContext } from '../context.js';
import { formatTime, prettyJson, relative } from '../format.js';
import { CSRF_FIELD } from '../security.js';

/** The sections of the navigation. */
export type Section = 'overview' | 'instances' | 'dead-letters' | 'paused' | 'projections' | 'none';

const NAV: readonly { section: Section; path: string; label: string }[] = [
  { section: 'overview', path: '/', label: 'Overview' },
  { section: 'instances', path: '/instances', label: 'Instances' },
  { section: 'dead-letters', path: '/dead-letters', label: 'Dead letters' },
  { section: 'paused', path: '/paused', label: 'Paused' },
  { section: 'projections', path: '/projections', label: 'Projections' },
];

/** A whole page: head, navigation, the notice of the last action, and the content. */
export function Layout(props: { ctx: PageContext; section: Section; title: string; refreshSeconds?: number | undefined; children?: ComponentChildren }) {
  const { ctx } = props;
  return h(
    'html',
    { lang: 'en' },
    h(
      'head',
      null,
      h('meta', { charset: 'utf-8' }),
      h('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }),
      h('meta', { name: 'robots', content: 'noindex' }),
      props.refreshSeconds === undefined ? null : h('meta', { 'http-equiv': 'refresh', content: String(props.refreshSeconds) }),
      h('title', null, `${props.title} · ${ctx.title}`),
      h('link', { rel: 'stylesheet', href: ctx.stylesheet.href, integrity: ctx.stylesheet.integrity }),
    ),
    h(
      'body',
      null,
      h(
        'header',
        { class: 'top' },
        h('a', { class: 'brand', href: href(ctx, '/') }, ctx.title),
        h(
          'nav',
          null,
          NAV.map((item) => h('a', { href: href(ctx, item.path), class: item.section === props.section ? 'here' : undefined }, item.label)),
        ),
        h(
          'span',
          { class: 'mode', title: ctx.canAct ? 'actions are checked by the authorize hook' : 'no authorize hook was given: actions are refused' },
          ctx.canAct ? 'actions enabled' : 'read-only',
        ),
      ),
      h(
        'main',
        null,
        ctx.notice === undefined ? null : h('div', { class: ctx.notice.ok ? 'notice' : 'notice refused', role: 'status' }, ctx.notice.text),
        props.children,
      ),
    ),
  );
}

/** A time in UTC, with how long ago (or how far ahead) it is. */
export function Time(props: { ctx: PageContext; at: number | undefined }) {
  if (props.at === undefined) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: new Date(props.at).toISOString(), title: formatTime(props.at) }, relative(props.at, props.ctx.now));
}

/** A value as indented JSON in a `<pre>`. */
export function Json(props: { value: unknown }) {
  const { text, truncated } = prettyJson(props.value);
  return h(Fragment, null, h('pre', null, text), truncated ? h('p', { class: 'hint' }, '(cut: the value is longer than a page shows)') : null);
}

/** JSON folded away behind its summary. */
export function Folded(props: { summary: string; value: unknown }) {
  return h('details', null, h('summary', null, props.summary), h(Json, { value: props.value }));
}

/** A status as a coloured badge. */
export function Badge(props: { status: string }) {
  return h('span', { class: `badge s-${props.status.replace(/[^a-z-]/g, '')}` }, props.status);
}

/** Where an action should send the browser back to: this page, without its notice. */
export function returnPath(ctx: PageContext): string {
  const params = new URLSearchParams(ctx.url.search);
  params.delete('notice');
  const query = params.toString();
  return `${ctx.url.pathname}${query === '' ? '' : `?${query}`}`;
}

/**
 * A button that POSTs to an action path with the CSRF token and the page to come back to; nothing
 * when the dashboard is read-only.
 */
export function ActionForm(props: {
  ctx: PageContext;
  action: string;
  label: string;
  danger?: boolean | undefined;
  returnTo?: string | undefined;
  children?: ComponentChildren;
}) {
  const { ctx } = props;
  if (!ctx.canAct) return null;
  return h(
    'form',
    { class: 'inline', method: 'post', action: href(ctx, props.action) },
    h('input', { type: 'hidden', name: CSRF_FIELD, value: ctx.csrf }),
    h('input', { type: 'hidden', name: 'return', value: props.returnTo ?? returnPath(ctx) }),
    props.children,
    h('button', { type: 'submit', class: props.danger === true ? 'danger' : undefined }, props.label),
  );
}

/** A cancel form: a reason is required, as `engine.cancel` records it. */
export function CancelForm(props: { ctx: PageContext; type: string; id: string; returnTo?: string | undefined }) {
  return h(
    ActionForm,
    {
      ctx: props.ctx,
      action: `/instances/${encodeURIComponent(props.type)}/${encodeURIComponent(props.id)}/cancel`,
      label: 'Cancel instance',
      danger: true,
      returnTo: props.returnTo,
    },
    h('input', { type: 'text', name: 'reason', required: true, maxLength: 500, placeholder: 'reason (required)', 'aria-label': 'cancel reason' }),
  );
}

/** A link to the next page of a cursor listing, and back to the first. */
export function Pager(props: { ctx: PageContext; next: string | undefined; first: boolean }) {
  const params = (after: string | undefined) => {
    const p = new URLSearchParams(props.ctx.url.search);
    p.delete('notice');
    if (after === undefined) p.delete('after');
    else p.set('after', after);
    const query = p.toString();
    return `${props.ctx.url.pathname}${query === '' ? '' : `?${query}`}`;
  };
  return h(
    'div',
    { class: 'pager' },
    props.first ? null : h('a', { href: params(undefined) }, '« First page'),
    props.next === undefined ? null : h('a', { href: params(props.next), rel: 'next' }, 'Next page »'),
  );
}
