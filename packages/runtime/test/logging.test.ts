// What the runtime logs: the default logger keeps an error's stack and causes, a failed attempt is
// a warning with what comes next, a dead letter is an error.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accept, createManualClock, defineWorkflow, IronflowError, reject } from '@ironflow/core';
import { createMemoryStore } from '@ironflow/store-memory';
import { consoleLogger, createEngine, METRICS, register } from '../src/index.js';
import { recordingLogger } from './fixtures.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('consoleLogger', () => {
  it('writes an error with its code, details, stack and chain of causes', () => {
    const lines: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((line: string) => void lines.push(line));
    const root = new Error('connection reset');
    const error = new IronflowError('STORE_FAILURE', 'commit failed', { cause: root, details: { workflowType: 'order' } });
    consoleLogger.warn({ err: error, id: 'e-1' }, 'something failed');
    const written = JSON.parse(lines[0]!) as { level: string; msg: string; id: string; err: Record<string, unknown> };
    expect(written).toMatchObject({ level: 'warn', msg: 'something failed', id: 'e-1' });
    expect(written.err).toMatchObject({ name: 'IronflowError', message: 'commit failed', code: 'STORE_FAILURE', details: { workflowType: 'order' } });
    expect(written.err.stack).toEqual(expect.stringContaining('commit failed'));
    expect(written.err.cause).toMatchObject({ name: 'Error', message: 'connection reset', stack: expect.stringContaining('connection reset') });
  });

  it('stops following causes a few levels down, and survives a cycle', () => {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    consoleLogger.error({ err: a });
    let depth = 0;
    let at = (JSON.parse(lines[0]!) as { err: { cause?: unknown } }).err;
    while (typeof at.cause === 'object' && at.cause !== null) {
      at = at.cause as { cause?: unknown };
      depth += 1;
    }
    expect(depth).toBe(4);
    expect(typeof at.cause).toBe('string');
  });
});

describe('runtime log levels', () => {
  const flaky = defineWorkflow({
    type: 'flaky',
    initialState: () => ({}),
    evolve: (s: object) => s,
    decide: (input: { id: string }) => accept({ type: 'Asked' }, { effects: [{ id: input.id }] }),
    workflowId: (input) => input.id,
    retry: { maxAttempts: 2, baseDelayMs: 1000, jitter: 'none' },
  });

  it('a failed attempt warns with the attempt and the next retry; the last one is an error', async () => {
    const clock = createManualClock();
    const logger = recordingLogger();
    const engine = createEngine({
      store: createMemoryStore(), clock, logger,
      workflows: [register(flaky).handle(() => {
        throw new Error('gateway down');
      })],
    });
    await engine.execute(flaky, { id: 'f' });
    await engine.runUntilIdle();
    const retry = logger.lines.find((l) => l.level === 'warn');
    expect(retry?.msg).toBe('effect attempt 1 failed; retrying');
    expect(retry?.obj).toMatchObject({ kind: 'effect', workflowType: 'flaky', workflowId: 'f', attempt: 1, maxAttempts: 2, retryAt: new Date(clock.now() + 1000).toISOString() });
    expect((retry?.obj as { err?: Error }).err?.message).toBe('gateway down');

    clock.advance(1000);
    await engine.runUntilIdle();
    const dead = logger.lines.find((l) => l.level === 'error');
    expect(dead?.msg).toBe('effect dead-lettered');
    expect(dead?.obj).toMatchObject({ workflowId: 'f', attempts: 2, error: expect.stringContaining('gateway down') });
  });
});

describe('engine.metrics()', () => {
  const job = defineWorkflow({
    type: 'metered',
    initialState: () => ({ done: false }),
    evolve: (_s: { done: boolean }, e: { type: 'Asked' } | { type: 'Answered' }) => ({ done: e.type === 'Answered' }),
    decide: (input: { type: 'Ask' | 'Answer'; id: string; fail?: boolean }, state) =>
      input.type === 'Ask'
        ? state.done
          ? reject('done' as const)
          : accept({ type: 'Asked' as const }, { effects: [{ id: input.id, fail: input.fail === true }] })
        : accept({ type: 'Answered' as const }),
    workflowId: (input) => input.id,
    isTerminal: (s) => s.done,
    retry: { maxAttempts: 2, baseDelayMs: 1000, jitter: 'none' },
  });

  it('counts decisions, attempts by result, dead letters and handler durations, and reads the backlog as gauges', async () => {
    const clock = createManualClock();
    const engine = createEngine({
      store: createMemoryStore(), clock, logger: recordingLogger(),
      workflows: [register(job).handle((effect) => {
        if (effect.fail) throw new Error('no');
        clock.advance(40);
        return { type: 'Answer', id: effect.id };
      })],
    });
    await engine.execute(job, { type: 'Ask', id: 'ok' });
    await engine.execute(job, { type: 'Ask', id: 'bad', fail: true });
    await engine.runUntilIdle();
    await engine.execute(job, { type: 'Ask', id: 'ok' });
    const before = await engine.metrics();
    // The failing effect waits for its retry: pending, not due.
    expect(before.gauges.filter((g) => g.attributes['ironflow.work.kind'] === 'effect' && g.value > 0).map((g) => [g.name, g.attributes['ironflow.work.status'], g.value])).toEqual([['ironflow.backlog', 'pending', 1]]);
    clock.advance(1000);
    await engine.runUntilIdle();

    const { counters, histograms, gauges } = await engine.metrics();
    const value = (name: string, attributes: Record<string, string>) => counters.find((c) => c.name === name && JSON.stringify(c.attributes) === JSON.stringify(attributes))?.value;
    const type = { 'ironflow.workflow.type': 'metered' };
    expect(value('ironflow.decisions', { ...type, 'ironflow.decision.outcome': 'accepted' })).toBe(3);
    // The third input reached a completed instance: nothing decided, counted as such.
    expect(value('ironflow.decisions', { ...type, 'ironflow.decision.outcome': 'already-completed' })).toBe(1);
    expect(value('ironflow.decisions', { ...type, 'ironflow.decision.outcome': 'rejected' })).toBeUndefined();
    expect(value('ironflow.decision.conflicts', type)).toBeUndefined();
    expect(value('ironflow.instances.completed', type)).toBe(1);
    expect(value('ironflow.effect.attempts', { ...type, 'ironflow.attempt.result': 'succeeded' })).toBe(1);
    expect(value('ironflow.effect.attempts', { ...type, 'ironflow.attempt.result': 'failed' })).toBe(1);
    expect(value('ironflow.effect.attempts', { ...type, 'ironflow.attempt.result': 'dead-lettered' })).toBe(1);
    expect(value('ironflow.dead_letters', { ...type, 'ironflow.work.kind': 'effect' })).toBe(1);
    const histogram = (name: string, attributes: Record<string, string> = type) => histograms.find((h) => h.name === name && JSON.stringify(h.attributes) === JSON.stringify(attributes));
    // Durations are in seconds; the handler's 40 ms are on the manual clock.
    const succeeded = { ...type, 'ironflow.attempt.result': 'succeeded' };
    expect(histogram('ironflow.effect.duration', succeeded)).toEqual({ name: 'ironflow.effect.duration', attributes: succeeded, count: 1, sum: 0.04, min: 0.04, max: 0.04 });
    // The failing handler's two runs are timed too, by result.
    expect(histogram('ironflow.effect.duration', { ...type, 'ironflow.attempt.result': 'failed' })).toMatchObject({ count: 1 });
    expect(histogram('ironflow.effect.duration', { ...type, 'ironflow.attempt.result': 'dead-lettered' })).toMatchObject({ count: 1 });
    // Three handler starts (two attempts of the failing effect); the retry started 1000 ms after its
    // retry time at most, on the manual clock.
    expect(histogram('ironflow.effect.pickup_latency')).toMatchObject({ count: 3, min: 0 });
    expect(histogram('ironflow.effect.pickup_latency')!.max).toBeLessThanOrEqual(1);
    expect(histogram('ironflow.decision.duration', { ...type, 'ironflow.decision.outcome': 'accepted' })).toMatchObject({ count: 3 });
    expect(histogram('ironflow.decision.duration', { ...type, 'ironflow.decision.outcome': 'already-completed' })).toMatchObject({ count: 1 });
    expect(histogram('ironflow.commit.duration')).toMatchObject({ count: 3 });
    expect(histograms.every((h) => h.min >= 0 && h.sum >= h.max)).toBe(true);
    expect(gauges.filter((g) => g.value > 0).map((g) => [g.name, g.attributes['ironflow.work.status'], g.value])).toEqual([['ironflow.backlog', 'dead', 1]]);
  });

  it('counts version conflicts and failed executes, and every name it reports is in METRICS', async () => {
    const store = createMemoryStore();
    const clock = createManualClock();
    const a = createEngine({ store, clock, logger: recordingLogger(), workflows: [job] });
    const b = createEngine({ store, clock, logger: recordingLogger(), workflows: [job] });
    await a.execute(job, { type: 'Ask', id: 'shared' });
    // b has never seen the instance: its commit as a creation misses, which is not a conflict.
    await b.execute(job, { type: 'Answer', id: 'shared' });
    await a.execute(job, { type: 'Ask', id: 'other' });
    await b.execute(job, { type: 'Ask', id: 'other' });
    // b's cache holds 'other' at version 2; a moves it on, so b's next commit is a version conflict.
    await a.execute(job, { type: 'Ask', id: 'other' });
    await expect(b.execute(job, { type: 'Ask', id: 'other' })).resolves.toMatchObject({ status: 'accepted', version: 4 });
    await expect(b.execute(job, { type: 'Ask', id: 42 } as never)).rejects.toThrow();
    const { counters, histograms } = await b.metrics();
    const type = { 'ironflow.workflow.type': 'metered' };
    const value = (name: string, attributes: Record<string, string>) => counters.find((c) => c.name === name && JSON.stringify(c.attributes) === JSON.stringify(attributes))?.value;
    expect(value('ironflow.decision.conflicts', type)).toBe(1);
    expect(value('ironflow.decisions', { ...type, 'ironflow.decision.outcome': 'failed' })).toBe(1);
    const names = new Set(METRICS.map((m) => m.name));
    expect([...counters, ...histograms].every((p) => names.has(p.name))).toBe(true);
    for (const p of [...counters, ...histograms]) {
      const definition = METRICS.find((m) => m.name === p.name)!;
      expect(Object.keys(p.attributes).sort()).toEqual([...definition.attributes].sort());
    }
  });
});
