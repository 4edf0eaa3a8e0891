// Effect and timer processing driven by hand (runUntilIdle + manual clock): retries, dead letters,
// routing, acknowledgement, crash loops.
import { describe, expect, it } from 'vitest';
import { accept, createManualClock, defineWorkflow, NonRetryableError } from '@ironflow/core';
import type { StandardSchemaV1 } from '@ironflow/core';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, register, sendTo, silentLogger, type LifecycleEvent } from '../src/index.js';
import { payWorkflow, type PayEffect, type PayInput } from './fixtures.js';
import type { EffectHandler } from '../src/index.js';

function setup(handler: EffectHandler<PayEffect, PayInput>, options: { onDeadLetter?: boolean } = {}) {
  const store = createMemoryStore();
  const clock = createManualClock();
  const pay = payWorkflow('payment', { onDeadLetter: options.onDeadLetter });
  const events: LifecycleEvent[] = [];
  const engine = createEngine({ store, clock, logger: silentLogger, workflows: [register(pay).handle(handler)], onEvent: (e) => events.push(e) });
  const ref = (id: string) => ({ type: 'payment', id });
  return { store, clock, pay, engine, events, ref };
}

describe('effects', () => {
  it('routes the handler result back and completes the effect in the same commit', async () => {
    const t = setup(async (effect, ctx) => ({ type: 'Charged', id: effect.id, receipt: `r-${ctx.attempt}` }));
    await t.engine.execute(t.pay, { type: 'Start', id: 'a', amount: 5 });
    expect(await t.engine.runUntilIdle()).toEqual({ effects: 1, timers: 0 });
    const [effect] = await t.store.listEffects(t.ref('a'));
    expect(effect).toMatchObject({ status: 'done', attempts: 1 });
    const events = await t.store.readEvents(t.ref('a'));
    expect(events[1]).toMatchObject({ type: 'Charged', payload: { type: 'Charged', receipt: 'r-1' }, metadata: { causedBy: { kind: 'effect', id: effect!.id } } });
    expect(t.events.map((e) => e.type)).toEqual(['decision.committed', 'effect.started', 'decision.committed', 'effect.succeeded']);
  });

  it('gives the handler a context with a stable idempotency key and its attempt number', async () => {
    const seen: { key: string; attempt: number; created: number }[] = [];
    const t = setup(async (_effect, ctx) => {
      seen.push({ key: ctx.idempotencyKey, attempt: ctx.attempt, created: ctx.createdAt.getTime() });
      if (ctx.attempt < 3) throw new Error('flaky');
    });
    await t.engine.execute(t.pay, { type: 'Start', id: 'ctx', amount: 5 });
    await t.engine.runUntilIdle();
    await t.clock.advance(100);
    await t.engine.runUntilIdle();
    t.clock.advance(200);
    await t.engine.runUntilIdle();
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    expect(new Set(seen.map((s) => s.key)).size).toBe(1);
    expect(seen[0]!.key).toMatch(/^payment:ctx:[0-9a-f-]{36}$/);
    expect(seen[0]!.created).toBe(createManualClock().now());
  });

  it('retries with exponential backoff and dead-letters when attempts are exhausted', async () => {
    const t = setup(async () => {
      throw new Error('gateway down');
    });
    await t.engine.execute(t.pay, { type: 'Start', id: 'r', amount: 5 });
    await t.engine.runUntilIdle();
    let [row] = await t.store.listEffects(t.ref('r'));
    expect(row).toMatchObject({ status: 'pending', attempts: 1, availableAt: t.clock.now() + 100, lastError: 'Error: gateway down' });
    t.clock.advance(99);
    expect(await t.engine.runUntilIdle()).toEqual({ effects: 0, timers: 0 });
    t.clock.advance(1);
    await t.engine.runUntilIdle();
    [row] = await t.store.listEffects(t.ref('r'));
    expect(row).toMatchObject({ status: 'pending', attempts: 2, availableAt: t.clock.now() + 200 });
    t.clock.advance(200);
    await t.engine.runUntilIdle();
    [row] = await t.store.listEffects(t.ref('r'));
    expect(row).toMatchObject({ status: 'dead', attempts: 3 });
    expect(row!.lastError).toContain('attempts exhausted (3/3)');
    expect(t.events.filter((e) => e.type === 'effect.retried')).toHaveLength(2);
    expect(t.events.filter((e) => e.type === 'effect.dead-lettered')).toHaveLength(1);
    expect(await t.engine.deadLetters.count({ kind: 'effect', workflowType: 'payment' })).toBe(1);
  });

  it('dead-letters a NonRetryableError at once', async () => {
    const t = setup(async () => {
      throw new NonRetryableError('card number malformed');
    });
    await t.engine.execute(t.pay, { type: 'Start', id: 'nr', amount: 5 });
    await t.engine.runUntilIdle();
    expect((await t.store.listEffects(t.ref('nr')))[0]).toMatchObject({ status: 'dead', attempts: 1, lastError: 'NON_RETRYABLE: card number malformed' });
  });

  it('routes a dead-letter notice to the workflow atomically with dead-lettering', async () => {
    const t = setup(async () => {
      throw new NonRetryableError('declined for good');
    }, { onDeadLetter: true });
    await t.engine.execute(t.pay, { type: 'Start', id: 'dl', amount: 5 });
    await t.engine.runUntilIdle();
    expect((await t.store.listEffects(t.ref('dl')))[0]!.status).toBe('dead');
    const state = await t.engine.getState(t.pay, 'dl');
    expect(state.state.status).toBe('failed');
    const events = await t.store.readEvents(t.ref('dl'));
    expect(events[1]!.payload).toEqual({ type: 'ChargeFailed', error: 'NON_RETRYABLE: declined for good' });
  });

  it('a redriven dead letter runs again with fresh attempts', async () => {
    let fail = true;
    const t = setup(async (effect) => {
      if (fail) throw new NonRetryableError('not yet');
      return { type: 'Charged', id: effect.id, receipt: 'late' };
    });
    await t.engine.execute(t.pay, { type: 'Start', id: 'rd', amount: 5 });
    await t.engine.runUntilIdle();
    const [dead] = await t.engine.deadLetters.list({ kind: 'effect', workflowType: 'payment' });
    fail = false;
    expect(await t.engine.deadLetters.redrive('effect', dead!.id)).toBe(true);
    await t.engine.runUntilIdle();
    expect((await t.engine.getState(t.pay, 'rd')).state.receipt).toBe('late');
  });

  it('routes a result to another registered workflow with sendTo', async () => {
    const store = createMemoryStore();
    const audit = defineWorkflow({
      type: 'audit',
      initialState: () => ({ entries: [] as string[] }),
      evolve: (s: { entries: string[] }, e: { type: 'Logged'; line: string }) => ({ entries: [...s.entries, e.line] }),
      decide: (input: { log: string; line: string }) => accept({ type: 'Logged' as const, line: input.line }),
      workflowId: (input) => input.log,
    });
    const pay = payWorkflow();
    const engine = createEngine({
      store,
      clock: createManualClock(),
      logger: silentLogger,
      workflows: [register(pay).handle(async (effect) => sendTo(audit, { log: 'main', line: `charged ${effect.id}` })), audit],
    });
    await engine.execute(pay, { type: 'Start', id: 'x', amount: 1 });
    await engine.runUntilIdle();
    expect((await engine.getState(audit, 'main')).state.entries).toEqual(['charged x']);
    expect((await store.listEffects({ type: 'payment', id: 'x' }))[0]!.status).toBe('done');
  });

  it('completes the effect when the routed input is rejected, and records nothing else', async () => {
    const t = setup(async (effect) => ({ type: 'Start', id: effect.id, amount: 1 }));
    await t.engine.execute(t.pay, { type: 'Start', id: 'rej', amount: 5 });
    await t.engine.runUntilIdle();
    expect((await t.store.listEffects(t.ref('rej')))[0]!.status).toBe('done');
    expect(await t.store.readEvents(t.ref('rej'))).toHaveLength(1);
  });

  it('dead-letters at once when the routed input fails validation', async () => {
    const t = setup(async () => ({ type: 'Charged', id: 42 }) as unknown as PayInput);
    await t.engine.execute(t.pay, { type: 'Start', id: 'inv', amount: 5 });
    await t.engine.runUntilIdle();
    const [row] = await t.store.listEffects(t.ref('inv'));
    expect(row).toMatchObject({ status: 'dead', attempts: 1 });
    expect(row!.lastError).toContain('VALIDATION_FAILED');
  });

  it('releases an effect whose payload fails the effect schema for newer code, without running the handler; NOT_UNDERSTOOD after maxReleases', async () => {
    let ran = false;
    const strict: StandardSchemaV1<unknown, { amount: number }> = {
      '~standard': { version: 1, vendor: 'test', validate: (v) => ((v as { amount?: unknown }).amount === 1 ? { value: v as { amount: number } } : { issues: [{ message: 'amount must be 1' }] }) },
    };
    const wf = defineWorkflow({
      type: 'strict',
      initialState: () => 0,
      evolve: (s: number) => s + 1,
      decide: (input: { id: string; amount: number }) => accept({ type: 'E' }, { effects: [{ amount: input.amount }] }),
      workflowId: (input) => input.id,
      effectSchema: strict,
    });
    const store = createMemoryStore();
    const engine = createEngine({ store, logger: silentLogger, workflows: [register(wf).handle(() => { ran = true; })], notUnderstood: { maxReleases: 2, delayMs: 0 } });
    const released: number[] = [];
    engine.on('effect.released', (event) => released.push(event.releases));
    await engine.execute(wf, { id: 'a', amount: 2 });
    await engine.runUntilIdle();
    expect(ran).toBe(false);
    expect(released).toEqual([1, 2]);
    const [row] = await store.listEffects({ type: 'strict', id: 'a' });
    expect(row).toMatchObject({ status: 'dead', releases: 2 });
    expect(row!.lastError).toMatch(/^NOT_UNDERSTOOD: .*released 2 times.*VALIDATION_FAILED/);
  });

  it('dead-letters effects of a workflow registered without a handler', async () => {
    const store = createMemoryStore();
    const pay = payWorkflow();
    const engine = createEngine({ store, logger: silentLogger, workflows: [pay] });
    await engine.execute(pay, { type: 'Start', id: 'nh', amount: 1 });
    await engine.runUntilIdle();
    expect((await store.listEffects({ type: 'payment', id: 'nh' }))[0]!.lastError).toContain('HANDLER_MISSING');
  });

  it('dead-letters an effect whose earlier attempts crashed the process before any outcome was recorded', async () => {
    let ran = 0;
    const t = setup(async () => {
      ran += 1;
    });
    await t.engine.execute(t.pay, { type: 'Start', id: 'crash', amount: 1 });
    // Three workers claim it and "crash": their leases just expire.
    for (let i = 0; i < 3; i++) {
      expect(await t.store.claimEffects({ now: t.clock.now(), limit: 1, types: ['payment'], leaseMs: 1000, owner: `crashed-${i}` })).toHaveLength(1);
      t.clock.advance(1000);
    }
    await t.engine.runUntilIdle();
    expect(ran).toBe(0);
    const [row] = await t.store.listEffects(t.ref('crash'));
    expect(row).toMatchObject({ status: 'dead', attempts: 4 });
    expect(row!.lastError).toContain('ended without an outcome');
  });
});

describe('timers', () => {
  function remindWorkflow() {
    return defineWorkflow({
      type: 'reminder',
      initialState: () => ({ beats: 0, done: false }),
      evolve: (s: { beats: number; done: boolean }, e: { type: 'Beat' } | { type: 'Done' }) => (e.type === 'Beat' ? { ...s, beats: s.beats + 1 } : { ...s, done: true }),
      decide: (input: { type: 'Start' | 'Beat' | 'Stop'; id: string }, state) => {
        if (input.type === 'Stop') return accept<{ type: 'Done' }, never, typeof input>({ type: 'Done' }, { cancelTimers: ['beat'] });
        if (input.type === 'Beat' && state.beats >= 2) return accept({ type: 'Done' as const });
        return accept({ type: 'Beat' as const }, { timers: [{ key: 'beat', after: 1_000, input: { type: 'Beat' as const, id: input.id } }] });
      },
      workflowId: (input) => input.id,
      isTerminal: (s) => s.done,
    });
  }

  it('delivers due timers, never early, re-arming the heartbeat key until the workflow completes', async () => {
    const store = createMemoryStore();
    const clock = createManualClock();
    const wf = remindWorkflow();
    const engine = createEngine({ store, clock, logger: silentLogger, workflows: [wf] });
    await engine.execute(wf, { type: 'Start', id: 'h' });
    clock.advance(999);
    expect(await engine.runUntilIdle()).toEqual({ effects: 0, timers: 0 });
    clock.advance(1);
    expect(await engine.runUntilIdle()).toEqual({ effects: 0, timers: 1 });
    const live = (await store.listTimers({ type: 'reminder', id: 'h' })).filter((t) => t.status === 'pending');
    expect(live).toHaveLength(1);
    clock.advance(1_000);
    await engine.runUntilIdle();
    expect(await engine.getState(wf, 'h')).toMatchObject({ state: { beats: 2, done: true }, completed: true });
    expect((await store.listTimers({ type: 'reminder', id: 'h' })).map((t) => t.status)).toEqual(['fired', 'fired']);
  });

  it('a cancelled timer never fires', async () => {
    const store = createMemoryStore();
    const clock = createManualClock();
    const wf = remindWorkflow();
    const engine = createEngine({ store, clock, logger: silentLogger, workflows: [wf] });
    await engine.execute(wf, { type: 'Start', id: 'c' });
    await engine.execute(wf, { type: 'Stop', id: 'c' });
    clock.advance(10_000);
    expect(await engine.runUntilIdle()).toEqual({ effects: 0, timers: 0 });
    expect((await store.listTimers({ type: 'reminder', id: 'c' }))[0]!.status).toBe('cancelled');
  });

  it('a timer delivered to a completed instance is marked fired', async () => {
    const store = createMemoryStore();
    const clock = createManualClock();
    const wf = remindWorkflow();
    const engine = createEngine({ store, clock, logger: silentLogger, workflows: [wf] });
    await engine.execute(wf, { type: 'Start', id: 'late' });
    await store.commit({
      ref: { type: 'reminder', id: 'late' }, expectedVersion: 1, now: clock.now(), completed: true,
      events: [{ workflowType: 'reminder', workflowId: 'late', sequence: 2, type: 'Done', payload: { type: 'Done' }, metadata: { decidedAt: clock.now() }, recordedAt: clock.now() }],
      effects: [], timers: [], cancelTimers: [],
    });
    clock.advance(1_000);
    expect(await engine.runUntilIdle()).toEqual({ effects: 0, timers: 1 });
    expect((await store.listTimers({ type: 'reminder', id: 'late' }))[0]!.status).toBe('fired');
  });
});

describe('operations', () => {
  it('purge removes finished work older than the given age, measured on the engine clock', async () => {
    const t = setup(async () => undefined);
    await t.engine.execute(t.pay, { type: 'Start', id: 'old', amount: 1 });
    await t.engine.runUntilIdle();
    t.clock.advance(10_000);
    expect(await t.engine.purge(20_000)).toEqual({ effects: 0, timers: 0 });
    expect(await t.engine.purge(5_000)).toEqual({ effects: 1, timers: 0 });
    await expect(t.engine.purge(-1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
