// A projection: a named reader of the global event feed that keeps a read model, declared once with
// the workflows it reads (so its batch is typed with their events, upcast) and run by every engine
// it is given to, one holder at a time (see projection-runner.ts).
import type { AnyWorkflow, EventOf, RetryPolicy } from '@ironflow/core';
import { isValidWorkflowType, resolveRetryPolicy } from '@ironflow/core/engine';
import { invalidArgument, MAX_PAGE, parseKey, type EventMetadata, type FeedPosition } from '@ironflow/core/store';

/** One event as a projection's `handle` receives it. */
export interface ProjectedEvent<T extends string = string, E = unknown> {
  readonly workflowType: T;
  readonly workflowId: string;
  /** 1, 2, 3… per instance: events of one instance come in this order. */
  readonly sequence: number;
  /** The event's stored kind (`OrderPlaced`). */
  readonly type: string;
  /** The payload in the latest shape: upcast by its workflow's `eventVersions` upcasters, then its `upcast` hook. */
  readonly event: E;
  readonly metadata: EventMetadata;
  readonly recordedAt: number;
  /** Its position in the feed. */
  readonly position: FeedPosition;
}

/** The events a projection of workflow `W` (a union of workflows) receives: one member per workflow. */
export type ProjectedEventOf<W> = W extends AnyWorkflow ? ProjectedEvent<W['type'], EventOf<W>> : never;

/** What `handle` is told besides its batch. */
export interface ProjectionContext {
  /** The projection's name. */
  readonly name: string;
  /** Aborted when this engine lost the projection's lease, or when `stop()` stops waiting for the batch. */
  readonly signal: AbortSignal;
  /** 1 on the first try of this batch (or of this event, once a failing batch is split). */
  readonly attempt: number;
  /**
   * The store's transaction when the projection is `transactional` (narrow it with
   * `postgresTransaction()` from `@ironflow/store-postgres`); undefined otherwise.
   */
  readonly transaction: unknown;
}

/** What `defineProjection` takes. */
export interface ProjectionDefinition<W extends readonly AnyWorkflow[] = readonly AnyWorkflow[]> {
  /** Stable name: the checkpoint, lease and dead letters are stored under it. Never rename a live one. */
  name: string;
  /**
   * Read only these workflows' events, typed and upcast; each must be registered in the engine.
   * @default every workflow registered in the engine
   */
  workflows?: W | undefined;
  /** Read only events of these kinds (`OrderPlaced`). @default every kind */
  eventTypes?: readonly string[] | undefined;
  /**
   * Applies a batch to the read model. A throw retries the batch with backoff, then each of its
   * events alone, and parks an event that keeps failing as a dead letter (the others go on).
   */
  handle(batch: readonly ProjectedEventOf<W[number]>[], ctx: ProjectionContext): Promise<void> | void;
  /** Most events per batch (and per checkpoint write). @default 100, at most 1000 */
  batchSize?: number | undefined;
  /**
   * Tries of a batch, then of each of its events, before an event is parked.
   * @default { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 10000, jitter: 'full' }
   */
  retry?: Partial<RetryPolicy> | undefined;
  /**
   * Run `handle` inside the store's checkpoint transaction (`ctx.transaction`): its writes and the
   * checkpoint commit together, so the read model sees each event exactly once. Only on stores with
   * `projectionTransactions` (PostgreSQL, PGlite); `createEngine` refuses it elsewhere.
   * @default false
   */
  transactional?: boolean | undefined;
}

/** A projection made by `defineProjection`, given to `createEngine({ projections })`. */
export interface Projection<W extends readonly AnyWorkflow[] = readonly AnyWorkflow[]> {
  readonly name: string;
  readonly workflows?: W | undefined;
  readonly eventTypes?: readonly string[] | undefined;
  // Method syntax keeps `batch` bivariant, so every Projection<W> is a Projection.
  handle(batch: readonly ProjectedEventOf<W[number]>[], ctx: ProjectionContext): Promise<void> | void;
  readonly batchSize: number;
  readonly retry: Readonly<RetryPolicy>;
  readonly transactional: boolean;
}

/** Tries of a failing batch or event: 5, from 100 ms doubling up to 10 s, with full jitter. */
export const PROJECTION_RETRY: Readonly<RetryPolicy> = Object.freeze({ maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 10_000, jitter: 'full' });

/** Default events per batch. */
export const PROJECTION_BATCH_SIZE = 100;

/**
 * Declares a projection. Give it to `createEngine({ projections: [...] })`; every engine it is
 * given to runs it, one of them at a time (a fenced lease), from the checkpoint the store keeps.
 * @example
 * const revenue = defineProjection({
 *   name: 'revenue',
 *   workflows: [order],
 *   eventTypes: ['Paid'],
 *   async handle(batch) {
 *     for (const e of batch) await readModel.addRevenue(e.workflowId, e.sequence, e.event);
 *   },
 * });
 */
export function defineProjection<const W extends readonly AnyWorkflow[] = readonly AnyWorkflow[]>(definition: ProjectionDefinition<W>): Projection<W> {
  return checkProjection(definition, 'defineProjection') as Projection<W>;
}

const isWorkflow = (value: unknown): value is AnyWorkflow =>
  typeof value === 'object' && value !== null && typeof (value as AnyWorkflow).decide === 'function' && isValidWorkflowType((value as AnyWorkflow).type);

/** Checks a projection definition (INVALID_ARGUMENT naming `what`) and returns it frozen, its defaults filled in. */
export function checkProjection(value: unknown, what: string): Projection {
  if (typeof value !== 'object' || value === null) throw invalidArgument(`${what} needs a projection: { name, handle, workflows?, eventTypes?, batchSize?, retry?, transactional? }`);
  const d = value as Partial<Record<keyof ProjectionDefinition, unknown>>;
  const name = parseKey(d.name, `${what}: the projection's name`);
  const where = `${what} (projection ${JSON.stringify(name)})`;
  if (typeof d.handle !== 'function') throw invalidArgument(`${where}: handle must be a function (batch, ctx) => void | Promise<void>`);
  let workflows: readonly AnyWorkflow[] | undefined;
  if (d.workflows !== undefined) {
    if (!Array.isArray(d.workflows) || d.workflows.length === 0) throw invalidArgument(`${where}: workflows must be a non-empty array of workflows; leave it out to read every workflow of the engine`);
    workflows = d.workflows.map((w: unknown, i) => {
      if (!isWorkflow(w)) throw invalidArgument(`${where}: workflows[${i}] is not a workflow made by defineWorkflow`);
      return w;
    });
    const types = workflows.map((w) => w.type);
    const repeated = types.find((t, i) => types.indexOf(t) !== i);
    if (repeated !== undefined) throw invalidArgument(`${where}: workflows names the type ${JSON.stringify(repeated)} twice`);
  }
  let eventTypes: readonly string[] | undefined;
  if (d.eventTypes !== undefined) {
    if (!Array.isArray(d.eventTypes) || d.eventTypes.length === 0) throw invalidArgument(`${where}: eventTypes must be a non-empty array of event kinds; leave it out to read every kind`);
    eventTypes = [...new Set(d.eventTypes.map((t: unknown, i) => parseKey(t, `${where}: eventTypes[${i}]`)))];
  }
  const batchSize = d.batchSize ?? PROJECTION_BATCH_SIZE;
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_PAGE) {
    throw invalidArgument(`${where}: batchSize must be a whole number from 1 to ${MAX_PAGE}, got ${String(batchSize)}`);
  }
  if (d.retry !== undefined && (typeof d.retry !== 'object' || d.retry === null)) throw invalidArgument(`${where}: retry must be a partial retry policy { maxAttempts?, baseDelayMs?, maxDelayMs?, jitter? }`);
  let retry: RetryPolicy;
  try {
    retry = resolveRetryPolicy(PROJECTION_RETRY, d.retry as Partial<RetryPolicy> | undefined);
  } catch (error) {
    throw invalidArgument(`${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (d.transactional !== undefined && typeof d.transactional !== 'boolean') throw invalidArgument(`${where}: transactional must be a boolean, got ${typeof d.transactional}`);
  const handle = d.handle as Projection['handle'];
  return Object.freeze({
    name,
    ...(workflows === undefined ? {} : { workflows: Object.freeze([...workflows]) }),
    ...(eventTypes === undefined ? {} : { eventTypes: Object.freeze([...eventTypes]) }),
    handle,
    batchSize,
    retry: Object.freeze(retry),
    transactional: d.transactional === true,
  });
}
