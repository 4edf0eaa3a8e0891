// The plan of a group commit without a server: which commits share a batch call, which go alone,
// and what waits for what, so commits that share an instance, a lease or an id keep array order.
import { describe, expect, it } from 'vitest';
import { parseCommit, type CheckedCommit, type CommitOutcome, type CommitRequest } from '@ironflow/core/store';
import { planGroupCommit, type Task } from '../src/group-commit.js';
import { createKeyLayout, type KeyLayout } from '../src/keys.js';

const T0 = Date.UTC(2026, 0, 1);

/** A commit of one event to `type:id` at `version`; fields given override the defaults. */
function commitOf(id: string, version: number, fields: Partial<CommitRequest> = {}): CheckedCommit {
  return parseCommit({
    ref: { type: 'plan', id },
    expectedVersion: version,
    now: T0,
    events: [{ workflowType: 'plan', workflowId: id, sequence: version + 1, type: 'E', payload: {}, metadata: { decidedAt: T0 }, recordedAt: T0 }],
    effects: [],
    cancelTimers: [],
    timers: [],
    completed: false,
    ...fields,
  });
}

/** An instance id of partition `p`. */
function idIn(layout: KeyLayout, p: number, base: string): string {
  for (let i = 0; ; i++) if (layout.partitionOf('plan', `${base}${i}`) === p) return `${base}${i}`;
}

/** A lease of partition `p`, as a claim there would issue it. */
function ack(p: number, id: string, kind: 'effect' | 'timer' = 'effect') {
  return { kind, id, token: `${p}.AAAAAAAAAAAAAAAA.1`, outcome: 'done' as const };
}

/** Each task as [kind, partition or '-', caller indexes, the seqs it waits for]. */
function shape(tasks: readonly Task[]): [string, number | '-', number[], number[]][] {
  return tasks.map((t) => [
    t.run,
    t.run === 'batch' ? t.partition : '-',
    t.run === 'batch' ? t.entries.map((e) => e.index) : [t.entry.index],
    [...t.deps].map((d) => d.seq).sort((a, b) => a - b),
  ]);
}

describe('group commit plan', () => {
  const layout = createKeyLayout('plan', 4);
  const at = (p: number, base = 'i') => idIn(layout, p, `${base}${p}-`);

  it('puts every commit of one partition in one batch, in caller order, and the partitions side by side', () => {
    const outcomes: CommitOutcome[] = [];
    const requests = [commitOf(at(2), 0), commitOf(at(0), 0), commitOf(at(2, 'j'), 0), commitOf(at(2), 1), commitOf(at(0), 1, { ack: ack(0, 'e0') })];
    expect(shape(planGroupCommit(layout, requests, outcomes))).toEqual([
      ['batch', 2, [0, 2, 3], []],
      ['batch', 0, [1, 4], []],
    ]);
    expect(outcomes).toEqual([]);
  });

  it('sends a remote acknowledgement alone, side by side with what it shares nothing with, before what it does', () => {
    const requests = [
      commitOf(at(1), 0),
      commitOf(at(1, 'r'), 0, { ack: ack(3, 'far') }), // remote: the lease is in partition 3
      commitOf(at(1, 'k'), 0), // shares nothing with it: joins the first batch
      commitOf(at(1, 'r'), 1), // its instance: waits for it, in a second batch of partition 1
      commitOf(at(3), 0, { ack: ack(3, 'far') }), // its lease: waits for it
    ];
    expect(shape(planGroupCommit(layout, requests, []))).toEqual([
      ['batch', 1, [0, 2], []],
      ['single', '-', [1], []],
      ['batch', 1, [3], [0, 1]],
      ['batch', 3, [4], [1]],
    ]);
  });

  it('lets a batch wait for an earlier lone commit instead of opening another batch', () => {
    const requests = [commitOf(at(2, 'r'), 0, { ack: ack(0, 'far') }), commitOf(at(1), 0), commitOf(at(1, 'x'), 0, { ack: ack(1, 'far') })];
    expect(shape(planGroupCommit(layout, requests, []))).toEqual([
      ['single', '-', [0], []],
      ['batch', 1, [1, 2], [0]],
    ]);
  });

  it('orders commits that create or acknowledge the same effect id', () => {
    const requests = [
      commitOf(at(0), 0, { effects: [{ id: 'shared', payload: 1 }] }),
      commitOf(at(2, 'r'), 0, { ack: ack(0, 'shared') }),
      commitOf(at(1), 0, { effects: [{ id: 'shared', payload: 2 }] }),
    ];
    expect(shape(planGroupCommit(layout, requests, []))).toEqual([
      ['batch', 0, [0], []],
      ['single', '-', [1], [0]],
      ['batch', 1, [2], [1]],
    ]);
  });

  it('makes a unique key (several partitions) and a timer acknowledged from elsewhere wait for all before them, and all after them wait', () => {
    const requests = [
      commitOf(at(0), 0),
      commitOf(at(1), 0, { uniqueKey: 'seat' }),
      commitOf(at(0, 'j'), 0),
      commitOf(at(2), 0, { ack: ack(3, 'tick', 'timer') }),
      commitOf(at(2, 'k'), 0),
    ];
    expect(shape(planGroupCommit(layout, requests, []))).toEqual([
      ['batch', 0, [0], []],
      ['single', '-', [1], [0]],
      ['batch', 0, [2], [0, 1]],
      ['single', '-', [3], [0, 1, 2]],
      ['batch', 2, [4], [3]],
    ]);
  });

  it('makes an effect acknowledged from elsewhere a barrier when a commit of the batch cancels effects, which names no id', () => {
    const requests = [
      commitOf(at(3), 0, { cancelEffects: ['charge'] }), // may cancel the effect acknowledged next
      commitOf(at(1, 'r'), 0, { ack: ack(3, 'fx') }),
      commitOf(at(2), 0),
    ];
    expect(shape(planGroupCommit(layout, requests, []))).toEqual([
      ['batch', 3, [0], []],
      ['single', '-', [1], [0]],
      ['batch', 2, [2], [1]],
    ]);
    // Without a cancel in the batch it goes side by side, as before.
    expect(shape(planGroupCommit(layout, [commitOf(at(3), 0), commitOf(at(1, 'r'), 0, { ack: ack(3, 'fx') })], []))).toEqual([
      ['batch', 3, [0], []],
      ['single', '-', [1], []],
    ]);
  });

  it('answers a lease token no partition issued without a task, and batches unique keys of a single partition', () => {
    const single = createKeyLayout('plan', 1);
    const outcomes: CommitOutcome[] = [];
    const requests = [commitOf('a', 0, { uniqueKey: 'seat' }), commitOf('b', 0, { ack: { ...ack(0, 'e'), token: 'forged' } }), commitOf('c', 0, { uniqueKey: 'seat' })];
    expect(shape(planGroupCommit(single, requests, outcomes))).toEqual([['batch', 0, [0, 2], []]]);
    expect(outcomes[1]).toEqual({ outcome: 'lease-lost' });
  });
});
