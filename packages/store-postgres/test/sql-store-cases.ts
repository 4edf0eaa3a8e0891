// Tests of this package that hold on PostgreSQL and PGlite alike, added to each conformance run:
// one round trip per operation, poison isolation done inside the one claim statement, deletions
// racing the writes they lock out, and endings notified across stores.
import { describe, expect, it } from 'vitest';
import { compareIds, type FeedEvent, type WorkflowStore } from '@ironflow/core/store';
import { uniqueName, type ConformanceContext } from '@ironflow/testing';
import type { PostgresStore } from '../src/index.js';
import { commit, eventually, T0 } from './support.js';

/** A store of this package over a client that counts what reaches the database. */
export interface CountedStore {
  readonly store: PostgresStore;
  /** Round trips so far: statements, plus pool check-outs or transactions. */
  trips(): number;
  /** Closes the store and whatever the opener created for it. */
  close(): Promise<void>;
}

/** Declares the shared cases; `counted` opens a counting store on a migrated namespace. */
export function sqlStoreCases(ctx: ConformanceContext, counted: (namespace: string) => Promise<CountedStore>): void {
  /** Runs `test` against a fresh counting store on the suite's namespace, closing it afterwards. */
  async function withCounted(test: (counted: CountedStore) => Promise<void>): Promise<void> {
    const opened = await counted(ctx.namespace);
    try {
      await test(opened);
    } finally {
      await opened.close();
    }
  }

  /** Round trips `run` cost. */
  async function tripsOf(opened: CountedStore, run: () => Promise<unknown>): Promise<number> {
    const before = opened.trips();
    await run();
    return opened.trips() - before;
  }

  describe('round trips', () => {
    it('a commit, a load, a claim and each lease operation cost one round trip; a malformed request costs none', async () => {
      await withCounted(async (opened) => {
        const { store } = opened;
        const type = uniqueName('trips');
        const ref = { type, id: 'counted' };
        const full = commit(ref, 0, {
          effects: [{ id: uniqueName('e'), payload: { a: 1 } }, { id: uniqueName('e'), payload: { a: 2 } }],
          timers: [{ id: uniqueName('t'), key: 'k', fireAt: T0, input: { t: 1 } }],
          cancelTimers: ['k0'],
          uniqueKey: 'u',
          idempotencyKey: 'i',
          snapshot: { version: 1, revision: '1', state: { s: 1 } },
          observation: { workflowType: type, workflowId: 'counted', inputType: 'Book', input: {}, outcome: 'accepted', observedAt: T0 },
        });
        expect(await tripsOf(opened, () => store.commit({ ...full, now: 1.5 }).catch(() => undefined))).toBe(0);
        expect(await tripsOf(opened, () => store.commit(full))).toBe(1);
        expect(await tripsOf(opened, () => store.load(ref, { idempotencyKey: 'i' }))).toBe(1);
        let claimed: Awaited<ReturnType<PostgresStore['claimEffects']>> = [];
        expect(await tripsOf(opened, async () => (claimed = await store.claimEffects({ now: T0, limit: 10, types: [type], leaseMs: 60_000, owner: 'w' })))).toBe(1);
        expect(claimed).toHaveLength(2);
        expect(await tripsOf(opened, () => store.claimTimers({ now: T0, limit: 10, types: [type], leaseMs: 60_000, owner: 'w' }))).toBe(1);
        expect(await tripsOf(opened, () => store.renewLease(claimed[0]!.lease, T0, 60_000))).toBe(1);
        expect(await tripsOf(opened, () => store.complete(claimed[0]!.lease, T0))).toBe(1);
        const ack = { ...claimed[1]!.lease, outcome: 'done' as const };
        expect(await tripsOf(opened, () => store.commit(commit(ref, 1, { ack, effects: [{ id: uniqueName('e'), payload: null }] })))).toBe(1);
        expect(await tripsOf(opened, () => store.commit(commit(ref, 1)).catch(() => undefined))).toBe(1);
      });
    });

    it('a release with a reason and a deleteInstance cost one round trip each, whatever the outcome', async () => {
      await withCounted(async (opened) => {
        const { store } = opened;
        const type = uniqueName('trips');
        const ref = { type, id: 'deleted' };
        await store.commit(commit(ref, 0, { effects: [{ id: uniqueName('e'), payload: 1 }] }));
        const [claimed] = await store.claimEffects({ now: T0, limit: 1, types: [type], leaseMs: 60_000, owner: 'w' });
        expect(await tripsOf(opened, () => store.release(claimed!.lease, T0, { reason: 'newer', availableAt: T0 + 10 }))).toBe(1);
        expect(await tripsOf(opened, async () => expect(await store.deleteInstance({ ref, expectedVersion: 1, now: T0 })).toBe('active'))).toBe(1);
        await store.commit(commit(ref, 1, { completed: true, cancelWork: true }));
        expect(await tripsOf(opened, async () => expect(await store.deleteInstance({ ref, expectedVersion: 2, now: T0 })).toBe('deleted'))).toBe(1);
        expect(await tripsOf(opened, async () => expect(await store.deleteInstance({ ref, expectedVersion: 2, now: T0 })).toBe('missing'))).toBe(1);
      });
    });
  });

  describe('releases in settle_leases, one change at a time', () => {
    it('a batch that names a row twice (renewed, then released with a reason) releases it as the set-based path does: counted, delayed, the attempt un-counted', async () => {
      const type = uniqueName('release-loop');
      const ref = { type, id: 'r' };
      const ids = [uniqueName('e'), uniqueName('e')];
      await ctx.store.commit(commit(ref, 0, { effects: ids.map((id) => ({ id, payload: 1 })) }));
      const claimed = await ctx.store.claimEffects({ now: T0, limit: 2, types: [type], leaseMs: 1000, owner: 'w' });
      const lease = (id: string) => claimed.find((c) => c.id === id)!.lease;
      const results = await ctx.store.settleMany([
        { op: 'renew', lease: lease(ids[0]!), now: T0 + 1, leaseMs: 1000 },
        { op: 'release', lease: lease(ids[0]!), now: T0 + 2, reason: 'newer', availableAt: T0 + 50 },
        { op: 'release', lease: lease(ids[1]!), now: T0 + 2 },
      ]);
      expect(results.map((r) => r.ok)).toEqual([true, true, true]);
      const rows = new Map((await ctx.store.listEffects(ref)).map((e) => [e.id, e]));
      expect(rows.get(ids[0]!)).toMatchObject({ status: 'pending', attempts: 0, releases: 1, lastError: 'newer', availableAt: T0 + 50 });
      expect(rows.get(ids[1]!)).toMatchObject({ status: 'pending', attempts: 0, availableAt: T0 + 2 });
      expect(rows.get(ids[1]!)).not.toHaveProperty('releases');
      expect(rows.get(ids[1]!)).not.toHaveProperty('lastError');
    });
  });

  describe('versions and deletions on the feed', () => {
    /** The events of `type` after `after`, read page by page with `query` until `count` came back. */
    async function typeEvents(query: { filtered: boolean; limit: number }, type: string, after: string | undefined, count: number) {
      const events: FeedEvent[] = [];
      let next = after;
      const deadline = Date.now() + 30_000;
      while (events.length < count && Date.now() < deadline) {
        const page = await ctx.store.readFeed({ after: next, limit: query.limit, ...(query.filtered ? { workflowTypes: [type] } : {}) });
        events.push(...page.events.filter((e) => e.workflowType === type));
        if (page.events.length === 0 && page.next === next) await new Promise((resolve) => setTimeout(resolve, 10));
        next = page.next ?? next;
      }
      return events.map((e) => `${e.workflowId}${e.sequence}:${e.schemaVersion ?? '-'}`);
    }

    it('the unfiltered and the filtered feed statements return schema versions alike, and pass over the events of a deleted instance', async () => {
      const type = uniqueName('feed-versions');
      const start = await ctx.store.feedHead();
      const event = (ref: { type: string; id: string }, sequence: number, schemaVersion?: number) => ({
        ...commit(ref, sequence - 1).events[0]!,
        ...(schemaVersion === undefined ? {} : { schemaVersion }),
      });
      const [a, b] = [{ type, id: 'a' }, { type, id: 'b' }];
      await ctx.store.commit(commit(a, 0, { events: [event(a, 1), event(a, 2, 2)] }));
      await ctx.store.commit(commit(b, 0, { events: [event(b, 1, 5)], completed: true }));
      await ctx.store.commit(commit(a, 2, { events: [event(a, 3, 1)] }));
      const expected = ['a1:-', 'a2:2', 'b1:5', 'a3:-'];
      for (const query of [{ filtered: false, limit: 100 }, { filtered: true, limit: 1 }]) {
        expect(await typeEvents(query, type, start, 4), JSON.stringify(query)).toEqual(expected);
      }
      expect(await ctx.store.deleteInstance({ ref: b, expectedVersion: 1, now: T0 })).toBe('deleted');
      for (const query of [{ filtered: false, limit: 100 }, { filtered: true, limit: 1 }]) {
        expect(await typeEvents(query, type, start, 3), JSON.stringify(query)).toEqual(['a1:-', 'a2:2', 'a3:-']);
      }
    });
  });

  describe('deletion racing writes', () => {
    /** Everything of `ref` the store still holds: events, work, the instance's version. */
    const remains = async (store: WorkflowStore, ref: { type: string; id: string }) => ({
      version: (await store.load(ref)).version,
      events: (await store.readEvents(ref)).length,
      work: (await store.listEffects(ref)).length + (await store.listTimers(ref)).length,
    });

    it('a commit that completes an instance while another process deletes it at the completed version: the deletion finds it changed, or deletes it with the commit\'s events', async () => {
      const type = uniqueName('delete-race');
      const other = await ctx.open(ctx.namespace);
      const refs = Array.from({ length: 20 }, (_, i) => ({ type, id: `r${i}` }));
      await ctx.store.commitMany(refs.map((ref) => commit(ref, 0)));
      const outcomes = await Promise.all(
        refs.map(async (ref) => {
          const [committed, deleted] = await Promise.all([
            ctx.store.commit(commit(ref, 1, { completed: true })).then(
              () => 'committed',
              (error: unknown) => (error as { code?: string }).code,
            ),
            other.deleteInstance({ ref, expectedVersion: 2, now: T0 }),
          ]);
          return { ref, committed, deleted };
        }),
      );
      for (const { ref, committed, deleted } of outcomes) {
        expect(committed, ref.id).toBe('committed');
        expect(['changed', 'deleted'], ref.id).toContain(deleted);
        // Deleted after the commit: nothing of it is left, its second event included.
        expect(await remains(ctx.store, ref), ref.id).toEqual(deleted === 'deleted' ? { version: 0, events: 0, work: 0 } : { version: 2, events: 2, work: 0 });
      }
    });

    it('a redrive of a dead effect racing the deletion of its instance: either the effect comes back and the instance stays, or both are gone', async () => {
      const type = uniqueName('redrive-race');
      const other = await ctx.open(ctx.namespace);
      const refs = Array.from({ length: 20 }, (_, i) => ({ type, id: `r${i}` }));
      const ids = new Map(refs.map((ref) => [ref.id, uniqueName('e')]));
      await ctx.store.commitMany(refs.map((ref) => commit(ref, 0, { completed: true, effects: [{ id: ids.get(ref.id)!, payload: 1 }] })));
      const claimed = await ctx.store.claimEffects({ now: T0, limit: 100, types: [type], leaseMs: 60_000, owner: 'w' });
      expect(claimed).toHaveLength(refs.length);
      await ctx.store.settleMany(claimed.map((c) => ({ op: 'deadLetter' as const, lease: c.lease, now: T0, error: 'gave up' })));
      const outcomes = await Promise.all(
        refs.map(async (ref) => {
          const [redriven, deleted] = await Promise.all([ctx.store.redrive('effect', ids.get(ref.id)!, T0 + 1), other.deleteInstance({ ref, expectedVersion: 1, now: T0 + 1 })]);
          return { ref, redriven, deleted };
        }),
      );
      for (const { ref, redriven, deleted } of outcomes) {
        const left = await remains(ctx.store, ref);
        if (deleted === 'deleted') {
          expect(redriven, ref.id).toBe(false);
          expect(left, ref.id).toEqual({ version: 0, events: 0, work: 0 });
        } else {
          expect([redriven, deleted], ref.id).toEqual([true, 'busy']);
          expect(left, ref.id).toEqual({ version: 1, events: 1, work: 1 });
        }
      }
    });
  });

  describe('poison isolation in the claim statement', () => {
    it('an expired lease is claimed alone as recovered, and a batch of fresh effects stops before it, one statement per claim', async () => {
      await withCounted(async (opened) => {
        const { store } = opened;
        const fresh = uniqueName('fresh');
        const poison = uniqueName('poison');
        const [p1, p2, r, p3] = [uniqueName('p1'), uniqueName('p2'), uniqueName('r'), uniqueName('p3')];
        // Claim order: p1 and p2 (available at T0), r (T0 + 1), p3 (T0 + 2).
        await store.commit(commit({ type: fresh, id: 'a' }, 0, { now: T0, effects: [{ id: p1, payload: 1 }, { id: p2, payload: 2 }] }));
        await store.commit(commit({ type: poison, id: 'r' }, 0, { now: T0 + 1, effects: [{ id: r, payload: 'poison' }] }));
        await store.commit(commit({ type: fresh, id: 'b' }, 0, { now: T0 + 2, effects: [{ id: p3, payload: 3 }] }));
        // r's worker claims it and dies: its lease expires unsettled at T0 + 1001.
        expect((await store.claimEffects({ now: T0 + 1, limit: 10, types: [poison], leaseMs: 1000, owner: 'doomed' })).map((c) => c.id)).toEqual([r]);

        const later = T0 + 10_000;
        const claim = () => store.claimEffects({ now: later, limit: 10, types: [fresh, poison], leaseMs: 60_000, owner: 'survivor' });
        let batch: Awaited<ReturnType<typeof claim>> = [];
        expect(await tripsOf(opened, async () => (batch = await claim()))).toBe(1);
        expect(batch.map((c) => [c.id, c.recovered, c.attempts])).toEqual([p1, p2].sort(compareIds).map((id) => [id, false, 1]));

        expect(await tripsOf(opened, async () => (batch = await claim()))).toBe(1);
        expect(batch.map((c) => [c.id, c.recovered, c.attempts])).toEqual([[r, true, 2]]);
        expect(batch[0]).toMatchObject({ status: 'leased', leaseOwner: 'survivor', leaseExpiresAt: later + 60_000 });

        expect(await tripsOf(opened, async () => (batch = await claim()))).toBe(1);
        expect(batch.map((c) => [c.id, c.recovered])).toEqual([[p3, false]]);
      });
    });

    it('a timer whose lease expired unsettled is claimed alone as recovered, before the due timers after it', async () => {
      const type = uniqueName('timers');
      const ref = { type, id: 'poisoned' };
      const [first, second] = [uniqueName('t1'), uniqueName('t2')];
      await ctx.store.commit(commit(ref, 0, { timers: [{ id: first, fireAt: T0, input: 1 }, { id: second, fireAt: T0 + 1, input: 2 }] }));
      const claim = (now: number, limit: number) => ctx.store.claimTimers({ now, limit, types: [type], leaseMs: 1000, owner: 'w' });
      expect((await claim(T0 + 1, 1)).map((c) => [c.id, c.recovered])).toEqual([[first, false]]);
      expect((await claim(T0 + 5000, 10)).map((c) => [c.id, c.recovered, c.attempts])).toEqual([[first, true, 2]]);
      expect((await claim(T0 + 5000, 10)).map((c) => [c.id, c.recovered, c.attempts])).toEqual([[second, false, 1]]);
    });
  });

  describe('cancellation racing commits', () => {
    it('a commit that races a cancellation of its instance is refused, or lands first and its new work is cancelled: no live work survives', async () => {
      const type = uniqueName('race');
      const other = await ctx.open(ctx.namespace);
      const refs = Array.from({ length: 20 }, (_, i) => ({ type, id: `r${i}` }));
      await ctx.store.commitMany(refs.map((ref) => commit(ref, 0, { effects: [{ id: uniqueName('e'), payload: 0 }] })));
      const outcomes = await Promise.all(
        refs.map(async (ref, i) => {
          // Half of the commits are routed results, which take the set-based path.
          const [claimed] = i % 2 === 0 ? await ctx.store.claimEffects({ now: T0, limit: 1, types: [type], leaseMs: 60_000, owner: 'w' }) : [];
          const ack = claimed === undefined || claimed.workflowId !== ref.id ? undefined : { ...claimed.lease, outcome: 'done' as const };
          const [committed] = await Promise.all([
            ctx.store.commit(commit(ref, 1, { ack, effects: [{ id: uniqueName('e'), payload: 1 }], timers: ack === undefined ? [{ id: uniqueName('t'), fireAt: T0, input: 1 }] : [] })).then(
              () => 'committed',
              (error: unknown) => (error as { code?: string }).code,
            ),
            other.cancelInstance({ ref, now: T0, reason: 'race' }),
          ]);
          return committed;
        }),
      );
      expect(outcomes.every((o) => o === 'committed' || o === 'VERSION_CONFLICT' || o === 'LEASE_LOST'), String(outcomes)).toBe(true);
      for (const ref of refs) {
        expect((await ctx.store.load(ref)).status).toBe('cancelled');
        const live = [...(await ctx.store.listEffects(ref)), ...(await ctx.store.listTimers(ref))].filter((w) => w.status === 'pending' || w.status === 'leased');
        expect(live, ref.id).toEqual([]);
      }
    });
  });

  describe('endings across stores', () => {
    it('a second store on the namespace hears each ending the first causes, in every commit path and by cancellation, once; neither hears its own twice', async () => {
      const a = ctx.store;
      const b = (await ctx.open(ctx.namespace)) as PostgresStore;
      const type = uniqueName('ended');
      const heardBy = (store: PostgresStore) => {
        const heard: string[] = [];
        const stop = store.subscribeEnded((ended) => {
          if (ended.type === type) heard.push(`${ended.id}:${ended.status}`);
        });
        return { heard, stop };
      };
      const byA = heardBy(a as PostgresStore);
      const byB = heardBy(b);
      try {
        // The LISTEN connections open in the background: completions until each store hears the other's.
        let probes = 0;
        const probe = async (from: WorkflowStore, listener: { heard: string[] }) =>
          eventually('the LISTEN connection', async () => {
            const id = `probe-${(probes += 1)}`;
            await from.commit(commit({ type, id }, 0, { completed: true }));
            await new Promise((resolve) => setTimeout(resolve, 50));
            return listener.heard.includes(`${id}:completed`) ? true : undefined;
          });
        await probe(a, byB);
        await probe(b, byA);
        byA.heard.length = 0;
        byB.heard.length = 0;

        // Completions through each path of commit_decisions: a new instance (set-based), a routed
        // result (set-based), a commit with an idempotency key (one at a time); a cancellation; and
        // a commit that does not complete.
        await a.commitMany([commit({ type, id: 'created' }, 0, { completed: true })]);
        const effect = uniqueName('e');
        await a.commit(commit({ type, id: 'routed' }, 0, { effects: [{ id: effect, payload: 1 }] }));
        const [claimed] = await a.claimEffects({ now: T0, limit: 1, types: [type], leaseMs: 60_000, owner: 'w' });
        await a.commitMany([commit({ type, id: 'routed' }, 1, { ack: { ...claimed!.lease, outcome: 'done' }, completed: true })]);
        await a.commit(commit({ type, id: 'keyed' }, 0));
        await a.commit(commit({ type, id: 'keyed' }, 1, { idempotencyKey: 'i', completed: true }));
        await a.commit(commit({ type, id: 'stopped' }, 0));
        await a.cancelInstance({ ref: { type, id: 'stopped' }, now: T0, reason: 'r' });
        await a.commit(commit({ type, id: 'busy' }, 0));
        // Notifications arrive in commit order: once each store hears a later ending of the other,
        // everything before it, its own echoes included, has arrived.
        await b.commit(commit({ type, id: 'last-b' }, 0, { completed: true }));
        await a.commit(commit({ type, id: 'last-a' }, 0, { completed: true }));
        await eventually('the last endings', () => (byB.heard.includes('last-a:completed') && byA.heard.includes('last-b:completed') ? true : undefined));

        const expected = ['created:completed', 'keyed:completed', 'routed:completed', 'stopped:cancelled'];
        expect(byB.heard.filter((h) => !h.startsWith('last')).sort()).toEqual(expected);
        expect(byA.heard.filter((h) => !h.startsWith('last')).sort()).toEqual(expected);
        expect(byA.heard.filter((h) => h === 'last-a:completed')).toHaveLength(1);
        expect(byB.heard.filter((h) => h === 'last-b:completed')).toHaveLength(1);
      } finally {
        byA.stop();
        byB.stop();
      }
    });
  });
}
