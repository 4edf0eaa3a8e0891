// Fires one claimed timer: delivers its input to its workflow with the acknowledgement, and
// settles it as fired, retried, released (not understood by this code), dead or lost.
import { isIronflowError } from '@ironflow/core';
import type { Claimed, TimerRecord } from '@ironflow/core/store';
import type { LifecycleEmitter } from './lifecycle.js';
import { newerVersion } from './not-understood.js';
import { describeError, type Settler } from './settle.js';

/** Fires the timers an engine claims. */
export class TimerRunner {
  constructor(
    private readonly lifecycle: LifecycleEmitter,
    private readonly settler: Settler,
  ) {}

  /** Processes one claimed timer to an outcome. */
  async run(item: Claimed<TimerRecord>): Promise<void> {
    const entry = await this.settler.entryToRun(item);
    if (!entry) return;
    const newer = newerVersion(item, entry.workflow);
    if (newer !== undefined) return this.settler.notUnderstood(item, entry, newer);
    try {
      const outcome = await this.settler.deliver(item, entry.workflow, item.input);
      this.lifecycle.emit({ type: 'timer.fired', id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts, outcome });
    } catch (error) {
      if (isIronflowError(error, 'LEASE_LOST')) return this.settler.lost(item, error);
      // Its input fails the workflow's schema (VALIDATION_FAILED is only ever the input's): written
      // by newer code, perhaps, which a newer process can decide. Nothing was written.
      if (isIronflowError(error, 'VALIDATION_FAILED')) return this.settler.notUnderstood(item, entry, describeError(error));
      return this.settler.failure(item, entry, error);
    }
  }
}
