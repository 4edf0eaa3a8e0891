// Logging and lifecycle events: a pino-compatible logger port and typed events that metrics and
// tracing adapters subscribe to without touching the runtime's internals.
import type { WorkKind } from '@ironflow/core/store';

/** The part of a pino logger the runtime uses; `pino()` itself fits, and so does `console`-like code. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Writes warnings and errors to the console as one JSON line each; the default logger. */
export const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn: (obj, msg) => console.warn(JSON.stringify({ level: 'warn', msg, ...serialise(obj) })),
  error: (obj, msg) => console.error(JSON.stringify({ level: 'error', msg, ...serialise(obj) })),
};

function serialise(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = v instanceof Error ? serialiseError(v, 0) : v;
  return out;
}

/** An error as JSON keeps its stack and its chain of causes (a few deep), as pino's serializer does. */
export function serialiseError(error: Error, depth: number): Record<string, unknown> {
  const code = (error as { code?: unknown }).code;
  const details = (error as { details?: unknown }).details;
  const cause: unknown = (error as { cause?: unknown }).cause;
  return {
    name: error.name,
    message: error.message,
    ...(code === undefined ? {} : { code }),
    ...(details === undefined || (typeof details === 'object' && details !== null && Object.keys(details).length === 0) ? {} : { details }),
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(cause === undefined ? {} : { cause: depth >= 4 ? String(cause) : cause instanceof Error ? serialiseError(cause, depth + 1) : cause }),
  };
}

interface WorkRef {
  readonly id: string;
  readonly workflowType: string;
  readonly workflowId: string;
}

/** Everything the runtime reports, keyed by `type`. */
export type LifecycleEvent =
  | {
      type: 'decision.committed';
      workflowType: string;
      workflowId: string;
      inputType: string;
      version: number;
      /** Types of the events appended, in order. */
      eventTypes: string[];
      effects: number;
      timers: number;
      completed: boolean;
      /** The effect or timer whose result this input was. */
      causedBy?: { kind: WorkKind; id: string } | undefined;
      /** The whole execute (load, decide, commit, conflict retries), in ms of real time. */
      durationMs: number;
      /** The store commit that was applied, in ms of real time (a group commit's wait included). */
      commitMs: number;
      /** Version conflicts retried before this commit. */
      conflicts: number;
    }
  | { type: 'decision.rejected'; workflowType: string; workflowId: string; inputType: string; reason: unknown; durationMs: number; conflicts: number }
  /** An input that changed nothing: a repeated idempotency key, or an instance already completed or cancelled. */
  | { type: 'decision.unchanged'; workflowType: string; workflowId: string; inputType: string; status: 'duplicate' | 'already-completed' | 'cancelled'; durationMs: number }
  /** An execute that threw (bad input, decide threw, retries exhausted, store down): nothing was written. */
  | { type: 'decision.failed'; workflowType: string; inputType: string; code: string; error: string; durationMs: number; conflicts: number }
  | ({
      type: 'effect.started';
      attempt: number;
      /** From when it became claimable (created, or its retry time) to its handler's start, in ms of the engine's clock. */
      pickupMs: number;
    } & WorkRef)
  | ({
      type: 'effect.succeeded';
      attempt: number;
      durationMs: number;
      routedTo?: string | undefined;
      /** What became of the routed input: `accepted`, `rejected`, `already-completed`, `duplicate`; absent when nothing was routed. */
      outcome?: string | undefined;
    } & WorkRef)
  /** `errorType`: the error's code when it is an IronflowError, else its class name (`_OTHER` when not an Error). */
  | ({
      type: 'effect.retried';
      attempt: number;
      error: string;
      errorType: string;
      retryAt: number;
      /** How long its handler ran, on the engine's clock; absent when it failed before its handler started. */
      durationMs?: number | undefined;
    } & WorkRef)
  /**
   * A claimed effect was cancelled (its instance cancelled, `cancelEffects`, or the terminal policy):
   * its handler was aborted or its result dropped. Expected, not a failure.
   */
  | ({ type: 'effect.cancelled'; attempt: number; reason: string } & WorkRef)
  | ({ type: 'effect.dead-lettered'; attempt: number; error: string; errorType: string; durationMs?: number | undefined } & WorkRef)
  /** Claimed after a lease expired unsettled (its worker died or stalled): it runs alone in this process. */
  | ({ type: 'effect.recovered'; attempt: number } & WorkRef)
  /**
   * Given back unprocessed, for a process running newer code: this one cannot understand it (a
   * newer version wrote it, its payload fails `effectSchema`, its instance has events of a newer
   * schema). `releases`: its count now, across processes; claimable again at `availableAt`.
   */
  | ({ type: 'effect.released'; reason: string; releases: number; availableAt: number } & WorkRef)
  | ({ type: 'timer.fired'; attempt: number; outcome: string } & WorkRef)
  /** As `effect.released`, for a timer (its input fails the workflow's `schema`, a newer version wrote it, …). */
  | ({ type: 'timer.released'; reason: string; releases: number; availableAt: number } & WorkRef)
  | ({ type: 'timer.retried'; attempt: number; error: string; errorType: string; retryAt: number; /** Never set for timers. */ durationMs?: number | undefined } & WorkRef)
  | ({ type: 'timer.dead-lettered'; attempt: number; error: string; errorType: string; /** Never set for timers. */ durationMs?: number | undefined } & WorkRef)
  /** A claimed timer was cancelled while being delivered; its input was dropped. */
  | ({ type: 'timer.cancelled'; attempt: number; reason: string } & WorkRef)
  /** Claimed after a lease expired unsettled: it is delivered alone in this process. */
  | ({ type: 'timer.recovered'; attempt: number } & WorkRef)
  | { type: 'lease.lost'; kind: WorkKind; id: string }
  /** A retention sweep deleted an ended instance and all it owned (after archiving it, when `archived`). */
  | { type: 'instance.deleted'; workflowType: string; workflowId: string; status: 'completed' | 'cancelled'; version: number; archived: boolean }
  /** One retention sweep ended: instances deleted and archived, skipped by outcome, failed (kept), in ms of real time. */
  | {
      type: 'retention.swept';
      deleted: number;
      archived: number;
      skipped: { missing: number; changed: number; active: number; busy: number };
      failed: number;
      durationMs: number;
    }
  /** `engine.cancel` cancelled an instance, with this many live effects and timers. */
  | { type: 'instance.cancelled'; workflowType: string; workflowId: string; reason: string; effects: number; timers: number }
  /** A child's ending (completed, cancelled, failed) was decided by its parent's `onChild`. */
  | { type: 'child.reported'; parentType: string; parentId: string; childType: string; childId: string; outcome: 'completed' | 'cancelled' | 'failed' }
  | { type: 'worker.restarted'; pool: WorkKind; error: string; delayMs: number; failures: number }
  /** This engine took a projection's lease (`token` fences its writes) and resumes after `position`. */
  | { type: 'projection.claimed'; projection: string; token: number; position?: string | undefined }
  /** A batch was handled and its checkpoint saved: `events` handled (parked ones aside), in ms of real time. */
  | { type: 'projection.batch'; projection: string; events: number; durationMs: number; position?: string | undefined }
  /**
   * One try of a batch or of one event failed; `next` says what follows: another try after backoff,
   * each event of the batch alone, or parking the event. `event` names the event when the try was
   * of one.
   */
  | {
      type: 'projection.failed';
      projection: string;
      attempt: number;
      events: number;
      error: string;
      errorType: string;
      next: 'retry' | 'split' | 'park';
      event?: { workflowType: string; workflowId: string; sequence: number } | undefined;
    }
  /** An event failed every try and was parked as a dead letter `id`; the projection went on past it. */
  | { type: 'projection.parked'; projection: string; id: string; workflowType: string; workflowId: string; sequence: number; eventType: string; attempts: number; error: string }
  /** A write or renewal found the lease taken over (or the projection reset): the batch in hand was dropped. */
  | { type: 'projection.lost'; projection: string; token: number; error: string }
  /**
   * The lease was given up, so another engine may take the projection at once: by `stop()`, or
   * (with `reason`) because the next event has a schema version newer than this code knows — a
   * process running newer code takes it over; this one waits before claiming it again.
   */
  | { type: 'projection.released'; projection: string; token: number; position?: string | undefined; reason?: string | undefined }
  /** The holder's lag: events after its checkpoint (up to 10 000, `capped` beyond) and the oldest one's age. */
  | { type: 'projection.lag'; projection: string; events: number; capped: boolean; ageMs?: number | undefined };

/** The `type` strings of lifecycle events. */
export type LifecycleEventType = LifecycleEvent['type'];

/** A listener for one kind of lifecycle event. */
export type LifecycleListener<T extends LifecycleEventType> = (event: Extract<LifecycleEvent, { type: T }>) => void;

/** Fan-out of lifecycle events; a throwing listener is logged, never breaks the runtime. */
export class LifecycleEmitter {
  readonly #listeners = new Map<string, Set<(event: LifecycleEvent) => void>>();

  constructor(private readonly logger: Logger) {}

  /** Subscribes to events of one type, or `'*'` for all; returns an unsubscribe. */
  on<T extends LifecycleEventType>(type: T, listener: LifecycleListener<T>): () => void;
  on(type: '*', listener: (event: LifecycleEvent) => void): () => void;
  on(type: LifecycleEventType | '*', listener: (event: never) => void): () => void {
    const set = this.#listeners.get(type) ?? new Set();
    // Listeners are stored by type and only ever called with events of that type (see emit).
    const fn = listener as (event: LifecycleEvent) => void;
    set.add(fn);
    this.#listeners.set(type, set);
    return () => set.delete(fn);
  }

  emit(event: LifecycleEvent): void {
    for (const key of [event.type, '*']) {
      const set = this.#listeners.get(key);
      if (!set) continue;
      for (const listener of set) {
        try {
          listener(event);
        } catch (error) {
          this.logger.error({ err: error, event: event.type }, 'lifecycle listener threw');
        }
      }
    }
  }
}
