// Workflows, engines and store wrappers shared by the projection tests.
import { accept, createManualClock, defineWorkflow, type ManualClock } from '@ironflow/core';
import type { ProjectionLease, ProjectionSave, WorkflowStore } from '@ironflow/core/store';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, type EngineOptions, type LifecycleEvent } from '../src/index.js';
import { recordingLogger } from './fixtures.js';

export type CounterInput = { type: 'Add'; id: string; n: number } | { type: 'Note'; id: string; text: string };
/** `v` is set by the upcast: stored events have none. */
export type CounterEvent = { type: 'Added'; n: number; v?: number } | { type: 'Noted'; text: string; v?: number };

/** Adds numbers per instance; its `upcast` marks every stored event `v: 2`. */
export function counterWorkflow(type = 'counter') {
  return defineWorkflow({
    type,
    initialState: () => ({ total: 0 }),
    evolve: (state: { total: number }, event: CounterEvent) => (event.type === 'Added' ? { total: state.total + event.n } : state),
    decide: (input: CounterInput) =>
      input.type === 'Add' ? accept<CounterEvent, never, CounterInput>({ type: 'Added', n: input.n }) : accept<CounterEvent, never, CounterInput>({ type: 'Noted', text: input.text }),
    workflowId: (input) => input.id,
    upcast: (stored) => ({ ...(stored.payload as CounterEvent), v: 2 }),
  });
}

export type TallyInput = { type: 'Count'; id: string };
export type TallyEvent = { type: 'Counted' };

/** A second workflow, without an upcast. */
export function tallyWorkflow(type = 'tally') {
  return defineWorkflow({
    type,
    initialState: () => 0,
    evolve: (n: number, _event: TallyEvent) => n + 1,
    decide: (_input: TallyInput) => accept<TallyEvent, never, TallyInput>({ type: 'Counted' }),
    workflowId: (input) => input.id,
  });
}

/** A store that records the saves and renewals it is asked for, and can be told to fail reads. */
export interface CountingStore extends WorkflowStore {
  /** Every save asked for, refused ones included. */
  readonly saves: { lease: ProjectionLease; save: ProjectionSave; transactional: boolean }[];
  /** The positions of the saves that were written, in order. */
  readonly saved: string[];
  /** While set, readFeed rejects with it. */
  failReads: Error | undefined;
}

export function countingStore(inner: WorkflowStore = createMemoryStore()): CountingStore {
  const store: CountingStore = {
    ...inner,
    saves: [],
    saved: [],
    failReads: undefined,
    async saveProjection(lease, save, apply) {
      store.saves.push({ lease, save, transactional: apply !== undefined });
      await inner.saveProjection(lease, save, apply);
      if (save.position !== undefined) store.saved.push(save.position);
    },
    async readFeed(query) {
      if (store.failReads !== undefined) throw store.failReads;
      return inner.readFeed(query);
    },
  };
  return store;
}

/** An engine on `store` with a manual clock, a recording logger and its lifecycle events kept. */
export function projectionEngine(options: Partial<EngineOptions> & Pick<EngineOptions, 'store' | 'workflows'>, clock: ManualClock = createManualClock()) {
  const events: LifecycleEvent[] = [];
  const logger = recordingLogger();
  const engine = createEngine({ clock, logger, onEvent: (event) => events.push(event), ...options });
  return { engine, clock, events, logger, of: <T extends LifecycleEvent['type']>(type: T) => events.filter((e): e is Extract<LifecycleEvent, { type: T }> => e.type === type) };
}
