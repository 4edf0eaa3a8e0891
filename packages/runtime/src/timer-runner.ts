// Fires one claimed timer: delivers its input to its workflow with the acknowledgement, and
// settles it as fired, retried, dead or lost.
import { isIronflowError } from '@ironflow/core';
import type { Claimed, TimerRecord } from '@ironflow/core/store';
import type { LifecycleEmitter } from './lifecycle.js';
import type { Settler } from './settle.js';

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
    try {
      const outcome = await this.settler.deliver(item, entry.workflow, item.input);
      this.lifecycle.emit({ type: 'timer.fired', id: item.id, workflowType: item.workflowType, workflowId: item.workflowId, attempt: item.attempts, outcome });
    } catch (error) {
      if (isIronflowError(error, 'LEASE_LOST')) return this.settler.lost(item, error);
      return this.settler.failure(item, entry, error);
    }
  }
}
