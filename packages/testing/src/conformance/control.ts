// Control of live work: cancelling instances, keyed effects and their cancellation, the terminal
// policy, priorities with aging, tags, pauses and the backlog. Every store keeps these the same way.
import { expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import { PRIORITY_AGING_MS, type NewEffect, type WorkflowRef } from '@ironflow/core/store';
import { claimArgs, commitOf, effect, expectCode, freshType, timer, T0, type ConformanceContext } from './context.js';

/** An effect with a key and other options. */
function keyed(key: string, fields: Partial<NewEffect> = {}): NewEffect {
  return { ...effect({ type: 'charge', key }), key, ...fields };
}

export function cancellationCases(ctx: ConformanceContext): void {
  async function started(ref: WorkflowRef) {
    const e1 = effect({ type: 'one' });
    const e2 = effect({ type: 'two' });
    const t1 = timer(T0 + 60_000, { type: 'later' }, 'reminder');
    await ctx.store.commit(commitOf(ref, 0, { effects: [e1, e2], timers: [t1], uniqueKey: `u-${ref.id}` }));
    return { e1, e2, t1 };
  }

  it('cancelInstance makes the instance cancelled and its live effects and timers cancelled, in one write', async () => {
    const ref = { type: freshType('cancel'), id: 'c1' };
    const { e1, e2 } = await started(ref);
    const [leased] = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 1, { limit: 1 }));
    expect(leased!.id).toBe(e1.id);
    const result = await ctx.store.cancelInstance({ ref, now: T0 + 10, reason: 'customer asked' });
    expect(result).toEqual({ cancelled: true, effects: 2, timers: 1 });

    const loaded = await ctx.store.load(ref);
    expect(loaded).toMatchObject({ version: 1, completed: true, status: 'cancelled' });
    const effects = await ctx.store.listEffects(ref);
    expect(effects.map((e) => [e.id, e.status, e.lastError])).toEqual([
      [e1.id, 'cancelled', 'customer asked'],
      [e2.id, 'cancelled', 'customer asked'],
    ]);
    expect(effects.every((e) => e.updatedAt === T0 + 10 && e.leaseOwner === undefined)).toBe(true);
    expect((await ctx.store.listTimers(ref)).map((t) => t.status)).toEqual(['cancelled']);
    const [summary] = await ctx.store.listInstances({ workflowType: ref.type });
    expect(summary).toMatchObject({ workflowId: 'c1', status: 'cancelled', cancelReason: 'customer asked', version: 1, updatedAt: T0 + 10 });
    expect(await ctx.store.claimEffects(claimArgs([ref.type], T0 + 100_000))).toEqual([]);
    expect(await ctx.store.claimTimers(claimArgs([ref.type], T0 + 100_000))).toEqual([]);
  });

  it('the holder of a cancelled effect loses its lease, told it was cancelled, and cannot route a result', async () => {
    const ref = { type: freshType('cancel'), id: 'held' };
    await started(ref);
    const [leased] = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 1, { limit: 1 }));
    await ctx.store.cancelInstance({ ref, now: T0 + 2, reason: 'stop' });
    for (const attempt of [
      () => ctx.store.renewLease(leased!.lease, T0 + 3, 30_000),
      () => ctx.store.complete(leased!.lease, T0 + 3),
      () => ctx.store.retry(leased!.lease, T0 + 3, T0 + 4, 'x'),
    ]) {
      const error = await attempt().then(() => undefined, (e: unknown) => e);
      expect(isIronflowError(error, 'LEASE_LOST'), String(error)).toBe(true);
      expect((error as { cancelled?: boolean }).cancelled).toBe(true);
    }
    const [result] = await ctx.store.settleMany([{ op: 'complete', lease: leased!.lease, now: T0 + 3 }]);
    expect(result!.ok).toBe(false);
    expect(result?.ok === false && (result.error as { cancelled?: boolean }).cancelled).toBe(true);
    // A routed result names the lease in its commit: refused, nothing written.
    await expectCode(ctx.store.commit(commitOf(ref, 1, { ack: { ...leased!.lease, outcome: 'done' } })), 'LEASE_LOST');
    expect((await ctx.store.load(ref)).version).toBe(1);
  });

  it('a lease that merely expired is still reported as lost, not cancelled', async () => {
    const ref = { type: freshType('cancel'), id: 'expired' };
    await started(ref);
    const [leased] = await ctx.store.claimEffects(claimArgs([ref.type], T0, { limit: 1, leaseMs: 10 }));
    const error = await ctx.store.complete(leased!.lease, T0 + 10).then(() => undefined, (e: unknown) => e);
    expect(isIronflowError(error, 'LEASE_LOST')).toBe(true);
    expect((error as { cancelled?: boolean }).cancelled).toBe(false);
  });

  it('a cancelled instance takes no commit, releases its unique key, and is not cancelled twice', async () => {
    const ref = { type: freshType('cancel'), id: 'terminal' };
    await started(ref);
    expect((await ctx.store.cancelInstance({ ref, now: T0 + 1, reason: 'r' })).cancelled).toBe(true);
    await expectCode(ctx.store.commit(commitOf(ref, 1)), 'VERSION_CONFLICT');
    expect(await ctx.store.cancelInstance({ ref, now: T0 + 2, reason: 'again' })).toEqual({ cancelled: false, effects: 0, timers: 0 });
    // The key is free for a new instance.
    await ctx.store.commit(commitOf({ type: ref.type, id: 'successor' }, 0, { uniqueKey: `u-${ref.id}` }));
    const [summary] = await ctx.store.listInstances({ workflowType: ref.type, status: 'cancelled' });
    expect(summary).toMatchObject({ workflowId: 'terminal', cancelReason: 'r', updatedAt: T0 + 1 });
    expect((await ctx.store.listInstances({ workflowType: ref.type, status: 'active' })).map((i) => i.workflowId)).toEqual(['successor']);
  });

  it('cancelling a missing or completed instance writes nothing', async () => {
    const type = freshType('cancel');
    expect(await ctx.store.cancelInstance({ ref: { type, id: 'nobody' }, now: T0, reason: 'r' })).toEqual({ cancelled: false, effects: 0, timers: 0 });
    expect(await ctx.store.listInstances({ workflowType: type })).toEqual([]);
    const done = { type, id: 'done' };
    await ctx.store.commit(commitOf(done, 0, { completed: true, effects: [effect()] }));
    expect((await ctx.store.cancelInstance({ ref: done, now: T0 + 1, reason: 'late' })).cancelled).toBe(false);
    expect(await ctx.store.load(done)).toMatchObject({ status: 'completed', completed: true });
    expect((await ctx.store.listEffects(done)).map((e) => e.status)).toEqual(['pending']);
  });

  it('settled work is left as it was: done effects, fired timers and dead letters', async () => {
    const ref = { type: freshType('cancel'), id: 'settled' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect({ n: 1 }), effect({ n: 2 })] }));
    const [a, b] = await ctx.store.claimEffects(claimArgs([ref.type], T0));
    await ctx.store.complete(a!.lease, T0 + 1);
    await ctx.store.deadLetter(b!.lease, T0 + 1, 'boom');
    expect(await ctx.store.cancelInstance({ ref, now: T0 + 2, reason: 'r' })).toEqual({ cancelled: true, effects: 0, timers: 0 });
    expect((await ctx.store.listEffects(ref)).map((e) => e.status)).toEqual(['done', 'dead']);
  });

  it('purge deletes cancelled effects once old enough', async () => {
    const ref = { type: freshType('cancel'), id: 'purge' };
    await started(ref);
    await ctx.store.cancelInstance({ ref, now: T0 + 5, reason: 'r' });
    await ctx.store.purge(T0 + 6);
    expect(await ctx.store.listEffects(ref)).toEqual([]);
    expect(await ctx.store.listTimers(ref)).toEqual([]);
  });
}

export function keyedEffectCases(ctx: ConformanceContext): void {
  it('an effect keeps its key, tag, priority and settings; priority defaults to 0', async () => {
    const ref = { type: freshType('keyed'), id: 'fields' };
    const full = keyed('charge', { tag: 'payments', priority: 7, settings: { timeoutMs: 5000, deadline: T0 + 86_400_000, retry: { maxAttempts: 3 } } });
    const plain = effect({ type: 'plain' });
    await ctx.store.commit(commitOf(ref, 0, { effects: [full, plain] }));
    const byId = new Map((await ctx.store.listEffects(ref)).map((e) => [e.id, e]));
    expect(byId.get(full.id)).toMatchObject({ key: 'charge', tag: 'payments', priority: 7, settings: { timeoutMs: 5000, deadline: T0 + 86_400_000, retry: { maxAttempts: 3 } } });
    const bare = byId.get(plain.id)!;
    expect(bare.priority).toBe(0);
    expect(bare.key).toBeUndefined();
    expect(bare.tag).toBeUndefined();
    expect(bare.settings).toBeUndefined();
    const claimed = await ctx.store.claimEffects(claimArgs([ref.type], T0));
    expect(claimed.find((c) => c.id === full.id)).toMatchObject({ key: 'charge', tag: 'payments', priority: 7, settings: { timeoutMs: 5000 } });
  });

  it('a second live effect with a key is refused (EFFECT_KEY_CONFLICT), writing nothing', async () => {
    const ref = { type: freshType('keyed'), id: 'conflict' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [keyed('charge')] }));
    await expectCode(ctx.store.commit(commitOf(ref, 1, { effects: [keyed('charge'), effect()], timers: [timer(T0 + 5)] })), 'EFFECT_KEY_CONFLICT');
    expect((await ctx.store.load(ref)).version).toBe(1);
    expect(await ctx.store.listEffects(ref)).toHaveLength(1);
    expect(await ctx.store.listTimers(ref)).toEqual([]);
    // Still refused while the first is leased; another instance may use the same key.
    await ctx.store.claimEffects(claimArgs([ref.type], T0));
    await expectCode(ctx.store.commit(commitOf(ref, 1, { effects: [keyed('charge')] })), 'EFFECT_KEY_CONFLICT');
    await ctx.store.commit(commitOf({ type: ref.type, id: 'other' }, 0, { effects: [keyed('charge')] }));
  });

  it('cancelEffects cancels the live effect with that key, pending or leased; unknown keys are ignored', async () => {
    const ref = { type: freshType('keyed'), id: 'cancel' };
    const charge = keyed('charge');
    const ship = keyed('ship');
    await ctx.store.commit(commitOf(ref, 0, { effects: [charge, ship] }));
    const claimed = await ctx.store.claimEffects(claimArgs([ref.type], T0));
    const leasedShip = claimed.find((c) => c.id === ship.id)!;
    await ctx.store.release(claimed.find((c) => c.id === charge.id)!.lease, T0 + 1);
    await ctx.store.commit(commitOf(ref, 1, { now: T0 + 2, cancelEffects: ['charge', 'ship', 'never-used'] }));
    const effects = await ctx.store.listEffects(ref);
    expect(effects.map((e) => [e.key, e.status, e.updatedAt])).toEqual([
      ['charge', 'cancelled', T0 + 2],
      ['ship', 'cancelled', T0 + 2],
    ]);
    const error = await ctx.store.complete(leasedShip.lease, T0 + 3).then(() => undefined, (e: unknown) => e);
    expect((error as { cancelled?: boolean }).cancelled).toBe(true);
    expect(await ctx.store.claimEffects(claimArgs([ref.type], T0 + 10))).toEqual([]);
  });

  it('cancelling a key and writing it again in one commit replaces the effect', async () => {
    const ref = { type: freshType('keyed'), id: 'replace' };
    const first = keyed('charge', { payload: { amount: 10 } });
    await ctx.store.commit(commitOf(ref, 0, { effects: [first] }));
    const second = keyed('charge', { payload: { amount: 20 } });
    await ctx.store.commit(commitOf(ref, 1, { cancelEffects: ['charge'], effects: [second] }));
    const effects = await ctx.store.listEffects(ref);
    expect(effects.map((e) => [e.id, e.status])).toEqual([
      [first.id, 'cancelled'],
      [second.id, 'pending'],
    ]);
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0));
    expect(claimed!.payload).toEqual({ amount: 20 });
  });

  it('a settled keyed effect no longer holds its key, and a dead one is not re-driven while the key is taken', async () => {
    const ref = { type: freshType('keyed'), id: 'settled' };
    const first = keyed('charge');
    await ctx.store.commit(commitOf(ref, 0, { effects: [first] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0));
    await ctx.store.deadLetter(claimed!.lease, T0 + 1, 'declined');
    await ctx.store.commit(commitOf(ref, 1, { effects: [keyed('charge')] }));
    expect(await ctx.store.redrive('effect', first.id, T0 + 2)).toBe(false);
    const [second] = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 2));
    await ctx.store.complete(second!.lease, T0 + 3);
    expect(await ctx.store.redrive('effect', first.id, T0 + 4)).toBe(true);
  });

  it('the acknowledged effect is settled by its own commit, never cancelled by it', async () => {
    const ref = { type: freshType('keyed'), id: 'ack' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [keyed('charge')] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0));
    await ctx.store.commit(commitOf(ref, 1, { ack: { ...claimed!.lease, outcome: 'done' }, cancelEffects: ['charge'] }));
    expect((await ctx.store.listEffects(ref)).map((e) => e.status)).toEqual(['done']);
  });

  it('a routed result may write a new effect under the key of the effect it acknowledges', async () => {
    const ref = { type: freshType('keyed'), id: 'again' };
    const first = keyed('charge');
    await ctx.store.commit(commitOf(ref, 0, { effects: [first] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([ref.type], T0));
    const second = keyed('charge');
    await ctx.store.commit(commitOf(ref, 1, { ack: { ...claimed!.lease, outcome: 'done' }, effects: [second] }));
    expect((await ctx.store.listEffects(ref)).map((e) => [e.id, e.status])).toEqual([
      [first.id, 'done'],
      [second.id, 'pending'],
    ]);
    // Another live holder of the key still conflicts, whatever the commit acknowledges.
    await ctx.store.commit(commitOf(ref, 2, { effects: [keyed('other')] }));
    const [other] = (await ctx.store.claimEffects(claimArgs([ref.type], T0 + 2))).filter((c) => c.key === 'other');
    await expectCode(ctx.store.commit(commitOf(ref, 3, { ack: { ...other!.lease, outcome: 'done' }, effects: [keyed('charge')] })), 'EFFECT_KEY_CONFLICT');
    expect((await ctx.store.load(ref)).version).toBe(3);
  });

  it('the same key twice in one commit is refused as bad input', async () => {
    const ref = { type: freshType('keyed'), id: 'twice' };
    await expectCode(ctx.store.commit(commitOf(ref, 0, { effects: [keyed('k'), keyed('k')] })), 'INVALID_ARGUMENT');
    expect((await ctx.store.load(ref)).version).toBe(0);
  });
}

export function terminalPolicyCases(ctx: ConformanceContext): void {
  it('a completing commit with cancelWork cancels the live work left behind, keeping its own and the acknowledged row', async () => {
    const ref = { type: freshType('terminal'), id: 'policy' };
    const old1 = effect({ n: 1 });
    const old2 = keyed('ship');
    const oldTimer = timer(T0 + 100_000, { type: 'remind' }, 'remind');
    await ctx.store.commit(commitOf(ref, 0, { effects: [old1, old2], timers: [oldTimer] }));
    const claimed = await ctx.store.claimEffects(claimArgs([ref.type], T0, { limit: 1 }));
    expect(claimed[0]!.id).toBe(old1.id);
    const receipt = effect({ type: 'receipt' });
    const followUp = timer(T0 + 5, { type: 'survey' });
    await ctx.store.commit(commitOf(ref, 1, { now: T0 + 1, ack: { ...claimed[0]!.lease, outcome: 'done' }, completed: true, cancelWork: true, effects: [receipt], timers: [followUp] }));
    expect(await ctx.store.load(ref)).toMatchObject({ status: 'completed', completed: true, version: 2 });
    const statuses = Object.fromEntries((await ctx.store.listEffects(ref)).map((e) => [e.id, e.status]));
    expect(statuses).toEqual({ [old1.id]: 'done', [old2.id]: 'cancelled', [receipt.id]: 'pending' });
    const timers = Object.fromEntries((await ctx.store.listTimers(ref)).map((t) => [t.id, t.status]));
    expect(timers).toEqual({ [oldTimer.id]: 'cancelled', [followUp.id]: 'pending' });
  });

  it('without cancelWork a completing commit leaves earlier work to run', async () => {
    const ref = { type: freshType('terminal'), id: 'run' };
    await ctx.store.commit(commitOf(ref, 0, { effects: [effect()] }));
    await ctx.store.commit(commitOf(ref, 1, { completed: true }));
    expect((await ctx.store.listEffects(ref)).map((e) => e.status)).toEqual(['pending']);
    expect(await ctx.store.claimEffects(claimArgs([ref.type], T0))).toHaveLength(1);
  });

  it('cancelWork is refused without completed', async () => {
    const ref = { type: freshType('terminal'), id: 'bad' };
    await expectCode(ctx.store.commit(commitOf(ref, 0, { cancelWork: true })), 'INVALID_ARGUMENT');
    expect((await ctx.store.load(ref)).version).toBe(0);
  });
}

export function priorityAndTagCases(ctx: ConformanceContext): void {
  it('claims take higher priority first among available effects', async () => {
    const type = freshType('prio');
    const low = effect({ p: 'low' });
    const high = { ...effect({ p: 'high' }), priority: 10 };
    const mid = { ...effect({ p: 'mid' }), priority: 5 };
    const negative = { ...effect({ p: 'negative' }), priority: -3 };
    await ctx.store.commit(commitOf({ type, id: 'a' }, 0, { effects: [low, negative] }));
    await ctx.store.commit(commitOf({ type, id: 'b' }, 0, { effects: [mid, high] }));
    const claimed = await ctx.store.claimEffects(claimArgs([type], T0, { limit: 2 }));
    expect(claimed.map((c) => c.payload)).toEqual([{ p: 'high' }, { p: 'mid' }]);
    const rest = await ctx.store.claimEffects(claimArgs([type], T0));
    expect(rest.map((c) => c.payload)).toEqual([{ p: 'low' }, { p: 'negative' }]);
  });

  it('aging: an effect that waited longer than its priority gap is claimed before newer higher-priority ones', async () => {
    const type = freshType('aging');
    const gap = 3;
    const old = effect({ p: 'old, priority 0' });
    await ctx.store.commit(commitOf({ type, id: 'old' }, 0, { now: T0, effects: [old] }));
    // Written just under the gap later: its priority still wins.
    await ctx.store.commit(commitOf({ type, id: 'early' }, 0, { now: T0 + gap * PRIORITY_AGING_MS - 1, effects: [{ ...effect({ p: 'early high' }), priority: gap }] }));
    // Written past the gap: the old one has aged ahead of it.
    await ctx.store.commit(commitOf({ type, id: 'late' }, 0, { now: T0 + gap * PRIORITY_AGING_MS + 1, effects: [{ ...effect({ p: 'late high' }), priority: gap }] }));
    const claimed = await ctx.store.claimEffects(claimArgs([type], T0 + 10_000));
    expect(claimed.map((c) => c.payload)).toEqual([{ p: 'early high' }, { p: 'old, priority 0' }, { p: 'late high' }]);
  });

  it('a high-priority effect not yet available is not claimed early', async () => {
    const type = freshType('prio');
    await ctx.store.commit(commitOf({ type, id: 'a' }, 0, { effects: [{ ...effect({ p: 'urgent' }), priority: 1000 }] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([type], T0));
    await ctx.store.retry(claimed!.lease, T0, T0 + 60_000, 'later');
    await ctx.store.commit(commitOf({ type, id: 'b' }, 0, { effects: [effect({ p: 'normal' })] }));
    expect((await ctx.store.claimEffects(claimArgs([type], T0 + 1))).map((c) => c.payload)).toEqual([{ p: 'normal' }]);
    expect((await ctx.store.claimEffects(claimArgs([type], T0 + 60_000))).map((c) => c.payload)).toEqual([{ p: 'urgent' }]);
  });

  it('a claim with tags takes only effects with one of them; a claim without tags takes any', async () => {
    const type = freshType('tags');
    const gpu = { ...effect({ t: 'gpu' }), tag: 'gpu' };
    const email = { ...effect({ t: 'email' }), tag: 'email' };
    const plain = effect({ t: 'none' });
    await ctx.store.commit(commitOf({ type, id: 'a' }, 0, { effects: [gpu, email, plain], timers: [timer(T0)] }));
    expect((await ctx.store.claimEffects({ ...claimArgs([type], T0), tags: ['gpu'] })).map((c) => c.id)).toEqual([gpu.id]);
    expect(await ctx.store.claimEffects({ ...claimArgs([type], T0), tags: ['video'] })).toEqual([]);
    expect(await ctx.store.claimEffects({ ...claimArgs([type], T0), tags: [] })).toEqual([]);
    const rest = await ctx.store.claimEffects(claimArgs([type], T0));
    expect(rest.map((c) => c.id).sort()).toEqual([email.id, plain.id].sort());
    // Timers have no tags: a timer claim ignores them.
    expect(await ctx.store.claimTimers({ ...claimArgs([type], T0), tags: ['gpu'] })).toHaveLength(1);
  });

  it('priority out of range and malformed settings are refused as bad input', async () => {
    const ref = { type: freshType('prio'), id: 'bad' };
    for (const bad of [{ priority: 1001 }, { priority: 1.5 }, { priority: '3' }, { settings: { timeoutMs: 0 } }, { settings: { deadline: -1 } }, { settings: 'x' }, { tag: '' }, { key: 7 }]) {
      await expectCode(ctx.store.commit(commitOf(ref, 0, { effects: [{ ...effect(), ...bad } as NewEffect] })), 'INVALID_ARGUMENT');
    }
    await expectCode(ctx.store.claimEffects({ ...claimArgs([ref.type], T0), tags: [''] }), 'INVALID_ARGUMENT');
    expect((await ctx.store.load(ref)).version).toBe(0);
  });
}

export function pauseCases(ctx: ConformanceContext): void {
  it('a paused type is not claimed, its timers neither, and commits still land; resume makes it claimable', async () => {
    const type = freshType('pause');
    const other = freshType('pause');
    await ctx.store.commit(commitOf({ type, id: 'a' }, 0, { effects: [effect()], timers: [timer(T0 + 10)] }));
    await ctx.store.commit(commitOf({ type: other, id: 'a' }, 0, { effects: [effect()] }));
    expect(await ctx.store.setPaused({ type }, true, T0)).toBe(true);
    expect(await ctx.store.setPaused({ type }, true, T0 + 1)).toBe(false);
    await ctx.store.commit(commitOf({ type, id: 'a' }, 1, { effects: [effect()] }));
    expect(await ctx.store.claimEffects(claimArgs([type, other], T0 + 100))).toHaveLength(1);
    expect(await ctx.store.claimTimers(claimArgs([type], T0 + 100))).toEqual([]);
    expect(await ctx.store.nextTimerAt([type])).toBeUndefined();
    expect(await ctx.store.listPaused()).toEqual(expect.arrayContaining([{ type, since: T0 }]));
    expect((await ctx.store.listEffects({ type, id: 'a' })).map((e) => e.status)).toEqual(['pending', 'pending']);

    expect(await ctx.store.setPaused({ type }, false, T0 + 200)).toBe(true);
    expect(await ctx.store.setPaused({ type }, false, T0 + 200)).toBe(false);
    expect(await ctx.store.nextTimerAt([type])).toBe(T0 + 10);
    expect(await ctx.store.claimEffects(claimArgs([type], T0 + 200))).toHaveLength(2);
    // The timer fell due during the pause: it fires on resume.
    expect(await ctx.store.claimTimers(claimArgs([type], T0 + 200))).toHaveLength(1);
    expect((await ctx.store.listPaused()).some((p) => p.type === type)).toBe(false);
  });

  it('pausing one instance holds only its work', async () => {
    const type = freshType('pause');
    await ctx.store.commit(commitOf({ type, id: 'held' }, 0, { effects: [effect({ id: 'held' })], timers: [timer(T0)] }));
    await ctx.store.commit(commitOf({ type, id: 'free' }, 0, { effects: [effect({ id: 'free' })], timers: [timer(T0)] }));
    expect(await ctx.store.setPaused({ type, id: 'held' }, true, T0)).toBe(true);
    expect((await ctx.store.claimEffects(claimArgs([type], T0))).map((c) => c.workflowId)).toEqual(['free']);
    expect((await ctx.store.claimTimers(claimArgs([type], T0))).map((c) => c.workflowId)).toEqual(['free']);
    await ctx.store.setPaused({ type, id: 'held' }, false, T0 + 1);
    expect((await ctx.store.claimEffects(claimArgs([type], T0 + 1))).map((c) => c.workflowId)).toEqual(['held']);
  });

  it('a leased row of a paused type may still be settled; expired leases of paused work are not re-claimed', async () => {
    const type = freshType('pause');
    await ctx.store.commit(commitOf({ type, id: 'a' }, 0, { effects: [effect(), effect()] }));
    const [first, second] = await ctx.store.claimEffects(claimArgs([type], T0, { leaseMs: 100 }));
    await ctx.store.setPaused({ type }, true, T0 + 1);
    await ctx.store.complete(first!.lease, T0 + 2);
    expect(await ctx.store.claimEffects(claimArgs([type], T0 + 1000))).toEqual([]);
    await ctx.store.setPaused({ type }, false, T0 + 1001);
    const [recovered] = await ctx.store.claimEffects(claimArgs([type], T0 + 1001));
    expect(recovered).toMatchObject({ id: second!.id, recovered: true });
  });

  it('a pause is durable and seen by another store on the same data', async () => {
    const type = freshType('pause');
    const other = await ctx.open(ctx.namespace);
    await ctx.store.commit(commitOf({ type, id: 'a' }, 0, { effects: [effect()] }));
    await ctx.store.setPaused({ type, id: 'a' }, true, T0);
    await ctx.store.setPaused({ type }, true, T0 + 1);
    expect((await other.listPaused()).filter((p) => p.type === type)).toEqual([
      { type, since: T0 + 1 },
      { type, id: 'a', since: T0 },
    ]);
    expect(await other.claimEffects(claimArgs([type], T0 + 5))).toEqual([]);
    expect(await other.setPaused({ type }, false, T0 + 6)).toBe(true);
    expect(await ctx.store.claimEffects(claimArgs([type], T0 + 6))).toEqual([]);
    expect(await other.setPaused({ type, id: 'a' }, false, T0 + 7)).toBe(true);
    expect(await ctx.store.claimEffects(claimArgs([type], T0 + 7))).toHaveLength(1);
  });

  it('bad pause targets are refused', async () => {
    await expectCode(ctx.store.setPaused({ type: '' }, true, T0), 'INVALID_ARGUMENT');
    await expectCode(ctx.store.setPaused({ type: freshType(), id: 'x\u0000' }, true, T0), 'INVALID_ARGUMENT');
    await expectCode(ctx.store.setPaused({ type: freshType() }, 'yes' as unknown as boolean, T0), 'INVALID_ARGUMENT');
    await expectCode(ctx.store.setPaused(null as unknown as { type: string }, true, T0), 'INVALID_ARGUMENT');
    await expectCode(ctx.store.cancelInstance({ ref: { type: freshType(), id: 'x' }, now: T0, reason: 42 as unknown as string }), 'INVALID_ARGUMENT');
  });
}

export function backlogCases(ctx: ConformanceContext): void {
  it('counts work per type and kind: pending, due, leased, paused, dead, and the oldest due time', async () => {
    const type = freshType('backlog');
    const quiet = freshType('backlog');
    await ctx.store.commit(commitOf({ type, id: 'a' }, 0, { now: T0, effects: [effect(), effect(), effect(), effect()], timers: [timer(T0 + 50), timer(T0 + 5000)] }));
    await ctx.store.commit(commitOf({ type, id: 'b' }, 0, { now: T0 + 20, effects: [effect()] }));
    await ctx.store.commit(commitOf({ type, id: 'p' }, 0, { now: T0 + 30, effects: [effect(), effect()] }));
    await ctx.store.commit(commitOf({ type: quiet, id: 'done' }, 0, { completed: true }));
    await ctx.store.setPaused({ type, id: 'p' }, true, T0 + 31);
    const claimed = await ctx.store.claimEffects(claimArgs([type], T0 + 40, { limit: 3 }));
    await ctx.store.deadLetter(claimed[0]!.lease, T0 + 41, 'x');
    await ctx.store.retry(claimed[1]!.lease, T0 + 41, T0 + 10_000, 'later');

    const rows = (await ctx.store.backlog(T0 + 100)).filter((r) => r.workflowType === type || r.workflowType === quiet);
    expect(rows).toEqual([
      { workflowType: type, kind: 'effect', pending: 3, due: 2, leased: 1, paused: 2, dead: 1, oldestDueAt: T0 },
      { workflowType: type, kind: 'timer', pending: 2, due: 1, leased: 0, paused: 0, dead: 0, oldestDueAt: T0 + 50 },
    ]);
    const later = (await ctx.store.backlog(T0 + 20_000)).filter((r) => r.workflowType === type && r.kind === 'effect');
    expect(later[0]).toMatchObject({ pending: 3, due: 3, oldestDueAt: T0 });
  });

  it('a type with nothing pending, leased or dead has no row', async () => {
    const type = freshType('backlog');
    await ctx.store.commit(commitOf({ type, id: 'a' }, 0, { effects: [effect()] }));
    const [claimed] = await ctx.store.claimEffects(claimArgs([type], T0));
    await ctx.store.complete(claimed!.lease, T0);
    expect((await ctx.store.backlog(T0)).filter((r) => r.workflowType === type)).toEqual([]);
    await expectCode(ctx.store.backlog(-1), 'INVALID_ARGUMENT');
  });

  it('records of a paused type count as paused, not pending', async () => {
    const type = freshType('backlog');
    await ctx.store.commit(commitOf({ type, id: 'a' }, 0, { effects: [effect(), effect()], timers: [timer(T0)] }));
    await ctx.store.setPaused({ type }, true, T0);
    const rows = (await ctx.store.backlog(T0)).filter((r) => r.workflowType === type);
    expect(rows.map((r) => [r.kind, r.pending, r.paused, r.oldestDueAt])).toEqual([
      ['effect', 0, 2, undefined],
      ['timer', 0, 1, undefined],
    ]);
    await ctx.store.setPaused({ type }, false, T0);
  });
}
