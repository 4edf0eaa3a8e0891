import { describe, expect, it } from 'vitest';
import { compareIds, parseCommit, type CheckedCommit, type CommitRequest, type LeaseOperation } from '@ironflow/core/store';
import { commitOrder, lockOrder, restoreOrder, settleOrder } from '../src/lock-order.js';
import { commit, T0 } from './support.js';

const checked = (request: CommitRequest): CheckedCommit => parseCommit(request);
const ids = (commits: readonly CheckedCommit[], order: readonly number[]): string[] => order.map((i) => `${commits[i]!.ref.type}/${commits[i]!.ref.id}`);

/** A small deterministic generator, so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** The specification of lockOrder written the slow way: take the smallest item whose earlier token sharers are all taken. */
function slowLockOrder(keys: readonly number[], tokens: readonly (readonly string[])[]): number[] {
  const taken = new Set<number>();
  const order: number[] = [];
  while (order.length < keys.length) {
    const free = keys
      .map((_, i) => i)
      .filter((i) => !taken.has(i) && tokens[i]!.every((token) => tokens.slice(0, i).every((other, j) => taken.has(j) || !other.includes(token))));
    const next = free.reduce((best, i) => (keys[i]! < keys[best]! ? i : best));
    taken.add(next);
    order.push(next);
  }
  return order;
}

describe('lockOrder', () => {
  it('without shared tokens is a stable sort: equal items keep the caller order', () => {
    const items = ['b', 'a', 'c', 'a', 'b', 'a'];
    const order = lockOrder(items, compareIds, () => []);
    expect(order).toEqual([1, 3, 5, 0, 4, 2]);
  });

  it('keeps items that share a token in the caller order, and sorts the rest around them', () => {
    // 'z' and 'a' share a token, so 'z' must go first; 'm' is free to go anywhere.
    const items = [{ key: 'z', tokens: ['t'] }, { key: 'm', tokens: [] }, { key: 'a', tokens: ['t'] }];
    expect(lockOrder(items, (x, y) => compareIds(x.key, y.key), (x) => x.tokens)).toEqual([1, 0, 2]);
  });

  it('matches the slow specification on random batches, and restoreOrder puts results back in place', () => {
    const next = random(20_260_101);
    for (let round = 0; round < 200; round += 1) {
      const size = 1 + Math.floor(next() * 40);
      const keys = Array.from({ length: size }, () => Math.floor(next() * 10));
      const tokens = keys.map(() => (next() < 0.3 ? [`t${Math.floor(next() * 3)}`] : []));
      const order = lockOrder(keys.map((_, i) => i), (a, b) => keys[a]! - keys[b]!, (i) => tokens[i]!);
      expect(order, `round ${round}`).toEqual(slowLockOrder(keys, tokens));
      expect(restoreOrder(order, order.map((position) => `result of ${position}`))).toEqual(keys.map((_, i) => `result of ${i}`));
    }
  });
});

describe('commitOrder', () => {
  it('sorts commits by type, then id, in code point order, keeping the caller order within an instance', () => {
    const commits = [
      commit({ type: 'b', id: '\u{10000}' }, 0),
      commit({ type: 'b', id: '\uE000' }, 0),
      commit({ type: 'a', id: 'x' }, 0),
      commit({ type: 'b', id: '\uE000' }, 1),
      commit({ type: 'a', id: 'x' }, 1),
    ].map(checked);
    const order = commitOrder(commits);
    expect(order).toEqual([2, 4, 1, 3, 0]);
  });

  it('keeps the caller order of commits that claim or release unique keys in a type the batch claims one in, and of other types sorts freely', () => {
    const commits = [
      commit({ type: 'keyed', id: 'z' }, 0, { uniqueKey: 'k' }),
      commit({ type: 'keyed', id: 'y' }, 3, { completed: true }),
      commit({ type: 'keyed', id: 'a' }, 0, { uniqueKey: 'k' }),
      commit({ type: 'keyed', id: 'b' }, 0),
      commit({ type: 'plain', id: 'z' }, 1, { completed: true }),
      commit({ type: 'plain', id: 'a' }, 1, { completed: true }),
    ].map(checked);
    expect(ids(commits, commitOrder(commits))).toEqual(['keyed/b', 'keyed/z', 'keyed/y', 'keyed/a', 'plain/a', 'plain/z']);
  });

  it('keeps the caller order of commits acknowledging one lease, and of timer acknowledgements against timer changes', () => {
    const lease = { kind: 'effect' as const, id: 'e1', token: 'tok' };
    const tick = { kind: 'timer' as const, id: 't1', token: 'tok' };
    const commits = [
      commit({ type: 'w', id: 'z' }, 0, { ack: { ...lease, outcome: 'done' } }),
      commit({ type: 'w', id: 'a' }, 0, { ack: { ...lease, outcome: 'done' } }),
      commit({ type: 'w', id: 'y' }, 0, { ack: { ...tick, outcome: 'done' } }),
      commit({ type: 'w', id: 'b' }, 1, { cancelTimers: ['k'] }),
      commit({ type: 'w', id: 'c' }, 1, { timers: [{ id: 't2', fireAt: T0, input: 1 }] }),
    ].map(checked);
    // 'c' schedules an unkeyed timer: no acknowledged timer can be it, so it sorts freely.
    expect(ids(commits, commitOrder(commits))).toEqual(['w/c', 'w/y', 'w/b', 'w/z', 'w/a']);
  });

  it('without a timer acknowledgement in the batch, timer changes sort freely', () => {
    const commits = [commit({ type: 'w', id: 'z' }, 1, { cancelTimers: ['k'] }), commit({ type: 'w', id: 'a' }, 1, { cancelTimers: ['k'] })].map(checked);
    expect(commitOrder(commits)).toEqual([1, 0]);
  });
});

describe('settleOrder', () => {
  it('sorts lease changes by kind, then id, keeping the caller order of changes to one row', () => {
    const change = (kind: 'effect' | 'timer', id: string, op: 'renew' | 'complete'): LeaseOperation =>
      op === 'renew' ? { op, lease: { kind, id, token: 't' }, now: T0, expiresAt: T0 + 1 } : { op, lease: { kind, id, token: 't' }, now: T0 };
    const changes = [change('timer', 'a', 'complete'), change('effect', 'b', 'renew'), change('effect', 'a', 'complete'), change('effect', 'b', 'complete')];
    expect(settleOrder(changes)).toEqual([2, 1, 3, 0]);
  });
});
