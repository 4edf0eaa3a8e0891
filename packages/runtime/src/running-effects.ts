// The effects this process holds — claimed, queued or running — by instance, so that a
// cancellation this engine makes (engine.cancel, or a commit that cancels effects by key or by
// completing) aborts their handlers at once, or keeps a queued one from starting, instead of
// waiting for their next lease renewal.
import type { WorkflowRef } from '@ironflow/core';
import { instanceKey } from '@ironflow/core/engine';

/** One held effect: what a cancellation matches it by, and how to abort it once it runs. */
interface Held {
  readonly id: string;
  readonly key: string | undefined;
  readonly instance: string;
  abort: ((reason: unknown) => void) | undefined;
  /** Set by a cancellation that came before the handler started. */
  reason: unknown;
  cancelled: boolean;
}

/** What identifies a claimed effect here. */
export interface HeldEffect {
  readonly id: string;
  readonly key?: string | undefined;
  readonly workflowType: string;
  readonly workflowId: string;
}

/** Which held effects of an instance a cancellation reaches. */
export interface CancelScope {
  /** Only effects with one of these keys; every effect of the instance when absent. */
  readonly keys?: readonly string[] | undefined;
  /** Never this effect: the one whose acknowledgement the cancelling commit carried. */
  readonly except?: string | undefined;
}

/** Effects held by this process, by id and by instance. */
export class RunningEffects {
  readonly #byId = new Map<string, Held>();
  readonly #byInstance = new Map<string, Held[]>();

  /** Holds a claimed effect until `forget`; claiming it again (recovery) keeps the first entry. */
  track(effect: HeldEffect): void {
    if (this.#byId.has(effect.id)) return;
    const instance = instanceKey({ type: effect.workflowType, id: effect.workflowId });
    const held: Held = { id: effect.id, key: effect.key, instance, abort: undefined, reason: undefined, cancelled: false };
    this.#byId.set(effect.id, held);
    const list = this.#byInstance.get(instance);
    if (list === undefined) this.#byInstance.set(instance, [held]);
    else list.push(held);
  }

  /** The reason the effect was cancelled while it waited to start; undefined when it was not. */
  cancelledWhileQueued(id: string): { reason: unknown } | undefined {
    const held = this.#byId.get(id);
    return held?.cancelled ? { reason: held.reason } : undefined;
  }

  /** Its handler started: a cancellation now calls `abort` (at once if one already came). */
  attach(effect: HeldEffect, abort: (reason: unknown) => void): void {
    this.track(effect);
    const held = this.#byId.get(effect.id)!;
    held.abort = abort;
    if (held.cancelled) abort(held.reason);
  }

  /** Stops holding the effect (settled, released, lost). */
  forget(id: string): void {
    const held = this.#byId.get(id);
    if (held === undefined) return;
    this.#byId.delete(id);
    const list = this.#byInstance.get(held.instance);
    if (list === undefined) return;
    const index = list.indexOf(held);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.#byInstance.delete(held.instance);
  }

  /** Cancels the held effects of `ref` in `scope` with `reason(effectId)`; returns how many. */
  cancel(ref: WorkflowRef, scope: CancelScope, reason: (effectId: string) => unknown): number {
    const list = this.#byInstance.get(instanceKey(ref));
    if (list === undefined) return 0;
    const keys = scope.keys === undefined ? undefined : new Set(scope.keys);
    const reached = list.filter((h) => !h.cancelled && h.id !== scope.except && (keys === undefined || (h.key !== undefined && keys.has(h.key))));
    for (const held of reached) {
      held.cancelled = true;
      held.reason = reason(held.id);
      held.abort?.(held.reason);
    }
    return reached.length;
  }

  /** Effects held now (for tests and health). */
  get size(): number {
    return this.#byId.size;
  }
}
