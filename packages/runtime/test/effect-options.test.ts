// Per-effect options from decisions, driven by hand (runUntilIdle + manual clock): what is stored,
// bad options, keyed effects and cancelEffects, the terminal policy, deadlines, per-effect retry
// and timeout, tag pools and priority.
import { describe, expect, it } from 'vitest';
import { createManualClock, isIronflowError } from '@ironflow/core';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, register, silentLogger, type EffectHandler, type LifecycleEvent } from '../src/index.js';
import { aborted, deferred, jobWorkflow, recordingLogger, type Job, type JobEffect, type JobInput } from './fixtures.js';

type Setup = { terminalPolicy?: 'cancel' | 'run'; onDeadLetter?: boolean; concurrency?: number; tags?: string[] };

function setup(handler: EffectHandler<JobEffect, JobInput>, options: Setup = {}) {
  const store = createMemoryStore();
  const clock = createManualClock();
  const job = jobWorkflow('job', { terminalPolicy: options.terminalPolicy, onDeadLetter: options.onDeadLetter, retry: { maxAttempts: 3, baseDelayMs: 100, jitter: 'none' } });
  const events: LifecycleEvent[] = [];
  const logger = recordingLogger();
  const engine = createEngine({
    store, clock, logger, workflows: [register(job).handle(handler)], onEvent: (e) => events.push(e),
    effects: { concurrency: options.concurrency ?? 10, tags: options.tags },
  });
  const ref = (id: string) => ({ type: 'job', id });
  const queue = (id: string, jobs: Job[], extra: { cancel?: string[]; remindAfter?: number } = {}) => engine.execute(job, { type: 'Queue', id, jobs, ...extra });
  const effects = async (id: string) => (await store.listEffects(ref(id))).map((e) => ({ name: (e.payload as JobEffect).name, status: e.status, attempts: e.attempts, lastError: e.lastError }));
  const warnings = () => logger.lines.filter((l) => l.level === 'warn' || l.level === 'error');
  return { store, clock, job, engine, events, ref, queue, effects, warnings };
}

const done: EffectHandler<JobEffect, JobInput> = (effect) => ({ type: 'Done', id: effect.id, name: effect.name });

describe('effect options', () => {
  it('are stored with the effect, and the handler receives the plain payload', async () => {
    const seen: unknown[] = [];
    const t = setup((effect) => {
      seen.push(effect);
    });
    const deadline = new Date(t.clock.now() + 60_000);
    const result = await t.queue('s', [{ name: 'plain' }, { name: 'rich', options: { key: 'k', tag: 'mail', priority: 7, retry: { maxAttempts: 2 }, timeoutMs: 5_000, deadline } }]);
    expect(result).toMatchObject({ status: 'accepted', effects: 2 });
    const [plain, rich] = await t.store.listEffects(t.ref('s'));
    expect(plain).toMatchObject({ priority: 0 });
    expect(plain).not.toHaveProperty('key');
    expect(plain).not.toHaveProperty('settings');
    expect(rich).toMatchObject({ key: 'k', tag: 'mail', priority: 7, settings: { retry: { maxAttempts: 2 }, timeoutMs: 5_000, deadline: deadline.getTime() } });
    await t.engine.runUntilIdle();
    // Priority 7 runs first.
    expect(seen).toEqual([{ name: 'rich', id: 's' }, { name: 'plain', id: 's' }]);
  });

  it('a bad option fails the decision with INVALID_DECISION before anything is written', async () => {
    const t = setup(done);
    const bad: Job['options'][] = [
      { key: '' },
      { tag: 'x'.repeat(513) },
      { priority: 1001 },
      { priority: 1.5 },
      { timeoutMs: 0 },
      { timeoutMs: 2.5 },
      { deadline: new Date(Number.NaN) },
      { deadline: -1 },
      { retry: { maxAttempts: 0 } },
      { retry: { jitter: 'some' as 'full' } },
      { retry: { tries: 3 } as object },
      { colour: 'red' } as object,
    ];
    for (const options of bad) {
      await expect(t.queue('bad', [{ name: 'x', options }]), JSON.stringify(options)).rejects.toMatchObject({ code: 'INVALID_DECISION', retryable: false });
    }
    await expect(t.queue('bad', [{ name: 'x', options: { key: 'same' } }, { name: 'y', options: { key: 'same' } }])).rejects.toMatchObject({ code: 'INVALID_DECISION' });
    await expect(t.queue('bad', [], { cancel: [''] })).rejects.toMatchObject({ code: 'INVALID_DECISION' });
    expect(await t.engine.getEvents(t.ref('bad'))).toEqual([]);
    expect(await t.engine.listInstances()).toEqual([]);
  });
});

describe('keyed effects', () => {
  it('a live key refuses a second effect with EFFECT_KEY_CONFLICT unless the decision cancels it first', async () => {
    const t = setup(done);
    await t.queue('k', [{ name: 'first', options: { key: 'charge' } }]);
    const conflict = t.queue('k', [{ name: 'second', options: { key: 'charge' } }]);
    await expect(conflict).rejects.toMatchObject({ code: 'EFFECT_KEY_CONFLICT', retryable: false, details: { key: 'charge' } });
    expect(await t.engine.getEvents(t.ref('k'))).toHaveLength(1);

    // Cancel and write the key again in one decision: the new effect replaces the old one.
    await t.queue('k', [{ name: 'second', options: { key: 'charge' } }], { cancel: ['charge'] });
    expect(await t.effects('k')).toMatchObject([{ name: 'first', status: 'cancelled' }, { name: 'second', status: 'pending' }]);
    expect(await t.engine.runUntilIdle()).toEqual({ effects: 1, timers: 0 });
    expect((await t.engine.getState(t.job, 'k')).state.done).toEqual(['second']);
    // Done: the key is free again.
    await t.queue('k', [{ name: 'third', options: { key: 'charge' } }]);
    expect(await t.effects('k')).toMatchObject([{}, { status: 'done' }, { name: 'third', status: 'pending' }]);
  });

  it('cancelEffects aborts the running handler of that key with CANCELLED and drops its result', async () => {
    const started = deferred<AbortSignal>();
    const t = setup(async (effect, ctx) => {
      if (effect.name === 'slow') {
        started.resolve(ctx.signal);
        await aborted(ctx.signal);
      }
      return { type: 'Done', id: effect.id, name: effect.name };
    });
    await t.queue('r', [{ name: 'slow', options: { key: 'slow' } }]);
    const idle = t.engine.runUntilIdle();
    const signal = await started.promise;
    expect(await t.queue('r', [{ name: 'other' }], { cancel: ['slow', 'unknown'] })).toMatchObject({ status: 'accepted' });
    expect(signal.aborted).toBe(true);
    expect(isIronflowError(signal.reason, 'CANCELLED')).toBe(true);
    await idle;
    await t.engine.runUntilIdle();
    expect(await t.effects('r')).toMatchObject([{ name: 'slow', status: 'cancelled' }, { name: 'other', status: 'done' }]);
    expect((await t.engine.getState(t.job, 'r')).state.done).toEqual(['other']);
    expect(t.events.filter((e) => e.type === 'effect.cancelled')).toHaveLength(1);
    expect(t.warnings()).toEqual([]);
  });
});

describe('terminal policy', () => {
  it("'cancel' (the default): completing cancels pending effects and timers and aborts running handlers; the completing decision's own effects run", async () => {
    const started = deferred<AbortSignal>();
    const ran: string[] = [];
    const t = setup(async (effect, ctx) => {
      ran.push(effect.name);
      if (effect.name === 'slow') {
        started.resolve(ctx.signal);
        await aborted(ctx.signal);
      }
    }, { concurrency: 1 });
    await t.queue('t', [{ name: 'slow' }, { name: 'queued' }], { remindAfter: 1_000 });
    const idle = t.engine.runUntilIdle();
    const signal = await started.promise;
    expect(await t.engine.execute(t.job, { type: 'Finish', id: 't', jobs: [{ name: 'receipt' }] })).toMatchObject({ status: 'accepted', completed: true });
    expect(isIronflowError(signal.reason, 'CANCELLED')).toBe(true);
    await idle;
    t.clock.advance(1_000);
    await t.engine.runUntilIdle();
    expect(ran).toEqual(['slow', 'receipt']);
    expect(await t.effects('t')).toMatchObject([{ name: 'slow', status: 'cancelled' }, { name: 'queued', status: 'cancelled' }, { name: 'receipt', status: 'done' }]);
    expect((await t.store.listTimers(t.ref('t'))).map((x) => x.status)).toEqual(['cancelled']);
    expect(t.warnings()).toEqual([]);
  });

  it("'cancel' keeps the effect whose result completed the instance: it is acknowledged done", async () => {
    const t = setup((effect) => (effect.name === 'finisher' ? { type: 'Finish', id: effect.id } : undefined), { concurrency: 1 });
    await t.queue('a', [{ name: 'finisher', options: { priority: 1 } }, { name: 'left' }]);
    expect(await t.engine.runUntilIdle()).toEqual({ effects: 1, timers: 0 });
    expect(await t.effects('a')).toMatchObject([{ name: 'finisher', status: 'done' }, { name: 'left', status: 'cancelled' }]);
  });

  it("'run': pending effects and timers still run after completion and are answered already-completed", async () => {
    const ran: string[] = [];
    const t = setup((effect) => {
      ran.push(effect.name);
      return { type: 'Done', id: effect.id, name: effect.name };
    }, { terminalPolicy: 'run' });
    await t.queue('r', [{ name: 'a' }, { name: 'b' }], { remindAfter: 1_000 });
    await t.engine.execute(t.job, { type: 'Finish', id: 'r' });
    t.clock.advance(1_000);
    expect(await t.engine.runUntilIdle()).toEqual({ effects: 2, timers: 1 });
    expect(ran).toEqual(['a', 'b']);
    expect(await t.effects('r')).toMatchObject([{ status: 'done' }, { status: 'done' }]);
    expect((await t.store.listTimers(t.ref('r'))).map((x) => x.status)).toEqual(['fired']);
    expect(t.events.filter((e) => e.type === 'effect.succeeded').map((e) => e.type === 'effect.succeeded' && e.outcome)).toEqual(['already-completed', 'already-completed']);
  });
});

describe('deadlines', () => {
  it('an effect claimed at or after its deadline is dead-lettered without running, and onDeadLetter routing applies', async () => {
    let ran = false;
    const t = setup(() => {
      ran = true;
    }, { onDeadLetter: true });
    await t.queue('d', [{ name: 'late', options: { deadline: t.clock.now() + 1_000 } }]);
    t.clock.advance(1_000);
    await t.engine.runUntilIdle();
    expect(ran).toBe(false);
    const [row] = await t.effects('d');
    expect(row).toMatchObject({ status: 'dead', attempts: 1 });
    expect(row!.lastError).toMatch(/^EFFECT_DEADLINE_EXCEEDED: /);
    expect((await t.engine.getState(t.job, 'd')).state.lost).toEqual(['late']);
  });

  it('a handler still running at the deadline is aborted with EFFECT_DEADLINE_EXCEEDED and dead-lettered, not retried', async () => {
    const signals: AbortSignal[] = [];
    const t = setup(async (_effect, ctx) => {
      signals.push(ctx.signal);
      await aborted(ctx.signal);
    });
    // A few ms of real time: the manual clock does not move, the abort timer runs on its own.
    await t.queue('h', [{ name: 'hang', options: { deadline: t.clock.now() + 5 } }]);
    await t.engine.runUntilIdle();
    expect(signals).toHaveLength(1);
    expect(isIronflowError(signals[0]!.reason, 'EFFECT_DEADLINE_EXCEEDED')).toBe(true);
    expect(await t.effects('h')).toMatchObject([{ status: 'dead', attempts: 1, lastError: expect.stringMatching(/^EFFECT_DEADLINE_EXCEEDED: .*still running/) }]);
  });

  it('a failure whose retry would start after the deadline is dead-lettered at once', async () => {
    const t = setup(() => {
      throw new Error('flaky');
    });
    await t.queue('f', [{ name: 'x', options: { deadline: t.clock.now() + 50 } }]);
    await t.engine.runUntilIdle();
    expect(await t.effects('f')).toMatchObject([{ status: 'dead', attempts: 1, lastError: expect.stringMatching(/^EFFECT_DEADLINE_EXCEEDED: .*would start after it; last error: Error: flaky/) }]);
  });
});

describe('per-effect retry and timeout', () => {
  it("an effect's retry fields override its workflow's", async () => {
    const t = setup(() => {
      throw new Error('down');
    });
    await t.queue('p', [{ name: 'once', options: { retry: { maxAttempts: 1 } } }, { name: 'quick', options: { retry: { baseDelayMs: 5 } } }, { name: 'default' }]);
    await t.engine.runUntilIdle();
    const rows = await t.store.listEffects(t.ref('p'));
    expect(rows[0]).toMatchObject({ status: 'dead', lastError: 'attempts exhausted (1/1): Error: down' });
    // Workflow policy: 3 attempts, 100 ms base, no jitter; `quick` keeps those but its base.
    expect(rows[1]).toMatchObject({ status: 'pending', attempts: 1, availableAt: t.clock.now() + 5 });
    expect(rows[2]).toMatchObject({ status: 'pending', attempts: 1, availableAt: t.clock.now() + 100 });
  });

  it("an effect's timeoutMs replaces the pool's: its handler is aborted with EFFECT_TIMEOUT and retried", async () => {
    const signals: AbortSignal[] = [];
    const t = setup(async (_effect, ctx) => {
      signals.push(ctx.signal);
      await aborted(ctx.signal);
    });
    await t.queue('o', [{ name: 'short', options: { timeoutMs: 5 } }]);
    await t.engine.runUntilIdle();
    expect(isIronflowError(signals[0]!.reason, 'EFFECT_TIMEOUT')).toBe(true);
    expect(signals[0]!.reason).toMatchObject({ retryable: true, message: expect.stringContaining('exceeded 5 ms') });
    expect(await t.effects('o')).toMatchObject([{ status: 'pending', attempts: 1, lastError: expect.stringMatching(/^EFFECT_TIMEOUT: /) }]);
  });
});

describe('tags and priority', () => {
  it('an engine started for tags claims only effects with one of them; one without tags claims any', async () => {
    const t = setup(done, { tags: ['gpu'] });
    await t.queue('g', [{ name: 'render', options: { tag: 'gpu' } }, { name: 'mail', options: { tag: 'email' } }, { name: 'plain' }]);
    expect(await t.engine.runUntilIdle()).toEqual({ effects: 1, timers: 0 });
    expect(await t.effects('g')).toMatchObject([{ name: 'render', status: 'done' }, { name: 'mail', status: 'pending' }, { name: 'plain', status: 'pending' }]);
    const general = createEngine({ store: t.store, clock: t.clock, logger: silentLogger, workflows: [register(t.job).handle(done)] });
    expect(await general.runUntilIdle()).toEqual({ effects: 2, timers: 0 });
    for (const tags of [[], [''], 'gpu']) {
      expect(() => createEngine({ store: t.store, logger: silentLogger, workflows: [t.job], effects: { tags: tags as string[] } })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('claims take higher priority first, and aging lets an effect that waited longer go before a higher one', async () => {
    const ran: string[] = [];
    const t = setup((effect) => {
      ran.push(effect.name);
    }, { concurrency: 1 });
    await t.queue('q', [{ name: 'normal' }, { name: 'urgent', options: { priority: 10 } }, { name: 'bulk', options: { priority: -5 } }]);
    await t.engine.runUntilIdle();
    expect(ran).toEqual(['urgent', 'normal', 'bulk']);

    ran.length = 0;
    await t.queue('age', [{ name: 'old' }]);
    t.clock.advance(2_000);
    // One priority level is worth one second of waiting: 2 s of age beats priority 1, not priority 3.
    await t.queue('age', [{ name: 'higher', options: { priority: 1 } }, { name: 'highest', options: { priority: 3 } }]);
    await t.engine.runUntilIdle();
    expect(ran).toEqual(['highest', 'old', 'higher']);
  });
});
