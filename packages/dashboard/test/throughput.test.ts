// Throughput rows from engine.metrics() snapshots: totals per type, and rates per minute against
// an earlier snapshot at least MIN_WINDOW_MS old and at most WINDOW_MS.
import type { MetricsSnapshot } from '@ironflow/runtime';
import { describe, expect, it } from 'vitest';
import { MIN_WINDOW_MS, ThroughputTracker, WINDOW_MS } from '../src/throughput.js';

const T = 'ironflow.workflow.type';
function snapshot(accepted: number, failedEffects: number): MetricsSnapshot {
  return {
    counters: [
      { name: 'ironflow.decisions', attributes: { [T]: 'order', 'ironflow.decision.outcome': 'accepted' }, value: accepted },
      { name: 'ironflow.decisions', attributes: { [T]: 'order', 'ironflow.decision.outcome': 'rejected' }, value: 2 },
      { name: 'ironflow.effect.attempts', attributes: { [T]: 'order', 'ironflow.attempt.result': 'failed' }, value: failedEffects },
      { name: 'ironflow.effect.attempts', attributes: { [T]: 'order', 'ironflow.attempt.result': 'dead-lettered' }, value: 1 },
      { name: 'ironflow.dead_letters', attributes: { [T]: 'order', 'ironflow.work.kind': 'effect' }, value: 1 },
      { name: 'ironflow.leases.lost', attributes: { 'ironflow.work.kind': 'effect' }, value: 3 },
    ],
    histograms: [],
    gauges: [],
  };
}

describe('throughput', () => {
  it('sums counters per workflow type; no rates before an earlier snapshot old enough', () => {
    const tracker = new ThroughputTracker();
    const first = tracker.observe(snapshot(10, 4), 1_000_000);
    expect(first.windowMs).toBeUndefined();
    expect(first.rows).toEqual([
      { workflowType: 'order', totals: { decisions: 12, rejected: 2, failed: 0, effectsSucceeded: 0, effectsFailed: 5, timersFired: 0, deadLettered: 1, completed: 0, cancelled: 0 }, perMinute: undefined },
    ]);
    expect(tracker.observe(snapshot(11, 4), 1_000_000 + MIN_WINDOW_MS - 1).windowMs).toBeUndefined();
  });

  it('rates per minute against the oldest snapshot within the window', () => {
    const tracker = new ThroughputTracker();
    tracker.observe(snapshot(10, 4), 0);
    const later = tracker.observe(snapshot(40, 10), 30_000);
    expect(later.windowMs).toBe(30_000);
    expect(later.rows[0]?.perMinute).toMatchObject({ decisions: 60, effectsFailed: 12, deadLettered: 0 });
    // Past the window, the first snapshot is dropped and the second is the base.
    const much = tracker.observe(snapshot(100, 10), 30_000 + WINDOW_MS);
    expect(much.windowMs).toBe(WINDOW_MS);
    expect(much.rows[0]?.perMinute?.decisions).toBe(12);
  });

  it('shows no rate against counters of another engine (they went down)', () => {
    const tracker = new ThroughputTracker();
    tracker.observe(snapshot(50, 4), 0);
    expect(tracker.observe(snapshot(5, 4), 60_000).rows[0]?.perMinute).toBeUndefined();
  });
});
