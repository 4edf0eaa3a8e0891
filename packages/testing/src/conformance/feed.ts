// The global event feed: every committed event, in an order every reader sees, resumable from any
// position, filtered by workflow type and event type, and never skipping an event however commits
// interleave. Each test reads only its own workflow types, so the families sharing a store do not
// disturb it.
import { expect, it } from 'vitest';
import type { FeedEvent, FeedQuery, WorkflowRef } from '@ironflow/core/store';
import { commitOf, freshType, T0, type ConformanceContext } from './context.js';

/** An event's identity in the feed. */
const idOf = (e: { workflowType: string; workflowId: string; sequence: number }): string => `${e.workflowType}/${e.workflowId}#${e.sequence}`;

export function feedCases(ctx: ConformanceContext): void {
  /**
   * Reads the feed from `after` a page of `limit` at a time until it has `count` events and then
   * to its end. A store may hold a committed event back while a commit that could precede it is
   * in flight (another test's, on a shared server), so reads are retried for a while, never
   * assumed instant.
   */
  async function readAll(query: FeedQuery & { count?: number }, limit = 100): Promise<{ events: FeedEvent[]; next: string | undefined }> {
    const { count = 0, ...feedQuery } = query;
    const events: FeedEvent[] = [];
    let after = feedQuery.after;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const page = await ctx.store.readFeed({ ...feedQuery, after, limit });
      events.push(...page.events);
      after = page.next ?? after;
      if (page.events.length > 0) continue;
      if (events.length >= count || Date.now() > deadline) return { events, next: after };
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('returns every committed event once, each instance in sequence order, with its payload, metadata and a position', async () => {
    const type = freshType('feed');
    const a = { type, id: 'a' };
    const b = { type, id: 'b' };
    await ctx.store.commit(commitOf(a, 0, { eventCount: 2 }));
    await ctx.store.commit(commitOf(b, 0, { eventCount: 1 }));
    await ctx.store.commit(commitOf(a, 2, { eventCount: 1, now: T0 + 5 }));
    const { events } = await readAll({ workflowTypes: [type], count: 4 });
    expect(events.map(idOf).sort()).toEqual([`${type}/a#1`, `${type}/a#2`, `${type}/a#3`, `${type}/b#1`]);
    // Events of one instance keep their order; with one global order, commit order also holds
    // between commits made one after another to different instances.
    expect(events.filter((e) => e.workflowId === 'a').map((e) => e.sequence)).toEqual([1, 2, 3]);
    if ((ctx.options.feedOrder ?? 'global') === 'global') {
      expect(events.map(idOf).indexOf(`${type}/a#3`)).toBeGreaterThan(events.map(idOf).indexOf(`${type}/b#1`));
    }
    const stored = await ctx.store.readEvents(a);
    for (const event of events.filter((e) => e.workflowId === 'a')) {
      const { position, ...rest } = event;
      expect(typeof position).toBe('string');
      expect(rest).toEqual(stored[event.sequence - 1]);
    }
    expect(new Set(events.map((e) => e.position)).size).toBe(events.length);
  });

  it('resumes after any position with exactly the events that follow it, and after next with only what is new', async () => {
    const type = freshType('feed');
    const refs = ['x', 'y', 'z'].map((id) => ({ type, id }));
    for (const ref of refs) await ctx.store.commit(commitOf(ref, 0, { eventCount: 2 }));
    const first = await readAll({ workflowTypes: [type], count: 6 });
    expect(first.events).toHaveLength(6);
    for (let k = 0; k < first.events.length; k++) {
      const rest = await readAll({ workflowTypes: [type], after: first.events[k]!.position, count: first.events.length - k - 1 });
      expect(rest.events.map(idOf).sort()).toEqual(first.events.slice(k + 1).map(idOf).sort());
    }
    // Nothing new yet: no events, and the same place to resume from.
    const idle = await ctx.store.readFeed({ workflowTypes: [type], after: first.next });
    expect(idle.events).toEqual([]);
    await ctx.store.commit(commitOf(refs[1]!, 2, { eventCount: 1 }));
    const more = await readAll({ workflowTypes: [type], after: first.next, count: 1 });
    expect(more.events.map(idOf)).toEqual([`${type}/y#3`]);
  });

  it('pages by limit without losing or repeating an event', async () => {
    const type = freshType('feed');
    for (const id of ['p1', 'p2', 'p3', 'p4']) await ctx.store.commit(commitOf({ type, id }, 0, { eventCount: 3 }));
    const whole = await readAll({ workflowTypes: [type], count: 12 }, 1000);
    for (const limit of [1, 2, 5]) {
      const paged = await readAll({ workflowTypes: [type], count: 12 }, limit);
      expect(paged.events.map(idOf)).toEqual(whole.events.map(idOf));
      const page = await ctx.store.readFeed({ workflowTypes: [type], limit });
      expect(page.events.length).toBeLessThanOrEqual(limit);
    }
  });

  it('filters by workflow type and by event type, and moves past what it skipped', async () => {
    const one = freshType('feed');
    const two = freshType('feed');
    const a = { type: one, id: 'f' };
    const b = { type: two, id: 'f' };
    await ctx.store.commit(commitOf(a, 0, eventsOfType(a, 0, 'Opened')));
    await ctx.store.commit(commitOf(b, 0, eventsOfType(b, 0, 'Opened')));
    await ctx.store.commit(commitOf(a, 1, { ...eventsOfType(a, 1, 'Closed'), now: T0 + 1 }));
    const ofOne = await readAll({ workflowTypes: [one], count: 2 });
    expect(ofOne.events.map(idOf)).toEqual([`${one}/f#1`, `${one}/f#2`]);
    const closed = await readAll({ workflowTypes: [one, two], eventTypes: ['Closed'], count: 1 });
    expect(closed.events.map(idOf)).toEqual([`${one}/f#2`]);
    const both = await readAll({ workflowTypes: [one, two], count: 3 });
    expect(both.events).toHaveLength(3);
    // A filter that matched nothing still hands back a position past what it read.
    const none = await readAll({ workflowTypes: [one], eventTypes: ['NeverWritten'] });
    expect(none.events).toEqual([]);
    await ctx.store.commit(commitOf(a, 2, { ...eventsOfType(a, 2, 'NeverWritten'), now: T0 + 2 }));
    expect((await readAll({ workflowTypes: [one], eventTypes: ['NeverWritten'], after: none.next, count: 1 })).events.map(idOf)).toEqual([`${one}/f#3`]);
  });

  it('the head is the position of the last readable event', async () => {
    const type = freshType('feed');
    const ref = { type, id: 'h' };
    await ctx.store.commit(commitOf(ref, 0, { eventCount: 1 }));
    const [first] = (await readAll({ workflowTypes: [type], count: 1 })).events;
    const head = await ctx.store.feedHead();
    expect(typeof head).toBe('string');
    // The head is at or past the event read, and nothing readable lies past it.
    expect((await ctx.store.readFeed({ workflowTypes: [type], after: head })).events).toEqual([]);
    await ctx.store.commit(commitOf(ref, 1, { eventCount: 1, now: T0 + 1 }));
    const later = await readAll({ workflowTypes: [type], after: first!.position, count: 1 });
    expect(later.events.map(idOf)).toEqual([`${type}/h#2`]);
    // No other family writes meanwhile: the last event of the feed is this one.
    expect(await ctx.store.feedHead()).toBe(later.events[0]!.position);
  });

  it('events of group commits are in the feed; a refused commit and a cancellation add none', async () => {
    const type = freshType('feed');
    const refs = ['g1', 'g2', 'g3'].map((id) => ({ type, id }));
    const results = await ctx.store.commitMany([commitOf(refs[0]!, 0, { eventCount: 1 }), commitOf(refs[1]!, 0, { eventCount: 2 }), commitOf(refs[0]!, 5, { eventCount: 1 })]);
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    await ctx.store.commit(commitOf(refs[2]!, 0, { eventCount: 1 }));
    await ctx.store.cancelInstance({ ref: refs[2]!, now: T0 + 9, reason: 'stop' });
    const { events } = await readAll({ workflowTypes: [type], count: 4 });
    expect(events.map(idOf).sort()).toEqual([`${type}/g1#1`, `${type}/g2#1`, `${type}/g2#2`, `${type}/g3#1`]);
  });

  it('never skips an event while commits run concurrently with a reader polling the feed', async () => {
    const type = freshType('feed');
    const instances = 12;
    const perInstance = 6;
    const expected = instances * perInstance;
    let writing = true;
    const seen: FeedEvent[] = [];
    // Reads while the commits run, then until every event has become readable (a store may hold
    // an event back while an earlier commit is in flight, never for good).
    const reader = (async () => {
      let after: string | undefined;
      const deadline = Date.now() + 120_000;
      for (;;) {
        const page = await ctx.store.readFeed({ workflowTypes: [type], after, limit: 7 });
        seen.push(...page.events);
        after = page.next ?? after;
        if (!writing && page.events.length === 0 && (seen.length >= expected || Date.now() > deadline)) return;
        if (page.events.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await Promise.all(
      Array.from({ length: instances }, async (_, i) => {
        const ref = { type, id: `c${i}` };
        for (let v = 0; v < perInstance; v++) await ctx.store.commit(commitOf(ref, v, { eventCount: 1, now: T0 + v }));
      }),
    );
    writing = false;
    await reader;
    expect(seen).toHaveLength(instances * perInstance);
    expect(new Set(seen.map(idOf)).size).toBe(instances * perInstance);
    for (let i = 0; i < instances; i++) {
      expect(seen.filter((e) => e.workflowId === `c${i}`).map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });
}

/** One event of type `type` at `version + 1`, as `commitOf`'s fields. */
function eventsOfType(ref: WorkflowRef, version: number, type: string) {
  return {
    events: [
      {
        workflowType: ref.type,
        workflowId: ref.id,
        sequence: version + 1,
        type,
        payload: { n: version + 1, note: 'ünïcødé "quoted"' },
        metadata: { decidedAt: T0, inputType: 'Feed' },
        recordedAt: T0 + version,
      },
    ],
  };
}
