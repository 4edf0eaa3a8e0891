import { describe, expect, it, vi } from 'vitest';
import { accept, createManualClock, defineWorkflow, isIronflowError } from '@ironflow/core';
import { VersionConflictError, type CommitRequest, type WorkflowStore } from '@ironflow/core/store';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, register, silentLogger, type Logger } from '../src/index.js';
import { payWorkflow } from './fixtures.js';

function setup(options: { observeInputs?: boolean; store?: WorkflowStore; snapshotEvery?: number; revision?: string } = {}) {
  const store = options.store ?? createMemoryStore();
  const clock = createManualClock();
  const pay = payWorkflow('payment', { snapshotEvery: options.snapshotEvery, revision: options.revision });
  const engine = createEngine({ store, clock, logger: silentLogger, workflows: [register(pay).handle(() => undefined)], observeInputs: options.observeInputs });
  return { store, clock, pay, engine };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return isIronflowError(error) ? error.code : `not an IronflowError: ${String(error)}`;
  }
}

describe('building an engine', () => {
  it('refuses two workflows of the same type with DUPLICATE_WORKFLOW_TYPE', () => {
    expect(() => createEngine({ store: createMemoryStore(), logger: silentLogger, workflows: [payWorkflow('dup'), register(payWorkflow('dup'))] })).toThrowError(
      expect.objectContaining({ code: 'DUPLICATE_WORKFLOW_TYPE' }),
    );
  });

  it('warns when no workflow is registered', () => {
    const warn = vi.fn();
    const logger: Logger = { ...silentLogger, warn };
    createEngine({ store: createMemoryStore(), logger, workflows: [] });
    expect(warn).toHaveBeenCalledOnce();
  });

  it('rejects unusable settings with INVALID_ARGUMENT', () => {
    const store = createMemoryStore();
    expect(() => createEngine({ store, logger: silentLogger, workflows: [], effects: { concurrency: 0 } })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => createEngine({ store, logger: silentLogger, workflows: [], retry: { maxAttempts: 0 } })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => createEngine({ store, logger: silentLogger, workflows: [], timers: { leaseMs: Number.NaN } })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('refuses malformed options with INVALID_ARGUMENT instead of a TypeError', () => {
    const store = createMemoryStore();
    const bad: unknown[] = [undefined, {}, { store: {}, workflows: [] }, { store, workflows: 'payment' }, { store, workflows: [42] }, { store, workflows: [{ workflow: {} }] }];
    for (const options of bad) {
      expect(() => createEngine(options as Parameters<typeof createEngine>[0])).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('refuses a dead-letter query without a valid kind', async () => {
    const { engine } = setup();
    const kind = 'effects' as 'effect';
    await expect(engine.deadLetters.list({ kind })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(engine.deadLetters.count({ kind })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(engine.deadLetters.redrive(kind, 'x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('refuses invalid workflow definitions with INVALID_ARGUMENT', () => {
    expect(() => payWorkflow('has space')).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => payWorkflow('ok', { snapshotEvery: -1 })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('executing inputs', () => {
  it('accepts, then rejects with the typed reason, and writes nothing for the rejection', async () => {
    const { engine, pay, store } = setup();
    const first = await engine.execute(pay, { type: 'Start', id: 'p1', amount: 10 });
    expect(first).toMatchObject({ status: 'accepted', workflowId: 'p1', version: 1, effects: 1, timers: 0, completed: false });
    const second = await engine.execute(pay, { type: 'Start', id: 'p1', amount: 10 });
    expect(second).toEqual({ status: 'rejected', workflowId: 'p1', version: 1, reason: { code: 'ALREADY_STARTED' } });
    expect(await store.readEvents({ type: 'payment', id: 'p1' })).toHaveLength(1);
    expect(await store.listEffects({ type: 'payment', id: 'p1' })).toHaveLength(1);
  });

  it('records ctx.now as decidedAt in event metadata', async () => {
    const { engine, pay, clock } = setup();
    clock.advance(1234);
    const result = await engine.execute(pay, { type: 'Start', id: 'p-now', amount: 1 });
    expect(result.status === 'accepted' && result.events[0]!.metadata.decidedAt).toBe(clock.now());
  });

  it('returns already-completed without calling decide once the instance is terminal', async () => {
    const { engine, pay } = setup();
    await engine.execute(pay, { type: 'Start', id: 'p2', amount: 5 });
    expect((await engine.execute(pay, { type: 'Finish', id: 'p2' })).status).toBe('accepted');
    expect(await engine.execute(pay, { type: 'Remind', id: 'p2', n: 1 })).toEqual({ status: 'already-completed', workflowId: 'p2', version: 2 });
  });

  it('answers a repeated idempotency key with the first outcome as duplicate and writes once', async () => {
    const { engine, pay, store } = setup();
    const first = await engine.execute(pay, { type: 'Start', id: 'p3', amount: 5 }, { idempotencyKey: 'req-1' });
    const again = await engine.execute(pay, { type: 'Start', id: 'p3', amount: 5 }, { idempotencyKey: 'req-1' });
    expect(first.status).toBe('accepted');
    expect(again).toEqual({ status: 'duplicate', workflowId: 'p3', version: 1, eventCount: 1, events: first.status === 'accepted' ? first.events : [] });
    const concurrent = await Promise.all(Array.from({ length: 10 }, () => engine.execute(pay, { type: 'Remind', id: 'p3', n: 1 }, { idempotencyKey: 'req-2' })));
    expect(concurrent.filter((r) => r.status === 'accepted')).toHaveLength(1);
    expect(concurrent.filter((r) => r.status === 'duplicate')).toHaveLength(9);
    expect(await store.readEvents({ type: 'payment', id: 'p3' })).toHaveLength(2);
  });

  it('holds a unique key for one active instance and releases it on completion', async () => {
    const { engine, pay } = setup();
    await engine.execute(pay, { type: 'Start', id: 'a', amount: 1, customer: 'c-1' });
    expect(await codeOf(engine.execute(pay, { type: 'Start', id: 'b', amount: 1, customer: 'c-1' }))).toBe('UNIQUE_KEY_CONFLICT');
    await engine.execute(pay, { type: 'Finish', id: 'a' });
    expect((await engine.execute(pay, { type: 'Start', id: 'b', amount: 1, customer: 'c-1' })).status).toBe('accepted');
  });

  it('linearises 50 concurrent inputs to one instance without gaps or losses', async () => {
    const { engine, pay, store } = setup();
    await engine.execute(pay, { type: 'Start', id: 'hot', amount: 1 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, n) => engine.execute(pay, { type: 'Remind', id: 'hot', n })));
    expect(results.every((r) => r.status === 'accepted')).toBe(true);
    const events = await store.readEvents({ type: 'payment', id: 'hot' });
    expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    expect(new Set(events.slice(1).map((e) => (e.payload as { n: number }).n)).size).toBe(50);
  });

  it('gives up with CONFLICT_RETRIES_EXHAUSTED when every commit conflicts', async () => {
    const inner = createMemoryStore();
    const conflict = (r: CommitRequest) => new VersionConflictError(r.ref.type, r.ref.id, r.expectedVersion);
    const store: WorkflowStore = {
      ...inner,
      commit: async (r) => Promise.reject(conflict(r)),
      commitMany: async (rs) => rs.map((r) => ({ ok: false, error: conflict(r) })),
    };
    const pay = payWorkflow();
    const engine = createEngine({ store, logger: silentLogger, workflows: [pay], maxConflictRetries: 3 });
    expect(await codeOf(engine.execute(pay, { type: 'Start', id: 'x', amount: 1 }))).toBe('CONFLICT_RETRIES_EXHAUSTED');
  });

  it('refuses an input for an unregistered workflow with UNKNOWN_WORKFLOW_TYPE', async () => {
    const { engine } = setup();
    const other = payWorkflow('other');
    expect(await codeOf(engine.execute(other, { type: 'Start', id: 'x', amount: 1 }))).toBe('UNKNOWN_WORKFLOW_TYPE');
    expect(await codeOf(engine.execute(payWorkflow('payment'), { type: 'Start', id: 'x', amount: 1 }))).toBe('UNKNOWN_WORKFLOW_TYPE');
    expect(await codeOf(engine.executeDynamic('nope', {}))).toBe('UNKNOWN_WORKFLOW_TYPE');
  });

  it('executeDynamic validates JSON text and values with the schema and writes nothing on failure', async () => {
    const { engine, store } = setup();
    expect(await codeOf(engine.executeDynamic('payment', '{"type": "Start", '))).toBe('VALIDATION_FAILED');
    let caught: unknown;
    try {
      await engine.executeDynamic('payment', { type: 'Start', id: 'd1', amount: -5 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ message: 'must be positive', path: ['amount'] }] } });
    expect(await store.listInstances()).toEqual([]);
    const ok = await engine.executeDynamic('payment', '{"type":"Start","id":"d1","amount":5}');
    expect(ok.status).toBe('accepted');
  });

  it('rejects a bad workflow id or idempotency key with INVALID_ARGUMENT', async () => {
    const { engine, pay } = setup();
    expect(await codeOf(engine.execute(pay, { type: 'Start', id: '', amount: 1 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(engine.execute(pay, { type: 'Start', id: 'a\u0000b', amount: 1 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(engine.execute(pay, { type: 'Start', id: 'ok', amount: 1 }, { idempotencyKey: 'x'.repeat(513) }))).toBe('INVALID_ARGUMENT');
  });

  it('records observations of accepted, rejected and already-completed inputs when asked', async () => {
    const { engine, pay } = setup({ observeInputs: true });
    await engine.execute(pay, { type: 'Start', id: 'o1', amount: 3 });
    await engine.execute(pay, { type: 'Start', id: 'o1', amount: 3 });
    await engine.execute(pay, { type: 'Finish', id: 'o1' });
    await engine.execute(pay, { type: 'Finish', id: 'o1' });
    const observed = await engine.listObservations({ type: 'payment', id: 'o1' });
    expect(observed.map((o) => [o.inputType, o.outcome])).toEqual([
      ['Start', 'accepted'],
      ['Start', 'rejected'],
      ['Finish', 'accepted'],
      ['Finish', 'already-completed'],
    ]);
    expect(observed[1]!.rejection).toEqual({ code: 'ALREADY_STARTED' });
  });

  it('loads from snapshots and falls back to the full stream when the snapshot revision changed', async () => {
    const store = createMemoryStore();
    const first = setup({ store, snapshotEvery: 3 });
    await first.engine.execute(first.pay, { type: 'Start', id: 's', amount: 7 });
    for (let n = 1; n <= 4; n++) await first.engine.execute(first.pay, { type: 'Remind', id: 's', n });
    const loaded = await store.load({ type: 'payment', id: 's' });
    expect(loaded.snapshot).toMatchObject({ version: 3, revision: '1@1', state: { status: 'started', amount: 7, reminders: 2 } });
    expect(loaded.events.map((e) => e.sequence)).toEqual([4, 5]);
    expect((await first.engine.getState(first.pay, 's')).state).toEqual({ status: 'started', amount: 7, reminders: 4 });
    const readEvents = vi.spyOn(store, 'readEvents');
    const second = setup({ store, snapshotEvery: 3, revision: '2' });
    expect((await second.engine.getState(second.pay, 's')).state).toEqual({ status: 'started', amount: 7, reminders: 4 });
    expect(readEvents).toHaveBeenCalledOnce();
  });

  it('getState of an unknown instance is the initial state at version 0', async () => {
    const { engine, pay } = setup();
    expect(await engine.getState(pay, 'ghost')).toEqual({ state: { status: 'new', amount: 0, reminders: 0 }, version: 0, completed: false, status: 'active' });
  });
});

describe('invalid decisions', () => {
  const make = (decide: () => unknown) =>
    defineWorkflow({
      type: 'bad',
      initialState: () => ({}),
      evolve: (s: object) => s,
      decide: decide as never,
      workflowId: (i: { id: string }) => i.id,
    });
  const cases: [string, () => unknown, string][] = [
    ['no events', () => accept([] as unknown as [unknown]), 'INVALID_DECISION'],
    ['not a decision', () => 42, 'INVALID_DECISION'],
    ['a timer with after and at', () => accept({ type: 'E' }, { timers: [{ after: 1, at: 2, input: {} } as never] }), 'INVALID_DECISION'],
    ['a negative timer delay', () => accept({ type: 'E' }, { timers: [{ after: -1, input: {} }] }), 'INVALID_DECISION'],
    ['the same timer key twice', () => accept({ type: 'E' }, { timers: [{ key: 'k', after: 1, input: {} }, { key: 'k', after: 2, input: {} }] }), 'INVALID_DECISION'],
    ['an empty cancelled key', () => accept({ type: 'E' }, { cancelTimers: [''] }), 'INVALID_DECISION'],
    ['decide throwing', () => { throw new Error('bug'); }, 'DECIDE_FAILED'],
  ];
  for (const [name, decide, code] of cases) {
    it(`${name} raises ${code} and writes nothing`, async () => {
      const store = createMemoryStore();
      const wf = make(decide);
      const engine = createEngine({ store, logger: silentLogger, workflows: [wf] });
      expect(await codeOf(engine.execute(wf, { id: 'i' }))).toBe(code);
      expect(await store.listInstances()).toEqual([]);
    });
  }
});
