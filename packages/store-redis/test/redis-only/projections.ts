// Projection checkpoints on Redis: hostile names and dead-letter ids stay under the store's
// partition tags, one tag per projection, and destroy() removes them with the registry; names and
// ids sort by code points across partitions; every fenced operation is one script call; feedLag
// counts every partition's stream and refuses positions this store did not write.
import { describe, expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import { compareIds, type WorkflowStore } from '@ironflow/core/store';
import { createKeyLayout, createRedisStore } from '../../src/index.js';
import { hashTagOf } from '../../src/keys.js';
import { instrument, scanKeys } from '../helpers.js';
import { commitOf, idIn, T0, type RedisFixture } from './fixture.js';

const LEASE = 30_000;

/** A dead letter of `projection` at `position`. */
function letterAt(id: string, position: string) {
  return { id, workflowType: 'orders', workflowId: 'o-1', sequence: 1, eventType: 'Placed', position, error: 'failed', attempts: 3 };
}

/** Claims `name` for `owner`, failing the test when the lease is held. */
async function claim(store: WorkflowStore, name: string, owner = 'runner', now = T0) {
  const claimed = await store.claimProjection({ name, owner, now, leaseMs: LEASE });
  if (claimed === undefined) throw new Error(`could not claim ${name}`);
  return claimed;
}

/** The error a promise rejects with (failing the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Redis-only cases: projection checkpoints. */
export function projectionCases(fx: RedisFixture): void {
  const { open } = fx;
  describe('projection checkpoints', () => {
    const hostile = (prefix: string) => ['{', '}', '}{', 'a:b', '{x}:y', `{${prefix}#0}:pj:z`, `{${prefix}}:meta`, '*?[a-z]', '𝄞 ü', 'new\nline'];

    it.each([1, 4])('hostile names and dead-letter ids keep every key of a projection under one partition tag of the store, and destroy() removes them with the registry (%i partitions)', async (partitions) => {
      const s = await open({ partitions });
      const layout = createKeyLayout(s.keyPrefix, partitions);
      await s.store.commit(commitOf({ type: 'fed', id: 'f-1' }, 0));
      const position = (await s.store.feedHead())!;
      const names = hostile(s.keyPrefix);
      for (const name of names) {
        const { lease } = await claim(s.store, name);
        await s.store.saveProjection(lease, { now: T0 + 1, position, parked: [letterAt(`${name}|letter`, position), letterAt(name, position)] });
      }
      const listed = await s.store.listProjections();
      expect(listed.map((p) => p.name)).toEqual([...names].sort(compareIds));
      for (const p of listed) expect(p).toMatchObject({ position, owner: 'runner', token: 1, deadLetters: 2 });

      const keys = await scanKeys(s.client, layout.patterns());
      const tags = new Set([s.keyPrefix, ...Array.from({ length: partitions }, (_, p) => `${s.keyPrefix}#${p}`)]);
      // Only the settings key lies outside the partitions.
      expect(keys.filter((key) => hashTagOf(key) === s.keyPrefix)).toEqual([layout.meta]);
      for (const key of keys) expect(tags.has(hashTagOf(key) ?? '')).toBe(true);
      for (const name of names) {
        const home = layout.partition(layout.projectionPartitionOf(name));
        const own = [home.projection(name), home.projectionLetter(name, name), home.projectionLetter(name, `${name}|letter`), home.projectionLetters(name), home.projectionLetters(name, 'parked')];
        for (const key of own) expect(keys).toContain(key);
        expect(new Set(own.map(hashTagOf))).toEqual(new Set([home.tag.slice(1, -1)]));
        expect((await s.store.listProjectionDeadLetters({ projection: name })).items.map((l) => l.id)).toEqual([name, `${name}|letter`].sort(compareIds));
      }

      await s.store.destroy();
      expect(await scanKeys(s.client, layout.patterns())).toEqual([]);
      expect(await s.store.listProjections()).toEqual([]);
    });

    it('projections and dead-letter ids that overlap as strings keep their letters and counts apart', async () => {
      const s = await open();
      await s.store.commit(commitOf({ type: 'fed', id: 'f-1' }, 0));
      const position = (await s.store.feedHead())!;
      const a = await claim(s.store, 'a');
      const ab = await claim(s.store, 'a:b');
      await s.store.saveProjection(a.lease, { now: T0, parked: [letterAt('b:c', position)] });
      await s.store.saveProjection(ab.lease, { now: T0, parked: [letterAt('c', position), letterAt('d', position)] });
      expect((await s.store.listProjectionDeadLetters({ projection: 'a' })).items.map((l) => l.id)).toEqual(['b:c']);
      expect((await s.store.listProjectionDeadLetters({ projection: 'a:b' })).items.map((l) => l.id)).toEqual(['c', 'd']);
      expect(await s.store.skipProjectionDeadLetter('a', 'c')).toBe(false);
      expect((await s.store.listProjections()).map((p) => [p.name, p.deadLetters])).toEqual([
        ['a', 1],
        ['a:b', 2],
      ]);
    });

    it.each([1, 4])('lists names and pages dead-letter ids in code-point order, not UTF-16 order (%i partitions)', async (partitions) => {
      const s = await open({ partitions });
      await s.store.commit(commitOf({ type: 'fed', id: 'f-1' }, 0));
      const position = (await s.store.feedHead())!;
      // U+FFFF sorts before U+1D11E by code point, after it by UTF-16 unit (a surrogate, 0xD834).
      const names = ['b', 'a\uFFFF', 'a𝄞', 'aé', 'a'];
      for (const name of names) await claim(s.store, name);
      expect((await s.store.listProjections()).map((p) => p.name)).toEqual(['a', 'aé', 'a\uFFFF', 'a𝄞', 'b']);

      const { lease } = await claim(s.store, 'letters');
      await s.store.saveProjection(lease, { now: T0, parked: ['x𝄞', 'x\uFFFF', 'xé', 'x'].map((id) => letterAt(id, position)) });
      await s.store.redriveProjectionDeadLetter('letters', 'x\uFFFF', T0 + 1);
      await s.store.redriveProjectionDeadLetter('letters', 'x𝄞', T0 + 1);
      const pageAll = async (status?: 'parked' | 'redriven') => {
        const ids: string[] = [];
        let after: string | undefined;
        do {
          const page = await s.store.listProjectionDeadLetters({ projection: 'letters', status, after, limit: 1 });
          ids.push(...page.items.map((l) => l.id));
          after = page.next;
        } while (after !== undefined);
        return ids;
      };
      expect(await pageAll()).toEqual(['x', 'xé', 'x\uFFFF', 'x𝄞']);
      expect(await pageAll('redriven')).toEqual(['x\uFFFF', 'x𝄞']);
      expect(await pageAll('parked')).toEqual(['x', 'xé']);
    });

    it('every claim, renewal, save, release, reset, re-drive and skip is one script call; a listing and feedLag take one per partition', async () => {
      const s = await open({ partitions: 4 });
      await s.store.commit(commitOf({ type: 'fed', id: 'f-1' }, 0));
      const position = (await s.store.feedHead())!;
      const probe = instrument(s.client);
      const store = createRedisStore({ client: probe.client, keyPrefix: s.keyPrefix, partitions: 4 });
      await store.setup();
      const step = async (run: () => Promise<unknown>): Promise<string[]> => {
        probe.calls.length = 0;
        await run();
        return [...probe.calls];
      };
      let lease = (await claim(store, 'one-call')).lease;
      expect(await step(async () => (lease = (await claim(store, 'one-call', 'runner', T0 + LEASE)).lease))).toEqual(['projection-claim']);
      expect(await step(() => store.renewProjection(lease, T0 + LEASE, LEASE))).toEqual(['projection-renew']);
      expect(await step(() => store.saveProjection(lease, { now: T0 + LEASE, position, leaseMs: LEASE, parked: [letterAt('l1', position)], resolved: ['l0'] }))).toEqual([
        'projection-save',
      ]);
      expect(await step(() => store.redriveProjectionDeadLetter('one-call', 'l1', T0 + LEASE))).toEqual(['projection-redrive']);
      expect(await step(() => store.skipProjectionDeadLetter('one-call', 'l1'))).toEqual(['projection-skip']);
      expect(await step(() => store.listProjectionDeadLetters({ projection: 'one-call' }))).toEqual(['projection-letters']);
      expect(await step(() => store.releaseProjection(lease, T0 + LEASE))).toEqual(['projection-release']);
      expect(await step(() => store.resetProjection({ name: 'one-call', now: T0 + LEASE }))).toEqual(['projection-reset']);
      expect(await step(() => store.listProjections())).toEqual(Array.from({ length: 4 }, () => 'projection-list'));
      expect(await step(() => store.feedLag({ after: position }))).toEqual(Array.from({ length: 4 }, () => 'feed-lag'));
      // A bad position is refused before any call.
      expect(await step(() => store.saveProjection(lease, { now: T0, position: '1-0' }).catch(() => undefined))).toEqual([]);
    });

    it('feedLag sums every partition’s events after a vector position and dates the earliest first one', async () => {
      const s = await open({ partitions: 4 });
      const layout = createKeyLayout(s.keyPrefix, 4);
      const type = 'lagged';
      // Recorded out of partition order: partition 2's event is the oldest.
      const refs = [3, 0, 2, 1].map((p) => ({ type, id: idIn(layout, type, p, `l${p}`) }));
      const recorded = [T0 + 400, T0 + 300, T0 + 100, T0 + 200];
      for (const [i, ref] of refs.entries()) await s.store.commit(commitOf(ref, 0, { now: recorded[i]! }));
      expect(await s.store.feedLag()).toEqual({ events: 4, capped: false, oldestRecordedAt: T0 + 100 });
      expect(await s.store.feedLag({ limit: 3 })).toEqual({ events: 3, capped: true, oldestRecordedAt: T0 + 100 });
      expect(await s.store.feedLag({ limit: 4 })).toMatchObject({ events: 4, capped: false });

      // Commits made one after another keep their order in the feed: after the k-th event, the rest.
      const feed = (await s.store.readFeed({ limit: 100 })).events;
      expect(feed.map((e) => e.recordedAt)).toEqual(recorded);
      for (const [k, event] of feed.entries()) {
        const rest = recorded.slice(k + 1);
        expect(await s.store.feedLag({ after: event.position })).toEqual(
          rest.length === 0 ? { events: 0, capped: false } : { events: rest.length, capped: false, oldestRecordedAt: Math.min(...rest) },
        );
      }
      expect(await s.store.feedLag({ after: (await s.store.feedHead())! })).toEqual({ events: 0, capped: false });
    });

    it('feedLag, save and reset refuse positions this store did not write, naming the argument, and write nothing; reset also one past the feed’s end', async () => {
      const s = await open({ partitions: 2 });
      await s.store.commit(commitOf({ type: 'fed', id: 'f-1' }, 0));
      const head = (await s.store.feedHead())!;
      const past = head
        .split(',')
        .map((c) => `${Number(c.split('-')[0]) + 1_000_000}-0`)
        .join(',');
      const whatOf = (error: unknown) => (isIronflowError(error, 'INVALID_ARGUMENT') ? error.details?.['what'] : error);
      expect(whatOf(await rejection(s.store.feedLag({ after: past })))).toBe('query.after');
      expect(whatOf(await rejection(s.store.feedLag({ after: '0-0' })))).toBe('query.after');
      const { lease } = await claim(s.store, 'refuses');
      expect(whatOf(await rejection(s.store.saveProjection(lease, { now: T0, position: '0-0' })))).toBe('save.position');
      expect(whatOf(await rejection(s.store.saveProjection(lease, { now: T0, position: head, parked: [letterAt('ok', head), letterAt('bad', '0-0,x')] })))).toBe(
        'save.parked[1].position',
      );
      expect(whatOf(await rejection(s.store.resetProjection({ name: 'refuses', now: T0, position: `${head},0-0` })))).toBe('reset.position');
      // A reset (an operator's position) is also refused past the feed's end; a save's shape only.
      expect(whatOf(await rejection(s.store.resetProjection({ name: 'refuses', now: T0, position: past })))).toBe('reset.position');
      expect(await s.store.listProjections()).toEqual([{ name: 'refuses', owner: 'runner', token: lease.token, expiresAt: T0 + LEASE, updatedAt: T0, deadLetters: 0 }]);
      await s.store.resetProjection({ name: 'refuses', now: T0 + 1, position: head });
      expect((await s.store.listProjections())[0]).toMatchObject({ position: head, token: lease.token + 1 });
    });
  });
}
