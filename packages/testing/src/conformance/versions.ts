// Versions and releases (issue 13): an event keeps the schema version its decision wrote, work keeps
// the code version that wrote it, and a process that cannot understand a leased row yet gives it
// back with a reason — counted, so a row no process understands is dead-lettered after a bound
// instead of circling for ever — without spending one of its attempts.
import { expect, it } from 'vitest';
import type { FeedEvent, FeedQuery, StoredEvent, WorkflowRef, WorkflowStore } from '@ironflow/core/store';
import { claimArgs, commitOf, effect, eventsFor, expectCode, freshType, timer, T0, type ConformanceContext } from './context.js';

/**
 * Reads the feed from `query.after` page by page until `count` events that `keep` accepts came
 * back, and returns those. A filtered page may be empty and still move `next` past the rows it
 * looked at (PostgreSQL and Redis bound them, so a read from the start of a busy feed finds
 * nothing at first), and a store may hold an event back while a commit that could precede it is
 * in flight (another test's, on a shared server): retried a while.
 */
export async function feedEventsFrom(store: WorkflowStore, query: FeedQuery, count: number, keep: (e: FeedEvent) => boolean = () => true): Promise<FeedEvent[]> {
  const events: FeedEvent[] = [];
  let after = query.after;
  const deadline = Date.now() + 60_000;
  while (events.length < count && Date.now() < deadline) {
    const page = await store.readFeed({ ...query, after });
    events.push(...page.events.filter(keep));
    if (page.events.length === 0 && page.next === after) await new Promise((resolve) => setTimeout(resolve, 10));
    after = page.next ?? after;
  }
  return events;
}

export function versionCases(ctx: ConformanceContext): void {
  const fresh = (label: string): WorkflowRef => ({ type: freshType(label), id: 'i1' });
  const versioned = (ref: WorkflowRef, from: number, versions: readonly (number | undefined)[]): StoredEvent[] =>
    eventsFor(ref, from, versions.length).map((event, i) => (versions[i] === undefined ? event : { ...event, schemaVersion: versions[i] }));
  const versionsOf = (events: readonly StoredEvent[]) => events.map((e) => ('schemaVersion' in e ? e.schemaVersion : 'absent'));

  it('an event keeps its schema version on load, readEvents and the feed; version 1 and none read back without one', async () => {
    const ref = fresh('versions');
    // Read from the head: the feed of a shared namespace holds the events of every earlier case.
    const start = await ctx.store.feedHead();
    await ctx.store.commit(commitOf(ref, 0, { events: versioned(ref, 0, [undefined, 1, 3]) }));
    const results = await ctx.store.commitMany([commitOf(ref, 3, { events: versioned(ref, 3, [2, undefined]) })]);
    expect(results).toEqual([{ ok: true }]);
    const expected = ['absent', 'absent', 3, 2, 'absent'];
    expect(versionsOf((await ctx.store.load(ref)).events)).toEqual(expected);
    expect(versionsOf(await ctx.store.readEvents(ref))).toEqual(expected);
    expect(versionsOf(await ctx.store.readEvents(ref, { fromSequence: 3 }))).toEqual([3, 2, 'absent']);
    // Unfiltered, by workflow type, and by workflow and event type alike.
    const feed = await feedEventsFrom(ctx.store, { after: start, limit: 100 }, 5, (e) => e.workflowType === ref.type);
    expect(versionsOf(feed)).toEqual(expected);
    expect(versionsOf(await feedEventsFrom(ctx.store, { after: start, workflowTypes: [ref.type], limit: 100 }, 5))).toEqual(expected);
    const filtered = await feedEventsFrom(ctx.store, { after: start, workflowTypes: [ref.type], eventTypes: ['Happened'], limit: 2 }, 5);
    expect(versionsOf(filtered)).toEqual(expected);
  });

  it('a snapshot load returns the schema versions of the events after it', async () => {
    const ref = fresh('versions');
    await ctx.store.commit(commitOf(ref, 0, { events: versioned(ref, 0, [4, 4]), snapshot: { version: 2, revision: '2@3', state: { n: 2 } } }));
    await ctx.store.commit(commitOf(ref, 2, { events: versioned(ref, 2, [5]) }));
    const loaded = await ctx.store.load(ref);
    expect(loaded.snapshot).toEqual({ version: 2, revision: '2@3', state: { n: 2 } });
    expect(versionsOf(loaded.events)).toEqual([5]);
  });

  it('effects and timers keep the code version that wrote them through listing, claim, page and dead letter; version 1 reads back without one', async () => {
    const ref = fresh('versions');
    const newer = { ...effect({ type: 'charge' }), version: 7 };
    const plain = { ...effect({ type: 'email' }), version: 1 };
    const bare = effect({ type: 'sms' });
    const keyed = { ...timer(T0 + 50, { type: 'remind' }, 'reminder'), version: 2 };
    await ctx.store.commit(commitOf(ref, 0, { effects: [newer, plain, bare], timers: [keyed] }));

    const listed = new Map((await ctx.store.listEffects(ref)).map((e) => [e.id, e]));
    expect(listed.get(newer.id)!.version).toBe(7);
    expect(listed.get(plain.id)).not.toHaveProperty('version');
    expect(listed.get(bare.id)).not.toHaveProperty('version');
    expect((await ctx.store.listTimers(ref))[0]!.version).toBe(2);

    const claimed = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 1));
    expect(new Map(claimed.map((c) => [c.id, c.version]))).toEqual(new Map([[newer.id, 7], [plain.id, undefined], [bare.id, undefined]]));
    const page = await ctx.store.listWork({ kind: 'effect', workflowType: ref.type });
    expect(page.items.find((e) => e.id === newer.id)!.version).toBe(7);
    await ctx.store.deadLetter(claimed.find((c) => c.id === newer.id)!.lease, T0 + 2, 'gave up');
    const [dead] = await ctx.store.listDeadLetters({ kind: 'effect', workflowType: ref.type });
    expect(dead).toMatchObject({ id: newer.id, version: 7 });

    // A keyed timer scheduled again takes the version of the decision that rescheduled it.
    await ctx.store.commit(commitOf(ref, 1, { timers: [{ ...timer(T0 + 80, { type: 'remind' }, 'reminder'), version: 3 }], now: T0 + 3 }));
    const [rearmed] = (await ctx.store.listTimers(ref)).filter((t) => t.status === 'pending');
    expect(rearmed).toMatchObject({ fireAt: T0 + 80, version: 3 });
    const [claimedTimer] = await ctx.store.claimTimers(claimArgs([ref.type], T0 + 80));
    expect(claimedTimer!.version).toBe(3);
  });

  it('a release with a reason counts a release, keeps the reason, un-counts the attempt and waits until availableAt', async () => {
    const ref = fresh('versions');
    const e = effect({ type: 'new-shape' });
    await ctx.store.commit(commitOf(ref, 0, { effects: [e] }));
    const [first] = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 1));
    expect(first).not.toHaveProperty('releases');
    await ctx.store.release(first!.lease, T0 + 2, { reason: 'payload version 2 is newer than this code (1)', availableAt: T0 + 1_000 });
    const [row] = await ctx.store.listEffects(ref);
    expect(row).toMatchObject({ status: 'pending', attempts: 0, releases: 1, lastError: 'payload version 2 is newer than this code (1)', availableAt: T0 + 1_000 });
    expect(row).not.toHaveProperty('leaseOwner');
    expect(await ctx.store.claimEffects(claimArgs([ref.type], T0 + 999))).toEqual([]);

    const [second] = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 1_000));
    expect(second).toMatchObject({ id: e.id, attempts: 1, releases: 1, recovered: false });
    await ctx.store.release(second!.lease, T0 + 1_001, { reason: 'still newer' });
    const [third] = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 1_001));
    expect(third).toMatchObject({ attempts: 1, releases: 2, lastError: 'still newer' });

    // A shutdown's release (no reason) changes neither the count nor the last error.
    await ctx.store.release(third!.lease, T0 + 1_002);
    expect((await ctx.store.listEffects(ref))[0]).toMatchObject({ status: 'pending', attempts: 0, releases: 2, lastError: 'still newer', availableAt: T0 + 1_002 });
    const page = await ctx.store.listWork({ kind: 'effect', workflowType: ref.type });
    expect(page.items[0]).toMatchObject({ releases: 2 });
  });

  it('a released timer moves its availableAt, keeps its fireAt, and counts its releases', async () => {
    const ref = fresh('versions');
    const t = timer(T0 + 10, { type: 'tick' });
    await ctx.store.commit(commitOf(ref, 0, { timers: [t] }));
    const [claimed] = await ctx.store.claimTimers(claimArgs([ref.type], T0 + 10));
    await ctx.store.release(claimed!.lease, T0 + 11, { reason: 'input refused by this code', availableAt: T0 + 500 });
    expect((await ctx.store.listTimers(ref))[0]).toMatchObject({ status: 'pending', fireAt: T0 + 10, availableAt: T0 + 500, attempts: 0, releases: 1, lastError: 'input refused by this code' });
    expect(await ctx.store.claimTimers(claimArgs([ref.type], T0 + 499))).toEqual([]);
    expect(await ctx.store.nextTimerAt([ref.type])).toBeGreaterThanOrEqual(T0 + 10);
    const [again] = await ctx.store.claimTimers(claimArgs([ref.type], T0 + 500));
    expect(again).toMatchObject({ id: t.id, releases: 1, attempts: 1 });
  });

  it('a keyed timer scheduled again starts over: no releases, no attempts', async () => {
    const ref = fresh('versions');
    await ctx.store.commit(commitOf(ref, 0, { timers: [timer(T0 + 10, { type: 'tick' }, 'k')] }));
    const [claimed] = await ctx.store.claimTimers(claimArgs([ref.type], T0 + 10));
    await ctx.store.release(claimed!.lease, T0 + 11, { reason: 'not understood' });
    await ctx.store.commit(commitOf(ref, 1, { timers: [timer(T0 + 50, { type: 'tick', n: 2 }, 'k')], now: T0 + 12 }));
    const [rearmed] = (await ctx.store.listTimers(ref)).filter((t) => t.status === 'pending');
    expect(rearmed).toMatchObject({ fireAt: T0 + 50, attempts: 0 });
    expect(rearmed).not.toHaveProperty('releases');
  });

  it('releases through settleMany are fenced per lease like the single call; a stale token writes nothing', async () => {
    const ref = fresh('versions');
    const [a, b] = [effect({ n: 1 }), effect({ n: 2 })];
    await ctx.store.commit(commitOf(ref, 0, { effects: [a, b] }));
    const claimed = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 1));
    const lease = (id: string) => claimed.find((c) => c.id === id)!.lease;
    const results = await ctx.store.settleMany([
      { op: 'release', lease: lease(a.id), now: T0 + 2, reason: 'newer', availableAt: T0 + 100 },
      { op: 'release', lease: { ...lease(b.id), token: 'stale' }, now: T0 + 2, reason: 'newer' },
    ]);
    expect(results[0]).toEqual({ ok: true });
    expect(results[1]!.ok).toBe(false);
    const rows = new Map((await ctx.store.listEffects(ref)).map((e) => [e.id, e]));
    expect(rows.get(a.id)).toMatchObject({ status: 'pending', releases: 1, lastError: 'newer', availableAt: T0 + 100 });
    expect(rows.get(b.id)).toMatchObject({ status: 'leased', attempts: 1 });
    expect(rows.get(b.id)).not.toHaveProperty('releases');
    await expectCode(ctx.store.release({ ...lease(b.id), token: 'stale' }, T0 + 3, { reason: 'newer' }), 'LEASE_LOST');
  });

  it('redrive resets the release count with the attempts', async () => {
    const ref = fresh('versions');
    const e = effect({ type: 'never-understood' });
    await ctx.store.commit(commitOf(ref, 0, { effects: [e] }));
    let now = T0 + 1;
    for (let i = 0; i < 3; i++) {
      const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], now));
      await ctx.store.release(claimed!.lease, now, { reason: `release ${i + 1}` });
      now += 1;
    }
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], now));
    expect(claimed).toMatchObject({ releases: 3 });
    await ctx.store.deadLetter(claimed!.lease, now, 'released 3 times: no process understands it');
    expect(await ctx.store.redrive('effect', e.id, now + 1)).toBe(true);
    const [row] = await ctx.store.listEffects(ref);
    expect(row).toMatchObject({ status: 'pending', attempts: 0 });
    expect(row).not.toHaveProperty('releases');
  });
}
