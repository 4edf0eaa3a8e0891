// Span attribute names: OpenTelemetry's messaging conventions where they fit (an execute sends
// work into the store, a worker processes it), `ironflow.*` for the rest. Metric attributes are
// METRIC_ATTRIBUTES of @ironflow/runtime, and shared where the names coincide.
import { METRIC_ATTRIBUTES } from '@ironflow/runtime';

/** Every attribute name the spans of `@ironflow/otel` set. */
export const SPAN_ATTRIBUTES = {
  /** Always `ironflow`. */
  messagingSystem: 'messaging.system',
  /** `send` on execute spans, `process` on effect and timer spans. */
  operationType: 'messaging.operation.type',
  /** `execute`, `effect` or `timer`. */
  operationName: 'messaging.operation.name',
  /** The workflow type (the "queue" the work goes through). */
  destination: 'messaging.destination.name',
  /** The effect's or timer's id. */
  messageId: 'messaging.message.id',
  /** The error code of an IronflowError, else the error's name; `_OTHER` when unknown. */
  errorType: 'error.type',
  workflowType: METRIC_ATTRIBUTES.workflowType,
  workflowId: 'ironflow.workflow.id',
  inputType: 'ironflow.input.type',
  decisionOutcome: METRIC_ATTRIBUTES.decisionOutcome,
  conflicts: 'ironflow.decision.conflicts',
  effects: 'ironflow.decision.effects',
  timers: 'ironflow.decision.timers',
  version: 'ironflow.instance.version',
  completed: 'ironflow.instance.completed',
  kind: METRIC_ATTRIBUTES.kind,
  attempt: 'ironflow.attempt',
  recovered: 'ironflow.work.recovered',
  attemptResult: METRIC_ATTRIBUTES.attemptResult,
  /** The workflow type an effect's result was routed to. */
  routedTo: 'ironflow.routed.workflow_type',
  /** What became of a routed result or a timer's input: accepted, rejected, duplicate, … */
  routedOutcome: 'ironflow.routed.outcome',
  /** When a failed attempt is tried again (ISO 8601). */
  retryAt: 'ironflow.retry_at',
  /** Why a claimed item was cancelled. */
  cancelReason: 'ironflow.cancel.reason',
} as const;

/**
 * The span event an execute records for each store commit that was not applied, and its
 * attributes; the applied commit's duration is the execute span's `ironflow.commit.duration`.
 */
export const COMMIT_EVENT = {
  name: 'ironflow.commit',
  /** conflict, speculation-missed or failed. */
  outcome: 'ironflow.commit.outcome',
  /** Seconds the store took. */
  duration: 'ironflow.commit.duration',
} as const;
