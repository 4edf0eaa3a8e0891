// Group commit and batched settlement: each item of a batch is applied exactly as its single call
// would be, in array order, with its own atomicity and its own typed outcome.
import { expect, it } from 'vitest';
import { isIronflowError, type IronflowErrorCode } from '@ironflow/core';
import { MAX_BATCH, type BatchResult, type CommitRequest, type WorkKind } from '@ironflow/core/store';
import { claimArgs, commitOf, effect, expectCode, freshType, timer, T0, type ConformanceContext } from './context.js';

/** The code of each result, or 'ok'. */
function codes(results: readonly BatchResult[]): (IronflowErrorCode | 'ok')[] {
  return results.map((r) => (r.ok ? 'ok' : r.error.code));
}

async function waitFor(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function batchCases(ctx: ConformanceContext): void {
  it('an empty batch does nothing and returns no results', async () => {
    expect(await ctx.store.commitMany([])).toEqual([]);
    expect(await ctx.store.settleMany([])).toEqual([]);
  });

  it('each commit of a batch has its own outcome, in order; a failed one writes nothing and the others apply', async () => {
    const type = freshType();
    const taken = effect();
    await ctx.store.commit(commitOf({ type, id: 'existing' }, 0, { effects: [taken], uniqueKey: 'held' }));
    const source = { type: freshType('src'), id: 'source' };
    await ctx.store.commit(commitOf(source, 0, { effects: [effect()] }));
    const [stale] = await ctx.store.claimEffects(claimArgs([source.type], T0, { leaseMs: 100 }));
    await ctx.store.claimEffects(claimArgs([source.type], T0 + 100, { leaseMs: 100 })); // takes the lease over
    const requests: CommitRequest[] = [
      commitOf({ type, id: 'a' }, 0, { effects: [effect()], timers: [timer(T0 + 50)] }),
      commitOf({ type, id: 'existing' }, 0), // at version 1 already
      commitOf({ type, id: 'b' }, 0, { uniqueKey: 'held' }),
      // Within the instance's own stream: with several Redis partitions ids are unique per partition (ADR 0006).
      commitOf({ type, id: 'existing' }, 1, { effects: [{ id: taken.id, payload: { again: true } }] }),
      commitOf({ type, id: 'd' }, 0, { now: T0 + 101, ack: { ...stale!.lease, outcome: 'done' } }),
      { ...commitOf({ type, id: 'e' }, 0), events: [] },
      commitOf({ type, id: 'f' }, 0, { effects: [effect()] }),
    ];
    const results = await ctx.store.commitMany(requests);
    expect(codes(results)).toEqual(['ok', 'VERSION_CONFLICT', 'UNIQUE_KEY_CONFLICT', 'INVALID_ARGUMENT', 'LEASE_LOST', 'INVALID_ARGUMENT', 'ok']);
    expect((await ctx.store.load({ type, id: 'a' })).version).toBe(1);
    expect(await ctx.store.listEffects({ type, id: 'a' })).toHaveLength(1);
    expect(await ctx.store.listTimers({ type, id: 'a' })).toHaveLength(1);
    expect((await ctx.store.load({ type, id: 'existing' })).version).toBe(1);
    expect(await ctx.store.listEffects({ type, id: 'existing' })).toHaveLength(1);
    for (const id of ['b', 'd', 'e']) {
      expect((await ctx.store.load({ type, id })).version, id).toBe(0);
      expect(await ctx.store.listEffects({ type, id }), id).toEqual([]);
    }
    expect(await ctx.store.listEffects({ type, id: 'f' })).toHaveLength(1);
    expect((await ctx.store.listEffects(source))[0]).toMatchObject({ status: 'leased', attempts: 2 });
    // The conflict carries what the single call's error would.
    const conflict = results[1]!;
    expect(conflict.ok === false && conflict.error).toMatchObject({ code: 'VERSION_CONFLICT', expectedVersion: 0 });
    const unique = results[2]!;
    expect(unique.ok === false && unique.error).toMatchObject({ code: 'UNIQUE_KEY_CONFLICT', holderId: 'existing' });
  });

  it('a later commit of a batch sees the writes of an earlier one', async () => {
    const type = freshType();
    const ref = { type, id: 'chain' };
    const reused = effect();
    const results = await ctx.store.commitMany([
      commitOf(ref, 0, { uniqueKey: 'k', timers: [timer(T0 + 10, { n: 1 }, 'tick')] }),
      commitOf(ref, 1, { effects: [reused], timers: [timer(T0 + 20, { n: 2 }, 'tick')] }),
      commitOf(ref, 1), // stale: the previous commit moved the instance to 2
      commitOf({ type, id: 'rival' }, 0, { uniqueKey: 'k' }),
      commitOf(ref, 2, { completed: true }),
      commitOf({ type, id: 'successor' }, 0, { uniqueKey: 'k' }),
    ]);
    expect(codes(results)).toEqual(['ok', 'ok', 'VERSION_CONFLICT', 'UNIQUE_KEY_CONFLICT', 'ok', 'ok']);
    const loaded = await ctx.store.load(ref);
    expect(loaded).toMatchObject({ version: 3, completed: true });
    expect(loaded.events.map((e) => e.sequence)).toEqual([1, 2, 3]);
    const timers = await ctx.store.listTimers(ref);
    expect(timers.filter((t) => t.status === 'pending').map((t) => t.input)).toEqual([{ n: 2 }]);
    expect((await ctx.store.load({ type, id: 'successor' })).version).toBe(1);
    expect((await ctx.store.listEffects(ref)).map((e) => e.id)).toEqual([reused.id]);
  });

  it('order across instances is the caller order: a key released by one commit is free for the next, not before', async () => {
    const type = freshType();
    await ctx.store.commit(commitOf({ type, id: 'zz-holder' }, 0, { uniqueKey: 'seat' }));
    // Ids in reverse of the caller order, so a store that reordered by instance would get these wrong.
    const results = await ctx.store.commitMany([
      commitOf({ type, id: 'mm-early' }, 0, { uniqueKey: 'seat' }),
      commitOf({ type, id: 'zz-holder' }, 1, { completed: true }),
      commitOf({ type, id: 'aa-late' }, 0, { uniqueKey: 'seat' }),
      commitOf({ type, id: 'ab-later' }, 0, { uniqueKey: 'seat' }),
    ]);
    expect(codes(results)).toEqual(['UNIQUE_KEY_CONFLICT', 'ok', 'ok', 'UNIQUE_KEY_CONFLICT']);
    const source = { type: freshType('src'), id: 'src' };
    await ctx.store.commit(commitOf(source, 0, { effects: [effect()] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([source.type], T0));
    const ack = { ...claimed!.lease, outcome: 'done' as const };
    // Two commits acknowledging one lease: the first in caller order wins, whatever the ids.
    expect(codes(await ctx.store.commitMany([commitOf({ type, id: 'zz-first' }, 0, { ack }), commitOf({ type, id: 'aa-second' }, 0, { ack })]))).toEqual(['ok', 'LEASE_LOST']);
  });

  it('results come back in the caller order across many instances', async () => {
    const type = freshType();
    const refs = Array.from({ length: 40 }, (_, i) => ({ type, id: `i${String(39 - i).padStart(2, '0')}` }));
    await ctx.store.commitMany(refs.filter((_, i) => i % 3 === 0).map((ref) => commitOf(ref, 0)));
    const results = await ctx.store.commitMany(refs.map((ref) => commitOf(ref, 0, { effects: [effect({ id: ref.id })] })));
    expect(codes(results)).toEqual(refs.map((_, i) => (i % 3 === 0 ? 'VERSION_CONFLICT' : 'ok')));
    const claimed = await ctx.store.claimEffects(claimArgs([type], T0, { limit: 100 }));
    expect(claimed.map((c) => c.workflowId).sort()).toEqual(refs.filter((_, i) => i % 3 !== 0).map((r) => r.id).sort());
  });

  it('batches can acknowledge leases of other instances, each fenced on its own', async () => {
    const type = freshType();
    const sources = Array.from({ length: 4 }, (_, i) => ({ type, id: `src${i}` }));
    await ctx.store.commitMany(sources.map((ref) => commitOf(ref, 0, { effects: [effect()] })));
    const claimed = await ctx.store.claimEffects(claimArgs([type], T0, { limit: 10 }));
    expect(claimed).toHaveLength(4);
    const forged = { ...claimed[3]!.lease, token: `${claimed[3]!.lease.token}x` };
    const results = await ctx.store.commitMany([
      commitOf({ type: freshType('dst'), id: 'd0' }, 0, { ack: { ...claimed[0]!.lease, outcome: 'done' } }),
      commitOf({ type, id: claimed[1]!.workflowId }, 1, { ack: { ...claimed[1]!.lease, outcome: 'dead', error: 'no' } }),
      commitOf({ type, id: claimed[2]!.workflowId }, 1, { ack: { ...claimed[2]!.lease, outcome: 'done' } }),
      commitOf({ type, id: claimed[3]!.workflowId }, 1, { ack: { ...forged, outcome: 'done' } }),
      commitOf({ type, id: claimed[2]!.workflowId }, 2, { ack: { ...claimed[2]!.lease, outcome: 'done' } }), // already settled
    ]);
    expect(codes(results)).toEqual(['ok', 'ok', 'ok', 'LEASE_LOST', 'LEASE_LOST']);
    const statuses = await Promise.all(claimed.map(async (c) => (await ctx.store.listEffects({ type, id: c.workflowId }))[0]!.status));
    expect(statuses).toEqual(['done', 'dead', 'done', 'leased']);
    expect((await ctx.store.load({ type, id: claimed[2]!.workflowId })).version).toBe(2);
  });

  it('many routed results in one batch: each applied, or refused for its own stale version or lost lease', async () => {
    const type = freshType();
    const refs = Array.from({ length: 30 }, (_, i) => ({ type, id: `r${String(i).padStart(2, '0')}` }));
    await ctx.store.commitMany(refs.map((ref) => commitOf(ref, 0, { effects: [effect()] })));
    const claimed = await ctx.store.claimEffects(claimArgs([type], T0, { limit: 100, leaseMs: 1_000 }));
    const lease = new Map(claimed.map((c) => [c.workflowId, c.lease]));
    const now = T0 + 10;
    const results = await ctx.store.commitMany(
      refs.map((ref, i) => {
        const ack = { ...lease.get(ref.id)!, outcome: 'done' as const };
        if (i % 5 === 1) return commitOf(ref, 2, { now, ack }); // stale version
        if (i % 5 === 2) return commitOf(ref, 1, { now, ack: { ...ack, token: `${ack.token}-forged` } });
        if (i % 5 === 3) return commitOf(ref, 1, { now: T0 + 1_000, ack }); // lease expired at T0 + 1000
        return commitOf(ref, 1, { now, ack, effects: i % 2 === 0 ? [effect()] : [], completed: i % 2 === 1 });
      }),
    );
    expect(codes(results)).toEqual(refs.map((_, i) => ['ok', 'VERSION_CONFLICT', 'LEASE_LOST', 'LEASE_LOST', 'ok'][i % 5]));
    for (const [i, ref] of refs.entries()) {
      const applied = i % 5 === 0 || i % 5 === 4;
      const loaded = await ctx.store.load(ref);
      expect(loaded.version, ref.id).toBe(applied ? 2 : 1);
      expect(loaded.completed, ref.id).toBe(applied && i % 2 === 1);
      const effects = await ctx.store.listEffects(ref);
      expect(effects[0]!.status, ref.id).toBe(applied ? 'done' : 'leased');
      expect(effects.length, ref.id).toBe(applied && i % 2 === 0 ? 2 : 1);
    }
  });

  it('two stores committing overlapping batches in opposite orders never deadlock; each instance is created once', async () => {
    const other = await ctx.open(ctx.namespace);
    const type = freshType();
    const refs = Array.from({ length: 30 }, (_, i) => ({ type, id: `o${String(i).padStart(2, '0')}` }));
    const batch = (order: typeof refs) => order.map((ref) => commitOf(ref, 0, { effects: [effect()] }));
    const rounds = await Promise.all([
      ctx.store.commitMany(batch(refs)),
      other.commitMany(batch([...refs].reverse())),
      ctx.store.commitMany(batch([...refs.slice(15), ...refs.slice(0, 15)])),
    ]);
    const oks = new Map<string, number>();
    const orders = [refs, [...refs].reverse(), [...refs.slice(15), ...refs.slice(0, 15)]];
    rounds.forEach((results, r) =>
      results.forEach((result, i) => {
        if (result.ok) oks.set(orders[r]![i]!.id, (oks.get(orders[r]![i]!.id) ?? 0) + 1);
        else expect(result.error.code).toBe('VERSION_CONFLICT');
      }),
    );
    expect(refs.map((ref) => oks.get(ref.id))).toEqual(refs.map(() => 1));
    for (const ref of refs) expect(await ctx.store.listEffects(ref)).toHaveLength(1);
  });

  it('a batch that is not an array or holds more than MAX_BATCH items is refused and writes nothing', async () => {
    const type = freshType();
    await expectCode(ctx.store.commitMany(undefined as unknown as CommitRequest[]), 'INVALID_ARGUMENT');
    await expectCode(ctx.store.settleMany({} as unknown as []), 'INVALID_ARGUMENT');
    const many = Array.from({ length: MAX_BATCH + 1 }, (_, i) => commitOf({ type, id: `m${i}` }, 0));
    await expectCode(ctx.store.commitMany(many), 'INVALID_ARGUMENT');
    expect(await ctx.store.listInstances({ workflowType: type })).toEqual([]);
  });

  it('settleMany applies each change as its single call would, each fenced by its own token', async () => {
    const type = freshType();
    const refs = Array.from({ length: 6 }, (_, i) => ({ type, id: `s${i}` }));
    await ctx.store.commitMany(refs.map((ref) => commitOf(ref, 0, { effects: [effect()] })));
    const claimed = await ctx.store.claimEffects(claimArgs([type], T0, { limit: 10, leaseMs: 1_000 }));
    expect(claimed).toHaveLength(6);
    const byId = new Map(claimed.map((c) => [c.workflowId, c]));
    const lease = (i: number) => byId.get(`s${i}`)!.lease;
    const now = T0 + 10;
    const results = await ctx.store.settleMany([
      { op: 'complete', lease: lease(0), now },
      { op: 'retry', lease: lease(1), now, retryAt: now + 500, error: 'flaky' },
      { op: 'deadLetter', lease: lease(2), now, error: 'hopeless' },
      { op: 'renew', lease: lease(3), now, leaseMs: 60_000 },
      { op: 'release', lease: lease(4), now },
      { op: 'complete', lease: { ...lease(5), token: 'not-the-token' }, now },
      { op: 'complete', lease: lease(0), now }, // settled by the first change
      { op: 'explode', lease: lease(5), now } as never,
      { op: 'complete', lease: lease(5), now: -1 },
    ]);
    expect(codes(results)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'LEASE_LOST', 'LEASE_LOST', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT']);
    const row = async (i: number) => (await ctx.store.listEffects(refs[i]!))[0]!;
    expect(await row(0)).toMatchObject({ status: 'done' });
    expect(await row(1)).toMatchObject({ status: 'pending', availableAt: now + 500, lastError: 'flaky' });
    expect(await row(2)).toMatchObject({ status: 'dead', lastError: 'hopeless' });
    expect(await row(3)).toMatchObject({ status: 'leased', leaseExpiresAt: now + 60_000 });
    expect(await row(4)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await row(5)).toMatchObject({ status: 'leased', attempts: 1 });
    // The renewed lease outlives its first expiry; the un-renewed one does not.
    expect(codes(await ctx.store.settleMany([{ op: 'complete', lease: lease(3), now: T0 + 5_000 }, { op: 'complete', lease: lease(5), now: T0 + 5_000 }]))).toEqual([
      'ok',
      'LEASE_LOST',
    ]);
  });

  it('settleMany settles timers and effects together', async () => {
    const type = freshType();
    const ref = { type, id: 'mixed' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect()], timers: [timer(T0)] }));
    const [fx] = await ctx.store.claimEffects(claimArgs([type], T0));
    const [tm] = await ctx.store.claimTimers(claimArgs([type], T0));
    expect(codes(await ctx.store.settleMany([{ op: 'complete', lease: tm!.lease, now: T0 }, { op: 'complete', lease: fx!.lease, now: T0 }]))).toEqual(['ok', 'ok']);
    expect((await ctx.store.listTimers(ref))[0]!.status).toBe('fired');
    expect((await ctx.store.listEffects(ref))[0]!.status).toBe('done');
  });

  it('a batch that writes effects and timers wakes subscribers', async () => {
    const heard: WorkKind[] = [];
    const unsubscribe = ctx.store.subscribe!((kind) => heard.push(kind));
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const type = freshType();
      await ctx.store.commitMany([commitOf({ type, id: 'w1' }, 0, { effects: [effect()] }), commitOf({ type, id: 'w2' }, 0, { timers: [timer(T0)] })]);
      await waitFor(() => heard.includes('effect') && heard.includes('timer'));
    } finally {
      unsubscribe();
    }
  });

  it('a failed item error is a typed IronflowError, not a thrown batch', async () => {
    const type = freshType();
    const results = await ctx.store.commitMany([commitOf({ type, id: 'x' }, 5)]);
    expect(results).toHaveLength(1);
    expect(results[0]!.ok).toBe(false);
    expect(!results[0]!.ok && isIronflowError(results[0]!.error, 'VERSION_CONFLICT')).toBe(true);
  });
}
