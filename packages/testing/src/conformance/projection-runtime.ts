// Projections end to end on the store under test, driven by the real runtime on a manual clock:
// every event projected at least once and, per instance, in sequence order; a second engine on the
// same data takes over after the holder's lease runs out and resumes from its checkpoint; an event
// that fails every try is parked, listed, re-driven and resolved. Each test uses a workflow type
// and a projection name of its own.
import { expect, it } from 'vitest';
import { accept, createManualClock, defineWorkflow, type ManualClock } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, defineProjection, silentLogger, type Engine, type LifecycleEvent, type Projection } from '@ironflow/runtime';
import { freshType, T0, type ConformanceContext } from './context.js';

const LEASE_MS = 30_000;

type StepInput = { type: 'Step'; id: string; n: number };
type StepEvent = { type: 'Stepped'; n: number };

function stepWorkflow(type: string) {
  return defineWorkflow({
    type,
    initialState: () => 0,
    evolve: (_n: number, event: StepEvent) => event.n,
    decide: (input: StepInput) => accept<StepEvent, never, StepInput>({ type: 'Stepped', n: input.n }),
    workflowId: (input) => input.id,
  });
}

type StepWorkflow = ReturnType<typeof stepWorkflow>;

function engineOn(store: WorkflowStore, clock: ManualClock, workflow: StepWorkflow, projection: Projection, workerId: string, events: LifecycleEvent[] = []): Engine {
  return createEngine({ store, clock, logger: silentLogger, workerId, workflows: [workflow], projections: [projection], projectionOptions: { leaseMs: LEASE_MS }, onEvent: (e) => events.push(e) });
}

/**
 * Drives `engine` until `done` holds: a store may hold an event back from its feed while a commit
 * that could precede it is in flight (anywhere on a shared server), so the first drive may not see it yet.
 */
async function driveUntil(engine: Engine, what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    await engine.runUntilIdle();
    if (done()) return;
    if (Date.now() > deadline) throw new Error(`timed out driving the projection until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function projectionRuntimeCases(ctx: ConformanceContext): void {
  it('every event of the projected workflow is handled at least once and, per instance, in sequence order', async () => {
    const clock = createManualClock(T0);
    const workflow = stepWorkflow(freshType('projected'));
    const seen = new Map<string, number[]>();
    const projection = defineProjection({
      name: freshType('projection'),
      workflows: [workflow],
      batchSize: 4,
      handle(batch) {
        for (const e of batch) seen.set(e.workflowId, [...(seen.get(e.workflowId) ?? []), e.event.n]);
      },
    });
    const engine = engineOn(ctx.store, clock, workflow, projection, 'runner-a');
    // Instances interleaved, so that batches cut across them.
    for (let n = 1; n <= 5; n++) for (const id of ['i-1', 'i-2', 'i-3']) await engine.execute(workflow, { type: 'Step', id, n });
    await driveUntil(engine, 'all 15 events are handled', () => [...seen.values()].flat().length >= 15);
    expect(Object.fromEntries(seen)).toEqual({ 'i-1': [1, 2, 3, 4, 5], 'i-2': [1, 2, 3, 4, 5], 'i-3': [1, 2, 3, 4, 5] });
    expect(await engine.projections.get(projection.name)).toMatchObject({ owner: 'runner-a', held: true, deadLetters: 0 });
    await engine.stop();
  });

  it('a second engine on the same data stands by, then takes over after the lease runs out and resumes from the checkpoint', async () => {
    const clock = createManualClock(T0);
    const workflow = stepWorkflow(freshType('projected'));
    const name = freshType('projection');
    const handled: { by: string; key: string }[] = [];
    const projectionFor = (by: string) =>
      defineProjection({
        name,
        workflows: [workflow],
        handle(batch) {
          for (const e of batch) handled.push({ by, key: `${e.workflowId}#${e.sequence}` });
        },
      });
    const bEvents: LifecycleEvent[] = [];
    const a = engineOn(ctx.store, clock, workflow, projectionFor('a'), 'runner-a');
    const b = engineOn(await ctx.open(ctx.namespace), clock, workflow, projectionFor('b'), 'runner-b', bEvents);
    for (const id of ['t-1', 't-2']) await a.execute(workflow, { type: 'Step', id, n: 1 });
    await driveUntil(a, 'a handled the first two events', () => handled.length >= 2);
    expect(await b.runUntilIdle()).toMatchObject({ projected: 0, heldElsewhere: [name] });
    const checkpoint = (await a.projections.get(name))?.position;
    expect(checkpoint).toBeDefined();

    // a goes quiet past its lease; b takes over from a's checkpoint.
    clock.advance(LEASE_MS + 1);
    for (const id of ['t-3', 't-4']) await b.execute(workflow, { type: 'Step', id, n: 1 });
    await driveUntil(b, 'b handled the two new events', () => handled.filter((h) => h.by === 'b').length >= 2);
    expect(bEvents.filter((e) => e.type === 'projection.claimed')).toEqual([expect.objectContaining({ projection: name, position: checkpoint })]);
    // Sorted: a partitioned store orders events of different instances only within a partition.
    expect(handled.map((h) => `${h.by}:${h.key}`).sort()).toEqual(['a:t-1#1', 'a:t-2#1', 'b:t-3#1', 'b:t-4#1']);
    // a comes back to a lease it no longer holds: it leaves the projection alone.
    expect(await a.runUntilIdle()).toMatchObject({ projected: 0, heldElsewhere: [name] });
    expect(await a.projections.get(name)).toMatchObject({ owner: 'runner-b', held: true });
    await b.stop();
    await a.stop();
  });

  it('an event that fails every try is parked and listed; the others go on; re-driven once fixed, it is handled and its dead letter resolved', async () => {
    const clock = createManualClock(T0);
    const workflow = stepWorkflow(freshType('projected'));
    const name = freshType('projection');
    let broken = true;
    const handled: string[] = [];
    const projection = defineProjection({
      name,
      workflows: [workflow],
      retry: { maxAttempts: 2, baseDelayMs: 10_000 },
      handle(batch) {
        if (broken && batch.some((e) => e.workflowId === 'poison')) throw new Error('read model refuses poison');
        handled.push(...batch.map((e) => e.workflowId));
      },
    });
    const engine = engineOn(ctx.store, clock, workflow, projection, 'runner-a');
    for (const id of ['ok-1', 'poison', 'ok-2']) await engine.execute(workflow, { type: 'Step', id, n: 1 });
    await driveUntil(engine, 'the healthy events are handled', () => handled.length >= 2);
    expect([...handled].sort()).toEqual(['ok-1', 'ok-2']);
    const { items } = await engine.projections.deadLetters.list(name);
    expect(items).toEqual([expect.objectContaining({ projection: name, status: 'parked', workflowType: workflow.type, workflowId: 'poison', sequence: 1, eventType: 'Stepped', error: 'Error: read model refuses poison' })]);
    // Two tries alone, after two of its batch when it came with others.
    expect([2, 4]).toContain(items[0]!.attempts);
    expect(await engine.projections.get(name)).toMatchObject({ deadLetters: 1 });

    broken = false;
    expect(await engine.projections.deadLetters.redrive(name, items[0]!.id)).toBe(true);
    expect(await engine.runUntilIdle()).toMatchObject({ projected: 1 });
    expect(handled.at(-1)).toBe('poison');
    expect((await engine.projections.deadLetters.list(name)).items).toEqual([]);
    await engine.stop();
  });
}
