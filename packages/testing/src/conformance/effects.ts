// The outbox: claims, leases, fencing, retries, dead letters and re-drive.
import { expect, it } from 'vitest';
import type { Lease } from '@ironflow/core/store';
import { claimArgs, commitOf, concurrently, effect, expectCode, freshType, T0, timer, type ConformanceContext } from './context.js';

export function effectCases(ctx: ConformanceContext): void {
  it('effects committed with events are pending and claimable at once, oldest first', async () => {
    const ref = { type: freshType(), id: 'fx' };
    const first = effect({ type: 'a' });
    const second = effect({ type: 'b' });
    await ctx.store.commit(commitOf(ref, 0, { effects: [first] }));
    await ctx.store.commit(commitOf(ref, 1, { effects: [second], now: T0 + 10 }));
    const listed = await ctx.store.listEffects(ref);
    expect(listed.map((e) => [e.id, e.status, e.attempts, e.availableAt, e.createdAt])).toEqual([
      [first.id, 'pending', 0, T0, T0],
      [second.id, 'pending', 0, T0 + 10, T0 + 10],
    ]);
    const claimed = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 10, { leaseMs: 1000, owner: 'w1' }));
    expect(claimed.map((c) => c.id)).toEqual([first.id, second.id]);
    expect(claimed[0]).toMatchObject({
      kind: 'effect', workflowType: ref.type, workflowId: ref.id, payload: { type: 'a' }, status: 'leased',
      attempts: 1, leaseOwner: 'w1', leaseExpiresAt: T0 + 1010, createdAt: T0,
    });
    expect(claimed[0]!.lease).toMatchObject({ kind: 'effect', id: first.id });
    expect(claimed[0]!.lease.token).not.toBe(claimed[1]!.lease.token);
  });

  it('an effect is not claimable before its availableAt', async () => {
    const ref = { type: freshType(), id: 'later' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect()], now: T0 + 100 }));
    expect(await ctx.store.claimEffects(claimArgs([ref.type], T0 + 99))).toEqual([]);
    expect(await ctx.store.claimEffects(claimArgs([ref.type], T0 + 100))).toHaveLength(1);
  });

  it('a live lease hides the effect from other claimers', async () => {
    const ref = { type: freshType(), id: 'once' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect()] }));
    expect(await ctx.store.claimEffects(claimArgs([ref.type], T0, { leaseMs: 500 }))).toHaveLength(1);
    expect(await ctx.store.claimEffects(claimArgs([ref.type], T0 + 499))).toEqual([]);
  });

  it('many concurrent claimers never receive the same effect', async () => {
    const type = freshType();
    const total = 60;
    for (let i = 0; i < total; i += 10) {
      await ctx.store.commit(commitOf({ type, id: `m-${i}` }, 0, { effects: Array.from({ length: 10 }, () => effect()) }));
    }
    const seen: string[] = [];
    const results = await concurrently(12, async (w) => {
      for (;;) {
        const batch = await ctx.store.claimEffects(claimArgs([type], T0, { limit: 3, owner: `w${w}` }));
        if (batch.length === 0) return;
        seen.push(...batch.map((b) => b.id));
      }
    });
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  it('claims honour the batch limit', async () => {
    const ref = { type: freshType(), id: 'limit' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect(), effect(), effect(), effect(), effect()] }));
    expect(await ctx.store.claimEffects(claimArgs([ref.type], T0, { limit: 2 }))).toHaveLength(2);
    expect(await ctx.store.claimEffects(claimArgs([ref.type], T0, { limit: 10 }))).toHaveLength(3);
  });

  it('claims only return effects of the requested workflow types', async () => {
    const mine = freshType('mine');
    const theirs = freshType('theirs');
    await ctx.store.commit(commitOf({ type: mine, id: '1' }, 0, { effects: [effect()] }));
    await ctx.store.commit(commitOf({ type: theirs, id: '1' }, 0, { effects: [effect()] }));
    expect(await ctx.store.claimEffects(claimArgs([], T0))).toEqual([]);
    const claimed = await ctx.store.claimEffects(claimArgs([mine, freshType('absent')], T0));
    expect(claimed.map((c) => c.workflowType)).toEqual([mine]);
    expect((await ctx.store.listEffects({ type: theirs, id: '1' }))[0]!.status).toBe('pending');
  });

  it('an expired lease is reclaimable with a new token and one more attempt, and the old token is fenced out', async () => {
    const ref = { type: freshType(), id: 'expire' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect()] }));
    const [first] = await ctx.store.claimEffects(claimArgs([ref.type], T0, { leaseMs: 1000, owner: 'old' }));
    expect(await ctx.store.claimEffects(claimArgs([ref.type], T0 + 999))).toEqual([]);
    const [second] = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 1000, { leaseMs: 1000, owner: 'new' }));
    expect(second!.id).toBe(first!.id);
    expect(second!.attempts).toBe(2);
    expect(second!.leaseOwner).toBe('new');
    expect(second!.lease.token).not.toBe(first!.lease.token);
    await expectCode(ctx.store.complete(first!.lease, T0 + 1001), 'LEASE_LOST');
    await expectCode(ctx.store.renewLease(first!.lease, T0 + 1001, 1000), 'LEASE_LOST');
    await expectCode(ctx.store.retry(first!.lease, T0 + 1001, T0 + 5000, 'x'), 'LEASE_LOST');
    await expectCode(ctx.store.deadLetter(first!.lease, T0 + 1001, 'x'), 'LEASE_LOST');
    await expectCode(ctx.store.release(first!.lease, T0 + 1001), 'LEASE_LOST');
    const [row] = await ctx.store.listEffects(ref);
    expect(row).toMatchObject({ status: 'leased', attempts: 2, leaseOwner: 'new', leaseExpiresAt: T0 + 2000 });
    await ctx.store.complete(second!.lease, T0 + 1001);
  });

  it('renewing a lease extends it; a lease past its expiry can no longer be renewed', async () => {
    const ref = { type: freshType(), id: 'renew' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect()] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0, { leaseMs: 1000 }));
    await ctx.store.renewLease(claimed!.lease, T0 + 900, 1000);
    expect(await ctx.store.claimEffects(claimArgs([ref.type], T0 + 1500))).toEqual([]);
    expect((await ctx.store.listEffects(ref))[0]!.leaseExpiresAt).toBe(T0 + 1900);
    await expectCode(ctx.store.renewLease(claimed!.lease, T0 + 1900, 1000), 'LEASE_LOST');
  });

  it('complete marks the effect done and it is never claimed again', async () => {
    const ref = { type: freshType(), id: 'complete' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect()] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0, { leaseMs: 100 }));
    await ctx.store.complete(claimed!.lease, T0 + 50);
    const [row] = await ctx.store.listEffects(ref);
    expect(row).toMatchObject({ status: 'done', attempts: 1, updatedAt: T0 + 50 });
    expect(row!.leaseOwner).toBeUndefined();
    expect(row!.leaseExpiresAt).toBeUndefined();
    expect(await ctx.store.claimEffects(claimArgs([ref.type], T0 + 1_000_000))).toEqual([]);
    await expectCode(ctx.store.complete(claimed!.lease, T0 + 60), 'LEASE_LOST');
  });

  it('retry records the error and makes the effect claimable again only at retryAt', async () => {
    const ref = { type: freshType(), id: 'retry' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect()] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0));
    await ctx.store.retry(claimed!.lease, T0 + 10, T0 + 2000, 'gateway timeout');
    const [row] = await ctx.store.listEffects(ref);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, availableAt: T0 + 2000, lastError: 'gateway timeout', updatedAt: T0 + 10 });
    expect(await ctx.store.claimEffects(claimArgs([ref.type], T0 + 1999))).toEqual([]);
    const [again] = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 2000));
    expect(again).toMatchObject({ id: claimed!.id, attempts: 2, lastError: 'gateway timeout' });
  });

  it('release gives the lease back at once without counting the attempt', async () => {
    const ref = { type: freshType(), id: 'release' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect()] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0, { leaseMs: 60_000 }));
    await ctx.store.release(claimed!.lease, T0 + 5);
    expect((await ctx.store.listEffects(ref))[0]).toMatchObject({ status: 'pending', attempts: 0, availableAt: T0 + 5 });
    const [again] = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 5));
    expect(again!.attempts).toBe(1);
  });

  it('deadLetter stores the dead status; dead letters are listed newest first, counted and filtered', async () => {
    const type = freshType();
    const ids: string[] = [];
    for (const [i, id] of ['a', 'b', 'c'].entries()) {
      const fx = effect({ n: i });
      ids.push(fx.id);
      await ctx.store.commit(commitOf({ type, id }, 0, { effects: [fx] }));
    }
    const claimed = await ctx.store.claimEffects(claimArgs([type], T0));
    expect(claimed).toHaveLength(3);
    for (const [i, c] of claimed.entries()) await ctx.store.deadLetter(c.lease, T0 + 10 + i, `boom ${c.workflowId}`);
    expect(await ctx.store.claimEffects(claimArgs([type], T0 + 10_000_000))).toEqual([]);
    const dead = await ctx.store.listDeadLetters({ kind: 'effect', workflowType: type });
    expect(dead.map((d) => d.workflowId)).toEqual(['c', 'b', 'a']);
    expect(dead[0]).toMatchObject({ kind: 'effect', status: 'dead', attempts: 1, lastError: 'boom c', payload: { n: 2 } });
    expect(await ctx.store.countDeadLetters({ kind: 'effect', workflowType: type })).toBe(3);
    expect(await ctx.store.countDeadLetters({ kind: 'effect', workflowType: type, workflowId: 'b' })).toBe(1);
    expect(await ctx.store.countDeadLetters({ kind: 'timer', workflowType: type })).toBe(0);
    expect((await ctx.store.listDeadLetters({ kind: 'effect', workflowType: type, limit: 1, offset: 1 })).map((d) => d.workflowId)).toEqual(['b']);
  });

  it('redrive makes a dead letter claimable again with attempts reset, and refuses anything not dead', async () => {
    const ref = { type: freshType(), id: 'redrive' };
    const fx = effect();
    await ctx.store.commit(commitOf(ref, 0, { effects: [fx] }));
    expect(await ctx.store.redrive('effect', fx.id, T0)).toBe(false);
    expect(await ctx.store.redrive('effect', 'no-such-effect', T0)).toBe(false);
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0));
    await ctx.store.deadLetter(claimed!.lease, T0 + 1, 'poison');
    expect(await ctx.store.redrive('timer', fx.id, T0 + 2)).toBe(false);
    expect(await ctx.store.redrive('effect', fx.id, T0 + 2)).toBe(true);
    expect(await ctx.store.countDeadLetters({ kind: 'effect', workflowType: ref.type })).toBe(0);
    const [again] = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 2));
    expect(again).toMatchObject({ id: fx.id, attempts: 1, status: 'leased' });
  });

  // Ids of new effects and timers must be unique in the whole store (the runtime makes UUID v7s).
  // Every store detects a reused id atomically within the instance; a store partitioned by
  // instance (Redis with partitions > 1) cannot see another partition's ids inside one commit.
  it('a commit that reuses the id of an effect or timer of its instance raises INVALID_ARGUMENT and writes nothing', async () => {
    const ref = { type: freshType(), id: 'reuse' };
    const fx = effect({ first: true });
    const t = timer(T0 + 10, { first: true });
    await ctx.store.commit(commitOf(ref, 0, { effects: [fx], timers: [t] }));
    for (const reuse of [{ effects: [{ id: fx.id, payload: { second: true } }] }, { timers: [{ ...t, input: { second: true } }] }]) {
      await expectCode(ctx.store.commit(commitOf(ref, 1, reuse)), 'INVALID_ARGUMENT');
    }
    expect((await ctx.store.load(ref)).version).toBe(1);
    expect((await ctx.store.listEffects(ref)).map((e) => e.payload)).toEqual([{ first: true }]);
    expect((await ctx.store.listTimers(ref)).map((x) => x.input)).toEqual([{ first: true }]);
  });

  it('every lease operation with an unknown token raises LEASE_LOST and changes nothing', async () => {
    const ref = { type: freshType(), id: 'forged' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect()] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0));
    const forged: Lease = { ...claimed!.lease, token: 'forged-token' };
    const missing: Lease = { kind: 'effect', id: 'missing-id', token: claimed!.lease.token };
    for (const lease of [forged, missing]) {
      await expectCode(ctx.store.complete(lease, T0 + 1), 'LEASE_LOST');
      await expectCode(ctx.store.renewLease(lease, T0 + 1, 10), 'LEASE_LOST');
      await expectCode(ctx.store.retry(lease, T0 + 1, T0 + 2, 'x'), 'LEASE_LOST');
      await expectCode(ctx.store.deadLetter(lease, T0 + 1, 'x'), 'LEASE_LOST');
      await expectCode(ctx.store.release(lease, T0 + 1), 'LEASE_LOST');
    }
    await expectCode(ctx.store.complete({ ...claimed!.lease, kind: 'timer' }, T0 + 1), 'LEASE_LOST');
    expect((await ctx.store.listEffects(ref))[0]).toMatchObject({ status: 'leased', attempts: 1, leaseExpiresAt: T0 + 30_000 });
  });
}
