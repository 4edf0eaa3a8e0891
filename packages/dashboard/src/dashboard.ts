// createDashboard: a standard fetch handler (Request → Response) that serves the pages under a base
// path, and guards every action: refused without an authorize hook, refused from another site,
// refused without the page's CSRF token, refused unless authorize says yes.
import { isIronflowError, type AnyWorkflow } from '@ironflow/core';
import { invalidArgument } from '@ironflow/core/store';
import type { Engine, Registration } from '@ironflow/runtime';
import type { JSX } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { actionOf, actionRoute, defaultReturn, perform, type DashboardAction } from './actions.js';
import type { DashboardSettings, PageContext } from './context.js';
import { HttpError, readForm, safeReturn, withParam } from './http.js';
import { noticeOf } from './notices.js';
import { errorPage } from './pages/error.js';
import { readRoute } from './read-routes.js';
import { CSRF_FIELD, crossSiteReason, csrfMatches, csrfSession, securityHeaders } from './security.js';
import { STYLESHEET } from './stylesheet.js';
import { ThroughputTracker } from './throughput.js';

/** Options of `createDashboard`. */
export interface DashboardOptions {
  /** The engine whose store the dashboard shows; only its public API is used, so any store works. */
  engine: Engine;
  /**
   * The path the dashboard is mounted at, such as `/ironflow`; every page and action is under it.
   * @default '' (the root)
   */
  basePath?: string | undefined;
  /**
   * Decides whether a request may perform an action (re-drive, cancel, pause, resume, and a
   * projection's re-drive, skip and reset). Without it the dashboard is read-only: every action is
   * refused with 403. It runs after the same-origin and CSRF checks; look at the request's session
   * or headers as your app does.
   */
  authorize?: ((request: Request, action: DashboardAction) => boolean | Promise<boolean>) | undefined;
  /**
   * Workflow definitions (or the registrations given to `createEngine`), so instance pages can show
   * the state folded from the events.
   */
  workflows?: readonly (AnyWorkflow | Registration)[] | undefined;
  /**
   * The heading of every page.
   * @default 'Ironflow'
   */
  title?: string | undefined;
  /**
   * Told of failures the pages answer with 500 or 503 (the page itself shows no details).
   * @default logs to console.error
   */
  onError?: ((error: unknown, request: Request) => void) | undefined;
}

/** A fetch handler serving the dashboard; `basePath` is where it is mounted. */
export interface Dashboard {
  (request: Request): Promise<Response>;
  /** `''` at the root, else the base path without a trailing slash. */
  readonly basePath: string;
}

/** The base path: empty, or `/segments` without a trailing slash. */
function normaliseBase(basePath: string | undefined): string {
  if (basePath === undefined || basePath === '' || basePath === '/') return '';
  if (typeof basePath !== 'string' || !basePath.startsWith('/') || /[?#\\\s]|\/\//.test(basePath)) {
    throw invalidArgument(`basePath must be a path such as '/ironflow', got ${JSON.stringify(basePath)}`);
  }
  return basePath.replace(/\/+$/, '');
}

function workflowMap(items: DashboardOptions['workflows']): Map<string, AnyWorkflow> {
  const map = new Map<string, AnyWorkflow>();
  for (const item of items ?? []) {
    const workflow = 'evolve' in item ? item : item.workflow;
    if (typeof workflow?.type !== 'string' || typeof workflow.evolve !== 'function') throw invalidArgument('workflows must be workflow definitions or registrations');
    map.set(workflow.type, workflow);
  }
  return map;
}

/** The path segments under the base path, decoded; undefined when the path is outside it. */
function segmentsOf(pathname: string, base: string): string[] | undefined {
  if (pathname !== base && !pathname.startsWith(`${base}/`)) return undefined;
  const raw = pathname.slice(base.length).split('/').slice(1);
  if (raw.at(-1) === '') raw.pop();
  try {
    return raw.map((segment) => decodeURIComponent(segment));
  } catch {
    throw new HttpError(400, 'The path is not valid percent-encoding.');
  }
}

const html = (vnode: JSX.Element, status: number): Response =>
  new Response(`<!doctype html>${renderToString(vnode)}`, { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } });

/**
 * Creates the dashboard's request handler. Mount it with `toNodeHandler` (node:http, Express,
 * Fastify) or hand it requests directly (Hono, any fetch server).
 * @example
 * const dashboard = createDashboard({ engine, basePath: '/ironflow', authorize: (request) => isAdmin(request) });
 * createServer(toNodeHandler(dashboard)).listen(3000);
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  if (typeof options !== 'object' || options === null || typeof options.engine?.pageInstances !== 'function') {
    throw invalidArgument('createDashboard needs { engine }: an engine made by createEngine');
  }
  if (options.authorize !== undefined && typeof options.authorize !== 'function') throw invalidArgument('authorize must be a function (request, action) => boolean');
  const base = normaliseBase(options.basePath);
  const authorize = options.authorize;
  const onError = options.onError ?? ((error: unknown) => console.error('ironflow dashboard:', error));
  const settings: DashboardSettings = {
    engine: options.engine,
    base,
    canAct: authorize !== undefined,
    workflows: workflowMap(options.workflows),
    title: options.title ?? 'Ironflow',
    throughput: new ThroughputTracker(),
    stylesheet: { href: `${base}/assets/${STYLESHEET.name}`, integrity: STYLESHEET.integrity },
  };

  /** Runs an action after every check; the checks' refusals are 403 pages. */
  async function act(ctx: PageContext, request: Request, segments: readonly string[]): Promise<Response> {
    const route = actionRoute(segments);
    if (authorize === undefined) {
      throw new HttpError(403, 'This dashboard is read-only: actions need an authorize hook (createDashboard({ authorize })).');
    }
    const crossSite = crossSiteReason(request, ctx.url);
    if (crossSite !== undefined) throw new HttpError(403, `Refused: ${crossSite}. Actions are only taken from the dashboard's own pages.`);
    const form = await readForm(request);
    if (!csrfMatches(request, ctx.url, form.get(CSRF_FIELD) ?? undefined)) {
      throw new HttpError(403, "Refused: the form's CSRF token is missing or does not match this browser's. Reload the page and try again.");
    }
    const action = actionOf(route, form);
    let allowed: boolean;
    try {
      allowed = (await authorize(request, action)) === true;
    } catch (error) {
      onError(error, request);
      allowed = false;
    }
    if (!allowed) throw new HttpError(403, 'Refused: you are not authorized to do this (the authorize hook said no).');
    const notice = await perform(ctx, action);
    const target = safeReturn(form.get('return'), base, defaultReturn(ctx, action));
    return new Response(null, { status: 303, headers: { location: withParam(target, 'notice', notice), 'cache-control': 'no-store' } });
  }

  /** The error page of a failure; details of unexpected ones go to onError only. */
  function failure(ctx: PageContext, request: Request, error: unknown): Response {
    if (error instanceof HttpError) return html(errorPage(ctx, error.status, error.message), error.status);
    if (isIronflowError(error, 'INVALID_ARGUMENT') || isIronflowError(error, 'UNKNOWN_WORKFLOW_TYPE')) {
      return html(errorPage(ctx, 400, error.message), 400);
    }
    onError(error, request);
    if (isIronflowError(error, 'STORE_FAILURE')) {
      return html(errorPage(ctx, 503, 'The store did not answer. Try again in a moment; the details are in the server log.'), 503);
    }
    return html(errorPage(ctx, 500, 'The dashboard failed to answer this request; the details are in the server log.'), 500);
  }

  const dashboard = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const session = csrfSession(request, url, base);
    const ctx: PageContext = { ...settings, url, csrf: session.token, now: Date.now(), notice: noticeOf(url.searchParams.get('notice')) };
    let response: Response;
    try {
      const segments = segmentsOf(url.pathname, base);
      if (segments === undefined) throw new HttpError(404, `The dashboard is mounted at ${base}/.`);
      const method = request.method.toUpperCase();
      if (segments[0] === 'assets') {
        if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'Assets are only read.');
        if (segments.length !== 2 || segments[1] !== STYLESHEET.name) throw new HttpError(404, 'There is no such asset.');
        response = new Response(STYLESHEET.body, { headers: { 'content-type': STYLESHEET.type, 'cache-control': 'public, max-age=31536000, immutable' } });
      } else if (method === 'GET' || method === 'HEAD') {
        response = html(await readRoute(ctx, segments), 200);
      } else if (method === 'POST') {
        response = await act(ctx, request, segments);
      } else {
        throw new HttpError(405, 'The dashboard answers GET and POST only.');
      }
    } catch (error) {
      response = failure(ctx, request, error);
    }
    const headers = new Headers(response.headers);
    for (const [name, value] of Object.entries(securityHeaders())) headers.set(name, value);
    if (response.status === 405) headers.set('allow', 'GET, HEAD, POST');
    if (session.setCookie !== undefined) headers.append('set-cookie', session.setCookie);
    const body = request.method.toUpperCase() === 'HEAD' ? null : response.body;
    return new Response(body, { status: response.status, headers });
  };
  return Object.assign(dashboard, { basePath: base });
}
