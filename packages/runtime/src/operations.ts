// Store-wide operator actions over cursor pages: bulk re-drive of dead letters and bulk cancel of
// instances by filter, each with a dry run that only counts, and the retention of idempotency keys.
import type { WorkflowRef } from '@ironflow/core';
import { invalidArgument, type InstancePageQuery, type WorkKind, type WorkQuery } from '@ironflow/core/store';
import type { CancelOptions, Control } from './control.js';
import type { EngineSettings } from './options.js';

/** Which dead letters a bulk re-drive takes: a work filter without status or position. */
export type DeadLetterFilter = Omit<WorkQuery, 'status' | 'after' | 'limit'>;

/** Which instances a bulk cancel takes: an instance filter without status or position (only active ones are cancelled). */
export type InstanceFilter = Omit<InstancePageQuery, 'status' | 'after' | 'limit'>;

/** Options of the bulk operations. */
export interface BulkOptions {
  /** Count what would be affected, change nothing. @default false */
  dryRun?: boolean | undefined;
  /** Called after each page with the number handled so far (and matched so far on a dry run). */
  onProgress?: ((done: number) => void) | undefined;
}

/** What a bulk operation did: on a dry run, `matched` is the preview and `changed` is 0. */
export interface BulkResult {
  readonly matched: number;
  readonly changed: number;
}

const PAGE = 200;

/** The bulk operations of one engine. */
export class Operations {
  constructor(
    private readonly settings: EngineSettings,
    private readonly control: Control,
  ) {}

  /** Re-drives every dead letter the filter matches (or counts them, on a dry run). */
  async redriveWhere(filter: DeadLetterFilter, options: BulkOptions = {}): Promise<BulkResult> {
    const { store, clock } = this.settings;
    const kind: WorkKind = checkFilter(filter).kind as WorkKind;
    let matched = 0;
    let changed = 0;
    let after: string | undefined;
    do {
      // Re-driven rows leave `dead`, so the cursor (by id) neither skips nor repeats any.
      const page = await store.listWork({ ...filter, kind, status: 'dead', after, limit: PAGE });
      matched += page.items.length;
      if (options.dryRun !== true) {
        for (const row of page.items) if (await store.redrive(kind, row.id, clock.now())) changed += 1;
      }
      options.onProgress?.(options.dryRun === true ? matched : changed);
      after = page.next;
    } while (after !== undefined);
    return { matched, changed };
  }

  /** Cancels every active instance the filter matches (or counts them, on a dry run). */
  async cancelWhere(filter: InstanceFilter, reason: string, options: BulkOptions & CancelOptions = {}): Promise<BulkResult> {
    const { store } = this.settings;
    checkFilter(filter);
    if (typeof reason !== 'string') throw invalidArgument(`cancelWhere needs a reason, got ${typeof reason}`);
    let matched = 0;
    let changed = 0;
    let after: string | undefined;
    do {
      const page = await store.pageInstances({ ...filter, status: 'active', after, limit: PAGE });
      matched += page.items.length;
      if (options.dryRun !== true) {
        for (const instance of page.items) {
          const ref: WorkflowRef = { type: instance.workflowType, id: instance.workflowId };
          const result = await this.control.cancel(ref, reason, options);
          if (result.outcome !== 'not-active') changed += 1;
        }
      }
      options.onProgress?.(options.dryRun === true ? matched : changed);
      after = page.next;
    } while (after !== undefined);
    return { matched, changed };
  }

  /** Forgets idempotency keys committed more than `olderThanMs` ago; returns how many. */
  async purgeIdempotencyKeys(olderThanMs: number): Promise<number> {
    if (!Number.isFinite(olderThanMs) || olderThanMs < 0) throw invalidArgument(`purgeIdempotencyKeys() needs a non-negative age in ms, got ${olderThanMs}`);
    return this.settings.store.purgeIdempotencyKeys(this.settings.clock.now() - olderThanMs);
  }
}

function checkFilter<F extends object>(filter: F): F {
  if (typeof filter !== 'object' || filter === null) throw invalidArgument('a bulk operation needs a filter object');
  for (const field of ['status', 'after', 'limit'] as const) {
    if (field in filter) throw invalidArgument(`a bulk operation's filter sets no ${field}: it pages through every match itself`);
  }
  return filter;
}
