// Durable timers: due order, never early, keyed upsert, cancellation, and their lease protocol.
import { expect, it } from 'vitest';
import { claimArgs, commitOf, expectCode, freshType, timer, T0, type ConformanceContext } from './context.js';

export function timerCases(ctx: ConformanceContext): void {
  it('a timer is never claimed before its fire time and is claimed at it', async () => {
    const ref = { type: freshType(), id: 'due' };
    const t = timer(T0 + 60_000, { type: 'wake', at: 'one minute' });
    await ctx.store.commit(commitOf(ref, 0, { timers: [t] }));
    expect(await ctx.store.claimTimers(claimArgs([ref.type], T0 + 59_999))).toEqual([]);
    const [claimed] = await ctx.store.claimTimers(claimArgs([ref.type], T0 + 60_000, { leaseMs: 100, owner: 'tw' }));
    expect(claimed).toMatchObject({
      kind: 'timer', id: t.id, workflowType: ref.type, workflowId: ref.id, fireAt: T0 + 60_000,
      input: { type: 'wake', at: 'one minute' }, status: 'leased', attempts: 1, leaseOwner: 'tw', leaseExpiresAt: T0 + 60_100,
    });
    expect(claimed!.key).toBeUndefined();
  });

  it('due timers are claimed earliest fire time first', async () => {
    const type = freshType();
    await ctx.store.commit(commitOf({ type, id: 'a' }, 0, { timers: [timer(T0 + 300, { n: 3 }), timer(T0 + 100, { n: 1 })] }));
    await ctx.store.commit(commitOf({ type, id: 'b' }, 0, { timers: [timer(T0 + 200, { n: 2 }), timer(T0 + 900, { n: 9 })] }));
    const claimed = await ctx.store.claimTimers(claimArgs([type], T0 + 500));
    expect(claimed.map((c) => c.input)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(await ctx.store.claimTimers(claimArgs([freshType()], T0 + 10_000))).toEqual([]);
  });

  it('timers without a key accumulate', async () => {
    const ref = { type: freshType(), id: 'many' };
    await ctx.store.commit(commitOf(ref, 0, { timers: [timer(T0 + 1), timer(T0 + 1)] }));
    await ctx.store.commit(commitOf(ref, 1, { timers: [timer(T0 + 1)] }));
    expect((await ctx.store.listTimers(ref)).filter((t) => t.status === 'pending')).toHaveLength(3);
  });

  it('scheduling a keyed timer again replaces the pending one, keeping its id and resetting its retry state', async () => {
    const ref = { type: freshType(), id: 'upsert' };
    const original = timer(T0 + 1000, { v: 1 }, 'reminder');
    await ctx.store.commit(commitOf(ref, 0, { timers: [original] }));
    const [claimed] = await ctx.store.claimTimers(claimArgs([ref.type], T0 + 1000));
    await ctx.store.retry(claimed!.lease, T0 + 1000, T0 + 1500, 'flaky');
    await ctx.store.commit(commitOf(ref, 1, { now: T0 + 1200, timers: [timer(T0 + 5000, { v: 2 }, 'reminder')] }));
    const timers = await ctx.store.listTimers(ref);
    expect(timers).toHaveLength(1);
    expect(timers[0]).toMatchObject({ id: original.id, key: 'reminder', status: 'pending', attempts: 0, fireAt: T0 + 5000, availableAt: T0 + 5000, input: { v: 2 }, createdAt: T0 + 1200 });
    expect(timers[0]!.lastError).toBeUndefined();
    expect(await ctx.store.claimTimers(claimArgs([ref.type], T0 + 4999))).toEqual([]);
  });

  it('cancelling a key marks the pending timer cancelled, distinct from fired; unknown keys are ignored', async () => {
    const ref = { type: freshType(), id: 'cancel' };
    await ctx.store.commit(commitOf(ref, 0, { timers: [timer(T0 + 10, { n: 1 }, 'payment-due'), timer(T0 + 10, { n: 2 }, 'other')] }));
    await ctx.store.commit(commitOf(ref, 1, { now: T0 + 5, cancelTimers: ['payment-due', 'never-scheduled'] }));
    const byKey = Object.fromEntries((await ctx.store.listTimers(ref)).map((t) => [t.key, t]));
    expect(byKey['payment-due']).toMatchObject({ status: 'cancelled', updatedAt: T0 + 5 });
    expect(byKey['other']).toMatchObject({ status: 'pending' });
    const claimed = await ctx.store.claimTimers(claimArgs([ref.type], T0 + 100));
    expect(claimed.map((c) => c.key)).toEqual(['other']);
    await ctx.store.complete(claimed[0]!.lease, T0 + 101);
    const statuses = (await ctx.store.listTimers(ref)).map((t) => [t.key, t.status]);
    expect(statuses).toEqual(expect.arrayContaining([['payment-due', 'cancelled'], ['other', 'fired']]));
  });

  it('cancel then schedule of the same key in one commit leaves one fresh pending timer', async () => {
    const ref = { type: freshType(), id: 'cancel-schedule' };
    await ctx.store.commit(commitOf(ref, 0, { timers: [timer(T0 + 10, { v: 1 }, 'k')] }));
    await ctx.store.commit(commitOf(ref, 1, { cancelTimers: ['k'], timers: [timer(T0 + 99, { v: 2 }, 'k')] }));
    const live = (await ctx.store.listTimers(ref)).filter((t) => t.status === 'pending' || t.status === 'leased');
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ key: 'k', fireAt: T0 + 99, input: { v: 2 } });
  });

  it('a keyed timer that fired no longer blocks its key', async () => {
    const ref = { type: freshType(), id: 'refire' };
    await ctx.store.commit(commitOf(ref, 0, { timers: [timer(T0, { v: 1 }, 'k')] }));
    const [claimed] = await ctx.store.claimTimers(claimArgs([ref.type], T0));
    await ctx.store.complete(claimed!.lease, T0);
    await ctx.store.commit(commitOf(ref, 1, { timers: [timer(T0 + 50, { v: 2 }, 'k')] }));
    const timers = await ctx.store.listTimers(ref);
    expect(timers.map((t) => t.status).sort()).toEqual(['fired', 'pending']);
  });

  it('re-scheduling the key of a leased timer from another input fences out the firing worker', async () => {
    const ref = { type: freshType(), id: 'fence' };
    await ctx.store.commit(commitOf(ref, 0, { timers: [timer(T0, { v: 1 }, 'hb')] }));
    const [claimed] = await ctx.store.claimTimers(claimArgs([ref.type], T0));
    await ctx.store.commit(commitOf(ref, 1, { now: T0 + 1, timers: [timer(T0 + 1000, { v: 2 }, 'hb')] }));
    await expectCode(ctx.store.complete(claimed!.lease, T0 + 2), 'LEASE_LOST');
    const timers = await ctx.store.listTimers(ref);
    expect(timers).toHaveLength(1);
    expect(timers[0]).toMatchObject({ status: 'pending', fireAt: T0 + 1000, attempts: 0 });
  });

  it('cancelling the key of a leased timer fences out the firing worker', async () => {
    const ref = { type: freshType(), id: 'cancel-leased' };
    await ctx.store.commit(commitOf(ref, 0, { timers: [timer(T0, { v: 1 }, 'k')] }));
    const [claimed] = await ctx.store.claimTimers(claimArgs([ref.type], T0));
    await ctx.store.commit(commitOf(ref, 1, { cancelTimers: ['k'] }));
    await expectCode(ctx.store.complete(claimed!.lease, T0 + 1), 'LEASE_LOST');
    expect((await ctx.store.listTimers(ref))[0]!.status).toBe('cancelled');
  });

  it('nextTimerAt reports the earliest pending fire time of the given types', async () => {
    const type = freshType();
    expect(await ctx.store.nextTimerAt([type])).toBeUndefined();
    await ctx.store.commit(commitOf({ type, id: 'n' }, 0, { timers: [timer(T0 + 700), timer(T0 + 300)] }));
    expect(await ctx.store.nextTimerAt([type])).toBe(T0 + 300);
    expect(await ctx.store.nextTimerAt([freshType()])).toBeUndefined();
    const [first] = await ctx.store.claimTimers(claimArgs([type], T0 + 300));
    expect(await ctx.store.nextTimerAt([type])).toBe(T0 + 700);
    await ctx.store.complete(first!.lease, T0 + 300);
  });

  it('timers are retried, dead-lettered, listed and redriven like effects', async () => {
    const ref = { type: freshType(), id: 'dead-timer' };
    const t = timer(T0, { type: 'expire' }, 'deadline');
    await ctx.store.commit(commitOf(ref, 0, { timers: [t] }));
    const [claimed] = await ctx.store.claimTimers(claimArgs([ref.type], T0));
    await ctx.store.retry(claimed!.lease, T0, T0 + 100, 'try later');
    expect(await ctx.store.claimTimers(claimArgs([ref.type], T0 + 99))).toEqual([]);
    const [again] = await ctx.store.claimTimers(claimArgs([ref.type], T0 + 100));
    expect(again!.attempts).toBe(2);
    await ctx.store.deadLetter(again!.lease, T0 + 101, 'gave up');
    const dead = await ctx.store.listDeadLetters({ kind: 'timer', workflowType: ref.type });
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ kind: 'timer', id: t.id, status: 'dead', attempts: 2, lastError: 'gave up', key: 'deadline', input: { type: 'expire' } });
    expect(await ctx.store.countDeadLetters({ kind: 'timer', workflowType: ref.type, workflowId: ref.id })).toBe(1);
    expect(await ctx.store.nextTimerAt([ref.type])).toBeUndefined();
    expect(await ctx.store.redrive('timer', t.id, T0 + 200)).toBe(true);
    const [redriven] = await ctx.store.claimTimers(claimArgs([ref.type], T0 + 200));
    expect(redriven).toMatchObject({ id: t.id, attempts: 1 });
  });

  it('a dead keyed timer is not redriven while a newer timer holds its key', async () => {
    const ref = { type: freshType(), id: 'dead-key' };
    const t = timer(T0, { v: 1 }, 'k');
    await ctx.store.commit(commitOf(ref, 0, { timers: [t] }));
    const [claimed] = await ctx.store.claimTimers(claimArgs([ref.type], T0));
    await ctx.store.deadLetter(claimed!.lease, T0, 'x');
    await ctx.store.commit(commitOf(ref, 1, { timers: [timer(T0 + 10, { v: 2 }, 'k')] }));
    expect(await ctx.store.redrive('timer', t.id, T0 + 1)).toBe(false);
    expect((await ctx.store.listTimers(ref)).map((x) => x.status).sort()).toEqual(['dead', 'pending']);
  });
}
