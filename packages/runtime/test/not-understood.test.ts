// Work this code cannot understand yet is released for newer code, not dead-lettered (issue 13):
// effects and timers written by a newer version, a timer input the schema refuses, with a delay
// growing with the releases, a lifecycle event, a warning and a metric; NOT_UNDERSTOOD after
// `maxReleases`. The two-engine rolling deploy runs on every store in the conformance suite.
import { describe, expect, it } from 'vitest';
import { accept, createManualClock, defineWorkflow, type StandardSchemaV1 } from '@ironflow/core';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, register, silentLogger, type LifecycleEvent } from '../src/index.js';
import { releaseDelay, resolveNotUnderstood } from '../src/not-understood.js';
import { recordingLogger } from './fixtures.js';

type JobInput = { type: 'Go'; id: string } | { type: 'Tick'; id: string } | { type: 'Done'; id: string };

/** Accepts only Go, Tick and Done: a timer input of another type was written by other code. */
const jobSchema: StandardSchemaV1<unknown, JobInput> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) =>
      ['Go', 'Tick', 'Done'].includes(String((value as { type?: unknown }).type)) ? { value: value as JobInput } : { issues: [{ message: 'unknown input type', path: ['type'] }] },
  },
};

/** A job that runs one effect and schedules one timer; `version` is its code version, `tick` the timer input's type. */
function jobWorkflow(version: number, tick = 'Tick') {
  return defineWorkflow({
    type: 'job',
    version,
    initialState: () => ({ ticks: 0, done: false }),
    evolve: (state: { ticks: number; done: boolean }, event: { type: 'Went' | 'Ticked' | 'Finished' }) =>
      event.type === 'Ticked' ? { ...state, ticks: state.ticks + 1 } : event.type === 'Finished' ? { ...state, done: true } : state,
    decide: (input: JobInput) => {
      if (input.type === 'Go') {
        return accept<{ type: 'Went' | 'Ticked' | 'Finished' }, { id: string }, JobInput>(
          { type: 'Went' },
          { effects: [{ id: input.id }], timers: [{ key: 'tick', after: 1_000, input: { type: tick, id: input.id } as JobInput }] },
        );
      }
      return accept({ type: input.type === 'Tick' ? ('Ticked' as const) : ('Finished' as const) });
    },
    workflowId: (input) => input.id,
    schema: jobSchema,
  });
}

function setup(options: { maxReleases?: number; delayMs?: number; maxDelayMs?: number } = {}) {
  const store = createMemoryStore();
  const clock = createManualClock();
  const logger = recordingLogger();
  const events: LifecycleEvent[] = [];
  let ran = 0;
  const v1 = jobWorkflow(1);
  const engine = createEngine({
    store,
    clock,
    logger,
    onEvent: (e) => events.push(e),
    notUnderstood: options,
    workflows: [
      register(v1).handle(() => {
        ran += 1;
      }),
    ],
  });
  return { store, clock, logger, events, engine, v1, ran: () => ran };
}

describe('work this code cannot understand yet', () => {
  it('an effect and a timer written by a newer version are released with a delay growing with their releases, a warning, an event and a metric', async () => {
    const t = setup();
    const v2 = jobWorkflow(2);
    await createEngine({ store: t.store, clock: t.clock, logger: silentLogger, workflows: [v2] }).execute(v2, { type: 'Go', id: 'j' });
    const start = t.clock.now();
    await t.engine.runUntilIdle();
    expect(t.ran()).toBe(0);
    const [first] = await t.store.listEffects({ type: 'job', id: 'j' });
    expect(first).toMatchObject({ status: 'pending', version: 2, releases: 1, attempts: 0, lastError: 'written by version 2 of job; this process runs version 1' });
    // Drawn from the upper half of 1 s, doubling from there.
    expect(first!.availableAt - start).toBeGreaterThanOrEqual(500);
    expect(first!.availableAt - start).toBeLessThanOrEqual(1_000);
    t.clock.advance(1_000);
    await t.engine.runUntilIdle();
    const [second] = await t.store.listEffects({ type: 'job', id: 'j' });
    expect(second).toMatchObject({ status: 'pending', releases: 2 });
    expect(second!.availableAt - t.clock.now()).toBeGreaterThanOrEqual(1_000);
    expect(second!.availableAt - t.clock.now()).toBeLessThanOrEqual(2_000);
    const [timer] = await t.store.listTimers({ type: 'job', id: 'j' });
    expect(timer).toMatchObject({ status: 'pending', version: 2, releases: 1, fireAt: start + 1_000 });

    const released = t.events.filter((e) => e.type === 'effect.released' || e.type === 'timer.released');
    expect(released.map((e) => [e.type, (e as { releases: number }).releases])).toEqual([['effect.released', 1], ['effect.released', 2], ['timer.released', 1]]);
    expect(released[0]).toMatchObject({ workflowType: 'job', workflowId: 'j', reason: 'written by version 2 of job; this process runs version 1' });
    const warnings = t.logger.lines.filter((l) => l.level === 'warn' && l.msg?.includes('released for a process running newer code'));
    expect(warnings).toHaveLength(3);
    expect(warnings[0]!.obj).toMatchObject({ kind: 'effect', workflowType: 'job', workflowId: 'j', releases: 1, maxReleases: 20 });
    const counters = (await t.engine.metrics()).counters.filter((c) => c.name === 'ironflow.releases');
    expect(counters.map((c) => [c.attributes['ironflow.work.kind'], c.value])).toEqual([['effect', 2], ['timer', 1]]);
    expect(await t.store.countDeadLetters({ kind: 'effect' })).toBe(0);
  });

  it('a timer whose input fails the workflow schema is released, then dead-lettered as NOT_UNDERSTOOD after maxReleases, logged as an error', async () => {
    const t = setup({ maxReleases: 2, delayMs: 0 });
    const other = jobWorkflow(1, 'Tock');
    await createEngine({ store: t.store, clock: t.clock, logger: silentLogger, workflows: [other] }).execute(other, { type: 'Go', id: 'k' });
    t.clock.advance(1_000);
    await t.engine.runUntilIdle();
    const [timer] = await t.store.listTimers({ type: 'job', id: 'k' });
    expect(timer).toMatchObject({ status: 'dead', releases: 2 });
    expect(timer!.lastError).toMatch(/^NOT_UNDERSTOOD: timer .* was released 2 times .*last reason: VALIDATION_FAILED: Input of job is invalid/);
    expect(t.events.filter((e) => e.type === 'timer.released').map((e) => (e as { releases: number }).releases)).toEqual([1, 2]);
    expect(t.events.find((e) => e.type === 'timer.dead-lettered')).toMatchObject({ errorType: 'NOT_UNDERSTOOD' });
    expect(t.logger.lines.filter((l) => l.level === 'error' && l.msg === 'timer dead-lettered')).toHaveLength(1);
    // The effect of the same code runs as usual.
    expect(t.ran()).toBe(1);
  });

  it('maxReleases 0 dead-letters at once, as before releases existed', async () => {
    const t = setup({ maxReleases: 0 });
    const v2 = jobWorkflow(2);
    await createEngine({ store: t.store, clock: t.clock, logger: silentLogger, workflows: [v2] }).execute(v2, { type: 'Go', id: 'z' });
    await t.engine.runUntilIdle();
    const [effect] = await t.store.listEffects({ type: 'job', id: 'z' });
    expect(effect).toMatchObject({ status: 'dead' });
    expect(effect!.releases).toBeUndefined();
    expect(effect!.lastError).toMatch(/^NOT_UNDERSTOOD: /);
  });

  it('the delay doubles from delayMs up to maxDelayMs, drawn from the upper half', () => {
    const settings = resolveNotUnderstood(undefined);
    expect(settings).toEqual({ maxReleases: 20, delayMs: 1_000, maxDelayMs: 60_000 });
    expect([1, 2, 3, 7, 20].map((n) => releaseDelay(settings, n, () => 0))).toEqual([500, 1_000, 2_000, 30_000, 30_000]);
    expect([1, 2, 3, 7, 20].map((n) => releaseDelay(settings, n, () => 0.999_999))).toEqual([999, 1_999, 3_999, 59_999, 59_999]);
    expect(resolveNotUnderstood({ delayMs: 120_000 })).toEqual({ maxReleases: 20, delayMs: 120_000, maxDelayMs: 120_000 });
  });

  it('refuses bad notUnderstood options with INVALID_ARGUMENT', () => {
    const store = createMemoryStore();
    const bad: unknown[] = [null, 5, [], { maxReleases: -1 }, { maxReleases: 1.5 }, { delayMs: Number.NaN }, { delayMs: '1000' }, { maxDelayMs: -5 }, { delayMs: 5_000, maxDelayMs: 1_000 }];
    for (const notUnderstood of bad) {
      expect(() => createEngine({ store, logger: silentLogger, workflows: [], notUnderstood: notUnderstood as never }), JSON.stringify(notUnderstood)).toThrowError(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });
});
