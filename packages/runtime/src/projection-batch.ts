// What a projection's holder does with the feed: reads a page after its checkpoint, hands it to the
// handler (upcast), and saves the checkpoint once per batch; a failing batch is tried again with
// backoff, then split into single events, and an event that keeps failing is parked as a dead
// letter in the save that moves past it. Re-driven dead letters are tried again here too. An event
// of a schema newer than this code knows stops the page before it (see NewerEvents).
import { IronflowError, isIronflowError, type AnyWorkflow, type Clock } from '@ironflow/core';
import { backoffDelay, schemaVersionOf, upcastEvent } from '@ironflow/core/engine';
import type { FeedEvent, FeedPage, FeedPosition, NewProjectionDeadLetter, ProjectionDeadLetter, ProjectionLease, ProjectionSave, WorkflowStore } from '@ironflow/core/store';
import { Cancellation } from './cancellation.js';
import { uuidv7 } from './ids.js';
import type { LifecycleEmitter, Logger } from './lifecycle.js';
import type { ProjectedEvent } from './projection.js';
import type { ResolvedProjection } from './projection-settings.js';
import { describeError, errorTypeOf } from './settle.js';

/** Longest error text kept with a dead letter. */
const MAX_ERROR_TEXT = 4_000;

/**
 * One tenure of a projection's lease in this engine: the lease, the checkpoint as last saved, and
 * the cancellation behind `ctx.signal` (fired when the lease is lost, or when stop() gives up).
 */
export class Holding {
  readonly cancellation = new Cancellation();

  constructor(
    readonly lease: ProjectionLease,
    public position: FeedPosition | undefined,
  ) {}

  /** `promise`, unless the holding is cancelled first: then its reason (the promise is left to settle unobserved). */
  race<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const stop = this.cancellation.onCancel(reject);
      promise.then(
        (value) => {
          stop();
          resolve(value);
        },
        (error: unknown) => {
          stop();
          reject(error);
        },
      );
    });
  }
}

/** How a holder waits between tries, and whether it should stop starting new ones. */
export interface Pace {
  /** Real time in a started engine; nothing in `runUntilIdle`. */
  sleep(ms: number): Promise<void>;
  /** True once `stop()` was called: a batch in hand is dropped rather than tried again. */
  readonly stopping: boolean;
}

/** What a projection's batches need from the engine. */
export interface BatchDependencies {
  readonly resolved: ResolvedProjection;
  readonly store: WorkflowStore;
  readonly clock: Clock;
  readonly leaseMs: number;
  readonly lifecycle: LifecycleEmitter;
  readonly logger: Logger;
}

/** What the handler threw (as opposed to the store). */
interface Failure {
  readonly error: unknown;
}

type SaveFields = Omit<ProjectionSave, 'now' | 'leaseMs'>;

/** What follows a failed try. */
type Next = 'retry' | 'split' | 'park';

/** The error that ends a batch dropped because the engine is stopping. */
export function stopping(name: string): IronflowError {
  return new IronflowError('SHUTTING_DOWN', `The engine is stopping: projection ${name} drops the batch in hand; its next holder handles it again`);
}

/**
 * EVENT_VERSION_UNKNOWN when `e` was written with a schema version newer than `workflow` declares
 * (by newer code): neither this holder nor a retry can project it; a holder running newer code can.
 */
function newerSchema(workflow: AnyWorkflow | undefined, e: FeedEvent): unknown {
  if (workflow === undefined || (e.schemaVersion ?? 1) <= schemaVersionOf(workflow, e.type)) return undefined;
  try {
    upcastEvent(workflow, e); // throws EVENT_VERSION_UNKNOWN before any upcaster runs
  } catch (error) {
    return error;
  }
  return undefined;
}

/** True for the error that says the next event needs newer code (`page`'s `newer`, thrown by `redriven`): the holder gives the lease up. */
export function isNewerThanCode(error: unknown): boolean {
  return isIronflowError(error, 'EVENT_VERSION_UNKNOWN');
}

/** A read of the page after `after`, started while the page before it was being applied. */
interface ReadAhead {
  readonly holding: Holding;
  readonly after: FeedPosition;
  readonly page: Promise<{ page: FeedPage } | { error: unknown }>;
}

/** Applies pages of the feed, and re-driven dead letters, to one projection. */
export class ProjectionBatches {
  #ahead: ReadAhead | undefined;

  constructor(private readonly deps: BatchDependencies) {}

  #read(after: FeedPosition | undefined): Promise<FeedPage> {
    const { resolved, store } = this.deps;
    return store.readFeed({
      ...(after === undefined ? {} : { after }),
      ...(resolved.workflowTypes === undefined ? {} : { workflowTypes: resolved.workflowTypes }),
      ...(resolved.eventTypes === undefined ? {} : { eventTypes: resolved.eventTypes }),
      limit: resolved.projection.batchSize,
    });
  }

  /** The page after the checkpoint: the one read ahead when it was read from there by this holding, else a read now. */
  async #next(h: Holding): Promise<FeedPage> {
    const ahead = this.#ahead;
    this.#ahead = undefined;
    if (ahead !== undefined && ahead.holding === h && ahead.after === h.position) {
      const result = await ahead.page;
      if ('error' in result) throw result.error;
      return result.page;
    }
    return this.#read(h.position);
  }

  /**
   * Reads one page after the checkpoint and applies it; `read` 0 means caught up (the checkpoint
   * may still have moved past filtered events). `newer`: the page stopped before an event of a
   * schema newer than this code knows (EVENT_VERSION_UNKNOWN), the events before it applied.
   */
  async page(h: Holding, pace: Pace): Promise<{ read: number; handled: number; newer?: unknown }> {
    const { resolved, lifecycle } = this.deps;
    const { projection } = resolved;
    const page = await this.#next(h);
    const newer = this.#firstNewer(page.events);
    if (newer !== undefined) {
      // The events before it are handled and checkpointed; the holder then gives the lease up.
      const before = page.events.slice(0, newer.index);
      if (before.length === 0) return { read: 0, handled: 0, newer: newer.error };
      const started = performance.now();
      const handled = await this.#batch(h, before, before.at(-1)!.position, pace);
      lifecycle.emit({ type: 'projection.batch', projection: projection.name, events: handled, durationMs: performance.now() - started, position: h.position });
      return { read: before.length, handled, newer: newer.error };
    }
    if (page.events.length === projection.batchSize && page.next !== undefined) {
      // Catching up: read the next page while this one is handled and saved. Whatever happens to
      // this batch (applied, split, its poison parked), the checkpoint ends at `next`, so the read
      // ahead starts where the next read would; a lost lease or a stop discards it (#next checks).
      const after = page.next;
      this.#ahead = {
        holding: h,
        after,
        page: this.#read(after).then(
          (read) => ({ page: read }),
          (error: unknown) => ({ error }),
        ),
      };
    }
    if (page.events.length === 0) {
      // Only events the filters skip came in: move past them once, not on every idle poll.
      if (page.next !== undefined && page.next !== h.position) await this.#save(h, { position: page.next });
      return { read: 0, handled: 0 };
    }
    const started = performance.now();
    const next = page.next ?? page.events.at(-1)!.position;
    const handled = await this.#batch(h, page.events, next, pace);
    lifecycle.emit({ type: 'projection.batch', projection: projection.name, events: handled, durationMs: performance.now() - started, position: h.position });
    return { read: page.events.length, handled };
  }

  /** Tries the projection's re-driven dead letters again, each alone: resolved on success, parked again (same id) on failure. Returns how many were resolved. */
  async redriven(h: Holding, pace: Pace): Promise<number> {
    const { store, resolved } = this.deps;
    let handled = 0;
    for (;;) {
      const { items } = await store.listProjectionDeadLetters({ projection: resolved.projection.name, status: 'redriven', limit: 100 });
      if (items.length === 0) return handled;
      for (const letter of items) {
        if (pace.stopping) throw stopping(resolved.projection.name);
        if (await this.#redrive(h, letter, pace)) handled += 1;
      }
    }
  }

  /** A batch with its tries; after the last one, each event alone. Returns the events handled. */
  async #batch(h: Holding, events: readonly FeedEvent[], next: FeedPosition, pace: Pace): Promise<number> {
    const { retry } = this.deps.resolved.projection;
    let failure: Failure | undefined;
    for (let attempt = 1; ; attempt++) {
      failure = await this.#try(h, events, attempt, { position: next });
      if (failure === undefined) return events.length;
      const last = attempt >= retry.maxAttempts;
      this.#failed(events, attempt, failure.error, !last ? 'retry' : events.length === 1 ? 'park' : 'split');
      if (last) break;
      await this.#pause(pace, backoffDelay(retry, attempt));
    }
    if (events.length === 1) {
      await this.#park(h, events[0]!, retry.maxAttempts, failure.error, next);
      return 0;
    }
    let handled = 0;
    for (const event of events) {
      if (pace.stopping) throw stopping(this.deps.resolved.projection.name);
      if (await this.#alone(h, event, retry.maxAttempts, pace)) handled += 1;
    }
    // Past the filtered events after the last one too.
    if (next !== h.position) await this.#save(h, { position: next });
    return handled;
  }

  /**
   * One event of a split batch, with its own tries; parked when they all fail. A transactional
   * projection saves the checkpoint at the event with each try (its writes commit with it); the
   * others save once after the split, or at a parked event.
   */
  async #alone(h: Holding, event: FeedEvent, triedInBatch: number, pace: Pace): Promise<boolean> {
    const { retry, transactional } = this.deps.resolved.projection;
    let failure: Failure | undefined;
    for (let attempt = 1; ; attempt++) {
      failure = await this.#try(h, [event], attempt, transactional ? { position: event.position } : undefined);
      if (failure === undefined) return true;
      const last = attempt >= retry.maxAttempts;
      this.#failed([event], attempt, failure.error, last ? 'park' : 'retry');
      if (last) break;
      await this.#pause(pace, backoffDelay(retry, attempt));
    }
    await this.#park(h, event, triedInBatch + retry.maxAttempts, failure.error, event.position);
    return false;
  }

  /** One re-driven dead letter: its event read back from its instance, tried alone. */
  async #redrive(h: Holding, letter: ProjectionDeadLetter, pace: Pace): Promise<boolean> {
    const { store, resolved, lifecycle, logger } = this.deps;
    const { retry, name } = resolved.projection;
    const started = performance.now();
    const [stored] = await store.readEvents({ type: letter.workflowType, id: letter.workflowId }, { fromSequence: letter.sequence });
    if (stored === undefined || stored.sequence !== letter.sequence) {
      await this.#repark(h, letter, letter.attempts, 'the event is no longer stored (its instance was deleted?); skip this dead letter');
      return false;
    }
    const event: FeedEvent = { ...stored, position: letter.position };
    const newer = newerSchema(resolved.workflows.get(event.workflowType), event);
    if (newer !== undefined) throw newer;
    let failure: Failure | undefined;
    for (let attempt = 1; ; attempt++) {
      failure = await this.#try(h, [event], attempt, { resolved: [letter.id] });
      if (failure === undefined) {
        lifecycle.emit({ type: 'projection.batch', projection: name, events: 1, durationMs: performance.now() - started, position: h.position });
        logger.info({ projection: name, id: letter.id, workflowType: letter.workflowType, workflowId: letter.workflowId, sequence: letter.sequence }, 're-driven projection dead letter resolved');
        return true;
      }
      const last = attempt >= retry.maxAttempts;
      this.#failed([event], attempt, failure.error, last ? 'park' : 'retry');
      if (last) break;
      await this.#pause(pace, backoffDelay(retry, attempt));
    }
    await this.#repark(h, letter, letter.attempts + retry.maxAttempts, describeError(failure.error));
    return false;
  }

  /**
   * One try of `events`: the handler, then `save` when it succeeds — or, for a transactional
   * projection, the handler inside `save`'s transaction. Resolves with the handler's failure;
   * rejects with the store's (a lost lease among them) or the holding's cancellation.
   */
  async #try(h: Holding, events: readonly FeedEvent[], attempt: number, save: SaveFields | undefined): Promise<Failure | undefined> {
    const { projection } = this.deps.resolved;
    let thrown: Failure | undefined;
    const run = async (transaction: unknown): Promise<void> => {
      try {
        // An upcast that throws fails the try like the handler: the split then isolates its event.
        const batch = events.map((e) => this.#projected(e));
        await projection.handle(batch, { name: projection.name, signal: h.cancellation.signal, attempt, transaction });
      } catch (error) {
        thrown = { error };
        throw error;
      }
    };
    const transactional = projection.transactional && save !== undefined;
    try {
      await h.race(transactional ? this.#save(h, save, run) : run(undefined));
    } catch (error) {
      // The store rethrows what `apply` threw as it was thrown: the same object is the handler's failure.
      if (thrown !== undefined && error === thrown.error) return thrown;
      throw error;
    }
    if (!transactional && save !== undefined) await h.race(this.#save(h, save));
    return undefined;
  }

  /** The first event of `events` written with a schema newer than this code knows, and its error. */
  #firstNewer(events: readonly FeedEvent[]): { readonly index: number; readonly error: unknown } | undefined {
    const { workflows } = this.deps.resolved;
    for (let index = 0; index < events.length; index++) {
      const error = newerSchema(workflows.get(events[index]!.workflowType), events[index]!);
      if (error !== undefined) return { index, error };
    }
    return undefined;
  }

  /** The event as the handler sees it: its payload upcast to the latest shape by its workflow (upcasters, then `upcast`). */
  #projected(e: FeedEvent): ProjectedEvent {
    const workflow = this.deps.resolved.workflows.get(e.workflowType);
    return {
      workflowType: e.workflowType,
      workflowId: e.workflowId,
      sequence: e.sequence,
      type: e.type,
      event: workflow === undefined ? e.payload : upcastEvent(workflow, e),
      metadata: e.metadata,
      recordedAt: e.recordedAt,
      position: e.position,
    };
  }

  /** Writes a fenced save (extending the lease), then takes its position as the checkpoint. */
  async #save(h: Holding, fields: SaveFields, apply?: (tx: unknown) => Promise<void>): Promise<void> {
    const { store, clock, leaseMs } = this.deps;
    await store.saveProjection(h.lease, { ...fields, now: clock.now(), leaseMs }, apply);
    if (fields.position !== undefined) h.position = fields.position;
  }

  /** Parks an event that failed every try, moving the checkpoint to `position` with it. */
  async #park(h: Holding, event: FeedEvent, attempts: number, error: unknown, position: FeedPosition): Promise<void> {
    const letter: NewProjectionDeadLetter = {
      id: uuidv7(),
      workflowType: event.workflowType,
      workflowId: event.workflowId,
      sequence: event.sequence,
      eventType: event.type,
      position: event.position,
      error: truncate(describeError(error)),
      attempts,
    };
    await this.#save(h, { position, parked: [letter] });
    this.#parked(letter);
  }

  /** Parks a re-driven dead letter again, under its id, with its attempts and the new error; the checkpoint stays. */
  async #repark(h: Holding, letter: ProjectionDeadLetter, attempts: number, error: string): Promise<void> {
    const again: NewProjectionDeadLetter = {
      id: letter.id,
      workflowType: letter.workflowType,
      workflowId: letter.workflowId,
      sequence: letter.sequence,
      eventType: letter.eventType,
      position: letter.position,
      error: truncate(error),
      attempts,
    };
    await this.#save(h, { parked: [again] });
    this.#parked(again);
  }

  #parked(letter: NewProjectionDeadLetter): void {
    const { id, workflowType, workflowId, sequence, eventType, attempts, error } = letter;
    const projection = this.deps.resolved.projection.name;
    this.deps.lifecycle.emit({ type: 'projection.parked', projection, id, workflowType, workflowId, sequence, eventType, attempts, error });
    this.deps.logger.error(
      { projection, id, workflowType, workflowId, sequence, eventType, attempts, error },
      'projection event parked as a dead letter after every try failed; re-drive or skip it with engine.projections.deadLetters',
    );
  }

  #failed(events: readonly FeedEvent[], attempt: number, error: unknown, next: Next): void {
    const projection = this.deps.resolved.projection.name;
    const one = events.length === 1 ? events[0]! : undefined;
    const event = one === undefined ? undefined : { workflowType: one.workflowType, workflowId: one.workflowId, sequence: one.sequence };
    this.deps.lifecycle.emit({ type: 'projection.failed', projection, attempt, events: events.length, error: describeError(error), errorType: errorTypeOf(error), next, event });
    this.deps.logger.warn({ err: error, projection, attempt, events: events.length, next, ...event }, `projection handler failed; ${NEXT_TEXT[next]}`);
  }

  /** Waits before the next try, unless the engine is stopping: then the batch is dropped. */
  async #pause(pace: Pace, ms: number): Promise<void> {
    const name = this.deps.resolved.projection.name;
    if (pace.stopping) throw stopping(name);
    await pace.sleep(ms);
    if (pace.stopping) throw stopping(name);
  }
}

const NEXT_TEXT: Record<Next, string> = {
  retry: 'trying again after backoff',
  split: 'trying each event of the batch alone',
  park: 'parking the event as a dead letter',
};

function truncate(text: string): string {
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text;
}
