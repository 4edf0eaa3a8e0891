// The worker pools on real time: wake-ups, timer precision, supervision, lease renewal,
// timeouts, lost leases and graceful shutdown. Waits are bounded polls, never fixed sleeps.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accept, defineWorkflow, isIronflowError } from '@ironflow/core';
import { StoreError, type WorkflowStore } from '@ironflow/core/store';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, register, silentLogger, type Engine, type LifecycleEvent } from '../src/index.js';
import { eventually, payWorkflow, withLostRenewals } from './fixtures.js';

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});

function start(engine: Engine): Engine {
  engines.push(engine);
  engine.start();
  return engine;
}

describe('worker pools', () => {
  it('a store wake-up starts an effect at once, without waiting for the poll interval', async () => {
    const store = createMemoryStore();
    const pay = payWorkflow();
    const engine = start(createEngine({ store, logger: silentLogger, effects: { pollIntervalMs: 600_000 }, workflows: [register(pay).handle((e) => ({ type: 'Charged', id: e.id, receipt: 'w' }))] }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    await engine.execute(pay, { type: 'Start', id: 'wake', amount: 1 });
    await eventually(async () => (await engine.getState(pay, 'wake')).state.status === 'charged', 60_000);
    // Far below the 10-minute poll interval: only the wake-up can have started it.
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('a retry scheduled by this process wakes the effect pool when it falls due', async () => {
    const store = createMemoryStore();
    const pay = payWorkflow();
    const engine = start(createEngine({
      // A poll interval far beyond the wait below: only the retry's own wake-up can finish in time.
      store, logger: silentLogger, effects: { pollIntervalMs: 600_000 }, retry: { baseDelayMs: 50, jitter: 'none' },
      workflows: [register(pay).handle((e, ctx) => {
        if (ctx.attempt === 1) throw new Error('once');
        return { type: 'Charged', id: e.id, receipt: 'second' };
      })],
    }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await engine.execute(pay, { type: 'Start', id: 'retry-wake', amount: 1 });
    // Generous for a busy machine; a pass takes about the 50 ms backoff.
    await eventually(async () => (await engine.getState(pay, 'retry-wake')).state.receipt === 'second', 60_000);
  });

  it('the timer pool sleeps until the next fire time rather than a poll interval', async () => {
    const wf = defineWorkflow({
      type: 'alarm',
      initialState: () => ({ rang: false }),
      evolve: (_s: { rang: boolean }, e: { type: 'Set' } | { type: 'Rang' }) => ({ rang: e.type === 'Rang' }),
      decide: (input: { id: string; ring?: boolean }) =>
        input.ring ? accept({ type: 'Rang' as const }) : accept({ type: 'Set' as const }, { timers: [{ after: 150, input: { id: input.id, ring: true } }] }),
      workflowId: (input) => input.id,
    });
    const engine = start(createEngine({ store: createMemoryStore(), logger: silentLogger, timers: { pollIntervalMs: 600_000 }, workflows: [wf] }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = Date.now();
    await engine.execute(wf, { id: 'a' });
    await eventually(async () => (await engine.getState(wf, 'a')).state.rang, 60_000);
    expect(Date.now() - before).toBeGreaterThanOrEqual(140);
  });

  it('a failing claim loop is logged, reported as degraded, restarted with backoff and recovers', async () => {
    const inner = createMemoryStore();
    let failures = 3;
    const store: WorkflowStore = {
      ...inner,
      claimEffects: async (request) => {
        if (failures > 0) {
          failures -= 1;
          throw new StoreError('unavailable', 'connection refused');
        }
        return inner.claimEffects(request);
      },
    };
    const errors = vi.fn();
    const events: LifecycleEvent[] = [];
    const pay = payWorkflow();
    const engine = start(createEngine({ store, logger: { ...silentLogger, error: errors }, onEvent: (e) => events.push(e), effects: { pollIntervalMs: 20 }, workflows: [register(pay).handle((e) => ({ type: 'Charged', id: e.id, receipt: 'ok' }))] }));
    await eventually(() => engine.health().status === 'degraded', 60_000);
    await engine.execute(pay, { type: 'Start', id: 'sup', amount: 1 });
    await eventually(async () => (await engine.getState(pay, 'sup')).state.status === 'charged', 60_000);
    expect(engine.health().status).toBe('ok');
    const restarts = events.filter((e) => e.type === 'worker.restarted');
    expect(restarts.length).toBe(3);
    // core's backoff with equal jitter: 100 ms doubling, each delay in [ceiling / 2, ceiling].
    const delays = restarts.map((e) => (e.type === 'worker.restarted' ? e.delayMs : 0));
    [100, 200, 400].forEach((ceiling, i) => {
      expect(delays[i]).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delays[i]).toBeLessThanOrEqual(ceiling);
    });
    expect(errors).toHaveBeenCalledTimes(3);
  });

  it('renews the lease while a long handler runs, so no other worker claims the effect', async () => {
    const store = createMemoryStore();
    const pay = payWorkflow();
    let runs = 0;
    const engine = start(createEngine({
      store, logger: silentLogger, effects: { leaseMs: 90, pollIntervalMs: 10 },
      workflows: [register(pay).handle(async (e) => {
        runs += 1;
        await new Promise((resolve) => setTimeout(resolve, 400));
        return { type: 'Charged', id: e.id, receipt: 'slow' };
      })],
    }));
    await engine.execute(pay, { type: 'Start', id: 'slow', amount: 1 });
    await eventually(async () => (await engine.getState(pay, 'slow')).state.status === 'charged', 60_000);
    expect(runs).toBe(1);
    expect((await store.listEffects({ type: 'payment', id: 'slow' }))[0]).toMatchObject({ status: 'done', attempts: 1 });
  });

  it('aborts a handler that exceeds its timeout and retries it', async () => {
    const store = createMemoryStore();
    const pay = payWorkflow();
    const signals: AbortSignal[] = [];
    const engine = start(createEngine({
      store, logger: silentLogger, effects: { timeoutMs: 50, pollIntervalMs: 10 }, retry: { baseDelayMs: 10, jitter: 'none' },
      workflows: [register(pay).handle(async (e, ctx) => {
        signals.push(ctx.signal);
        if (ctx.attempt === 1) await new Promise((resolve) => setTimeout(resolve, 1_000));
        return { type: 'Charged', id: e.id, receipt: `attempt-${ctx.attempt}` };
      })],
    }));
    await engine.execute(pay, { type: 'Start', id: 'timeout', amount: 1 });
    await eventually(async () => (await engine.getState(pay, 'timeout')).state.receipt === 'attempt-2', 60_000);
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toMatchObject({ code: 'EFFECT_TIMEOUT', retryable: true });
    expect(String((signals[0]!.reason as Error).message)).toContain('exceeded 50 ms');
    const [row] = await store.listEffects({ type: 'payment', id: 'timeout' });
    expect(row).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('a handler whose lease was taken over is aborted and its result is not routed', async () => {
    const inner = createMemoryStore();
    let renewals = 0;
    // Simulate another worker reclaiming: the lease is gone after the first renewal.
    const store = withLostRenewals(inner, () => ++renewals > 1);
    const pay = payWorkflow();
    let aborted = false;
    const events: LifecycleEvent[] = [];
    const engine = start(createEngine({
      store, logger: silentLogger, onEvent: (e) => events.push(e), effects: { leaseMs: 60, pollIntervalMs: 10_000 },
      workflows: [register(pay).handle(async (e, ctx) => {
        await new Promise((resolve) => {
          const t = setTimeout(resolve, 1_000);
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            clearTimeout(t);
            resolve(undefined);
          });
        });
        return { type: 'Charged', id: e.id, receipt: 'should-not-route' };
      })],
    }));
    await engine.execute(pay, { type: 'Start', id: 'lost', amount: 1 });
    await eventually(() => events.some((e) => e.type === 'lease.lost'), 60_000);
    expect(aborted).toBe(true);
    expect(await inner.readEvents({ type: 'payment', id: 'lost' })).toHaveLength(1);
  });

  it('stop() lets in-flight handlers finish within the drain timeout', async () => {
    const store = createMemoryStore();
    const pay = payWorkflow();
    let began = false;
    const engine = start(createEngine({
      store, logger: silentLogger, shutdownTimeoutMs: 2_000, effects: { pollIntervalMs: 10 },
      workflows: [register(pay).handle(async (e) => {
        began = true;
        await new Promise((resolve) => setTimeout(resolve, 100));
        return { type: 'Charged', id: e.id, receipt: 'drained' };
      })],
    }));
    await engine.execute(pay, { type: 'Start', id: 'drain', amount: 1 });
    await eventually(() => began, 60_000);
    await engine.stop();
    expect(engine.health().status).toBe('stopped');
    expect((await engine.getState(pay, 'drain')).state.receipt).toBe('drained');
  });

  it('stop() aborts handlers still running after the drain timeout and releases their leases uncounted', async () => {
    const store = createMemoryStore();
    const pay = payWorkflow();
    let signal: AbortSignal | undefined;
    const engine = start(createEngine({
      store, logger: silentLogger, shutdownTimeoutMs: 50, effects: { pollIntervalMs: 10 },
      workflows: [register(pay).handle(async (e, ctx) => {
        signal = ctx.signal;
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        return { type: 'Charged', id: e.id, receipt: 'too late' };
      })],
    }));
    await engine.execute(pay, { type: 'Start', id: 'stuck', amount: 1 });
    await eventually(() => signal !== undefined, 60_000);
    const before = Date.now();
    await engine.stop();
    expect(Date.now() - before).toBeLessThan(1_000);
    expect(signal!.aborted).toBe(true);
    expect(isIronflowError(signal!.reason, 'SHUTTING_DOWN')).toBe(true);
    expect(signal!.reason).toMatchObject({ retryable: true });
    const [row] = await store.listEffects({ type: 'payment', id: 'stuck' });
    expect(row).toMatchObject({ status: 'pending', attempts: 0 });
    expect(row!.leaseOwner).toBeUndefined();
  });

  it('a throwing lifecycle listener is logged and does not break processing', async () => {
    const store = createMemoryStore();
    const pay = payWorkflow();
    const errors = vi.fn();
    const engine = createEngine({ store, logger: { ...silentLogger, error: errors }, workflows: [register(pay).handle((e) => ({ type: 'Charged', id: e.id, receipt: 'x' }))] });
    const off = engine.on('effect.succeeded', () => {
      throw new Error('listener bug');
    });
    await engine.execute(pay, { type: 'Start', id: 'l', amount: 1 });
    await engine.runUntilIdle();
    expect((await engine.getState(pay, 'l')).state.status).toBe('charged');
    expect(errors).toHaveBeenCalledOnce();
    off();
  });

  it('runUntilIdle refuses to run on a started engine', async () => {
    const engine = start(createEngine({ store: createMemoryStore(), logger: silentLogger, workflows: [payWorkflow()] }));
    await expect(engine.runUntilIdle()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
