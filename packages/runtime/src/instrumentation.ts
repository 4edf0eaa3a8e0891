// The seam for tracing and metrics adapters (`@ironflow/otel`), with no telemetry dependency here:
// a tracer wraps each execute and each claimed item's processing, and hands the runtime the trace
// carrier to store with the work a decision writes; an adapter attached to the engine reads its
// lifecycle events and backlog gauges.
import type { CommitAttempt, ExecuteResult } from '@ironflow/core/engine';
import type { TraceCarrier, WorkKind } from '@ironflow/core/store';
import type { LifecycleEvent } from './lifecycle.js';
import type { CounterPoint, GaugePoint } from './metrics.js';

/** What a tracer is told when an execute starts. */
export interface ExecuteStart {
  readonly workflowType: string;
  /** The input's kind (`inputType`, else its `type` field, else `input`). */
  readonly inputType: string;
  /** The effect or timer whose result or input this is (a routed result, a timer, a child's start). */
  readonly causedBy?: { readonly kind: WorkKind; readonly id: string } | undefined;
}

/** What the runtime takes from, and reports to, a tracer during one execute. */
export interface ExecuteScope {
  /**
   * Stored with every effect and timer the decision writes, so that the work continues this
   * execute's trace in whatever process runs it; undefined stores nothing.
   */
  readonly carrier: TraceCarrier | undefined;
  /** Told of each store commit the execute makes (duration, and applied, conflict, …). */
  readonly commit?: ((attempt: CommitAttempt) => void) | undefined;
}

/** What a tracer is told when a claimed effect or timer starts being processed. */
export interface WorkStart {
  readonly kind: WorkKind;
  readonly id: string;
  readonly workflowType: string;
  readonly workflowId: string;
  /** Claims so far, this one included. */
  readonly attempt: number;
  /** Claimed after its previous holder's lease expired unsettled. */
  readonly recovered: boolean;
  /** The carrier stored with it by the execute that wrote it, if that execute was traced. */
  readonly trace?: TraceCarrier | undefined;
}

/**
 * Wraps the engine's units of work; `@ironflow/otel` implements it with OpenTelemetry spans.
 * Implementations must call `run` exactly once and return (or throw) what it returns (or throws).
 */
export interface EngineTracer {
  /**
   * One execute: validation, load, decide and commit with its conflict retries. Routed results,
   * timer inputs and child starts run inside the `work` of the item they came from.
   */
  execute(start: ExecuteStart, run: (scope: ExecuteScope) => Promise<ExecuteResult>): Promise<ExecuteResult>;
  /**
   * Processing one claimed effect or timer to its outcome: handler, routing of its result, and
   * settlement. The lifecycle events naming the item (`effect.succeeded`, `effect.retried`,
   * `timer.fired`, `lease.lost`, …, by kind and id) are emitted before `run` settles.
   */
  work(start: WorkStart, run: () => Promise<void>): Promise<void>;
}

/** What an instrumentation sees of the engine it is attached to. */
export interface InstrumentedEngine {
  readonly workerId: string;
  /** Every lifecycle event of this engine; returns an unsubscribe. */
  on(type: '*', listener: (event: LifecycleEvent) => void): () => void;
  /**
   * The counters of `engine.metrics()` so far (cumulative, kept by the engine whether or not it is
   * instrumented), so an adapter can report them as observable counters at collection time
   * instead of adding to its own on every event.
   */
  counters(): CounterPoint[];
  /** The gauges of `engine.metrics()`: the backlog read from the store now, and the lag of the projections it holds. */
  gauges(): Promise<GaugePoint[]>;
}

/** A tracing and metrics adapter given to `createEngine({ instrumentation })`. */
export interface Instrumentation {
  /** Wraps executes and work in spans; without it nothing is traced and no carrier is stored. */
  readonly tracer?: EngineTracer | undefined;
  /** Called once, when the engine is created (metrics adapters subscribe here). */
  attach?(engine: InstrumentedEngine): void;
}
