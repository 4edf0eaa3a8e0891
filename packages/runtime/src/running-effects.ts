// The effects whose handlers run in this process, by instance, so that a cancellation this engine
// makes (engine.cancel, or a commit that cancels effects by key or by completing) aborts them at
// once instead of at their next lease renewal.
import { instanceKey } from '@ironflow/core/engine';
import type { WorkflowRef } from '@ironflow/core';

/** One running handler: its effect and how to abort it. */
interface Running {
  readonly id: string;
  readonly key: string | undefined;
  readonly abort: (reason: unknown) => void;
}

/** Which running effects of an instance a cancellation reaches. */
export interface CancelScope {
  /** Only effects with one of these keys; every effect of the instance when absent. */
  readonly keys?: readonly string[] | undefined;
  /** Never this effect: the one whose acknowledgement the cancelling commit carried. */
  readonly except?: string | undefined;
}

/** Running handlers of this process, grouped by instance. */
export class RunningEffects {
  readonly #byInstance = new Map<string, Running[]>();

  /** Records a running handler; returns the function that forgets it. */
  add(ref: WorkflowRef, id: string, key: string | undefined, abort: (reason: unknown) => void): () => void {
    const k = instanceKey(ref);
    const entry: Running = { id, key, abort };
    const list = this.#byInstance.get(k);
    if (list === undefined) this.#byInstance.set(k, [entry]);
    else list.push(entry);
    return () => {
      const current = this.#byInstance.get(k);
      if (current === undefined) return;
      const index = current.indexOf(entry);
      if (index >= 0) current.splice(index, 1);
      if (current.length === 0) this.#byInstance.delete(k);
    };
  }

  /** Aborts the running handlers of `ref` in `scope` with `reason(effectId)`; returns how many. */
  cancel(ref: WorkflowRef, scope: CancelScope, reason: (effectId: string) => unknown): number {
    const list = this.#byInstance.get(instanceKey(ref));
    if (list === undefined) return 0;
    const keys = scope.keys === undefined ? undefined : new Set(scope.keys);
    const reached = list.filter((r) => r.id !== scope.except && (keys === undefined || (r.key !== undefined && keys.has(r.key))));
    for (const r of reached) r.abort(reason(r.id));
    return reached.length;
  }
}
