// The EngineTracer of `openTelemetry()`: an execute is a PRODUCER span in the caller's context whose
// carrier is stored with the work it writes; a claimed effect or timer is a CONSUMER span whose
// parent is that carrier, so the work continues the execute's trace in whatever process runs it.
// A work span learns its outcome from the engine's lifecycle events, which name the item.
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import type { ExecuteResult } from '@ironflow/core/engine';
import { errorTypeOf, OTHER_ERROR, type EngineTracer, type ExecuteScope, type ExecuteStart, type LifecycleEvent, type WorkStart } from '@ironflow/runtime';
import { COMMIT_EVENT, SPAN_ATTRIBUTES as A } from './attributes.js';
import { extractCarrier, injectCarrier, type CarrierPropagator } from './carrier.js';

const SYSTEM = 'ironflow';

/** Spans for executes and claimed work, with the in-flight work spans of every engine it serves. */
export class SpanTracer implements EngineTracer {
  // One map for every engine this tracer serves, keyed by kind and id: `work` needs no engine, and
  // every engine's lifecycle listener finds the span of an item whichever engine runs it.
  readonly #inFlight = new Map<string, Span>();

  constructor(
    private readonly tracer: Tracer,
    private readonly propagator: CarrierPropagator,
  ) {}

  async execute(start: ExecuteStart, run: (scope: ExecuteScope) => Promise<ExecuteResult>): Promise<ExecuteResult> {
    const active = context.active();
    const span = this.tracer.startSpan(
      `execute ${start.workflowType}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          [A.messagingSystem]: SYSTEM,
          [A.operationType]: 'send',
          [A.operationName]: 'execute',
          [A.destination]: start.workflowType,
          [A.workflowType]: start.workflowType,
          [A.inputType]: start.inputType,
        },
      },
      active,
    );
    const traced = trace.setSpan(active, span);
    let conflicts = 0;
    let commitSeconds: number | undefined;
    const scope: ExecuteScope = {
      carrier: injectCarrier(this.propagator, traced),
      // The applied commit is an attribute; only commits that were not applied (a conflict, a
      // missed speculation, a failure) are events, so the common execute records none.
      commit: (attempt) => {
        if (attempt.outcome === 'applied') {
          commitSeconds = attempt.durationMs / 1000;
          return;
        }
        if (attempt.outcome === 'conflict') conflicts += 1;
        span.addEvent(COMMIT_EVENT.name, { [COMMIT_EVENT.outcome]: attempt.outcome, [COMMIT_EVENT.duration]: attempt.durationMs / 1000 });
      },
    };
    try {
      const result = await context.with(traced, () => run(scope));
      span.setAttributes(resultAttributes(result, conflicts));
      if (commitSeconds !== undefined) span.setAttribute(COMMIT_EVENT.duration, commitSeconds);
      return result;
    } catch (error) {
      span.setAttribute(A.conflicts, conflicts);
      fail(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  async work(start: WorkStart, run: () => Promise<void>): Promise<void> {
    const parent = extractCarrier(this.propagator, start.trace);
    const span = this.tracer.startSpan(
      `${start.kind} ${start.workflowType}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [A.messagingSystem]: SYSTEM,
          [A.operationType]: 'process',
          [A.operationName]: start.kind,
          [A.destination]: start.workflowType,
          [A.messageId]: start.id,
          [A.workflowType]: start.workflowType,
          [A.workflowId]: start.workflowId,
          [A.kind]: start.kind,
          [A.attempt]: start.attempt,
          [A.recovered]: start.recovered,
        },
      },
      parent,
    );
    const key = keyOf(start.kind, start.id);
    this.#inFlight.set(key, span);
    try {
      await context.with(trace.setSpan(parent, span), run);
    } catch (error) {
      fail(span, error);
      throw error;
    } finally {
      // Another engine of this process may have claimed the item since (a lease that ran out): its
      // span is in the map now, and stays.
      if (this.#inFlight.get(key) === span) this.#inFlight.delete(key);
      span.end();
    }
  }

  /** Puts an item's lifecycle event on its work span, when the item is being processed here. */
  observe(event: LifecycleEvent): void {
    const outcome = outcomeOf(event);
    if (outcome === undefined) return;
    const span = this.#inFlight.get(keyOf(outcome.kind, outcome.id));
    if (span === undefined) return;
    span.setAttributes(outcome.attributes);
    if (outcome.error !== undefined) {
      const type = outcome.errorType ?? OTHER_ERROR;
      span.setAttribute(A.errorType, type);
      span.recordException({ name: type, message: outcome.error });
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error });
    }
  }
}

const keyOf = (kind: string, id: string): string => `${kind}\u0000${id}`;

function resultAttributes(result: ExecuteResult, conflicts: number): Attributes {
  // One literal per shape (no spread): this runs for every execute.
  if (result.status !== 'accepted') return { [A.decisionOutcome]: result.status, [A.workflowId]: result.workflowId, [A.version]: result.version, [A.conflicts]: conflicts };
  return {
    [A.decisionOutcome]: result.status,
    [A.workflowId]: result.workflowId,
    [A.version]: result.version,
    [A.conflicts]: conflicts,
    [A.effects]: result.effects,
    [A.timers]: result.timers,
    [A.completed]: result.completed,
  };
}

/** Marks a span failed by a thrown error. */
function fail(span: Span, error: unknown): void {
  span.setAttribute(A.errorType, errorTypeOf(error));
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

interface WorkOutcome {
  readonly kind: 'effect' | 'timer';
  readonly id: string;
  readonly attributes: Attributes;
  /** The failure, as the event describes it; absent when the outcome is not an error. */
  readonly error?: string | undefined;
  readonly errorType?: string | undefined;
}

/** What an event says about the processing of one item, if it names one. */
function outcomeOf(event: LifecycleEvent): WorkOutcome | undefined {
  switch (event.type) {
    case 'effect.succeeded':
      return {
        kind: 'effect',
        id: event.id,
        attributes: {
          [A.attemptResult]: 'succeeded',
          ...(event.routedTo === undefined ? {} : { [A.routedTo]: event.routedTo }),
          ...(event.outcome === undefined ? {} : { [A.routedOutcome]: event.outcome }),
        },
      };
    case 'timer.fired':
      return { kind: 'timer', id: event.id, attributes: { [A.attemptResult]: 'fired', [A.routedOutcome]: event.outcome } };
    case 'effect.retried':
    case 'timer.retried':
      return {
        kind: event.type === 'effect.retried' ? 'effect' : 'timer',
        id: event.id,
        attributes: { [A.attemptResult]: 'failed', [A.retryAt]: new Date(event.retryAt).toISOString() },
        error: event.error,
        errorType: event.errorType,
      };
    case 'effect.dead-lettered':
    case 'timer.dead-lettered':
      return { kind: event.type === 'effect.dead-lettered' ? 'effect' : 'timer', id: event.id, attributes: { [A.attemptResult]: 'dead-lettered' }, error: event.error, errorType: event.errorType };
    case 'effect.cancelled':
    case 'timer.cancelled':
      return { kind: event.type === 'effect.cancelled' ? 'effect' : 'timer', id: event.id, attributes: { [A.attemptResult]: 'cancelled', [A.cancelReason]: event.reason } };
    // WorkStart.recovered already says so when the item is recovered before its span starts (the
    // runtime's order today); this keeps the attribute right if the event ever comes during `work`.
    case 'effect.recovered':
    case 'timer.recovered':
      return { kind: event.type === 'effect.recovered' ? 'effect' : 'timer', id: event.id, attributes: { [A.recovered]: true } };
    case 'lease.lost':
      return {
        kind: event.kind,
        id: event.id,
        attributes: { [A.attemptResult]: 'lease-lost' },
        error: 'lease lost: another worker may run this item again',
        errorType: 'LEASE_LOST',
      };
    default:
      return undefined;
  }
}
