// Retention (issue 13): ended instances older than their workflow's `afterMs` are archived (when
// asked) and deleted with everything they own, page by page. Safe from several processes: the
// delete is conditional on the version the sweep saw, so each instance is deleted once; an archive
// may run more than once for one instance (at least once), never for one that is kept.
import type { Clock, WorkflowRef } from '@ironflow/core';
import { invalidArgument, MAX_PAGE, type DeleteInstanceOutcome, type InstanceSummary, type StoredEvent, type WorkflowStore } from '@ironflow/core/store';
import type { LifecycleEmitter, Logger } from './lifecycle.js';

/** An ended instance as `archive` receives it, before it is deleted. */
export interface ArchivedInstance {
  readonly ref: WorkflowRef;
  readonly status: 'completed' | 'cancelled';
  /** Its version (its last event's sequence): archive by ref and version to stay idempotent. */
  readonly version: number;
  /** Every event, in sequence order, as stored (not upcast). */
  readonly events: readonly StoredEvent[];
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly cancelReason?: string | undefined;
  readonly parent?: WorkflowRef | undefined;
}

/** How long one workflow type's ended instances are kept. */
export interface WorkflowRetention {
  /** Instances completed or cancelled (last changed) more than this many ms ago are deleted. */
  afterMs: number;
  /**
   * Called with each instance before it is deleted; a throw keeps the instance (logged, counted,
   * tried again at the next sweep). At least once: another sweep may archive it again, so make it
   * idempotent by `ref` and `version` (write `<type>/<id>/<version>.json`, an upsert).
   */
  archive?: ((instance: ArchivedInstance) => Promise<void> | void) | undefined;
}

/** `createEngine({ retention })`. */
export interface RetentionOptions {
  /** Per workflow type (each registered in the engine): how long its ended instances are kept. */
  workflows: Readonly<Record<string, WorkflowRetention>>;
  /**
   * How often a started engine sweeps.
   * @default 600000 (10 minutes)
   */
  intervalMs?: number | undefined;
  /**
   * Instances read per page of a sweep.
   * @default 100
   */
  batchSize?: number | undefined;
}

/** `RetentionOptions` checked, with defaults. */
export interface RetentionSettings {
  readonly workflows: ReadonlyMap<string, { readonly afterMs: number; readonly archive: WorkflowRetention['archive'] }>;
  readonly intervalMs: number;
  readonly batchSize: number;
}

/** What one sweep did. */
export interface RetentionReport {
  /** Instances deleted by this sweep. */
  readonly deleted: number;
  /** Instances archived by this sweep (deleted or not: another process may have deleted one first). */
  readonly archived: number;
  /**
   * Instances left as they were because the delete found them `missing` (another process deleted
   * them), `changed` (a newer version), `active` again, or `busy` (pending or leased effects or timers).
   */
  readonly skipped: { readonly missing: number; readonly changed: number; readonly active: number; readonly busy: number };
  /** Instances kept because their archive or a store call threw; tried again at the next sweep. */
  readonly failed: number;
}

/** Checks `retention` (INVALID_ARGUMENT) against the engine's workflow types. */
export function resolveRetention(options: unknown, types: readonly string[]): RetentionSettings | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidArgument('retention must be an object { workflows, intervalMs?, batchSize? }');
  const { workflows, intervalMs, batchSize } = options as Partial<RetentionOptions>;
  if (typeof workflows !== 'object' || workflows === null || Array.isArray(workflows)) throw invalidArgument('retention.workflows must be an object keyed by workflow type: { [type]: { afterMs, archive? } }');
  const resolved = new Map<string, { afterMs: number; archive: WorkflowRetention['archive'] }>();
  for (const [type, policy] of Object.entries(workflows)) {
    const what = `retention.workflows.${type}`;
    if (!types.includes(type)) throw invalidArgument(`${what}: no workflow "${type}" is registered in this engine`);
    if (typeof policy !== 'object' || policy === null) throw invalidArgument(`${what} must be { afterMs, archive? }`);
    const { afterMs, archive } = policy;
    if (typeof afterMs !== 'number' || !Number.isSafeInteger(afterMs) || afterMs < 0) throw invalidArgument(`${what}.afterMs must be a whole number of ms >= 0, got ${String(afterMs)}`);
    if (archive !== undefined && typeof archive !== 'function') throw invalidArgument(`${what}.archive must be a function of the instance, got ${typeof archive}`);
    resolved.set(type, { afterMs, archive });
  }
  const interval = intervalMs ?? 600_000;
  if (typeof interval !== 'number' || !Number.isSafeInteger(interval) || interval < 1) throw invalidArgument(`retention.intervalMs must be a whole number of ms >= 1, got ${String(interval)}`);
  const batch = batchSize ?? 100;
  if (typeof batch !== 'number' || !Number.isInteger(batch) || batch < 1 || batch > MAX_PAGE) throw invalidArgument(`retention.batchSize must be a whole number from 1 to ${MAX_PAGE}, got ${String(batch)}`);
  return { workflows: resolved, intervalMs: interval, batchSize: batch };
}

/** What a sweep needs from the engine. */
export interface RetentionDependencies {
  readonly settings: RetentionSettings | undefined;
  readonly store: WorkflowStore;
  readonly clock: Clock;
  readonly lifecycle: LifecycleEmitter;
  readonly logger: Logger;
}

type Tally = { deleted: number; archived: number; skipped: Record<Exclude<DeleteInstanceOutcome, 'deleted'>, number>; failed: number };

/** Runs retention sweeps for one engine: by hand, or every `intervalMs` once started. */
export class Retention {
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<RetentionReport> | undefined;

  constructor(private readonly deps: RetentionDependencies) {}

  /**
   * One sweep at `now`: every configured workflow type's ended instances last changed before
   * `now - afterMs`, archived when asked, then deleted. A sweep already running in this engine is
   * joined rather than run twice.
   */
  async sweep(options: { now?: number | undefined } = {}): Promise<RetentionReport> {
    if (typeof options !== 'object' || options === null) throw invalidArgument('retention.sweep() takes { now? }');
    const now = options.now ?? this.deps.clock.now();
    if (typeof now !== 'number' || !Number.isFinite(now)) throw invalidArgument(`retention.sweep() needs now as epoch ms, got ${String(now)}`);
    if (this.#running !== undefined) return this.#running;
    const running = this.#sweep(now).finally(() => {
      this.#running = undefined;
    });
    this.#running = running;
    return running;
  }

  /** Sweeps now and every `intervalMs` (unref'd) until `stop()`; nothing when no retention is set. */
  start(): void {
    const settings = this.deps.settings;
    if (settings === undefined || this.#timer !== undefined) return;
    const tick = (): void => {
      this.sweep().catch((error: unknown) => this.deps.logger.warn({ err: error }, 'retention sweep failed; trying again at the next interval'));
    };
    tick();
    this.#timer = setInterval(tick, settings.intervalMs);
    this.#timer.unref?.();
  }

  /** Stops the interval and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  async #sweep(now: number): Promise<RetentionReport> {
    const { settings, store, lifecycle, logger } = this.deps;
    const tally: Tally = { deleted: 0, archived: 0, skipped: { missing: 0, changed: 0, active: 0, busy: 0 }, failed: 0 };
    if (settings === undefined) return tally;
    const started = performance.now();
    for (const [workflowType, policy] of settings.workflows) {
      for (const status of ['completed', 'cancelled'] as const) {
        let after: string | undefined;
        do {
          // Keyset pages in (type, id) order: deleting the instances of one page moves no later one.
          const page = await store.pageInstances({ workflowType, status, updatedBefore: now - policy.afterMs, limit: settings.batchSize, ...(after === undefined ? {} : { after }) });
          for (const summary of page.items) await this.#one(summary, status, policy.archive, now, tally);
          after = page.next;
        } while (after !== undefined);
      }
    }
    const report: RetentionReport = { ...tally, skipped: { ...tally.skipped } };
    lifecycle.emit({ type: 'retention.swept', ...report, skipped: { ...report.skipped }, durationMs: performance.now() - started });
    if (report.deleted > 0 || report.failed > 0) logger.info({ ...report }, 'retention sweep deleted ended instances');
    return report;
  }

  /** Archives (when asked) and deletes one instance; a failure keeps it and is counted. */
  async #one(summary: InstanceSummary, status: 'completed' | 'cancelled', archive: WorkflowRetention['archive'], now: number, tally: Tally): Promise<void> {
    const { store, lifecycle, logger } = this.deps;
    const ref = { type: summary.workflowType, id: summary.workflowId };
    const fields = { workflowType: ref.type, workflowId: ref.id, version: summary.version };
    try {
      if (archive !== undefined) {
        const events = await store.readEvents(ref);
        // Read after the page: the instance may have moved on (its version no longer the page's).
        if (events.length !== summary.version) {
          tally.skipped[events.length === 0 ? 'missing' : 'changed'] += 1;
          return;
        }
        try {
          await archive({
            ref,
            status,
            version: summary.version,
            events,
            createdAt: summary.createdAt,
            updatedAt: summary.updatedAt,
            ...(summary.cancelReason === undefined ? {} : { cancelReason: summary.cancelReason }),
            ...(summary.parent === undefined ? {} : { parent: summary.parent }),
          });
        } catch (error) {
          tally.failed += 1;
          logger.error({ err: error, ...fields }, 'retention: archive threw; the instance is kept and tried again at the next sweep');
          return;
        }
        tally.archived += 1;
      }
      const outcome = await store.deleteInstance({ ref, expectedVersion: summary.version, now });
      if (outcome !== 'deleted') {
        tally.skipped[outcome] += 1;
        return;
      }
      tally.deleted += 1;
      lifecycle.emit({ type: 'instance.deleted', ...fields, status, archived: archive !== undefined });
    } catch (error) {
      tally.failed += 1;
      logger.warn({ err: error, ...fields }, 'retention: could not delete the instance; it is kept and tried again at the next sweep');
    }
  }
}
