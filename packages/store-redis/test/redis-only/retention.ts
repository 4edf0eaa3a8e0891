// Retention on Redis: deleteInstance is one script call in the instance's partition that leaves
// no key or index entry of the instance behind (with 1 and 4 partitions, handed-off
// acknowledgements included), removes its events' stream entries, and keeps the feed's head and
// every position handed out before.
import { describe, expect, it } from 'vitest';
import type { WorkflowRef, WorkflowStore } from '@ironflow/core/store';
import { createKeyLayout, createRedisStore } from '../../src/index.js';
import { instrument, scanKeys } from '../helpers.js';
import { claimArgs, commitOf, events, idIn, T0, type RedisFixture } from './fixture.js';

/** Claims every effect and timer due by `now` of `type` and completes them. */
async function settleAll(store: WorkflowStore, type: string, now: number): Promise<void> {
  for (const claimed of [...(await store.claimEffects(claimArgs([type], now, 30_000, 100))), ...(await store.claimTimers(claimArgs([type], now, 30_000, 100)))]) {
    await store.complete(claimed.lease, now);
  }
}

/** Redis-only cases: deleting an ended instance. */
export function retentionCases(fx: RedisFixture): void {
  const { open } = fx;
  describe('retention', () => {
    it.each([1, 4])('deleting every instance (%i partitions) leaves only the settings and the emptied feed streams', async (partitions) => {
      const s = await open({ partitions });
      const layout = createKeyLayout(s.keyPrefix, partitions);
      const type = 'kept-nothing';
      const at = (p: number, base: string): WorkflowRef => ({ type, id: idIn(layout, type, p % partitions, base) });
      const parent = at(0, 'parent');
      const child = at(1, 'child');
      const other = at(2, 'other');
      // The parent owns every kind of row: keyed, tagged and prioritised effects, a dead letter, a
      // keyed timer, and its records: idempotency, snapshot, observation, unique key, a pause.
      await s.store.commit(
        commitOf(parent, 0, {
          events: events(parent, 0, 3),
          effects: [
            { id: 'fx-keyed', payload: {}, key: 'k' },
            { id: 'fx-tagged', payload: {}, tag: 'gpu', priority: 3, version: 2 },
            { id: 'fx-dead', payload: {} },
          ],
          timers: [{ id: 'tm-keyed', key: 'reminder', fireAt: T0 + 5, input: {}, version: 4 }],
          idempotencyKey: 'once',
          uniqueKey: 'u-parent',
          snapshot: { version: 3, revision: 'r', state: {} },
          observation: { workflowType: type, workflowId: parent.id, inputType: 'x', input: {}, outcome: 'accepted', observedAt: T0 },
        }),
      );
      await s.store.commit(commitOf(child, 0, { parent, effects: [{ id: 'fx-child', payload: {} }] }));
      await s.store.commit(commitOf(other, 0, { effects: [{ id: 'fx-other', payload: {} }] }));
      await s.store.setPaused({ type, id: parent.id }, true, T0);
      await s.store.setPaused({ type, id: parent.id }, false, T0);
      await s.store.setPaused({ type, id: child.id }, true, T0);

      const claimed = await s.store.claimEffects(claimArgs([type], T0 + 1, 30_000, 100));
      const lease = (id: string) => claimed.find((c) => c.id === id)!.lease;
      await s.store.deadLetter(lease('fx-dead'), T0 + 1, 'gave up');
      // The other instance acknowledges the parent's keyed effect: with 4 partitions, a handoff to
      // its partition, whose record names the parent's row.
      await s.store.commit(commitOf(other, 1, { now: T0 + 2, ack: { ...lease('fx-keyed'), outcome: 'done' } }));
      for (const c of claimed) if (c.id !== 'fx-dead' && c.id !== 'fx-keyed') await s.store.complete(c.lease, T0 + 2);
      await settleAll(s.store, type, T0 + 10);
      await s.store.setPaused({ type, id: child.id }, false, T0 + 10);
      await settleAll(s.store, type, T0 + 11);

      await s.store.commit(commitOf(parent, 3, { now: T0 + 20, completed: true }));
      expect((await s.store.cancelInstance({ ref: child, now: T0 + 21, reason: 'done with it' })).cancelled).toBe(true);
      await s.store.commit(commitOf(other, 2, { now: T0 + 22, completed: true }));
      await s.store.setPaused({ type, id: other.id }, true, T0 + 23);

      const handoffs = layout.partition(layout.partitionOf(type, other.id)).handoffs('e', 'fx-keyed');
      expect(await s.client.exists(handoffs)).toBe(partitions > 1 ? 1 : 0);
      expect((await scanKeys(s.client, layout.patterns())).length).toBeGreaterThan(20);
      for (const [ref, version] of [[parent, 4], [child, 1], [other, 3]] as const) {
        expect(await s.store.deleteInstance({ ref, expectedVersion: version, now: T0 + 30 })).toBe('deleted');
      }
      const feeds = Array.from({ length: partitions }, (_, p) => layout.partition(p).feed());
      const left = await scanKeys(s.client, layout.patterns());
      expect(left.filter((key) => key !== layout.meta && !feeds.includes(key))).toEqual([]);
      for (const feed of feeds) expect(await s.client.xlen(feed)).toBe(0);
      expect(await s.store.listPaused()).toEqual([]);
      expect(await s.store.feedHead()).toBeDefined();
    });

    it('is one script call, removes the instance’s stream entries, and keeps the head and the positions read before', async () => {
      const s = await open();
      const probe = instrument(s.client);
      const store = createRedisStore({ client: probe.client, keyPrefix: s.keyPrefix });
      const a = { type: 'feed-kept', id: 'a' };
      const b = { type: 'feed-kept', id: 'b' };
      await store.commit(commitOf(a, 0));
      await store.commit(commitOf(b, 0, { events: events(b, 0, 2), completed: true }));
      const head = await store.feedHead();
      const whole = await store.readFeed();
      expect(whole.events.map((e) => e.workflowId)).toEqual(['a', 'b', 'b']);
      const feed = createKeyLayout(s.keyPrefix, 1).partition(0).feed();
      expect(await s.client.xlen(feed)).toBe(3);

      probe.calls.length = 0;
      expect(await store.deleteInstance({ ref: b, expectedVersion: 2, now: T0 + 1 })).toBe('deleted');
      expect(probe.calls).toEqual(['delete-instance']);
      expect((await s.client.xrange(feed, '-', '+')).map(([, fields]) => fields)).toEqual([['t', a.type, 'i', 'a', 's', '1']]);
      // The head is the last id ever added, though its entry is gone: a reader there is not past the end.
      expect(await store.feedHead()).toBe(head);
      expect(await store.readFeed({ after: head })).toEqual({ events: [], next: head });
      // So is a reader at a deleted event: nothing follows, and it stays where it is.
      expect(await store.readFeed({ after: whole.events[1]!.position })).toEqual({ events: [], next: whole.events[1]!.position });
      expect(await store.feedLag({})).toEqual({ events: 1, capped: false, oldestRecordedAt: T0 });
      expect(await store.feedLag({ after: whole.events[0]!.position })).toEqual({ events: 0, capped: false });
      await store.resetProjection({ name: 'after-deletion', position: head, now: T0 + 1 });
      // New events follow the head as ever.
      await store.commit(commitOf(a, 1, { now: T0 + 2 }));
      expect((await store.readFeed({ after: head })).events.map((e) => `${e.workflowId}#${e.sequence}`)).toEqual(['a#2']);
      await store.close();
    });
  });
}
