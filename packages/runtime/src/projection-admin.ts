// Operator access to projections by name, over the store: the checkpoints and leases every process
// shares, each with its lag, reset (a rebuild), and the dead letters (list, re-drive, skip). It
// works for any projection the store knows, whether or not this engine runs it.
import type { Clock } from '@ironflow/core';
import { parseKey, type FeedPosition, type ProjectionDeadLetterPage, type ProjectionDeadLetterStatus, type ProjectionStatus, type WorkflowStore } from '@ironflow/core/store';

/** Most events a lag counts; more is reported as `capped`. */
export const LAG_LIMIT = 10_000;

/** How far a projection is behind the feed. */
export interface ProjectionLag {
  /** Events after the checkpoint, counted up to 10 000 (`capped` when there are more). */
  readonly events: number;
  readonly capped: boolean;
  /** How long ago the oldest unprojected event was recorded; absent when it is caught up. */
  readonly ageMs?: number | undefined;
}

/** A projection as operators see it: its stored checkpoint and lease, and its lag now. */
export interface ProjectionReport extends ProjectionStatus {
  /** True when the lease's holder is live now (`expiresAt` after the clock's now). */
  readonly held: boolean;
  readonly lag: ProjectionLag;
}

/** Options of `projections.reset`. */
export interface ProjectionResetOptions {
  /** Where the projection restarts: after this feed position; absent: from the first event (a rebuild). */
  position?: FeedPosition | undefined;
  /** Keep its dead letters. @default false */
  keepDeadLetters?: boolean | undefined;
}

/** A page query of one projection's dead letters. */
export interface ProjectionDeadLetterFilter {
  status?: ProjectionDeadLetterStatus | undefined;
  /** The `next` of the previous page. */
  after?: string | undefined;
  /** @default 100, at most 1000 */
  limit?: number | undefined;
}

/** `engine.projections`. */
export interface ProjectionAdmin {
  /** Every projection the store knows, in name order, with its lag. */
  list(): Promise<ProjectionReport[]>;
  /** One projection, or undefined when the store does not know it. */
  get(name: string): Promise<ProjectionReport | undefined>;
  /**
   * Moves a projection's checkpoint (to the start by default: a rebuild) and ends its lease; the
   * runner holding it stops at its next write and resumes from there. Clear the read model
   * yourself first when rebuilding one that is not idempotent.
   */
  reset(name: string, options?: ProjectionResetOptions): Promise<void>;
  readonly deadLetters: {
    list(name: string, query?: ProjectionDeadLetterFilter): Promise<ProjectionDeadLetterPage>;
    /** Hands a parked event back to the projection's runner to try again; false when there is no parked one by that id. */
    redrive(name: string, id: string): Promise<boolean>;
    /** Deletes a dead letter: its event stays unprojected; false when there is none by that id. */
    skip(name: string, id: string): Promise<boolean>;
  };
}

/** The lag of a reader at `position`, at the clock's now. */
export async function lagOf(store: WorkflowStore, clock: Clock, position: FeedPosition | undefined): Promise<ProjectionLag> {
  const lag = await store.feedLag({ ...(position === undefined ? {} : { after: position }), limit: LAG_LIMIT });
  return lag.oldestRecordedAt === undefined
    ? { events: lag.events, capped: lag.capped }
    : { events: lag.events, capped: lag.capped, ageMs: Math.max(0, clock.now() - lag.oldestRecordedAt) };
}

/** The operator API of projections over `store`. */
export function projectionAdmin(store: WorkflowStore, clock: Clock): ProjectionAdmin {
  const report = async (status: ProjectionStatus): Promise<ProjectionReport> => ({
    ...status,
    held: status.owner !== undefined && status.expiresAt !== undefined && status.expiresAt > clock.now(),
    lag: await lagOf(store, clock, status.position),
  });
  return {
    async list() {
      return Promise.all((await store.listProjections()).map(report));
    },
    async get(name) {
      const checked = parseKey(name, 'name');
      const status = (await store.listProjections()).find((p) => p.name === checked);
      return status === undefined ? undefined : report(status);
    },
    async reset(name, options = {}) {
      await store.resetProjection({ name, now: clock.now(), ...(options.position === undefined ? {} : { position: options.position }), ...(options.keepDeadLetters === undefined ? {} : { keepDeadLetters: options.keepDeadLetters }) });
    },
    deadLetters: {
      list: (name, query = {}) => store.listProjectionDeadLetters({ ...query, projection: name }),
      redrive: (name, id) => store.redriveProjectionDeadLetter(name, id, clock.now()),
      skip: (name, id) => store.skipProjectionDeadLetter(name, id),
    },
  };
}
