// replayCheck on the memory store: histories written by old code, checked with new code — what
// each kind of problem looks like, what is not a problem, which instances are checked, and options.
import { accept, createManualClock, defineWorkflow, isIronflowError, reject, type EventVersions } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createMemoryStore } from '@ironflow/store-memory';
import { describe, expect, it } from 'vitest';
import { createEngine, replayCheck, silentLogger, type ReplayProgress } from '../src/index.js';

type AccountInput = { type: 'Open'; id: string; owner: string } | { type: 'Deposit'; id: string; amount: number } | { type: 'Close'; id: string };
type AccountEventV1 = { type: 'Opened'; owner: string } | { type: 'Deposited'; amount: number } | { type: 'Closed' };
interface AccountState {
  status: 'new' | 'open' | 'closed';
  owner: string;
  balance: number;
}

interface Variant {
  /** Renames Opened.owner to holder (schema version 2, with this upcaster). */
  readonly upcaster?: ((payload: { owner: string }) => { holder: string }) | undefined;
  /** Deposits count double: a changed evolve. */
  readonly double?: boolean | undefined;
  readonly stateVersion?: number | undefined;
  /** Deposits above this are now refused. */
  readonly limit?: number | undefined;
  /** Deposits now write their amount in cents. */
  readonly cents?: boolean | undefined;
  /** A deposit of at least this closes the account: a changed isTerminal. */
  readonly closesAt?: number | undefined;
  readonly snapshotEvery?: number | undefined;
}

/** The account workflow, as the old code (no variant) or a new one wrote it. */
function account(variant: Variant = {}) {
  const renamed = variant.upcaster !== undefined;
  const eventVersions: EventVersions | undefined = renamed ? { Opened: { version: 2, upcasters: { 1: (p: { owner: string }) => ({ type: 'Opened', ...variant.upcaster!(p) }) } } } : undefined;
  return defineWorkflow({
    type: 'account',
    initialState: (): AccountState => ({ status: 'new', owner: '', balance: 0 }),
    evolve: (state: AccountState, event: AccountEventV1 | { type: 'Opened'; holder: string }): AccountState => {
      switch (event.type) {
        case 'Opened':
          return { ...state, status: 'open', owner: 'holder' in event ? event.holder : event.owner };
        case 'Deposited':
          return { ...state, balance: state.balance + event.amount * (variant.double ? 2 : 1) };
        case 'Closed':
          return { ...state, status: 'closed' };
      }
    },
    decide: (input: AccountInput, state: AccountState) => {
      switch (input.type) {
        case 'Open':
          return accept(renamed ? { type: 'Opened' as const, holder: input.owner } : { type: 'Opened' as const, owner: input.owner });
        case 'Deposit':
          if (variant.limit !== undefined && input.amount > variant.limit) return reject('over the limit');
          return accept({ type: 'Deposited' as const, amount: variant.cents ? input.amount * 100 : input.amount });
        case 'Close':
          return state.status === 'open' ? accept({ type: 'Closed' as const }) : reject('not open');
      }
    },
    workflowId: (input) => input.id,
    isTerminal: (state) => state.status === 'closed' || (variant.closesAt !== undefined && state.balance >= variant.closesAt),
    stateVersion: variant.stateVersion,
    eventVersions,
    snapshot: variant.snapshotEvery === undefined ? false : { every: variant.snapshotEvery },
  });
}

/** Writes histories with the old code: a-1 closed, a-2 open with deposits of 5 and 50, a-3 open, then cancelled. */
async function seeded(options: { snapshotEvery?: number; observe?: boolean } = {}): Promise<WorkflowStore> {
  const store = createMemoryStore();
  const clock = createManualClock(Date.UTC(2026, 0, 1));
  const old = account({ snapshotEvery: options.snapshotEvery });
  const engine = createEngine({ store, clock, logger: silentLogger, workflows: [old], observeInputs: options.observe ?? true });
  await engine.execute(old, { type: 'Open', id: 'a-1', owner: 'ann' });
  await engine.execute(old, { type: 'Close', id: 'a-1' });
  clock.advance(1_000);
  await engine.execute(old, { type: 'Open', id: 'a-2', owner: 'bob' });
  await engine.execute(old, { type: 'Deposit', id: 'a-2', amount: 5 });
  clock.advance(1_000);
  await engine.execute(old, { type: 'Deposit', id: 'a-2', amount: 50 });
  await engine.execute(old, { type: 'Open', id: 'a-3', owner: 'cy' });
  await engine.cancel({ type: 'account', id: 'a-3' }, 'test');
  return store;
}

const byId = (problems: readonly { workflowId: string }[]) => problems.map((p) => p.workflowId);

describe('replayCheck', () => {
  it('the unchanged code replays every instance, decisions included', async () => {
    const store = await seeded({ snapshotEvery: 2 });
    const report = await replayCheck({ store, workflow: account({ snapshotEvery: 2 }), decide: true });
    expect(report).toMatchObject({ workflowType: 'account', checked: 3, failed: 0, problems: [], truncated: false });
    expect(report.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it('a renamed field with its upcaster replays cleanly, decisions compared in the latest shape', async () => {
    const store = await seeded({ snapshotEvery: 2 });
    const renamed = account({ upcaster: (p) => ({ holder: p.owner }), snapshotEvery: 2 });
    expect(await replayCheck({ store, workflow: renamed, decide: true })).toMatchObject({ checked: 3, failed: 0, problems: [] });
  });

  it('an upcaster that throws is fold-failed with UPCAST_FAILED, on each instance, at the event', async () => {
    const store = await seeded();
    const broken = account({
      upcaster: (p) => {
        if (p.owner === 'bob') throw new Error('no bob');
        return { holder: p.owner };
      },
    });
    const report = await replayCheck({ store, workflow: broken });
    expect(report).toMatchObject({ checked: 3, failed: 1, truncated: false });
    expect(report.problems).toEqual([{ workflowId: 'a-2', kind: 'fold-failed', sequence: 1, code: 'UPCAST_FAILED', message: expect.stringContaining('no bob') }]);
  });

  it('events written by newer code are unknown-version for older code', async () => {
    const store = await seeded();
    const clock = createManualClock(Date.UTC(2026, 1, 1));
    const newer = account({ upcaster: (p) => ({ holder: p.owner }) });
    await createEngine({ store, clock, logger: silentLogger, workflows: [newer] }).execute(newer, { type: 'Open', id: 'a-4', owner: 'dee' });
    const report = await replayCheck({ store, workflow: account() });
    expect(report.problems).toEqual([{ workflowId: 'a-4', kind: 'unknown-version', sequence: 1, code: 'EVENT_VERSION_UNKNOWN', message: expect.stringContaining('schema version 2') }]);
  });

  it('a changed evolve that diverges from a stored snapshot is snapshot-differs; with the state version raised it is not', async () => {
    const store = await seeded({ snapshotEvery: 2 });
    const report = await replayCheck({ store, workflow: account({ double: true, snapshotEvery: 2 }) });
    // a-2's snapshot at version 2 holds a balance of 5; the new evolve folds 10. a-1's holds no deposit.
    expect(report.problems).toEqual([{ workflowId: 'a-2', kind: 'snapshot-differs', sequence: 2, message: expect.stringContaining('"balance":10') }]);
    expect(await replayCheck({ store, workflow: account({ double: true, snapshotEvery: 2, stateVersion: 2 }) })).toMatchObject({ failed: 0 });
  });

  it('a stored completed instance whose state is not terminal now, and an active one that is, are terminal-differs', async () => {
    const store = await seeded();
    const report = await replayCheck({ store, workflow: account({ closesAt: 50 }) });
    expect(report.problems).toEqual([{ workflowId: 'a-2', kind: 'terminal-differs', message: expect.stringContaining('stored active') }]);
    const neverClosed = defineWorkflow({ ...account(), isTerminal: () => false });
    const other = await replayCheck({ store, workflow: neverClosed });
    // a-3 is cancelled: an operator ended it, whatever its state says.
    expect(other.problems).toEqual([{ workflowId: 'a-1', kind: 'terminal-differs', message: expect.stringContaining('stored completed') }]);
  });

  it('with decide, a recorded input the new code rejects is decision-differs at its events', async () => {
    const store = await seeded();
    const report = await replayCheck({ store, workflow: account({ limit: 10 }), decide: true });
    expect(report.problems).toEqual([{ workflowId: 'a-2', kind: 'decision-differs', sequence: 3, message: expect.stringContaining('now rejected') }]);
    // Without decide only the fold is checked, and the fold is unchanged.
    expect((await replayCheck({ store, workflow: account({ limit: 10 }) })).failed).toBe(0);
  });

  it('with decide, other events are decision-differs and a decide that throws is decide-failed', async () => {
    const store = await seeded();
    const cents = await replayCheck({ store, workflow: account({ cents: true }), decide: true });
    expect(cents.problems).toEqual([{ workflowId: 'a-2', kind: 'decision-differs', sequence: 2, message: expect.stringMatching(/Deposited \{"amount":500,"type":"Deposited"\} now, Deposited \{"amount":5,"type":"Deposited"\} stored/) }]);
    const throwing = defineWorkflow({
      ...account(),
      decide: (input: AccountInput, state: AccountState) => {
        if (input.type === 'Close') throw new Error('closing is broken');
        return account().decide(input, state, { now: new Date(0), workflowType: 'account', workflowId: input.id, version: 0 });
      },
    });
    const failed = await replayCheck({ store, workflow: throwing, decide: true });
    expect(failed.problems).toEqual([{ workflowId: 'a-1', kind: 'decide-failed', sequence: 2, code: 'DECIDE_FAILED', message: expect.stringContaining('closing is broken') }]);
  });

  it('two decisions of one kind at one instant are told apart', async () => {
    const store = createMemoryStore();
    const clock = createManualClock(Date.UTC(2026, 0, 1));
    const old = account();
    const engine = createEngine({ store, clock, logger: silentLogger, workflows: [old], observeInputs: true });
    await engine.execute(old, { type: 'Open', id: 'b-1', owner: 'bo' });
    for (const amount of [1, 2, 3]) await engine.execute(old, { type: 'Deposit', id: 'b-1', amount });
    expect((await replayCheck({ store, workflow: old, decide: true })).failed).toBe(0);
    const report = await replayCheck({ store, workflow: account({ limit: 2 }), decide: true });
    expect(report.problems).toEqual([{ workflowId: 'b-1', kind: 'decision-differs', sequence: 4, message: expect.stringContaining('now rejected') }]);
  });

  it('without recorded observations, decide checks nothing and says nothing', async () => {
    const store = await seeded({ observe: false });
    expect(await replayCheck({ store, workflow: account({ limit: 1 }), decide: true })).toMatchObject({ checked: 3, failed: 0 });
  });

  it("select 'active' checks only active instances", async () => {
    const store = await seeded();
    const neverClosed = defineWorkflow({ ...account(), isTerminal: () => false });
    expect(await replayCheck({ store, workflow: neverClosed, select: 'active' })).toMatchObject({ checked: 1, failed: 0 });
  });

  it('pages through many instances, reporting progress after each page, and samples evenly', async () => {
    const store = createMemoryStore();
    const clock = createManualClock(Date.UTC(2026, 0, 1));
    const old = account();
    const engine = createEngine({ store, clock, logger: silentLogger, workflows: [old] });
    for (let i = 0; i < 25; i++) await engine.execute(old, { type: 'Open', id: `c-${String(i).padStart(2, '0')}`, owner: i % 5 === 0 ? 'bad' : 'ok' });
    const broken = account({
      upcaster: (p) => {
        if (p.owner === 'bad') throw new Error('bad owner');
        return { holder: p.owner };
      },
    });
    const progress: ReplayProgress[] = [];
    const all = await replayCheck({ store, workflow: broken, pageSize: 4, onProgress: (p) => progress.push(p) });
    expect(all).toMatchObject({ checked: 25, failed: 5 });
    expect(byId(all.problems)).toEqual(['c-00', 'c-05', 'c-10', 'c-15', 'c-20']);
    expect(progress).toHaveLength(7);
    expect(progress.at(-1)).toEqual({ checked: 25, failed: 5 });
    expect(progress.map((p) => p.checked)).toEqual([4, 8, 12, 16, 20, 24, 25]);

    // Every fifth instance: exactly the ones that fail.
    const sampled = await replayCheck({ store, workflow: broken, sample: 5, pageSize: 3, onProgress: (p) => progress.push(p) });
    expect(sampled).toMatchObject({ checked: 5, failed: 5 });
    expect(byId(sampled.problems)).toEqual(['c-00', 'c-05', 'c-10', 'c-15', 'c-20']);
    expect(progress.at(-1)).toEqual({ checked: 5, failed: 5, total: 5 });
    expect(await replayCheck({ store, workflow: broken, sample: 100 })).toMatchObject({ checked: 25, failed: 5 });

    const capped = await replayCheck({ store, workflow: broken, maxProblems: 2, concurrency: 1 });
    expect(capped).toMatchObject({ checked: 25, failed: 5, truncated: true });
    expect(byId(capped.problems)).toEqual(['c-00', 'c-05']);
  });

  it('reads only: the store is unchanged', async () => {
    const store = await seeded({ snapshotEvery: 2 });
    const before = JSON.stringify([await store.pageInstances({}), await store.readEvents({ type: 'account', id: 'a-2' })]);
    await replayCheck({ store, workflow: account({ double: true, snapshotEvery: 2 }), decide: true });
    expect(JSON.stringify([await store.pageInstances({}), await store.readEvents({ type: 'account', id: 'a-2' })])).toBe(before);
  });

  it('an aborted signal stops the check with its reason', async () => {
    const store = await seeded();
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(replayCheck({ store, workflow: account(), signal: controller.signal })).rejects.toThrow('stop');
  });

  it('bad options are INVALID_ARGUMENT', async () => {
    const store = createMemoryStore();
    const workflow = account();
    const bad: Record<string, unknown>[] = [
      { store: undefined, workflow },
      { store, workflow: { type: 'account' } },
      { store, workflow, select: 'done' },
      { store, workflow, sample: 0 },
      { store, workflow, sample: 1.5 },
      { store, workflow, pageSize: 1001 },
      { store, workflow, pageSize: 0 },
      { store, workflow, maxProblems: -1 },
      { store, workflow, concurrency: 0 },
      { store, workflow, decide: 'yes' },
      { store, workflow, onProgress: 'log' },
      { store, workflow, signal: {} },
    ];
    for (const options of bad) {
      const error: unknown = await replayCheck(options as unknown as Parameters<typeof replayCheck>[0]).catch((e: unknown) => e);
      expect(isIronflowError(error, 'INVALID_ARGUMENT'), JSON.stringify(Object.keys(options))).toBe(true);
    }
    await expect(replayCheck(undefined as unknown as Parameters<typeof replayCheck>[0])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
