// The feed on Redis: one stream per partition written by the commit itself, positions that are
// vectors of one stream id per partition, resuming exactly after any of them, refused when hand-made
// with the wrong shape, and streams that destroy() deletes with the rest of the store.
import { describe, expect, it } from 'vitest';
import type { FeedEvent, FeedPage, WorkflowStore } from '@ironflow/core/store';
import { createKeyLayout, createRedisStore } from '../../src/index.js';
import { instrument } from '../helpers.js';
import { codeOf, commitOf, events, idIn, T0, type RedisFixture } from './fixture.js';

const idOf = (e: FeedEvent): string => `${e.workflowId}#${e.sequence}`;
const STREAM_ID = /^\d+-\d+$/;

/** Every event after `after`, `limit` a page, until a page comes back empty. */
async function readAll(store: WorkflowStore, after: string | undefined, limit: number): Promise<{ events: FeedEvent[]; pages: FeedPage[] }> {
  const all: FeedEvent[] = [];
  const pages: FeedPage[] = [];
  let at = after;
  for (;;) {
    const page = await store.readFeed({ after: at, limit });
    pages.push(page);
    all.push(...page.events);
    at = page.next ?? at;
    if (page.events.length === 0) return { events: all, pages };
  }
}

/** Redis-only cases: the global event feed. */
export function feedCases(fx: RedisFixture): void {
  const { open } = fx;
  describe('global event feed', () => {
    it('a partitioned store positions the feed by a vector of one stream id per partition, and resumes exactly after each event', async () => {
      const s = await open({ partitions: 4 });
      const layout = createKeyLayout(s.keyPrefix, 4);
      const type = 'vector';
      // Two instances in partition 0, one in 1 and 3, none in 2 (its component stays 0-0).
      const refs = [
        { type, id: idIn(layout, type, 0, 'a') },
        { type, id: idIn(layout, type, 1, 'b') },
        { type, id: idIn(layout, type, 3, 'c') },
        { type, id: idIn(layout, type, 0, 'd') },
      ];
      for (const [i, ref] of refs.entries()) await s.store.commit(commitOf(ref, 0, { now: T0 + i, events: events(ref, 0, 2, T0 + i) }));
      await s.store.commit(commitOf(refs[1]!, 2, { now: T0 + 10 }));

      const whole = await readAll(s.store, undefined, 1000);
      expect(whole.events).toHaveLength(9);
      for (const ref of refs) {
        expect(whole.events.filter((e) => e.workflowId === ref.id).map((e) => e.sequence)).toEqual(ref === refs[1] ? [1, 2, 3] : [1, 2]);
      }
      for (const event of whole.events) {
        const components = event.position.split(',');
        expect(components).toHaveLength(4);
        for (const c of components) expect(c).toMatch(STREAM_ID);
        expect(components[2]).toBe('0-0');
      }
      // The head is the vector of each stream's last id, and the last event's position.
      const head = await s.store.feedHead();
      expect(head).toBe(whole.events.at(-1)!.position);
      expect(whole.pages[0]!.next).toBe(head);

      // Resuming after any event, a page of any size, gives exactly the events after it.
      for (const limit of [1, 2, 1000]) {
        const paged = await readAll(s.store, undefined, limit);
        expect(paged.events.map(idOf)).toEqual(whole.events.map(idOf));
      }
      for (let k = 0; k < whole.events.length; k++) {
        const rest = await readAll(s.store, whole.events[k]!.position, 3);
        expect(rest.events.map(idOf)).toEqual(whole.events.slice(k + 1).map(idOf));
      }
      // A new event of a partition is all that follows the head.
      await s.store.commit(commitOf(refs[2]!, 2, { now: T0 + 20 }));
      const after = await readAll(s.store, head, 10);
      expect(after.events.map(idOf)).toEqual([`${refs[2]!.id}#3`]);
      expect(after.events[0]!.position.split(',').filter((c, p) => c !== head!.split(',')[p])).toHaveLength(1);
    });

    it('a filtered read moves every component past what it skipped', async () => {
      const s = await open({ partitions: 4 });
      const layout = createKeyLayout(s.keyPrefix, 4);
      const refs = [0, 1, 2, 3].map((p) => ({ type: 'skipped', id: idIn(layout, 'skipped', p, `s${p}`) }));
      for (const ref of refs) await s.store.commit(commitOf(ref, 0));
      const page = await s.store.readFeed({ workflowTypes: ['other'] });
      expect(page.events).toEqual([]);
      expect(page.next).toBe(await s.store.feedHead());
    });

    it('a hand-made position with the wrong number of components, or a component that is no stream id, is refused', async () => {
      const s = await open({ partitions: 4 });
      const one = await open();
      await s.store.commit(commitOf({ type: 'refused', id: 'r' }, 0));
      await one.store.commit(commitOf({ type: 'refused', id: 'r' }, 0));
      const good = (await s.store.readFeed()).next!;
      expect(good.split(',')).toHaveLength(4);
      for (const bad of ['0-0', '0-0,0-0,0-0', '0-0,0-0,0-0,0-0,0-0', '0-0,0-0,x,0-0', '0-0,0-0,01-0,0-0', '0-0,0-0,0-0,', '0-0,0-0,0-0,0', '0-0, 0-0,0-0,0-0']) {
        expect(await codeOf(s.store.readFeed({ after: bad })), bad).toBe('INVALID_ARGUMENT');
      }
      // The single stream of one partition takes one id, no vector.
      const single = (await one.store.readFeed()).next!;
      expect(single).toMatch(STREAM_ID);
      expect(await codeOf(one.store.readFeed({ after: `${single},0-0` }))).toBe('INVALID_ARGUMENT');
      // A stream id past the last entry is no position this store wrote.
      expect(await codeOf(one.store.readFeed({ after: '99999999999999999-0' }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(one.store.readFeed({ after: '18446744073709551615-18446744073709551615' }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(s.store.readFeed({ after: good.replace(/^[^,]*/, '99999999999999999-0') }))).toBe('INVALID_ARGUMENT');
    });

    it('the commit writes one stream entry per committed event in its partition, none for a refused commit, a re-sent one, and destroy() deletes the streams', async () => {
      const s = await open({ partitions: 2 });
      const layout = createKeyLayout(s.keyPrefix, 2);
      const ref = { type: 'stream', id: idIn(layout, 'stream', 1, 'x') };
      await s.store.commit(commitOf(ref, 0, { events: events(ref, 0, 3) }));
      expect(await codeOf(s.store.commit(commitOf(ref, 0)))).toBe('VERSION_CONFLICT');
      const feed = layout.partition(1).feed();
      expect(feed).toBe(`{${s.keyPrefix}#1}:feed`);
      const entries = await s.client.xrange(feed, '-', '+');
      expect(entries.map(([, fields]) => fields)).toEqual([1, 2, 3].map((seq) => ['t', ref.type, 'i', ref.id, 's', String(seq)]));
      expect(await s.client.exists(layout.partition(0).feed())).toBe(0);
      // A commit ioredis re-sends after its reply was lost finds its own nonce and appends nothing more.
      const probe = instrument(s.client);
      const resending = createRedisStore({ client: probe.client, keyPrefix: s.keyPrefix, partitions: 2 });
      probe.fault = (name) => (name === 'commit' ? 'run-twice' : 'run');
      await resending.commit(commitOf(ref, 3, { now: T0 + 1 }));
      expect(await s.client.xlen(feed)).toBe(4);
      expect((await s.store.readFeed()).events.map((e) => e.sequence)).toEqual([1, 2, 3, 4]);
      await s.store.destroy();
      expect(await s.client.exists(feed)).toBe(0);
    });
  });
}
