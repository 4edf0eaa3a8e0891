// Routing a result and settling the effect or timer that produced it happen in one commit.
import { expect, it } from 'vitest';
import { claimArgs, commitOf, effect, expectCode, freshType, timer, T0, type ConformanceContext } from './context.js';

export function acknowledgementCases(ctx: ConformanceContext): void {
  it('an acknowledged effect is done in the same commit that appends the routed events', async () => {
    const ref = { type: freshType(), id: 'ack' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect()] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0));
    await ctx.store.commit(commitOf(ref, 1, { now: T0 + 3, ack: { ...claimed!.lease, outcome: 'done' } }));
    expect((await ctx.store.load(ref)).version).toBe(2);
    expect((await ctx.store.listEffects(ref))[0]).toMatchObject({ status: 'done', updatedAt: T0 + 3 });
  });

  it('an acknowledgement may settle an effect of another instance', async () => {
    const source = { type: freshType('src'), id: 's' };
    const target = { type: freshType('dst'), id: 't' };
    await ctx.store.commit(commitOf(source, 0, { effects: [effect()] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([source.type], T0));
    await ctx.store.commit(commitOf(target, 0, { ack: { ...claimed!.lease, outcome: 'done' } }));
    expect((await ctx.store.listEffects(source))[0]!.status).toBe('done');
    expect((await ctx.store.load(target)).version).toBe(1);
  });

  it('a commit whose acknowledged lease was lost writes nothing and raises LEASE_LOST', async () => {
    const ref = { type: freshType(), id: 'lost' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect()] }));
    const [stale] = await ctx.store.claimEffects(claimArgs([ref.type], T0, { leaseMs: 100 }));
    const [fresh] = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 100, { leaseMs: 100 }));
    await expectCode(
      ctx.store.commit(commitOf(ref, 1, { now: T0 + 101, ack: { ...stale!.lease, outcome: 'done' }, effects: [effect()], timers: [timer(T0 + 5)] })),
      'LEASE_LOST',
    );
    expect((await ctx.store.load(ref)).version).toBe(1);
    expect(await ctx.store.listTimers(ref)).toEqual([]);
    const effects = await ctx.store.listEffects(ref);
    expect(effects).toHaveLength(1);
    expect(effects[0]).toMatchObject({ status: 'leased', attempts: 2 });
    await ctx.store.commit(commitOf(ref, 1, { now: T0 + 102, ack: { ...fresh!.lease, outcome: 'done' } }));
    expect((await ctx.store.listEffects(ref))[0]!.status).toBe('done');
  });

  it('an acknowledgement past its lease expiry raises LEASE_LOST', async () => {
    const ref = { type: freshType(), id: 'late' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect()] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0, { leaseMs: 100 }));
    await expectCode(ctx.store.commit(commitOf(ref, 1, { now: T0 + 100, ack: { ...claimed!.lease, outcome: 'done' } })), 'LEASE_LOST');
    expect((await ctx.store.load(ref)).version).toBe(1);
  });

  it('a version conflict in a commit with an acknowledgement leaves the lease held', async () => {
    const ref = { type: freshType(), id: 'conflict-ack' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect()] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0));
    await expectCode(ctx.store.commit(commitOf(ref, 0, { ack: { ...claimed!.lease, outcome: 'done' } })), 'VERSION_CONFLICT');
    expect((await ctx.store.listEffects(ref))[0]!.status).toBe('leased');
    await ctx.store.commit(commitOf(ref, 1, { ack: { ...claimed!.lease, outcome: 'done' } }));
    expect((await ctx.store.listEffects(ref))[0]!.status).toBe('done');
  });

  it('a commit can dead-letter the acknowledged effect atomically with the events it routes', async () => {
    const ref = { type: freshType(), id: 'ack-dead' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect()] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0));
    await ctx.store.commit(commitOf(ref, 1, { ack: { ...claimed!.lease, outcome: 'dead', error: 'card declined forever' } }));
    expect((await ctx.store.listEffects(ref))[0]).toMatchObject({ status: 'dead', lastError: 'card declined forever' });
    expect(await ctx.store.countDeadLetters({ kind: 'effect', workflowType: ref.type })).toBe(1);
    expect((await ctx.store.load(ref)).version).toBe(2);
  });

  it('firing a timer and re-arming its key in one commit leaves exactly one pending timer (heartbeat)', async () => {
    const ref = { type: freshType(), id: 'heartbeat' };
    await ctx.store.commit(commitOf(ref, 0, { timers: [timer(T0 + 1000, { beat: 1 }, 'hb')] }));
    let now = T0 + 1000;
    for (let beat = 2; beat <= 4; beat++) {
      const [claimed] = await ctx.store.claimTimers(claimArgs([ref.type], now));
      expect(claimed!.input).toEqual({ beat: beat - 1 });
      const { version } = await ctx.store.load(ref);
      await ctx.store.commit(commitOf(ref, version, { now, ack: { ...claimed!.lease, outcome: 'done' }, timers: [timer(now + 1000, { beat }, 'hb')] }));
      now += 1000;
    }
    const timers = await ctx.store.listTimers(ref);
    expect(timers.filter((t) => t.status === 'pending')).toHaveLength(1);
    expect(timers.filter((t) => t.status === 'fired')).toHaveLength(3);
    expect(timers.find((t) => t.status === 'pending')).toMatchObject({ key: 'hb', fireAt: T0 + 4000, input: { beat: 4 } });
  });
}
