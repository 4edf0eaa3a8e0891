// The order a batch is sent in. Concurrent batches that lock rows in one order cannot deadlock over
// them, so items are sorted by the rows they lock, except where sorting would change an outcome.
import { compareIds, type CheckedCommit, type LeaseOperation } from '@ironflow/core/store';

/**
 * Caller positions of `items` in the order to send them: sorted by `compare` (equal items keep the
 * caller's order), except that items sharing a token keep their relative order, whatever `compare`
 * says. Each step takes the smallest item whose predecessors in every token it has are all taken.
 */
export function lockOrder<T>(items: readonly T[], compare: (a: T, b: T) => number, tokensOf: (item: T) => Iterable<string>): number[] {
  // An item waits for the item before it, in the caller's order, that shares a token with it.
  const waiting = items.map(() => 0);
  const successors: number[][] = items.map(() => []);
  const last = new Map<string, number>();
  items.forEach((item, position) => {
    for (const token of tokensOf(item)) {
      const before = last.get(token);
      if (before !== undefined) {
        successors[before]!.push(position);
        waiting[position]! += 1;
      }
      last.set(token, position);
    }
  });
  const ready = new Heap((a, b) => compare(items[a]!, items[b]!) || a - b);
  waiting.forEach((count, position) => {
    if (count === 0) ready.push(position);
  });
  const order: number[] = [];
  for (let position = ready.pop(); position !== undefined; position = ready.pop()) {
    order.push(position);
    for (const next of successors[position]!) {
      waiting[next]! -= 1;
      if (waiting[next] === 0) ready.push(next);
    }
  }
  return order;
}

/** Puts results that follow `order` (as `lockOrder` returned it) back at their caller positions. */
export function restoreOrder<R>(order: readonly number[], results: readonly R[]): R[] {
  const restored = new Array<R>(order.length);
  order.forEach((position, sent) => {
    restored[position] = results[sent]!;
  });
  return restored;
}

/**
 * The order to send commits in: by instance, the rows every commit locks first. Commits on
 * different instances give the same outcomes in either order unless they meet elsewhere, and
 * those keep the caller's order: the same acknowledged lease; in a type where the batch creates
 * an instance with a unique key, the commits that claim a key or complete an instance (completion
 * releases a key); and, in a batch that acknowledges a timer, the commits that acknowledge timers,
 * cancel them or schedule keyed ones (a timer's instance is not in its lease, so any may be it).
 * Duplicate effect or timer ids need no token: they fail the whole batch, which is then sent one
 * commit at a time in the caller's order.
 */
export function commitOrder(commits: readonly CheckedCommit[]): number[] {
  const keyedTypes = new Set(commits.flatMap((c) => (c.uniqueKey === undefined ? [] : [c.ref.type])));
  const timerAcks = commits.some((c) => c.ack?.kind === 'timer');
  return lockOrder(commits, byInstance, (c) => {
    const tokens = [`i\u0000${c.ref.type}\u0000${c.ref.id}`];
    if (c.ack !== undefined) tokens.push(`a\u0000${c.ack.kind}\u0000${c.ack.id}`);
    if ((c.uniqueKey !== undefined || c.completed) && keyedTypes.has(c.ref.type)) tokens.push(`u\u0000${c.ref.type}`);
    if (timerAcks && (c.ack?.kind === 'timer' || c.cancelTimers.length > 0 || c.timers.some((t) => t.key !== undefined))) tokens.push('t');
    return tokens;
  });
}

/** The order to send lease changes in: by row. Changes to different rows never meet, and changes to one row compare equal, so they keep the caller's order. */
export function settleOrder(operations: readonly LeaseOperation[]): number[] {
  return operations.map((_, position) => position).sort((a, b) => byRow(operations[a]!, operations[b]!) || a - b);
}

// Code-point order, which is the order of COLLATE "C": the one the SQL locks rows in.
function byInstance(a: CheckedCommit, b: CheckedCommit): number {
  return compareIds(a.ref.type, b.ref.type) || compareIds(a.ref.id, b.ref.id);
}

function byRow(a: LeaseOperation, b: LeaseOperation): number {
  return compareIds(a.lease.kind, b.lease.kind) || compareIds(a.lease.id, b.lease.id);
}

/** A binary min-heap of positions; enough for the MAX_BATCH items of one batch. */
class Heap {
  private readonly items: number[] = [];

  constructor(private readonly compare: (a: number, b: number) => number) {}

  push(item: number): void {
    const items = this.items;
    let at = items.push(item) - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (this.compare(items[parent]!, item) <= 0) break;
      items[at] = items[parent]!;
      at = parent;
    }
    items[at] = item;
  }

  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const tail = items.pop();
    if (tail === undefined || items.length === 0) return top;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= items.length) break;
      const child = left + 1 < items.length && this.compare(items[left + 1]!, items[left]!) < 0 ? left + 1 : left;
      if (this.compare(tail, items[child]!) <= 0) break;
      items[at] = items[child]!;
      at = child;
    }
    items[at] = tail;
    return top;
  }
}
