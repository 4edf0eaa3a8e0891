// The projection options of `createEngine`, checked once: the runners' timings, and each projection
// resolved against the engine (its workflows registered here, its store able to run it), so a
// misconfigured projection stops the process at start-up instead of stalling a read model later.
import type { AnyWorkflow } from '@ironflow/core';
import { invalidArgument, MAX_PROJECTION_LEASE_MS, type WorkflowStore } from '@ironflow/core/store';
import { checkProjection, type Projection } from './projection.js';

/** Timings of the projection runners (`createEngine({ projectionOptions })`). */
export interface ProjectionOptions {
  /**
   * Lease of a projection's holder, renewed every third of it. A crashed holder's projection is
   * taken over at most `leaseMs + claimIntervalMs` later.
   * @default 30000
   */
  leaseMs?: number | undefined;
  /** How often an engine that does not hold a projection tries to take it. @default 1000 */
  claimIntervalMs?: number | undefined;
  /**
   * Longest wait of a caught-up holder before it reads the feed again; commits of this engine wake
   * it at once, those of other processes are seen at the next poll.
   * @default 1000
   */
  pollIntervalMs?: number | undefined;
  /** How often a holder measures its lag (health, `projection.lag`, gauges). @default 5000 */
  lagIntervalMs?: number | undefined;
}

/** `ProjectionOptions` with defaults filled in. */
export interface ProjectionSettings {
  readonly leaseMs: number;
  readonly claimIntervalMs: number;
  readonly pollIntervalMs: number;
  readonly lagIntervalMs: number;
}

/** A projection as an engine runs it: what it reads and how each event is upcast. */
export interface ResolvedProjection {
  readonly projection: Projection;
  /** The feed filter; undefined reads every workflow type (an engine with no workflows). */
  readonly workflowTypes: readonly string[] | undefined;
  readonly eventTypes: readonly string[] | undefined;
  /** The workflow of each type read, for its `upcast`. */
  readonly workflows: ReadonlyMap<string, AnyWorkflow>;
}

function duration(value: unknown, fallback: number, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidArgument(`projectionOptions.${what} must be a whole number of ms from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Checks `projectionOptions`. */
export function resolveProjectionSettings(options: unknown): ProjectionSettings {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw invalidArgument('projectionOptions must be an object { leaseMs?, claimIntervalMs?, pollIntervalMs?, lagIntervalMs? }');
  }
  const o = (options ?? {}) as Record<keyof ProjectionOptions, unknown>;
  return {
    leaseMs: duration(o.leaseMs, 30_000, 'leaseMs', MAX_PROJECTION_LEASE_MS),
    claimIntervalMs: duration(o.claimIntervalMs, 1_000, 'claimIntervalMs'),
    pollIntervalMs: duration(o.pollIntervalMs, 1_000, 'pollIntervalMs'),
    lagIntervalMs: duration(o.lagIntervalMs, 5_000, 'lagIntervalMs'),
  };
}

/**
 * Checks `projections` against the engine: names unique, every workflow a projection reads
 * registered here (its events are typed and upcast by it), `transactional` only on a store that
 * runs a handler in its checkpoint transaction.
 */
export function resolveProjections(projections: unknown, registered: readonly AnyWorkflow[], store: WorkflowStore): ResolvedProjection[] {
  if (projections === undefined) return [];
  const types = new Set(registered.map((w) => w.type));
  if (!Array.isArray(projections)) throw invalidArgument('projections must be an array of projections made by defineProjection');
  const names = new Set<string>();
  return projections.map((value: unknown, index): ResolvedProjection => {
    const projection = checkProjection(value, `projections[${index}]`);
    const where = `projections[${index}] (${JSON.stringify(projection.name)})`;
    if (names.has(projection.name)) throw invalidArgument(`${where}: another projection of this engine has the same name; each name is one checkpoint`);
    names.add(projection.name);
    if (projection.transactional && store.projectionTransactions !== true) {
      throw invalidArgument(`${where} is transactional, but the ${store.name} store cannot run a handler in its checkpoint transaction (projectionTransactions); use PostgreSQL or PGlite, or drop transactional and make the read model idempotent`);
    }
    const workflows = new Map<string, AnyWorkflow>();
    for (const workflow of projection.workflows ?? registered) {
      if (!types.has(workflow.type)) {
        throw invalidArgument(`${where} reads workflow ${JSON.stringify(workflow.type)}, which is not registered in this engine; register it (workflows: [...]) so its events are typed and upcast`);
      }
      workflows.set(workflow.type, workflow);
    }
    return {
      projection,
      workflowTypes: workflows.size === 0 ? undefined : [...workflows.keys()],
      eventTypes: projection.eventTypes,
      workflows,
    };
  });
}
