// Projections seeded through the store port on a store already seeded with instances (stores.ts):
// `orders` held by a live lease, past two events, with three dead letters (one re-driven, one with
// a terminal escape in its error); `revenue` caught up and released; `search` at the start, its
// holder's lease expired. `projectionSnapshot` reads back all of it, to prove a command changed nothing.
import type { FeedEvent, FeedPosition, NewProjectionDeadLetter, ProjectionDeadLetter, ProjectionStatus, WorkflowStore } from '@ironflow/core/store';

/** An error text with terminal escapes and markup: stored data the CLI must print inert. */
export const HOSTILE_ERROR = 'boom \u001b[31m<b>red</b>\u001b[0m \u009b2J';

/** What the tests need to know of the seeded projections. */
export interface SeededProjections {
  /** Every event of the seeded store, in feed order. */
  readonly events: readonly FeedEvent[];
  /** The checkpoint of `orders`. */
  readonly ordersPosition: FeedPosition;
}

/**
 * The seeded store's events once all five are readable. A store may hold an event back while an
 * earlier commit could still land: on PostgreSQL any open transaction on the server does, and other
 * test runs share it, so this waits up to four minutes (within the hook timeout).
 */
async function allEvents(store: WorkflowStore): Promise<FeedEvent[]> {
  const deadline = Date.now() + 240_000;
  for (;;) {
    const { events } = await store.readFeed({ limit: 100 });
    if (events.length >= 5) return events;
    if (Date.now() > deadline) throw new Error(`only ${events.length} of 5 seeded events became readable`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
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

/** Seeds the three projections, with the system clock (the CLI measures leases and lag against it). */
export async function seedProjections(store: WorkflowStore): Promise<SeededProjections> {
  const events = await allEvents(store);
  const [first, second, last] = [events[0], events[1], events.at(-1)] as [FeedEvent, FeedEvent, FeedEvent];
  const now = Date.now();

  const orders = await store.claimProjection({ name: 'orders', owner: 'worker-a', now, leaseMs: 3_600_000 });
  if (orders === undefined) throw new Error('seed: orders is held');
  await store.saveProjection(orders.lease, {
    now,
    position: second.position,
    parked: [letter('pdl-1', first, HOSTILE_ERROR, 3), letter('pdl-2', second, 'read model down', 5), letter('pdl-3', second, 'timeout', 1)],
  });
  await store.redriveProjectionDeadLetter('orders', 'pdl-3', now);

  const revenue = await store.claimProjection({ name: 'revenue', owner: 'worker-b', now, leaseMs: 60_000 });
  if (revenue === undefined) throw new Error('seed: revenue is held');
  await store.saveProjection(revenue.lease, { now, position: last.position });
  await store.releaseProjection(revenue.lease, now);

  // Claimed two hours ago for one hour: its holder is gone, and nobody has taken over.
  await store.claimProjection({ name: 'search', owner: 'worker-c', now: now - 7_200_000, leaseMs: 3_600_000 });
  return { events, ordersPosition: second.position };
}

/** Every projection and all its dead letters. */
export async function projectionSnapshot(store: WorkflowStore): Promise<{ projections: ProjectionStatus[]; letters: Record<string, ProjectionDeadLetter[]> }> {
  const projections = await store.listProjections();
  const letters: Record<string, ProjectionDeadLetter[]> = {};
  for (const p of projections) letters[p.name] = (await store.listProjectionDeadLetters({ projection: p.name, limit: 1000 })).items;
  return { projections, letters };
}
