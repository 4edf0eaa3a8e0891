// Retention end to end on the store under test (issue 13): the runtime's sweep archives and deletes
// ended instances older than their workflow's `afterMs`, keeps younger, active and busy ones and
// one whose archive throws; two engines sweeping one namespace at once delete each instance once.
import { expect, it } from 'vitest';
import { accept, createManualClock, defineWorkflow, type ManualClock } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, register, silentLogger, type ArchivedInstance, type Engine, type LifecycleEvent, type RetentionOptions } from '@ironflow/runtime';
import { freshType, T0, type ConformanceContext } from './context.js';

type TaskInput = { type: 'Open'; id: string; work?: boolean } | { type: 'Close'; id: string };
type TaskEvent = { type: 'Opened' } | { type: 'Closed' };

function taskWorkflow(type: string) {
  return defineWorkflow({
    type,
    initialState: () => ({ closed: false }),
    evolve: (_state: { closed: boolean }, event: TaskEvent) => ({ closed: event.type === 'Closed' }),
    decide: (input: TaskInput) =>
      input.type === 'Open'
        ? accept<TaskEvent, { type: 'work' }, TaskInput>({ type: 'Opened' }, input.work === true ? { effects: [{ type: 'work' }] } : {})
        : accept({ type: 'Closed' as const }),
    workflowId: (input) => input.id,
    isTerminal: (state) => state.closed,
    // A busy instance keeps its effect after it completes.
    terminalPolicy: 'run',
  });
}

type TaskWorkflow = ReturnType<typeof taskWorkflow>;

function engineOn(store: WorkflowStore, clock: ManualClock, workflow: TaskWorkflow, retention: RetentionOptions, events: LifecycleEvent[] = []): Engine {
  return createEngine({ store, clock, logger: silentLogger, workflows: [register(workflow).handle(() => undefined)], retention, onEvent: (e) => events.push(e) });
}

export function retentionRuntimeCases(ctx: ConformanceContext): void {
  it('a sweep archives and deletes ended instances older than afterMs; younger, active and busy ones and one whose archive throws are kept', async () => {
    const task = taskWorkflow(freshType('retained'));
    const clock = createManualClock(T0);
    const archived: ArchivedInstance[] = [];
    const events: LifecycleEvent[] = [];
    const retention: RetentionOptions = {
      workflows: {
        [task.type]: {
          afterMs: 60_000,
          archive: (instance) => {
            if (instance.ref.id === 'refuses') throw new Error('bucket unavailable');
            archived.push(instance);
          },
        },
      },
      batchSize: 2,
    };
    const engine = engineOn(ctx.store, clock, task, retention, events);
    for (const id of ['done-1', 'done-2', 'refuses']) {
      await engine.execute(task, { type: 'Open', id });
      await engine.execute(task, { type: 'Close', id });
    }
    await engine.execute(task, { type: 'Open', id: 'cancelled' });
    await engine.cancel({ type: task.type, id: 'cancelled' }, 'customer left');
    await engine.execute(task, { type: 'Open', id: 'active' });
    // Completed with its effect still pending (terminal policy `run`): busy.
    await engine.execute(task, { type: 'Open', id: 'busy', work: true });
    await engine.execute(task, { type: 'Close', id: 'busy' });
    clock.advance(30_000);
    await engine.execute(task, { type: 'Open', id: 'young' });
    await engine.execute(task, { type: 'Close', id: 'young' });

    const report = await engine.retention.sweep({ now: T0 + 80_000 });
    expect(report).toEqual({ deleted: 3, archived: 4, skipped: { missing: 0, changed: 0, active: 0, busy: 1 }, failed: 1 });
    expect(archived.map((a) => a.ref.id).sort()).toEqual(['busy', 'cancelled', 'done-1', 'done-2']);
    const done = archived.find((a) => a.ref.id === 'done-1')!;
    expect(done).toMatchObject({ ref: { type: task.type, id: 'done-1' }, status: 'completed', version: 2 });
    expect(done.events.map((e) => [e.sequence, e.type])).toEqual([[1, 'Opened'], [2, 'Closed']]);
    expect(archived.find((a) => a.ref.id === 'cancelled')).toMatchObject({ status: 'cancelled', cancelReason: 'customer left' });

    const left = (await ctx.store.listInstances({ workflowType: task.type, limit: 100 })).map((i) => i.workflowId).sort();
    expect(left).toEqual(['active', 'busy', 'refuses', 'young']);
    for (const id of ['done-1', 'done-2', 'cancelled']) expect(await ctx.store.readEvents({ type: task.type, id })).toEqual([]);
    expect(events.filter((e) => e.type === 'instance.deleted').map((e) => (e as { workflowId: string }).workflowId).sort()).toEqual(['cancelled', 'done-1', 'done-2']);
    expect(events.filter((e) => e.type === 'retention.swept')).toEqual([expect.objectContaining({ deleted: 3, archived: 4, failed: 1 })]);

    // Once the busy instance's work is done and the archive works again, the next sweep takes both.
    await engine.runUntilIdle();
    archived.length = 0;
    retention.workflows[task.type]!.archive = (instance) => void archived.push(instance);
    const again = createEngine({ store: ctx.store, clock, logger: silentLogger, workflows: [task], retention });
    expect(await again.retention.sweep({ now: T0 + 80_000 })).toEqual({ deleted: 2, archived: 2, skipped: { missing: 0, changed: 0, active: 0, busy: 0 }, failed: 0 });
    expect((await ctx.store.listInstances({ workflowType: task.type })).map((i) => i.workflowId).sort()).toEqual(['active', 'young']);
  });

  it('two engines sweeping the same instances at once delete each one once and archive each at least once', async () => {
    const task = taskWorkflow(freshType('swept'));
    const clock = createManualClock(T0);
    const ids = Array.from({ length: 8 }, (_, i) => `t-${i}`);
    const archivedBy: Record<string, string[]> = { a: [], b: [] };
    const retentionOf = (by: 'a' | 'b'): RetentionOptions => ({
      workflows: { [task.type]: { afterMs: 1_000, archive: (instance) => void archivedBy[by]!.push(instance.ref.id) } },
      batchSize: 3,
    });
    const a = engineOn(ctx.store, clock, task, retentionOf('a'));
    const b = engineOn(await ctx.open(ctx.namespace), clock, task, retentionOf('b'));
    for (const id of ids) {
      await a.execute(task, { type: 'Open', id });
      await a.execute(task, { type: 'Close', id });
    }
    const [fromA, fromB] = await Promise.all([a.retention.sweep({ now: T0 + 5_000 }), b.retention.sweep({ now: T0 + 5_000 })]);
    expect(fromA.deleted + fromB.deleted).toBe(ids.length);
    expect(fromA.failed + fromB.failed).toBe(0);
    expect(new Set([...archivedBy.a!, ...archivedBy.b!])).toEqual(new Set(ids));
    expect(await ctx.store.listInstances({ workflowType: task.type })).toEqual([]);
    for (const id of ids) expect(await ctx.store.readEvents({ type: task.type, id })).toEqual([]);
  });
}
