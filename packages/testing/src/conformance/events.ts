// Instances, events, version checks, completion and snapshots.
import { expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import { commitOf, effect, eventsFor, expectCode, freshType, timer, T0, type ConformanceContext } from './context.js';

export function eventCases(ctx: ConformanceContext): void {
  it('load of an unknown instance returns version 0, not completed, and no events', async () => {
    const loaded = await ctx.store.load({ type: freshType(), id: 'nobody' });
    expect(loaded).toMatchObject({ version: 0, completed: false, events: [] });
    expect(loaded.snapshot).toBeUndefined();
    expect(loaded.idempotent).toBeUndefined();
  });

  it('a commit at version 0 creates the instance and its events read back verbatim', async () => {
    const ref = { type: freshType(), id: 'order-1' };
    const payload = {
      type: 'Odd',
      text: 'naïve café ☕ 𝄞 "quotes" \\ back\nslash \u0000 nul',
      nested: { list: [1, 2.5, -3, 1e21, null, true, false, ''], empty: {} },
      big: Number.MAX_SAFE_INTEGER,
    };
    const events = [
      { ...eventsFor(ref, 0, 1)[0]!, type: 'Odd', payload },
      { ...eventsFor(ref, 1, 1)[0]!, metadata: { decidedAt: T0, inputType: 'Place', idempotencyKey: 'k', causedBy: { kind: 'effect' as const, id: 'e1' } } },
    ];
    await ctx.store.commit(commitOf(ref, 0, { events }));
    const loaded = await ctx.store.load(ref);
    expect(loaded.version).toBe(2);
    expect(loaded.completed).toBe(false);
    expect(loaded.events).toEqual(events);
    expect(await ctx.store.readEvents(ref)).toEqual(events);
  });

  it('events get contiguous sequences across commits and readEvents honours fromSequence', async () => {
    const ref = { type: freshType(), id: 'seq' };
    await ctx.store.commit(commitOf(ref, 0, { eventCount: 2 }));
    await ctx.store.commit(commitOf(ref, 2, { eventCount: 3 }));
    await ctx.store.commit(commitOf(ref, 5, { eventCount: 1 }));
    const all = await ctx.store.readEvents(ref);
    expect(all.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await ctx.store.readEvents(ref, { fromSequence: 4 })).map((e) => e.sequence)).toEqual([4, 5, 6]);
    expect((await ctx.store.load(ref)).version).toBe(6);
  });

  it('a stale expected version writes nothing and raises VERSION_CONFLICT', async () => {
    const ref = { type: freshType(), id: 'stale' };
    await ctx.store.commit(commitOf(ref, 0, { eventCount: 2 }));
    const stale = commitOf(ref, 1, {
      effects: [effect()],
      timers: [timer(T0 + 1000, { type: 'late' }, 'k')],
      completed: true,
      idempotencyKey: 'stale-key',
      snapshot: { version: 2, revision: '1', state: { x: 1 } },
    });
    let caught: unknown;
    try {
      await ctx.store.commit(stale);
    } catch (error) {
      caught = error;
    }
    expect(isIronflowError(caught, 'VERSION_CONFLICT')).toBe(true);
    expect(caught).toMatchObject({ workflowType: ref.type, workflowId: ref.id, expectedVersion: 1 });
    const loaded = await ctx.store.load(ref, { idempotencyKey: 'stale-key' });
    expect(loaded.version).toBe(2);
    expect(loaded.completed).toBe(false);
    expect(loaded.idempotent).toBeUndefined();
    expect(loaded.snapshot).toBeUndefined();
    expect(await ctx.store.listEffects(ref)).toEqual([]);
    expect(await ctx.store.listTimers(ref)).toEqual([]);
  });

  it('expecting a new instance when it exists, or an existing one when it does not, raises VERSION_CONFLICT', async () => {
    const ref = { type: freshType(), id: 'exists' };
    await ctx.store.commit(commitOf(ref, 0));
    await expectCode(ctx.store.commit(commitOf(ref, 0)), 'VERSION_CONFLICT');
    await expectCode(ctx.store.commit(commitOf({ type: ref.type, id: 'missing' }, 3)), 'VERSION_CONFLICT');
    expect((await ctx.store.load({ type: ref.type, id: 'missing' })).version).toBe(0);
    expect((await ctx.store.load(ref)).version).toBe(1);
  });

  it('instances of the same id but different types are independent', async () => {
    const a = { type: freshType('a'), id: 'same' };
    const b = { type: freshType('b'), id: 'same' };
    await ctx.store.commit(commitOf(a, 0, { eventCount: 2 }));
    await ctx.store.commit(commitOf(b, 0));
    expect((await ctx.store.load(a)).version).toBe(2);
    expect((await ctx.store.load(b)).version).toBe(1);
  });

  it('completion is stored and reported by load and listInstances', async () => {
    const ref = { type: freshType(), id: 'done' };
    await ctx.store.commit(commitOf(ref, 0));
    await ctx.store.commit(commitOf(ref, 1, { completed: true, now: T0 + 5 }));
    const loaded = await ctx.store.load(ref);
    expect(loaded.completed).toBe(true);
    expect(loaded.version).toBe(2);
    const [summary] = await ctx.store.listInstances({ workflowType: ref.type });
    expect(summary).toEqual({ workflowType: ref.type, workflowId: ref.id, version: 2, status: 'completed', createdAt: T0, updatedAt: T0 + 5 });
  });

  it('the latest snapshot is returned with only the events after it', async () => {
    const ref = { type: freshType(), id: 'snap' };
    await ctx.store.commit(commitOf(ref, 0, { eventCount: 3, snapshot: { version: 3, revision: '1', state: { count: 3 } } }));
    await ctx.store.commit(commitOf(ref, 3, { eventCount: 2 }));
    let loaded = await ctx.store.load(ref);
    expect(loaded.snapshot).toEqual({ version: 3, revision: '1', state: { count: 3 } });
    expect(loaded.events.map((e) => e.sequence)).toEqual([4, 5]);
    await ctx.store.commit(commitOf(ref, 5, { eventCount: 1, snapshot: { version: 6, revision: '2', state: { count: 6, label: 'r2' } } }));
    loaded = await ctx.store.load(ref);
    expect(loaded.snapshot).toEqual({ version: 6, revision: '2', state: { count: 6, label: 'r2' } });
    expect(loaded.events).toEqual([]);
    expect((await ctx.store.readEvents(ref)).length).toBe(6);
  });

  it('an idempotency key recorded by a commit is returned by a later load with that key, only for that instance', async () => {
    const ref = { type: freshType(), id: 'idem' };
    await ctx.store.commit(commitOf(ref, 0, { eventCount: 2, idempotencyKey: 'req-1', now: T0 + 7 }));
    const loaded = await ctx.store.load(ref, { idempotencyKey: 'req-1' });
    expect(loaded.idempotent).toEqual({ key: 'req-1', version: 2, eventCount: 2, committedAt: T0 + 7 });
    expect((await ctx.store.load(ref, { idempotencyKey: 'req-2' })).idempotent).toBeUndefined();
    expect((await ctx.store.load({ type: ref.type, id: 'other' }, { idempotencyKey: 'req-1' })).idempotent).toBeUndefined();
    expect((await ctx.store.load(ref)).idempotent).toBeUndefined();
  });
}
