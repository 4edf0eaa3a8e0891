// The metrics an instrumented engine reports through OpenTelemetry match what happened, on every
// store, and match engine.metrics(): both are fed by the same definitions and events.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { METRICS, type MetricsSnapshot } from '@ironflow/runtime';
import { openTelemetry, SECONDS_BUCKETS } from '../src/index.js';
import { eventually, flowEngine } from './support/engine.js';
import { flow, WAKE_AFTER_MS } from './support/flow.js';
import { STORES, type TestStore } from './support/stores.js';
import { createTelemetry, installGlobals, type Collected, type Telemetry } from './support/telemetry.js';

installGlobals();

const TYPE = 'ironflow.workflow.type';
const OUTCOME = 'ironflow.decision.outcome';
const RESULT = 'ironflow.attempt.result';
const KIND = 'ironflow.work.kind';
const STATUS = 'ironflow.work.status';

/** Every point of the snapshot has the same value in the collection, and the collection has no other point. */
function expectSameAsSnapshot(collected: Collected, snapshot: MetricsSnapshot): void {
  const points = (instrument: 'counter' | 'histogram' | 'gauge') =>
    METRICS.filter((m) => m.instrument === instrument).flatMap((m) => collected.points(m.name).map((p) => ({ name: m.name, attributes: p.attributes, value: p.value })));
  expect(points('counter').length).toBe(snapshot.counters.length);
  for (const c of snapshot.counters) expect(collected.value(c.name, c.attributes), `${c.name} ${JSON.stringify(c.attributes)}`).toBe(c.value);
  expect(points('histogram').length).toBe(snapshot.histograms.length);
  for (const h of snapshot.histograms) {
    const found = collected.histogram(h.name, h.attributes);
    expect({ count: found?.count, sum: found?.sum, min: found?.min, max: found?.max }, `${h.name} ${JSON.stringify(h.attributes)}`).toEqual({ count: h.count, sum: closeTo(h.sum), min: h.min, max: h.max });
  }
  expect(points('gauge').length).toBe(snapshot.gauges.length);
  for (const g of snapshot.gauges) expect(collected.value(g.name, g.attributes), `${g.name} ${JSON.stringify(g.attributes)}`).toBe(g.value);
}

// Sums add the same values in the same order, but not necessarily in the same floating-point steps.
const closeTo = (n: number) => expect.closeTo(n, 9);

for (const { name, open } of STORES) {
  describe.skipIf(open === undefined)(`metrics (${name})`, () => {
    let data: TestStore;
    let telemetry: Telemetry;
    beforeEach(async () => {
      data = await (open as () => Promise<TestStore>)();
      telemetry = createTelemetry();
    });
    afterEach(async () => {
      await data.close();
      await telemetry.shutdown();
    });

    it('counters, histograms and backlog gauges count what happened, and agree with engine.metrics()', async () => {
      const clock = createManualClock();
      const engine = flowEngine(data.store, clock, openTelemetry({ tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider }));
      // Another process on the same data, not instrumented: its commit makes this engine's next one conflict.
      const other = flowEngine(await data.another(), clock, undefined, false);
      const ref = (id: string) => ({ type: flow.type, id });
      try {
        // f-1 runs to completion: 4 accepted decisions, 2 effects, 1 timer fired.
        await engine.execute(flow, { type: 'Start', id: 'f-1' });
        await eventually('f-1 waits for its timer', async () => (await data.store.listTimers(ref('f-1'))).length === 1);
        clock.advance(WAKE_AFTER_MS);
        await engine.waitFor(flow, 'f-1', { timeoutMs: 120_000 });
        // f-2's effect fails twice: 1 accepted decision, one retried attempt, one dead letter.
        await engine.execute(flow, { type: 'Fail', id: 'f-2' });
        await eventually('f-2 failed once', async () => (await data.store.listEffects(ref('f-2')))[0]?.attempts === 1 && (await data.store.listEffects(ref('f-2')))[0]?.status === 'pending');
        clock.advance(1_000);
        await eventually('f-2 is dead-lettered', async () => (await data.store.listEffects(ref('f-2')))[0]?.status === 'dead');
        // f-3: accepted, duplicate, rejected, failed, and accepted after a version conflict.
        expect((await engine.execute(flow, { type: 'Note', id: 'f-3' }, { idempotencyKey: 'k-1' })).status).toBe('accepted');
        expect((await engine.execute(flow, { type: 'Note', id: 'f-3' }, { idempotencyKey: 'k-1' })).status).toBe('duplicate');
        expect((await engine.execute(flow, { type: 'Refuse', id: 'f-3' })).status).toBe('rejected');
        await expect(engine.execute(flow, { type: 'Explode', id: 'f-3' })).rejects.toThrow();
        expect((await other.execute(flow, { type: 'Note', id: 'f-3' })).status).toBe('accepted');
        expect((await engine.execute(flow, { type: 'Note', id: 'f-3' })).status).toBe('accepted');
        // f-4 stops at its timer: 3 accepted decisions, 2 effects.
        await engine.execute(flow, { type: 'Start', id: 'f-4' });
        await eventually('f-4 waits for its timer', async () => (await data.store.listTimers(ref('f-4'))).length === 1);
      } finally {
        await engine.stop();
      }
      // f-4's timer has been due for a second when the gauges are read: no worker runs to take it.
      clock.advance(WAKE_AFTER_MS + 1_000);

      const collected = await telemetry.collect();
      expect(collected.errors).toEqual([]);
      const count = (metric: string, attributes: Record<string, string>) => collected.value(metric, attributes);
      expect({
        accepted: count('ironflow.decisions', { [TYPE]: 'flow', [OUTCOME]: 'accepted' }),
        duplicate: count('ironflow.decisions', { [TYPE]: 'flow', [OUTCOME]: 'duplicate' }),
        rejected: count('ironflow.decisions', { [TYPE]: 'flow', [OUTCOME]: 'rejected' }),
        failed: count('ironflow.decisions', { [TYPE]: 'flow', [OUTCOME]: 'failed' }),
        conflicts: count('ironflow.decision.conflicts', { [TYPE]: 'flow' }),
        completed: count('ironflow.instances.completed', { [TYPE]: 'flow' }),
        succeeded: count('ironflow.effect.attempts', { [TYPE]: 'flow', [RESULT]: 'succeeded' }),
        retried: count('ironflow.effect.attempts', { [TYPE]: 'flow', [RESULT]: 'failed' }),
        deadLettered: count('ironflow.effect.attempts', { [TYPE]: 'flow', [RESULT]: 'dead-lettered' }),
        deadLetters: count('ironflow.dead_letters', { [TYPE]: 'flow', [KIND]: 'effect' }),
        timerAttempts: count('ironflow.timer.attempts', { [TYPE]: 'flow', [RESULT]: 'fired' }),
        timersFired: count('ironflow.timers.fired', { [TYPE]: 'flow' }),
      }).toEqual({ accepted: 10, duplicate: 1, rejected: 1, failed: 1, conflicts: 1, completed: 1, succeeded: 4, retried: 1, deadLettered: 1, deadLetters: 1, timerAttempts: 1, timersFired: 1 });
      expect({
        decisions: collected.histogram('ironflow.decision.duration', { [TYPE]: 'flow', [OUTCOME]: 'accepted' })?.count,
        commits: collected.histogram('ironflow.commit.duration', { [TYPE]: 'flow' })?.count,
        effects: collected.histogram('ironflow.effect.duration', { [TYPE]: 'flow', [RESULT]: 'succeeded' })?.count,
        failedEffects: collected.histogram('ironflow.effect.duration', { [TYPE]: 'flow', [RESULT]: 'failed' })?.count,
        deadEffects: collected.histogram('ironflow.effect.duration', { [TYPE]: 'flow', [RESULT]: 'dead-lettered' })?.count,
        pickups: collected.histogram('ironflow.effect.pickup_latency', { [TYPE]: 'flow' })?.count,
      }).toEqual({ decisions: 10, commits: 10, effects: 4, failedEffects: 1, deadEffects: 1, pickups: 6 });
      expect(collected.histogram('ironflow.commit.duration', { [TYPE]: 'flow' })?.buckets.boundaries).toEqual(SECONDS_BUCKETS);
      expect({
        deadEffects: count('ironflow.backlog', { [TYPE]: 'flow', [KIND]: 'effect', [STATUS]: 'dead' }),
        pendingEffects: count('ironflow.backlog', { [TYPE]: 'flow', [KIND]: 'effect', [STATUS]: 'pending' }),
        dueTimers: count('ironflow.backlog', { [TYPE]: 'flow', [KIND]: 'timer', [STATUS]: 'due' }),
        oldestDueTimer: count('ironflow.backlog.oldest_due_age', { [TYPE]: 'flow', [KIND]: 'timer' }),
      }).toEqual({ deadEffects: 1, pendingEffects: 0, dueTimers: 1, oldestDueTimer: 1 });
      for (const m of METRICS) {
        const metric = collected.metrics.find((d) => d.descriptor.name === m.name);
        if (metric !== undefined) expect({ unit: metric.descriptor.unit, description: metric.descriptor.description }).toEqual({ unit: m.unit, description: m.description });
      }

      expectSameAsSnapshot(collected, await engine.metrics());
    });

    it('a store that cannot read its backlog costs that collection the gauges only: counters and histograms are still collected', async () => {
      const failing = new Proxy(data.store, {
        get: (target, key) => (key === 'backlog' ? () => Promise.reject(new Error('store down')) : Reflect.get(target, key)),
      }) satisfies WorkflowStore;
      const engine = flowEngine(failing, createManualClock(), openTelemetry({ tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider }), false);
      await engine.execute(flow, { type: 'Note', id: 'g-1' });
      const collected = await telemetry.collect();
      expect(collected.errors).toEqual([]);
      expect(collected.value('ironflow.decisions', { [TYPE]: 'flow', [OUTCOME]: 'accepted' })).toBe(1);
      expect(collected.histogram('ironflow.decision.duration', { [TYPE]: 'flow', [OUTCOME]: 'accepted' })?.count).toBe(1);
      expect(collected.points('ironflow.backlog')).toEqual([]);
    });
  });
}
