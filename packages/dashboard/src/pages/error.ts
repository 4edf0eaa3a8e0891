// The page of a refused or failed request: the status and a message written for the operator,
// never a stack trace.
import { h } from 'preact';
import type { JSX } from 'preact';
import type { PageContext } from '../context.js';
import { Layout } from './components.js';

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad request',
  403: 'Refused',
  404: 'Not found',
  405: 'Method not allowed',
  413: 'Too large',
  415: 'Unsupported form',
  500: 'Something went wrong',
  503: 'The store did not answer',
};

/** The page of a refused or failed request. */
export function ErrorPage(props: { ctx: PageContext; status: number; message: string }) {
  const title = TITLES[props.status] ?? 'Error';
  return h(Layout, { ctx: props.ctx, section: 'none', title }, h('h1', null, `${props.status} ${title}`), h('p', { id: 'error-message' }, props.message));
}

/** The error page as an element. */
export const errorPage = (ctx: PageContext, status: number, message: string): JSX.Element => h(ErrorPage, { ctx, status, message });
