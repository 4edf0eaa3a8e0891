// Operator control of live work: cancel an instance (or let its workflow handle the cancellation
// through `onCancel`), pause and resume an instance or a whole workflow type, read the backlog.
import { IronflowError, type AnyWorkflow, type WorkflowRef } from '@ironflow/core';
import type { ExecuteResult } from '@ironflow/core/engine';
import { parseKey, parseRef, parseText, type BacklogEntry, type PausedEntry, type PauseTarget } from '@ironflow/core/store';
import { childEndedPayload } from '@ironflow/core/engine';
import { cancelledNotice } from './children.js';
import type { Executor } from './executor.js';
import { uuidv7 } from './ids.js';
import type { LifecycleEmitter } from './lifecycle.js';
import type { EngineSettings } from './options.js';
import type { RunningEffects } from './running-effects.js';
import { cancelledError } from './settle.js';

/** Options of `engine.cancel`. */
export interface CancelOptions {
  /**
   * Cancel at once even when the workflow defines `onCancel` (for an instance whose compensation
   * cannot finish).
   * @default false
   */
  force?: boolean | undefined;
  /**
   * Cancel the instance's active children too (those it started with `startChild`), and theirs,
   * with the reason `parent <type>:<id> cancelled: <reason>`.
   * @default true
   */
  children?: boolean | undefined;
}

/** What `engine.cancel` did. */
export type CancelResult =
  /** The instance is `cancelled`: its live effects and timers were cancelled (these many), running handlers aborted. */
  | { readonly outcome: 'cancelled'; readonly effects: number; readonly timers: number }
  /** The workflow's `onCancel` input was decided instead; `result` is that decision's outcome. */
  | { readonly outcome: 'handled'; readonly result: ExecuteResult }
  /** The instance does not exist or is already terminal; nothing was done. */
  | { readonly outcome: 'not-active' };

/** The control operations of one engine. */
export class Control {
  constructor(
    private readonly settings: EngineSettings,
    private readonly executor: Executor,
    private readonly running: RunningEffects,
    private readonly lifecycle: LifecycleEmitter,
  ) {}

  async cancel(ref: WorkflowRef, reason: string, options: CancelOptions = {}): Promise<CancelResult> {
    const checked = parseRef(ref);
    const why = parseText(reason, 'reason');
    const workflow = this.settings.entries.find(checked.type)?.workflow;
    if (workflow?.onCancel && options.force !== true) {
      const handled = await this.#handle(workflow, checked, why);
      if (handled !== undefined) return handled;
    }
    const { store, clock } = this.settings;
    // A child tells its parent, in the same write as its cancellation.
    const { parent, status } = await store.load(checked);
    if (status !== 'active') return { outcome: 'not-active' };
    const effects = parent === undefined ? [] : [{ id: uuidv7(clock.now()), payload: childEndedPayload(parent, cancelledNotice(checked, why)) }];
    const result = await store.cancelInstance({ ref: checked, now: clock.now(), reason: why, effects });
    this.executor.forget(checked);
    if (!result.cancelled) return { outcome: 'not-active' };
    this.running.cancel(checked, {}, (id) => cancelledError({ id, workflowType: checked.type, workflowId: checked.id }, `its instance was cancelled: ${why}`));
    this.lifecycle.emit({ type: 'instance.cancelled', workflowType: checked.type, workflowId: checked.id, reason: why, effects: result.effects, timers: result.timers });
    if (options.children !== false) await this.#cancelChildren(checked, why, options);
    return { outcome: 'cancelled', effects: result.effects, timers: result.timers };
  }

  /** Cancels every active child of `parent`, a page at a time. */
  async #cancelChildren(parent: WorkflowRef, reason: string, options: CancelOptions): Promise<void> {
    let after: string | undefined;
    do {
      const page = await this.settings.store.pageInstances({ parent, status: 'active', after, limit: 100 });
      for (const child of page.items) {
        await this.cancel({ type: child.workflowType, id: child.workflowId }, `parent ${parent.type}:${parent.id} cancelled: ${reason}`, options);
      }
      after = page.next;
    } while (after !== undefined);
  }

  /** Decides the workflow's `onCancel` input; undefined when it returned none (cancel at once). */
  async #handle(workflow: AnyWorkflow, ref: WorkflowRef, reason: string): Promise<CancelResult | undefined> {
    // Only a live instance is handled: the input must not create an instance that never existed.
    const loaded = await this.settings.store.load(ref);
    if (loaded.version === 0 || loaded.status !== 'active') return { outcome: 'not-active' };
    let input: unknown;
    try {
      input = workflow.onCancel!({ workflowType: ref.type, workflowId: ref.id, reason });
    } catch (cause) {
      throw new IronflowError('DECIDE_FAILED', `onCancel threw for ${ref.type}:${ref.id}`, { cause, details: { workflowType: ref.type, workflowId: ref.id } });
    }
    if (input === undefined) return undefined;
    let target: unknown;
    try {
      target = workflow.workflowId(input);
    } catch (cause) {
      throw new IronflowError('INVALID_DECISION', `onCancel of ${ref.type} returned an input workflowId() cannot read`, { cause, details: { workflowType: ref.type, workflowId: ref.id } });
    }
    if (target !== ref.id) {
      throw new IronflowError('INVALID_DECISION', `onCancel of ${ref.type}:${ref.id} returned an input for instance ${String(target)}`, { details: { workflowType: ref.type, workflowId: ref.id } });
    }
    return { outcome: 'handled', result: await this.executor.run(workflow, input) };
  }

  /** Pauses or resumes one instance (`ref` must name one: a missing id is refused, not a whole type). */
  async setInstancePaused(ref: WorkflowRef, paused: boolean): Promise<boolean> {
    return this.#setPaused(parseRef(ref), paused);
  }

  /** Pauses or resumes a whole workflow type, registered here or not (other processes may run it). */
  async setTypePaused(workflowType: string, paused: boolean): Promise<boolean> {
    return this.#setPaused({ type: parseKey(workflowType, 'workflowType') }, paused);
  }

  #setPaused(target: PauseTarget, paused: boolean): Promise<boolean> {
    return this.settings.store.setPaused(target, paused, this.settings.clock.now());
  }

  listPaused(): Promise<PausedEntry[]> {
    return this.settings.store.listPaused();
  }

  backlog(): Promise<BacklogEntry[]> {
    return this.settings.store.backlog(this.settings.clock.now());
  }
}
