// The runtime's half of child workflows (ADR 0009): it runs the system effects that start a child
// and that tell a parent how its child ended, each exactly once through an idempotency key derived
// from the effect's id, and tells a parent when its child's work is dead-lettered.
import type { WorkflowRef } from '@ironflow/core';
import { systemEffectOf, type ExecuteResult, type StartChildPayload } from '@ironflow/core/engine';
import { IronflowError, isIronflowError, type Claimed, type EffectRecord } from '@ironflow/core/store';
import type { ChildNotice } from '@ironflow/core';
import type { Executor } from './executor.js';
import type { LifecycleEmitter } from './lifecycle.js';
import type { EngineSettings, WorkflowEntry } from './options.js';
import type { Settler } from './settle.js';

/** Runs system effects: child starts and endings. */
export class Children {
  constructor(
    private readonly settings: EngineSettings,
    private readonly lifecycle: LifecycleEmitter,
    private readonly executor: Executor,
    private readonly settler: Settler,
  ) {}

  /** True when `item` is a system effect this class runs instead of a user's handler. */
  handles(item: Claimed<EffectRecord>): boolean {
    return systemEffectOf(item.payload) !== undefined;
  }

  /** Runs a system effect to its outcome: completed once its work is done, retried on failure. */
  async run(item: Claimed<EffectRecord>, entry: WorkflowEntry): Promise<void> {
    const payload = systemEffectOf(item.payload)!;
    try {
      if (payload.$ironflow === 'start') await this.#start(item, payload);
      else await this.#tell(item, payload.parent, payload.notice, `ironflow:child:${item.id}`);
      await this.settings.store.complete(item.lease, this.settings.clock.now());
    } catch (error) {
      if (isIronflowError(error, 'LEASE_LOST')) return this.settler.lost(item, error);
      return this.settler.failure(item, entry, error);
    }
  }

  /** Creates the child, recording its parent; a start the child refuses is told to the parent. */
  async #start(item: Claimed<EffectRecord>, payload: StartChildPayload): Promise<void> {
    const child = this.settings.entries.find(payload.workflowType);
    if (child === undefined) {
      throw new IronflowError('UNKNOWN_WORKFLOW_TYPE', `cannot start a child of type "${payload.workflowType}": it is not registered with this engine`, { details: { workflowType: payload.workflowType } });
    }
    const parent = { type: item.workflowType, id: item.workflowId };
    const result = await this.executor.run(child.workflow, payload.input, { idempotencyKey: `ironflow:start:${item.id}`, parent });
    const notice = refused(payload.workflowType, result);
    if (notice !== undefined) await this.#tell(item, parent, notice, `ironflow:start-refused:${item.id}`);
  }

  /** Decides the parent's `onChild` input for `notice`, once (by `idempotencyKey`); nothing when the parent has no `onChild`. */
  async #tell(item: { readonly id: string }, parent: WorkflowRef, notice: ChildNotice, idempotencyKey: string): Promise<void> {
    const entry = this.settings.entries.find(parent.type);
    if (entry === undefined) {
      throw new IronflowError('UNKNOWN_WORKFLOW_TYPE', `cannot tell parent ${parent.type}:${parent.id} how its child ended: its type is not registered with this engine`, { details: { workflowType: parent.type } });
    }
    const onChild = entry.workflow.onChild;
    if (onChild === undefined) return;
    let input: unknown;
    try {
      input = onChild(notice);
    } catch (cause) {
      throw new IronflowError('DECIDE_FAILED', `onChild of ${parent.type} threw`, { cause, details: { workflowType: parent.type, workflowId: parent.id } });
    }
    if (input === undefined) return;
    const result = await this.executor.run(entry.workflow, input, { idempotencyKey });
    if (result.status !== 'accepted' && result.status !== 'duplicate') {
      this.settings.logger.info({ id: item.id, workflowType: parent.type, workflowId: parent.id, outcome: result.status }, "a child's ending reached its parent, which did not accept it");
    }
    this.lifecycle.emit({ type: 'child.reported', parentType: parent.type, parentId: parent.id, childType: notice.workflowType, childId: notice.workflowId, outcome: notice.outcome });
  }

  /**
   * Before a child's effect or timer is dead-lettered without an `onDeadLetter` of its own to handle
   * it, tells the parent (once per dead letter). Errors are logged: the dead letter stays either way.
   */
  async beforeDeadLetter(item: { readonly id: string; readonly workflowType: string; readonly workflowId: string }, error: string): Promise<void> {
    try {
      const ref = { type: item.workflowType, id: item.workflowId };
      const { parent } = await this.settings.store.load(ref);
      if (parent === undefined) return;
      const notice: ChildNotice = { outcome: 'failed', workflowType: ref.type, workflowId: ref.id, error };
      await this.#tell(item, parent, notice, `ironflow:child-failed:${item.id}`);
    } catch (tellError) {
      this.settings.logger.error({ err: tellError, id: item.id, workflowType: item.workflowType, workflowId: item.workflowId }, "could not tell the parent that its child's work was dead-lettered");
    }
  }
}

/** The notice for a start the child did not accept, or undefined when it was (or had been) accepted. */
function refused(workflowType: string, result: ExecuteResult): ChildNotice | undefined {
  switch (result.status) {
    case 'accepted':
    case 'duplicate':
      return undefined;
    case 'rejected':
      return { outcome: 'failed', workflowType, workflowId: result.workflowId, error: 'its start input was rejected', reason: result.reason };
    case 'already-completed':
    case 'cancelled':
      return { outcome: 'failed', workflowType, workflowId: result.workflowId, error: `instance ${workflowType}:${result.workflowId} had already ${result.status === 'cancelled' ? 'been cancelled' : 'completed'}` };
  }
}

/** The parent notice of a cancelled child, when it has a parent. */
export const cancelledNotice = (ref: WorkflowRef, reason: string): ChildNotice => ({ outcome: 'cancelled', workflowType: ref.type, workflowId: ref.id, reason });
