// What every page and action is given: the engine, the options as resolved, and the request's own
// facts (its URL, CSRF token, the notice of the action that redirected to it).
import type { AnyWorkflow } from '@ironflow/core';
import type { Engine } from '@ironflow/runtime';
import type { Notice } from './notices.js';
import type { ThroughputTracker } from './throughput.js';

/** The dashboard's settings, resolved once. */
export interface DashboardSettings {
  readonly engine: Engine;
  /** `''` at the root, else `/path` without a trailing slash. */
  readonly base: string;
  /** True when an `authorize` hook was given: forms are shown, actions are possible. */
  readonly canAct: boolean;
  readonly workflows: ReadonlyMap<string, AnyWorkflow>;
  readonly title: string;
  readonly throughput: ThroughputTracker;
  /** The stylesheet's path and integrity. */
  readonly stylesheet: { readonly href: string; readonly integrity: string };
}

/** One request's view of the dashboard. */
export interface PageContext extends DashboardSettings {
  readonly url: URL;
  readonly csrf: string;
  readonly now: number;
  readonly notice?: Notice | undefined;
}

/** The path of a dashboard page: `path` starts with `/`. */
export const href = (ctx: Pick<DashboardSettings, 'base'>, path: string): string => `${ctx.base}${path}`;

/** The path of an instance page. */
export const instanceHref = (ctx: Pick<DashboardSettings, 'base'>, type: string, id: string): string =>
  href(ctx, `/instances/${encodeURIComponent(type)}/${encodeURIComponent(id)}`);

/** The path of a projection's page. */
export const projectionHref = (ctx: Pick<DashboardSettings, 'base'>, name: string): string => href(ctx, `/projections/${encodeURIComponent(name)}`);
