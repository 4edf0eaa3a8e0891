// The offline replay check on the store under test (issue 13): histories are written by the old
// code through the real runtime on a manual clock, then `replayCheck` runs new code over them. What
// it reads back through the store (snapshots, key order in JSON, observations, pages of instances)
// must let clean code pass, and each kind of change be reported on the instance it breaks.
import { expect, it } from 'vitest';
import { accept, createManualClock, defineWorkflow, reject, type EventVersions } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, replayCheck, silentLogger, type ReplayProgress } from '@ironflow/runtime';
import { freshType, T0, type ConformanceContext } from './context.js';

type TabInput = { type: 'Open'; id: string; owner: string } | { type: 'Add'; id: string; amount: number; by: string } | { type: 'Close'; id: string };
type TabEvent = { type: 'Opened'; owner: string } | { type: 'Added'; amount: number; by: string } | { type: 'Closed' } | { type: 'Opened'; holder: string };
// Keys in an order PostgreSQL's jsonb does not keep (it sorts by length, then bytes).
interface TabState {
  status: 'new' | 'open' | 'closed';
  owner: string;
  total: number;
  lastBy: string;
}

/** How the new code differs from the old. */
interface Change {
  /** Opened.owner renamed to holder (schema version 2) with this upcaster. */
  readonly upcast?: ((owner: string) => string) | undefined;
  /** Added now counts twice: a changed evolve. */
  readonly double?: boolean | undefined;
  readonly stateVersion?: number | undefined;
  /** Adds above this are now refused. */
  readonly limit?: number | undefined;
  /** A tab is now terminal once its total reaches this. */
  readonly closesAt?: number | undefined;
}

function tabWorkflow(type: string, change: Change = {}) {
  const renamed = change.upcast !== undefined;
  const eventVersions: EventVersions | undefined = renamed
    ? { Opened: { version: 2, upcasters: { 1: (p: { owner: string }) => ({ type: 'Opened', holder: change.upcast!(p.owner) }) } } }
    : undefined;
  return defineWorkflow({
    type,
    initialState: (): TabState => ({ status: 'new', owner: '', total: 0, lastBy: '' }),
    evolve: (state: TabState, event: TabEvent): TabState => {
      switch (event.type) {
        case 'Opened':
          return { ...state, status: 'open', owner: 'holder' in event ? event.holder : event.owner };
        case 'Added':
          return { ...state, total: state.total + event.amount * (change.double ? 2 : 1), lastBy: event.by };
        case 'Closed':
          return { ...state, status: 'closed' };
      }
    },
    decide: (input: TabInput, state: TabState) => {
      switch (input.type) {
        case 'Open':
          return accept<TabEvent>(renamed ? { type: 'Opened', holder: input.owner } : { type: 'Opened', owner: input.owner });
        case 'Add':
          if (change.limit !== undefined && input.amount > change.limit) return reject('over the limit');
          return accept<TabEvent>({ type: 'Added', amount: input.amount, by: input.by });
        case 'Close':
          return state.status === 'open' ? accept<TabEvent>({ type: 'Closed' }) : reject('not open');
      }
    },
    workflowId: (input) => input.id,
    isTerminal: (state) => state.status === 'closed' || (change.closesAt !== undefined && state.total >= change.closesAt),
    snapshot: { every: 2 },
    stateVersion: change.stateVersion,
    eventVersions,
  });
}

/**
 * Writes with the old code: t-1 closed (3 events), t-2 open with adds of 5 and 50 (a snapshot at
 * version 2), t-3 open then cancelled, t-4 open with one add; decisions recorded as observations.
 */
async function seed(store: WorkflowStore, type: string): Promise<void> {
  const clock = createManualClock(T0);
  const old = tabWorkflow(type);
  const engine = createEngine({ store, clock, logger: silentLogger, workflows: [old], observeInputs: true });
  const run = async (input: TabInput) => expect((await engine.execute(old, input)).status).toBe('accepted');
  await run({ type: 'Open', id: 't-1', owner: 'ann' });
  await run({ type: 'Add', id: 't-1', amount: 1, by: 'ann' });
  await run({ type: 'Close', id: 't-1' });
  clock.advance(1_000);
  await run({ type: 'Open', id: 't-2', owner: 'bob' });
  // Two decisions of one kind at one instant: told apart when decisions are replayed.
  await run({ type: 'Add', id: 't-2', amount: 5, by: 'bob' });
  await run({ type: 'Add', id: 't-2', amount: 50, by: 'cy' });
  clock.advance(1_000);
  await run({ type: 'Open', id: 't-3', owner: 'dee' });
  await engine.cancel({ type, id: 't-3' }, 'closed by support');
  await run({ type: 'Open', id: 't-4', owner: 'eve' });
  await run({ type: 'Add', id: 't-4', amount: 2, by: 'eve' });
}

export function replayCheckCases(ctx: ConformanceContext): void {
  it('new code that replays every stored history passes: snapshots, terminal states and recorded decisions agree', async () => {
    const type = freshType('replay');
    await seed(ctx.store, type);
    expect(await replayCheck({ store: ctx.store, workflow: tabWorkflow(type), decide: true })).toMatchObject({ workflowType: type, checked: 4, failed: 0, problems: [], truncated: false });
    // A renamed field with its upcaster is a clean change too: decisions compare in the latest shape.
    const renamed = tabWorkflow(type, { upcast: (owner) => owner });
    expect(await replayCheck({ store: ctx.store, workflow: renamed, decide: true })).toMatchObject({ checked: 4, failed: 0, problems: [] });
  });

  it('an upcaster that throws is fold-failed (UPCAST_FAILED) on the instance whose event it fails, at that event', async () => {
    const type = freshType('replay');
    await seed(ctx.store, type);
    const broken = tabWorkflow(type, {
      upcast: (owner) => {
        if (owner === 'bob') throw new Error('cannot upcast bob');
        return owner;
      },
    });
    const report = await replayCheck({ store: ctx.store, workflow: broken });
    expect(report).toMatchObject({ checked: 4, failed: 1 });
    expect(report.problems).toEqual([{ workflowId: 't-2', kind: 'fold-failed', sequence: 1, code: 'UPCAST_FAILED', message: expect.stringContaining('cannot upcast bob') }]);
  });

  it('a changed evolve that diverges from a stored snapshot is snapshot-differs on that instance; with stateVersion raised the snapshot is not used and it passes', async () => {
    const type = freshType('replay');
    await seed(ctx.store, type);
    const report = await replayCheck({ store: ctx.store, workflow: tabWorkflow(type, { double: true }) });
    // t-2 has a snapshot at version 2 with total 5 (t-4's holds 2: both diverge); t-1's holds no add.
    expect(report.problems.map((p) => [p.workflowId, p.kind, p.sequence])).toEqual([
      ['t-1', 'snapshot-differs', 2],
      ['t-2', 'snapshot-differs', 2],
      ['t-4', 'snapshot-differs', 2],
    ]);
    expect(report.failed).toBe(3);
    expect(await replayCheck({ store: ctx.store, workflow: tabWorkflow(type, { double: true, stateVersion: 2 }) })).toMatchObject({ checked: 4, failed: 0 });
  });

  it('an instance stored active whose folded state the new code finds terminal is terminal-differs, and so is one stored completed that it does not', async () => {
    const type = freshType('replay');
    await seed(ctx.store, type);
    const report = await replayCheck({ store: ctx.store, workflow: tabWorkflow(type, { closesAt: 50 }) });
    expect(report.problems).toEqual([{ workflowId: 't-2', kind: 'terminal-differs', message: expect.stringContaining('stored active') }]);
    const neverEnds = defineWorkflow({ ...tabWorkflow(type), isTerminal: () => false });
    const reopened = await replayCheck({ store: ctx.store, workflow: neverEnds });
    // t-3 was cancelled by an operator: its state says nothing about it.
    expect(reopened.problems).toEqual([{ workflowId: 't-1', kind: 'terminal-differs', message: expect.stringContaining('stored completed') }]);
  });

  it('with decide, a recorded accepted input that the new code rejects is decision-differs at the events it produced', async () => {
    const type = freshType('replay');
    await seed(ctx.store, type);
    const report = await replayCheck({ store: ctx.store, workflow: tabWorkflow(type, { limit: 10 }), decide: true });
    expect(report.problems).toEqual([{ workflowId: 't-2', kind: 'decision-differs', sequence: 3, message: expect.stringContaining('now rejected') }]);
    expect(await replayCheck({ store: ctx.store, workflow: tabWorkflow(type, { limit: 10 }) })).toMatchObject({ failed: 0 });
  });

  it("select 'active' checks only active instances, and sample about that many spread over the whole set", async () => {
    const type = freshType('replay');
    await seed(ctx.store, type);
    const neverEnds = defineWorkflow({ ...tabWorkflow(type), isTerminal: () => false });
    expect(await replayCheck({ store: ctx.store, workflow: neverEnds, select: 'active' })).toMatchObject({ checked: 2, failed: 0 });
    const doubled = tabWorkflow(type, { double: true });
    // Of t-1..t-4, a sample of 2 takes the first and the third.
    const sampled = await replayCheck({ store: ctx.store, workflow: doubled, sample: 2, pageSize: 1 });
    expect(sampled).toMatchObject({ checked: 2, failed: 1 });
    expect(sampled.problems.map((p) => p.workflowId)).toEqual(['t-1']);
  });

  it('pages across several pages of instances, reporting progress after each, and caps the problems it lists', async () => {
    const type = freshType('replay');
    const clock = createManualClock(T0);
    const old = tabWorkflow(type);
    const engine = createEngine({ store: ctx.store, clock, logger: silentLogger, workflows: [old] });
    for (let i = 0; i < 23; i++) await engine.execute(old, { type: 'Open', id: `p-${String(i).padStart(2, '0')}`, owner: i % 4 === 0 ? 'bad' : 'ok' });
    const broken = tabWorkflow(type, {
      upcast: (owner) => {
        if (owner === 'bad') throw new Error('bad owner');
        return owner;
      },
    });
    const progress: ReplayProgress[] = [];
    const report = await replayCheck({ store: ctx.store, workflow: broken, pageSize: 5, maxProblems: 4, onProgress: (p) => progress.push(p) });
    expect(report).toMatchObject({ checked: 23, failed: 6, truncated: true });
    expect(report.problems.map((p) => p.workflowId)).toEqual(['p-00', 'p-04', 'p-08', 'p-12']);
    expect(progress.map((p) => p.checked)).toEqual([5, 10, 15, 20, 23]);
    expect(progress.at(-1)).toEqual({ checked: 23, failed: 6 });
  });
}
