// Control of live work, driven by hand (runUntilIdle + manual clock) unless a test is about other
// processes: cancelling instances (or letting the workflow compensate), pausing and resuming
// instances and workflow types, and the backlog.
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, isIronflowError } from '@ironflow/core';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, register, silentLogger, type EffectHandler, type Engine, type LifecycleEvent } from '../src/index.js';
import { aborted, deferred, eventually, jobWorkflow, recordingLogger, type JobEffect, type JobInput } from './fixtures.js';

function setup(handler: EffectHandler<JobEffect, JobInput>, options: { onCancel?: boolean; concurrency?: number } = {}) {
  const store = createMemoryStore();
  const clock = createManualClock();
  const job = jobWorkflow('job', { onCancel: options.onCancel });
  const events: LifecycleEvent[] = [];
  const logger = recordingLogger();
  const engine = createEngine({
    store, clock, logger, workflows: [register(job).handle(handler)], onEvent: (e) => events.push(e),
    effects: { concurrency: options.concurrency ?? 10 },
  });
  const ref = (id: string) => ({ type: 'job', id });
  /** Nothing was logged as a warning or an error. */
  const quiet = () => expect(logger.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  return { store, clock, job, engine, events, ref, quiet };
}

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});

describe('cancelling an instance', () => {
  it('aborts its running handler with CANCELLED, drops the result, and cancels its pending effects and timers', async () => {
    const started = deferred<AbortSignal>();
    // One effect at a time: `slow` runs while `later` stays pending.
    const t = setup(async (effect, ctx) => {
      if (effect.name === 'slow') {
        started.resolve(ctx.signal);
        await aborted(ctx.signal);
      }
      return { type: 'Done', id: effect.id, name: effect.name }; // ignored: the effect was cancelled
    }, { concurrency: 1 });
    await t.engine.execute(t.job, { type: 'Queue', id: 'c', jobs: [{ name: 'slow' }, { name: 'later' }], remindAfter: 60_000 });
    const idle = t.engine.runUntilIdle();
    const signal = await started.promise;

    expect(await t.engine.cancel(t.ref('c'), 'customer left')).toEqual({ outcome: 'cancelled', effects: 2, timers: 1 });
    expect(await idle).toEqual({ effects: 1, timers: 0 });

    expect(signal.aborted).toBe(true);
    expect(isIronflowError(signal.reason, 'CANCELLED')).toBe(true);
    expect(signal.reason).toMatchObject({ retryable: false, details: { workflowType: 'job', workflowId: 'c' } });
    expect((signal.reason as Error).message).toContain('customer left');
    expect(await t.engine.getEvents(t.ref('c'))).toHaveLength(1);
    expect((await t.engine.listEffects(t.ref('c'))).map((e) => [e.payload, e.status, e.lastError])).toEqual([
      [{ name: 'slow', id: 'c' }, 'cancelled', 'customer left'],
      [{ name: 'later', id: 'c' }, 'cancelled', 'customer left'],
    ]);
    expect((await t.engine.listTimers(t.ref('c'))).map((x) => x.status)).toEqual(['cancelled']);
    expect(await t.engine.listInstances({ status: 'cancelled' })).toMatchObject([{ workflowId: 'c', status: 'cancelled', cancelReason: 'customer left', version: 1 }]);
    expect(t.events.filter((e) => e.type.endsWith('.cancelled')).map((e) => e.type)).toEqual(['instance.cancelled', 'effect.cancelled']);
    expect(t.events.some((e) => e.type === 'effect.succeeded' || e.type === 'effect.retried')).toBe(false);
    t.quiet();

    t.clock.advance(60_000);
    expect(await t.engine.runUntilIdle()).toEqual({ effects: 0, timers: 0 });
    expect(await t.engine.execute(t.job, { type: 'Done', id: 'c', name: 'x' })).toEqual({ status: 'cancelled', workflowId: 'c', version: 1 });
    expect(await t.engine.getState(t.job, 'c')).toMatchObject({ completed: true, status: 'cancelled', version: 1 });
  });

  it('is not-active for an instance that does not exist or is terminal, and writes nothing', async () => {
    const t = setup(async () => undefined);
    expect(await t.engine.cancel(t.ref('ghost'), 'why')).toEqual({ outcome: 'not-active' });
    expect(await t.engine.listInstances()).toEqual([]);
    await t.engine.execute(t.job, { type: 'Finish', id: 'done' });
    expect(await t.engine.cancel(t.ref('done'), 'why')).toEqual({ outcome: 'not-active' });
    expect(await t.engine.getState(t.job, 'done')).toMatchObject({ status: 'completed' });
    await t.engine.execute(t.job, { type: 'Queue', id: 'twice', jobs: [] });
    expect((await t.engine.cancel(t.ref('twice'), 'first')).outcome).toBe('cancelled');
    expect(await t.engine.cancel(t.ref('twice'), 'second')).toEqual({ outcome: 'not-active' });
    await expect(t.engine.cancel({ type: 'job', id: '' }, 'why')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a decision cached before the cancel is answered cancelled, not committed', async () => {
    const t = setup(async () => undefined);
    await t.engine.execute(t.job, { type: 'Queue', id: 'warm', jobs: [] });
    // Another process cancels it: this engine's cache still holds the active state.
    await t.store.cancelInstance({ ref: t.ref('warm'), now: t.clock.now(), reason: 'elsewhere' });
    expect(await t.engine.execute(t.job, { type: 'Done', id: 'warm', name: 'x' })).toEqual({ status: 'cancelled', workflowId: 'warm', version: 1 });
    expect(await t.engine.getEvents(t.ref('warm'))).toHaveLength(1);
  });

  it('an effect claimed ahead into the local queue and cancelled before it starts never runs', async () => {
    const store = createMemoryStore();
    const job = jobWorkflow();
    const started = deferred<AbortSignal>();
    const ran: string[] = [];
    const events: LifecycleEvent[] = [];
    // One slot and one place in the local queue: `first` runs, `second` waits claimed in the queue.
    const engine = createEngine({
      store, logger: silentLogger, onEvent: (e) => events.push(e), effects: { concurrency: 1, prefetch: 1, pollIntervalMs: 10, leaseMs: 60_000 },
      workflows: [register(job).handle(async (effect, ctx) => {
        ran.push(effect.name);
        started.resolve(ctx.signal);
        await aborted(ctx.signal);
      })],
    });
    engines.push(engine);
    engine.start();
    await engine.execute(job, { type: 'Queue', id: 'q', jobs: [{ name: 'first' }, { name: 'second' }] });
    await started.promise;
    await eventually(() => engine.health().effects.queued === 1, 60_000);

    expect(await engine.cancel({ type: 'job', id: 'q' }, 'stop')).toEqual({ outcome: 'cancelled', effects: 2, timers: 0 });
    await eventually(() => events.filter((e) => e.type === 'effect.cancelled').length === 2, 60_000);
    expect(ran).toEqual(['first']);
    expect(events.filter((e) => e.type === 'effect.started')).toHaveLength(1);
    expect(engine.health().effects.inFlight).toBe(0);
  });

  it('a handler in another process is aborted with CANCELLED at its next lease renewal, and its result is not routed', async () => {
    const store = createMemoryStore();
    const job = jobWorkflow();
    const started = deferred<AbortSignal>();
    const events: LifecycleEvent[] = [];
    const logger = recordingLogger();
    const worker = createEngine({
      store, logger, onEvent: (e) => events.push(e), effects: { leaseMs: 60, pollIntervalMs: 10 },
      workflows: [register(job).handle(async (effect, ctx) => {
        started.resolve(ctx.signal);
        await aborted(ctx.signal);
        return { type: 'Done', id: effect.id, name: 'should not route' };
      })],
    });
    engines.push(worker);
    worker.start();
    const operator = createEngine({ store, logger: silentLogger, workflows: [job] });
    await operator.execute(job, { type: 'Queue', id: 'x', jobs: [{ name: 'remote' }] });
    const signal = await started.promise;

    expect(await operator.cancel({ type: 'job', id: 'x' }, 'operator')).toEqual({ outcome: 'cancelled', effects: 1, timers: 0 });
    await eventually(() => events.some((e) => e.type === 'effect.cancelled'), 60_000);
    expect(isIronflowError(signal.reason, 'CANCELLED')).toBe(true);
    expect(await store.readEvents({ type: 'job', id: 'x' })).toHaveLength(1);
    expect((await store.listEffects({ type: 'job', id: 'x' }))[0]!.status).toBe('cancelled');
    expect(events.some((e) => e.type === 'effect.succeeded' || e.type === 'lease.lost')).toBe(false);
    expect(logger.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });
});

describe('onCancel', () => {
  it('decides the workflow input instead: compensations run, pending work is cancelled, and the instance completes itself', async () => {
    const ran: JobEffect[] = [];
    const t = setup(async (effect) => {
      ran.push(effect);
    }, { onCancel: true });
    await t.engine.execute(t.job, { type: 'Queue', id: 'o', jobs: [{ name: 'ship' }], remindAfter: 1_000 });
    const result = await t.engine.cancel(t.ref('o'), 'fraud');
    expect(result).toMatchObject({ outcome: 'handled', result: { status: 'accepted', completed: true, effects: 1 } });
    expect((await t.engine.getEvents(t.ref('o'))).map((e) => e.payload)).toEqual([{ type: 'Queued', names: ['ship'] }, { type: 'Finished', reason: 'fraud' }]);
    expect((await t.engine.listEffects(t.ref('o'))).map((e) => [(e.payload as JobEffect).name, e.status])).toEqual([['ship', 'cancelled'], ['refund', 'pending']]);
    expect((await t.engine.listTimers(t.ref('o'))).map((x) => x.status)).toEqual(['cancelled']);

    t.clock.advance(1_000);
    expect(await t.engine.runUntilIdle()).toEqual({ effects: 1, timers: 0 });
    expect(ran).toEqual([{ name: 'refund', id: 'o' }]);
    expect(await t.engine.getState(t.job, 'o')).toMatchObject({ status: 'completed' });
    expect(await t.engine.cancel(t.ref('o'), 'again')).toEqual({ outcome: 'not-active' });
  });

  it('force cancels at once, without the workflow; an instance that does not exist is not handled', async () => {
    const t = setup(async () => undefined, { onCancel: true });
    await t.engine.execute(t.job, { type: 'Queue', id: 'f', jobs: [] });
    expect(await t.engine.cancel(t.ref('f'), 'stuck compensation', { force: true })).toEqual({ outcome: 'cancelled', effects: 0, timers: 0 });
    expect(await t.engine.getState(t.job, 'f')).toMatchObject({ status: 'cancelled' });
    expect(await t.engine.cancel(t.ref('nobody'), 'why')).toEqual({ outcome: 'not-active' });
    expect(await t.engine.listInstances()).toHaveLength(1);
  });
});

describe('pausing', () => {
  it('a paused workflow type keeps its effects and timers pending while inputs are still decided; a timer due meanwhile fires on resume', async () => {
    const t = setup(async (effect) => ({ type: 'Done', id: effect.id, name: effect.name }));
    expect(await t.engine.pauseType('job')).toBe(true);
    expect(await t.engine.pauseType('job')).toBe(false);
    expect(await t.engine.listPaused()).toEqual([{ type: 'job', since: t.clock.now() }]);

    expect((await t.engine.execute(t.job, { type: 'Queue', id: 'p', jobs: [{ name: 'a' }], remindAfter: 1_000 })).status).toBe('accepted');
    t.clock.advance(5_000);
    expect(await t.engine.runUntilIdle()).toEqual({ effects: 0, timers: 0 });
    expect((await t.engine.listEffects(t.ref('p')))[0]).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await t.engine.backlog()).toEqual([
      { workflowType: 'job', kind: 'effect', pending: 0, due: 0, leased: 0, paused: 1, dead: 0 },
      { workflowType: 'job', kind: 'timer', pending: 0, due: 0, leased: 0, paused: 1, dead: 0 },
    ]);

    expect(await t.engine.resumeType('job')).toBe(true);
    expect(await t.engine.listPaused()).toEqual([]);
    expect(await t.engine.backlog()).toMatchObject([{ kind: 'effect', pending: 1, due: 1 }, { kind: 'timer', pending: 1, due: 1, oldestDueAt: t.clock.now() - 4_000 }]);
    expect(await t.engine.runUntilIdle()).toEqual({ effects: 1, timers: 1 });
    expect(await t.engine.getState(t.job, 'p')).toMatchObject({ state: { done: ['a'], reminded: 1 } });
    expect(await t.engine.resumeType('job')).toBe(false);
  });

  it('a paused instance holds only its own work, and a whole-type resume leaves it paused', async () => {
    const t = setup(async (effect) => ({ type: 'Done', id: effect.id, name: effect.name }));
    expect(await t.engine.pause(t.ref('a'))).toBe(true);
    await t.engine.execute(t.job, { type: 'Queue', id: 'a', jobs: [{ name: 'x' }] });
    await t.engine.execute(t.job, { type: 'Queue', id: 'b', jobs: [{ name: 'y' }] });
    expect(await t.engine.runUntilIdle()).toEqual({ effects: 1, timers: 0 });
    expect((await t.engine.getState(t.job, 'b')).state.done).toEqual(['y']);
    await t.engine.pauseType('job');
    await t.engine.resumeType('job');
    expect(await t.engine.listPaused()).toEqual([{ type: 'job', id: 'a', since: t.clock.now() }]);
    expect(await t.engine.runUntilIdle()).toEqual({ effects: 0, timers: 0 });
    expect(await t.engine.resume(t.ref('a'))).toBe(true);
    expect(await t.engine.runUntilIdle()).toEqual({ effects: 1, timers: 0 });
    expect((await t.engine.getState(t.job, 'a')).state.done).toEqual(['x']);
    // A ref without an id names no instance; it is refused rather than read as the whole type.
    await expect(t.engine.pause({ type: 'job' } as { type: string; id: string })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(t.engine.pauseType('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a started engine runs resumed work at once, woken by the resume rather than its poll interval', async () => {
    const store = createMemoryStore();
    const job = jobWorkflow();
    const engine = createEngine({ store, logger: silentLogger, effects: { pollIntervalMs: 600_000 }, timers: { pollIntervalMs: 600_000 }, workflows: [register(job).handle((e) => ({ type: 'Done', id: e.id, name: e.name }))] });
    engines.push(engine);
    await engine.pauseType('job');
    engine.start();
    await engine.execute(job, { type: 'Queue', id: 'w', jobs: [{ name: 'go' }] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await engine.getState(job, 'w')).state.done).toEqual([]);
    await engine.resumeType('job');
    await eventually(async () => (await engine.getState(job, 'w')).state.done.length === 1, 60_000);
  });
});
