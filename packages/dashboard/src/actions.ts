// The actions (POST): which one a path names, and what it does through the engine. Each answers
// with a redirect (303) back to a dashboard page carrying a notice key; the checks that come first
// (read-only, same origin, CSRF token, authorize) are in dashboard.ts.
import type { WorkKind } from '@ironflow/core/store';
import type { PageContext } from './context.js';
import { HttpError } from './http.js';
import type { NoticeKey } from './notices.js';

/** An operator action, as `authorize` is asked about it. */
export type DashboardAction =
  | { readonly type: 'cancel'; readonly workflowType: string; readonly workflowId: string; readonly reason: string }
  | { readonly type: 'pause' | 'resume'; readonly workflowType: string; readonly workflowId: string }
  | { readonly type: 'pause-type' | 'resume-type'; readonly workflowType: string }
  | { readonly type: 'redrive'; readonly kind: WorkKind; readonly id: string };

/** Longest cancel reason accepted. */
export const MAX_REASON = 500;

/** An action's path, matched: what it needs from the form is read later, once the request is trusted. */
export type ActionRoute = Exclude<DashboardAction, { type: 'cancel' }> | { readonly type: 'cancel'; readonly workflowType: string; readonly workflowId: string };

/** The action a POST path names (segments decoded, under the base path). */
export function actionRoute(segments: readonly string[]): ActionRoute {
  const [first, a, b, c, ...rest] = segments;
  if (first === 'instances' && a !== undefined && b !== undefined && (c === 'cancel' || c === 'pause' || c === 'resume') && rest.length === 0) {
    return c === 'cancel' ? { type: c, workflowType: a, workflowId: b } : { type: c, workflowType: a, workflowId: b };
  }
  if (first === 'types' && a !== undefined && (b === 'pause' || b === 'resume') && c === undefined) return { type: b === 'pause' ? 'pause-type' : 'resume-type', workflowType: a };
  if (first === 'dead-letters' && (a === 'effect' || a === 'timer') && b !== undefined && c === 'redrive' && rest.length === 0) return { type: 'redrive', kind: a, id: b };
  throw new HttpError(404, 'There is no such action in the dashboard.');
}

/** The action with what its form adds (the cancel reason), checked. */
export function actionOf(route: ActionRoute, form: URLSearchParams): DashboardAction {
  if (route.type !== 'cancel') return route;
  const reason = (form.get('reason') ?? '').trim();
  if (reason === '') throw new HttpError(400, 'Cancelling needs a reason: it is recorded with the instance.');
  if (reason.length > MAX_REASON) throw new HttpError(400, `The reason is longer than ${MAX_REASON} characters.`);
  return { ...route, reason };
}

/** Where an action returns to when its form names no page. */
export function defaultReturn(ctx: PageContext, action: DashboardAction): string {
  switch (action.type) {
    case 'cancel':
    case 'pause':
    case 'resume':
      return `${ctx.base}/instances/${encodeURIComponent(action.workflowType)}/${encodeURIComponent(action.workflowId)}`;
    case 'pause-type':
    case 'resume-type':
      return `${ctx.base}/paused`;
    case 'redrive':
      return `${ctx.base}/dead-letters?kind=${action.kind}`;
  }
}

/** Does the action; returns the notice to show. */
export async function perform(ctx: PageContext, action: DashboardAction): Promise<NoticeKey> {
  const { engine } = ctx;
  switch (action.type) {
    case 'cancel': {
      const result = await engine.cancel({ type: action.workflowType, id: action.workflowId }, action.reason);
      return result.outcome;
    }
    case 'pause':
      return (await engine.pause({ type: action.workflowType, id: action.workflowId })) ? 'paused' : 'already-paused';
    case 'resume':
      return (await engine.resume({ type: action.workflowType, id: action.workflowId })) ? 'resumed' : 'not-paused';
    case 'pause-type':
      return (await engine.pauseType(action.workflowType)) ? 'paused' : 'already-paused';
    case 'resume-type':
      return (await engine.resumeType(action.workflowType)) ? 'resumed' : 'not-paused';
    case 'redrive':
      return (await engine.deadLetters.redrive(action.kind, action.id)) ? 'redriven' : 'not-dead';
  }
}
