// Projections seeded through the store port, with the system clock the dashboard's engine uses:
// `orders` held by a live lease, past the second event, with three dead letters (one re-driven, one
// whose error is markup); `revenue` caught up and released; `search` at the start, its holder's
// lease expired, with `bulkLetters` parked letters more (for cursor pages).
import type { FeedEvent, FeedPosition, NewProjectionDeadLetter, WorkflowStore } from '@ironflow/core/store';
import { eventually } from './eventually.js';

/** Markup in a handler's error: the pages must show it as text. */
export const HOSTILE_ERROR = `declined <img src=x onerror="window.__xss=1"> </td><script>window.__xss=2</script>`;

export interface SeededProjections {
  /** The store's events when seeded, in feed order. */
  readonly events: readonly FeedEvent[];
  /** The checkpoint of `orders`. */
  readonly ordersPosition: FeedPosition;
}

const letter = (id: string, event: FeedEvent, error: string, attempts: number): NewProjectionDeadLetter => ({
  id,
  workflowType: event.workflowType,
  workflowId: event.workflowId,
  sequence: event.sequence,
  eventType: event.type,
  position: event.position,
  error,
  attempts,
});

/** Seeds the three projections on a store holding at least `minEvents` events. */
export async function seedProjections(store: WorkflowStore, options: { minEvents: number; bulkLetters?: number }): Promise<SeededProjections> {
  let events: FeedEvent[] = [];
  // A store may hold an event back while an earlier commit could still land (on PostgreSQL, any
  // open transaction on a server other test runs share): wait up to four minutes.
  await eventually(`${options.minEvents} events are readable`, async () => (events = (await store.readFeed({ limit: 1000 })).events).length >= options.minEvents, 240_000);
  const [first, second, last] = [events[0], events[1], events.at(-1)] as [FeedEvent, FeedEvent, FeedEvent];
  const now = Date.now();

  const orders = await store.claimProjection({ name: 'orders', owner: 'worker-a', now, leaseMs: 3_600_000 });
  if (orders === undefined) throw new Error('seed: orders is held');
  await store.saveProjection(orders.lease, {
    now,
    position: second.position,
    parked: [letter('pdl-1', first, HOSTILE_ERROR, 3), letter('pdl-2', second, 'read model down: connection refused', 5), letter('pdl-3', second, 'timeout', 1)],
  });
  await store.redriveProjectionDeadLetter('orders', 'pdl-3', now);

  const revenue = await store.claimProjection({ name: 'revenue', owner: 'worker-b', now, leaseMs: 60_000 });
  if (revenue === undefined) throw new Error('seed: revenue is held');
  await store.saveProjection(revenue.lease, { now, position: last.position });
  await store.releaseProjection(revenue.lease, now);

  // Claimed two hours ago for one hour: its holder is gone, and nobody has taken over.
  const search = await store.claimProjection({ name: 'search', owner: 'worker-c', now: now - 7_200_000, leaseMs: 3_600_000 });
  if (search === undefined) throw new Error('seed: search is held');
  const bulk = Array.from({ length: options.bulkLetters ?? 0 }, (_, i) => letter(`s-${String(i).padStart(3, '0')}`, events[i % events.length]!, `search index refused document ${i}`, 2));
  if (bulk.length > 0) await store.saveProjection(search.lease, { now: now - 7_200_000, parked: bulk });
  return { events, ordersPosition: second.position };
}
