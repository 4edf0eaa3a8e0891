// Retention (issue 13): `deleteInstance` removes an ended instance and everything it owns in one
// atomic write, or nothing at all when the instance is missing, moved on, still active or still has
// live work; the feed passes over the deleted events and every other position stays valid.
import { expect, it } from 'vitest';
import type { WorkflowRef, WorkflowStore } from '@ironflow/core/store';
import { claimArgs, commitOf, concurrently, effect, freshType, timer, T0, type ConformanceContext } from './context.js';
import { feedEventsFrom } from './versions.js';

/** Everything a store keeps about one instance, as its reads return it. */
async function footprint(store: WorkflowStore, ref: WorkflowRef) {
  const loaded = await store.load(ref, { idempotencyKey: 'first' });
  return {
    version: loaded.version,
    status: loaded.status,
    snapshot: loaded.snapshot,
    idempotent: loaded.idempotent !== undefined,
    events: (await store.readEvents(ref)).length,
    effects: (await store.listEffects(ref)).length,
    timers: (await store.listTimers(ref)).length,
    observations: (await store.listObservations(ref)).length,
    dead: await store.countDeadLetters({ kind: 'effect', workflowType: ref.type, workflowId: ref.id }),
    listed: (await store.pageInstances({ workflowType: ref.type })).items.some((i) => i.workflowId === ref.id),
  };
}

const GONE = { version: 0, status: 'active', snapshot: undefined, idempotent: false, events: 0, effects: 0, timers: 0, observations: 0, dead: 0, listed: false };

export function retentionCases(ctx: ConformanceContext): void {
  /** An instance with everything an instance can own, completed at version 3. */
  async function ended(type: string, id: string): Promise<WorkflowRef> {
    const ref = { type, id };
    const [done, dead] = [effect({ n: 1 }), effect({ n: 2 })];
    const fired = timer(T0 + 5, { type: 'tick' });
    await ctx.store.commit(commitOf(ref, 0, { effects: [done, dead], timers: [fired], idempotencyKey: 'first', uniqueKey: `u-${id}` }));
    const claimed = await ctx.store.claimEffects(claimArgs([type], T0 + 1));
    await ctx.store.complete(claimed.find((c) => c.id === done.id)!.lease, T0 + 2);
    await ctx.store.deadLetter(claimed.find((c) => c.id === dead.id)!.lease, T0 + 2, 'gave up');
    const [t] = await ctx.store.claimTimers(claimArgs([type], T0 + 5));
    await ctx.store.commit(commitOf(ref, 1, { now: T0 + 6, ack: { ...t!.lease, outcome: 'done' }, snapshot: { version: 2, revision: '1', state: { n: 2 } } }));
    await ctx.store.recordObservation({ workflowType: type, workflowId: id, inputType: 'Poke', input: { n: 1 }, outcome: 'rejected', observedAt: T0 + 7 });
    await ctx.store.commit(commitOf(ref, 2, { now: T0 + 8, completed: true, observation: { workflowType: type, workflowId: id, inputType: 'Finish', input: {}, outcome: 'accepted', observedAt: T0 + 8 } }));
    return ref;
  }

  it('deletes an ended instance with its events, snapshot, idempotency records, observations, effects, timers and dead letters', async () => {
    const type = freshType('retention');
    const ref = await ended(type, 'gone');
    const kept = await ended(type, 'kept');
    const before = await footprint(ctx.store, ref);
    expect(before).toMatchObject({ version: 3, status: 'completed', idempotent: true, events: 3, effects: 2, timers: 1, observations: 2, dead: 1, listed: true });
    expect(before.snapshot).toBeDefined();

    expect(await ctx.store.deleteInstance({ ref, expectedVersion: 3, now: T0 + 100 })).toBe('deleted');
    expect(await footprint(ctx.store, ref)).toEqual(GONE);
    expect((await ctx.store.listWork({ kind: 'effect', workflowType: type, workflowId: ref.id })).items).toEqual([]);
    expect((await ctx.store.listWork({ kind: 'timer', workflowType: type, workflowId: ref.id })).items).toEqual([]);
    expect((await ctx.store.listInstances({ workflowType: type })).map((i) => i.workflowId)).toEqual(['kept']);
    // The other instance of the type is untouched.
    expect(await footprint(ctx.store, kept)).toEqual({ ...before, listed: true });
    // The id can start a new instance, from nothing.
    await ctx.store.commit(commitOf(ref, 0, { now: T0 + 200 }));
    expect((await ctx.store.load(ref)).version).toBe(1);
  });

  it('writes nothing and says why when the instance is missing, at another version, active, or has live work', async () => {
    const type = freshType('retention');
    expect(await ctx.store.deleteInstance({ ref: { type, id: 'never' }, expectedVersion: 1, now: T0 })).toBe('missing');

    const finished = await ended(type, 'moved');
    expect(await ctx.store.deleteInstance({ ref: finished, expectedVersion: 2, now: T0 + 100 })).toBe('changed');
    expect((await footprint(ctx.store, finished)).events).toBe(3);

    const active = { type, id: 'active' };
    await ctx.store.commit(commitOf(active, 0));
    expect(await ctx.store.deleteInstance({ ref: active, expectedVersion: 1, now: T0 + 100 })).toBe('active');
    expect((await ctx.store.load(active)).version).toBe(1);

    // Completed under terminal policy `run`: its effect still runs, so it is not deleted yet.
    const busy = { type, id: 'busy' };
    const running = effect({ n: 'late' });
    await ctx.store.commit(commitOf(busy, 0, { effects: [running], completed: true }));
    expect(await ctx.store.deleteInstance({ ref: busy, expectedVersion: 1, now: T0 + 100 })).toBe('busy');
    const [claimed] = (await ctx.store.claimEffects(claimArgs([type], T0 + 101))).filter((c) => c.id === running.id);
    expect(await ctx.store.deleteInstance({ ref: busy, expectedVersion: 1, now: T0 + 102 })).toBe('busy');
    await ctx.store.complete(claimed!.lease, T0 + 103);
    expect(await ctx.store.deleteInstance({ ref: busy, expectedVersion: 1, now: T0 + 104 })).toBe('deleted');
  });

  it('a cancelled instance is deleted with its pause; its children keep their parent', async () => {
    const type = freshType('retention');
    const parent = { type, id: 'parent' };
    const child = { type, id: 'child' };
    await ctx.store.commit(commitOf(parent, 0, { timers: [timer(T0 + 1_000)] }));
    await ctx.store.commit(commitOf(child, 0, { parent }));
    await ctx.store.setPaused({ type, id: parent.id }, true, T0 + 1);
    expect((await ctx.store.cancelInstance({ ref: parent, now: T0 + 2, reason: 'operator' })).cancelled).toBe(true);
    expect(await ctx.store.deleteInstance({ ref: parent, expectedVersion: 1, now: T0 + 3 })).toBe('deleted');
    expect(await ctx.store.listPaused()).not.toContainEqual(expect.objectContaining({ type, id: parent.id }));
    expect((await ctx.store.load(parent)).version).toBe(0);
    expect((await ctx.store.load(child)).parent).toEqual(parent);
  });

  it('the feed passes over deleted events; positions read before the deletion stay valid', async () => {
    const type = freshType('retention');
    const global = (ctx.options.feedOrder ?? 'global') === 'global';
    // A partitioned store orders each partition only: compare sets there.
    const names = (events: readonly { workflowId: string; sequence: number }[]) => {
      const list = events.map((e) => `${e.workflowId}${e.sequence}`);
      return global ? list : list.sort();
    };
    const [a, b, c] = ['a', 'b', 'c'].map((id) => ({ type, id }));
    // From the head, page by page: a filtered read looks at a bounded stretch of the feed on some stores.
    const start = await ctx.store.feedHead();
    const read = (after: string | undefined, count: number) => feedEventsFrom(ctx.store, { after, workflowTypes: [type], limit: 100 }, count);
    await ctx.store.commit(commitOf(a!, 0, { eventCount: 2 }));
    await ctx.store.commit(commitOf(b!, 0, { eventCount: 2, completed: true }));
    const before = await read(start, 4);
    expect(names(before)).toEqual(['a1', 'a2', 'b1', 'b2']);
    const beforeNext = before[3]!.position;
    await ctx.store.commit(commitOf(c!, 0, { eventCount: 1 }));

    expect(await ctx.store.deleteInstance({ ref: b!, expectedVersion: 2, now: T0 + 10 })).toBe('deleted');
    expect(names(await read(start, 3))).toEqual(['a1', 'a2', 'c1']);
    // Resuming where a reader stood before the deletion goes on with what came after.
    expect(names(await read(beforeNext, 1))).toEqual(['c1']);
    // Resuming after a deleted event is as good as resuming after any other.
    const b1 = before.find((e) => e.workflowId === 'b' && e.sequence === 1)!;
    const afterB1 = names(await read(b1.position, 1));
    expect(afterB1).toContain('c1');
    expect(afterB1.filter((n) => n.startsWith('b'))).toEqual([]);
    if (global) expect(afterB1).toEqual(['c1']);
    // Lag counts only what a reader would read.
    const lag = await ctx.store.feedLag({ after: beforeNext });
    const readable = await ctx.store.readFeed({ after: beforeNext, limit: 1000 });
    expect(lag.events).toBe(readable.events.length);
  });

  it('two processes deleting the same instance: one deletes, the other finds it missing', async () => {
    const type = freshType('retention');
    const ref = await ended(type, 'raced');
    const other = await ctx.open(ctx.namespace);
    const outcomes = await concurrently(6, (i) => (i % 2 === 0 ? ctx.store : other).deleteInstance({ ref, expectedVersion: 3, now: T0 + 100 + i }));
    const values = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : `rejected: ${String(o.reason)}`)).sort();
    expect(values).toEqual(['deleted', 'missing', 'missing', 'missing', 'missing', 'missing']);
    expect(await footprint(ctx.store, ref)).toEqual(GONE);
  });
}
