// Read models an operator relies on: instances, per-instance work, observations, retention.
import { expect, it } from 'vitest';
import { claimArgs, commitOf, effect, freshType, timer, T0, type ConformanceContext } from './context.js';

export function queryCases(ctx: ConformanceContext): void {
  it('listInstances filters by type and status and pages newest first', async () => {
    const type = freshType();
    await ctx.store.commit(commitOf({ type, id: 'old' }, 0, { now: T0 }));
    await ctx.store.commit(commitOf({ type, id: 'mid' }, 0, { now: T0 + 1 }));
    await ctx.store.commit(commitOf({ type, id: 'new' }, 0, { now: T0 + 2 }));
    await ctx.store.commit(commitOf({ type, id: 'old' }, 1, { now: T0 + 3, completed: true }));
    await ctx.store.commit(commitOf({ type: freshType(), id: 'elsewhere' }, 0));
    const all = await ctx.store.listInstances({ workflowType: type });
    expect(all.map((i) => [i.workflowId, i.status, i.version])).toEqual([
      ['old', 'completed', 2],
      ['new', 'active', 1],
      ['mid', 'active', 1],
    ]);
    expect((await ctx.store.listInstances({ workflowType: type, status: 'active' })).map((i) => i.workflowId)).toEqual(['new', 'mid']);
    expect((await ctx.store.listInstances({ workflowType: type, status: 'completed' })).map((i) => i.workflowId)).toEqual(['old']);
    expect((await ctx.store.listInstances({ workflowType: type, limit: 1, offset: 1 })).map((i) => i.workflowId)).toEqual(['new']);
    expect(all[0]).toMatchObject({ createdAt: T0, updatedAt: T0 + 3 });
  });

  it('listEffects and listTimers return every row of one instance in creation order', async () => {
    const ref = { type: freshType(), id: 'rows' };
    const fx = [effect({ n: 1 }), effect({ n: 2 })];
    const ts = [timer(T0 + 5, { n: 1 }, 'a'), timer(T0 + 6, { n: 2 })];
    await ctx.store.commit(commitOf(ref, 0, { effects: fx, timers: ts }));
    await ctx.store.commit(commitOf({ type: ref.type, id: 'neighbour' }, 0, { effects: [effect()], timers: [timer(T0)] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0, { limit: 1 }));
    await ctx.store.complete(claimed!.lease, T0);
    expect((await ctx.store.listEffects(ref)).map((e) => [e.payload, e.status])).toEqual([
      [{ n: 1 }, 'done'],
      [{ n: 2 }, 'pending'],
    ]);
    expect((await ctx.store.listTimers(ref)).map((t) => [t.input, t.key, t.fireAt])).toEqual([
      [{ n: 1 }, 'a', T0 + 5],
      [{ n: 2 }, undefined, T0 + 6],
    ]);
  });

  it('observations are kept in order, whether a commit carries them or they are recorded alone', async () => {
    const ref = { type: freshType(), id: 'observed' };
    const rejected = { workflowType: ref.type, workflowId: ref.id, inputType: 'Pay', input: { amount: -1 }, outcome: 'rejected' as const, rejection: { code: 'negative' }, observedAt: T0 };
    await ctx.store.recordObservation(rejected);
    const accepted = { workflowType: ref.type, workflowId: ref.id, inputType: 'Place', input: { sku: 'a' }, outcome: 'accepted' as const, observedAt: T0 + 1 };
    await ctx.store.commit(commitOf(ref, 0, { now: T0 + 1, observation: accepted }));
    const late = { workflowType: ref.type, workflowId: ref.id, inputType: 'Pay', input: {}, outcome: 'already-completed' as const, observedAt: T0 + 2 };
    await ctx.store.recordObservation(late);
    expect(await ctx.store.listObservations(ref)).toEqual([rejected, accepted, late]);
    expect(await ctx.store.listObservations({ type: ref.type, id: 'other' })).toEqual([]);
  });

  it('purge deletes finished effects and timers older than the cut-off and keeps dead letters and live work', async () => {
    // purge() is store-wide: this case lives before every other case's times, so it sees only its own rows.
    const TP = T0 - 100_000_000;
    const ref = { type: freshType(), id: 'purge' };
    await ctx.store.commit(commitOf(ref, 0, {
      now: TP,
      effects: [effect({ n: 'done' }), effect({ n: 'dead' }), effect({ n: 'pending-later' })],
      timers: [timer(TP, { n: 'fired' }), timer(TP + 1_000_000, { n: 'pending' }), timer(TP + 1_000_000, { n: 'cancelled' }, 'c')],
    }));
    const effects = await ctx.store.claimEffects(claimArgs([ref.type], TP, { limit: 2 }));
    await ctx.store.complete(effects[0]!.lease, TP + 10);
    await ctx.store.deadLetter(effects[1]!.lease, TP + 10, 'x');
    const [fired] = await ctx.store.claimTimers(claimArgs([ref.type], TP));
    await ctx.store.complete(fired!.lease, TP + 10);
    await ctx.store.commit(commitOf(ref, 1, { now: TP + 10, cancelTimers: ['c'] }));
    expect(await ctx.store.purge(TP + 10)).toEqual({ effects: 0, timers: 0 });
    expect(await ctx.store.purge(TP + 11)).toEqual({ effects: 1, timers: 2 });
    expect((await ctx.store.listEffects(ref)).map((e) => e.status).sort()).toEqual(['dead', 'pending']);
    expect((await ctx.store.listTimers(ref)).map((t) => t.status)).toEqual(['pending']);
    expect(await ctx.store.countDeadLetters({ kind: 'effect', workflowType: ref.type })).toBe(1);
    expect((await ctx.store.readEvents(ref)).length).toBe(2);
  });
}
