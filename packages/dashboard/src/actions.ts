// The actions (POST): which one a path names, and what it does through the engine. Each answers
// with a redirect (303) back to a dashboard page carrying a notice key; the checks that come first
// (read-only, same origin, CSRF token, authorize) are in dashboard.ts. Skipping a projection's dead
// letter and resetting a projection also need the `confirm` field of their confirmation pages.
import type { WorkKind } from '@ironflow/core/store';
import { projectionHref, type PageContext } from './context.js';
import { HttpError } from './http.js';
import type { NoticeKey } from './notices.js';

/** An operator action, as `authorize` is asked about it. */
export type DashboardAction =
  | { readonly type: 'cancel'; readonly workflowType: string; readonly workflowId: string; readonly reason: string }
  | { readonly type: 'pause' | 'resume'; readonly workflowType: string; readonly workflowId: string }
  | { readonly type: 'pause-type' | 'resume-type'; readonly workflowType: string }
  | { readonly type: 'redrive'; readonly kind: WorkKind; readonly id: string }
  | { readonly type: 'projection-redrive' | 'projection-skip'; readonly projection: string; readonly id: string }
  | { readonly type: 'projection-reset'; readonly projection: string; readonly position?: string | undefined; readonly keepDeadLetters: boolean };

/** Longest cancel reason accepted. */
export const MAX_REASON = 500;

/** The value of the `confirm` field that the confirmation pages of skip and reset send. */
export const CONFIRMED = 'yes';

/** An action's path, matched: what it needs from the form is read later, once the request is trusted. */
export type ActionRoute =
  | Exclude<DashboardAction, { type: 'cancel' | 'projection-reset' }>
  | { readonly type: 'cancel'; readonly workflowType: string; readonly workflowId: string }
  | { readonly type: 'projection-reset'; readonly projection: string };

/** The action a POST path names (segments decoded, under the base path). */
export function actionRoute(segments: readonly string[]): ActionRoute {
  const [first, a, b, c, d, ...rest] = segments;
  const end = rest.length === 0;
  if (first === 'instances' && a !== undefined && b !== undefined && (c === 'cancel' || c === 'pause' || c === 'resume') && d === undefined) {
    return c === 'cancel' ? { type: c, workflowType: a, workflowId: b } : { type: c, workflowType: a, workflowId: b };
  }
  if (first === 'types' && a !== undefined && (b === 'pause' || b === 'resume') && c === undefined) return { type: b === 'pause' ? 'pause-type' : 'resume-type', workflowType: a };
  if (first === 'dead-letters' && (a === 'effect' || a === 'timer') && b !== undefined && c === 'redrive' && d === undefined) return { type: 'redrive', kind: a, id: b };
  if (first === 'projections' && a !== undefined && b === 'reset' && c === undefined) return { type: 'projection-reset', projection: a };
  if (first === 'projections' && a !== undefined && b === 'dead-letters' && c !== undefined && (d === 'redrive' || d === 'skip') && end) {
    return { type: d === 'redrive' ? 'projection-redrive' : 'projection-skip', projection: a, id: c };
  }
  throw new HttpError(404, 'There is no such action in the dashboard.');
}

/** Refuses a skip or reset that did not come from its confirmation page. */
function confirmed(form: URLSearchParams, what: string): void {
  if (form.get('confirm') !== CONFIRMED) throw new HttpError(400, `${what} needs its confirmation: use the button on the confirmation page, which says what it will do. Nothing was changed.`);
}

/** The action with what its form adds (the cancel reason, the reset's position), checked. */
export function actionOf(route: ActionRoute, form: URLSearchParams): DashboardAction {
  switch (route.type) {
    case 'cancel': {
      const reason = (form.get('reason') ?? '').trim();
      if (reason === '') throw new HttpError(400, 'Cancelling needs a reason: it is recorded with the instance.');
      if (reason.length > MAX_REASON) throw new HttpError(400, `The reason is longer than ${MAX_REASON} characters.`);
      return { ...route, reason };
    }
    case 'projection-skip':
      confirmed(form, 'Skipping a dead letter');
      return route;
    case 'projection-reset': {
      confirmed(form, 'Resetting a projection');
      // The store decodes the position: text it did not write is refused with INVALID_ARGUMENT (a 400 page).
      const position = (form.get('position') ?? '').trim();
      return { ...route, ...(position === '' ? {} : { position }), keepDeadLetters: form.get('keep') === CONFIRMED };
    }
    default:
      return route;
  }
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
    case 'projection-redrive':
    case 'projection-skip':
    case 'projection-reset':
      return projectionHref(ctx, action.projection);
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
    case 'projection-redrive':
      return (await engine.projections.deadLetters.redrive(action.projection, action.id)) ? 'projection-redriven' : 'not-parked';
    case 'projection-skip':
      return (await engine.projections.deadLetters.skip(action.projection, action.id)) ? 'skipped' : 'no-dead-letter';
    case 'projection-reset':
      // A reset of a name the store does not know would create it: refuse instead.
      if ((await engine.projections.get(action.projection)) === undefined) throw new HttpError(404, `There is no projection ${action.projection}.`);
      await engine.projections.reset(action.projection, { position: action.position, keepDeadLetters: action.keepDeadLetters });
      return 'projection-reset';
  }
}
