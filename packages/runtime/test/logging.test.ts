// What the runtime logs: the default logger keeps an error's stack and causes, a failed attempt is
// a warning with what comes next, a dead letter is an error.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accept, createManualClock, defineWorkflow, IronflowError } from '@ironflow/core';
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
