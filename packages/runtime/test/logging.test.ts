// What the runtime logs: the default logger keeps an error's stack and causes, a failed attempt is
// a warning with what comes next, a dead letter is an error.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accept, createManualClock, defineWorkflow, IronflowError, reject } from '@ironflow/core';
import { createMemoryStore } from '@ironflow/store-memory';
import { consoleLogger, createEngine, register } from '../src/index.js';
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
    expect(before.gauges.filter((g) => g.attributes.kind === 'effect' && g.value > 0).map((g) => [g.name, g.attributes.status, g.value])).toEqual([['ironflow.backlog', 'pending', 1]]);
    clock.advance(1000);
    await engine.runUntilIdle();

    const { counters, histograms, gauges } = await engine.metrics();
    const value = (name: string, attributes: Record<string, string>) => counters.find((c) => c.name === name && JSON.stringify(c.attributes) === JSON.stringify(attributes))?.value;
    expect(value('ironflow.decisions', { 'workflow.type': 'metered', outcome: 'accepted' })).toBe(3);
    // The third input reached a completed instance: no decision, so not counted.
    expect(value('ironflow.decisions', { 'workflow.type': 'metered', outcome: 'rejected' })).toBeUndefined();
    expect(value('ironflow.instances.completed', { 'workflow.type': 'metered' })).toBe(1);
    expect(value('ironflow.effect.attempts', { 'workflow.type': 'metered', result: 'succeeded' })).toBe(1);
    expect(value('ironflow.effect.attempts', { 'workflow.type': 'metered', result: 'failed' })).toBe(1);
    expect(value('ironflow.effect.attempts', { 'workflow.type': 'metered', result: 'dead-lettered' })).toBe(1);
    expect(value('ironflow.dead_letters', { 'workflow.type': 'metered', kind: 'effect' })).toBe(1);
    expect(histograms).toEqual([{ name: 'ironflow.effect.duration', attributes: { 'workflow.type': 'metered' }, count: 1, sum: 40, min: 40, max: 40 }]);
    expect(gauges.filter((g) => g.value > 0).map((g) => [g.name, g.attributes.status, g.value])).toEqual([['ironflow.backlog', 'dead', 1]]);
  });
});
