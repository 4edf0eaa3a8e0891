// At most one active instance per (workflow type, unique key).
import { expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import { commitOf, concurrently, effect, expectCode, freshType, type ConformanceContext } from './context.js';

export function uniqueKeyCases(ctx: ConformanceContext): void {
  it('a unique key held by an active instance refuses a second instance with UNIQUE_KEY_CONFLICT and writes nothing', async () => {
    const type = freshType();
    await ctx.store.commit(commitOf({ type, id: 'first' }, 0, { uniqueKey: 'customer-7' }));
    let caught: unknown;
    try {
      await ctx.store.commit(commitOf({ type, id: 'second' }, 0, { uniqueKey: 'customer-7', effects: [effect()] }));
    } catch (error) {
      caught = error;
    }
    expect(isIronflowError(caught, 'UNIQUE_KEY_CONFLICT')).toBe(true);
    expect(caught).toMatchObject({ workflowType: type, uniqueKey: 'customer-7', holderId: 'first' });
    expect((await ctx.store.load({ type, id: 'second' })).version).toBe(0);
    expect(await ctx.store.listEffects({ type, id: 'second' })).toEqual([]);
    await ctx.store.commit(commitOf({ type, id: 'first' }, 1));
  });

  it('a unique key is released when its holder completes', async () => {
    const type = freshType();
    await ctx.store.commit(commitOf({ type, id: 'a' }, 0, { uniqueKey: 'k' }));
    await expectCode(ctx.store.commit(commitOf({ type, id: 'b' }, 0, { uniqueKey: 'k' })), 'UNIQUE_KEY_CONFLICT');
    await ctx.store.commit(commitOf({ type, id: 'a' }, 1, { completed: true }));
    await ctx.store.commit(commitOf({ type, id: 'b' }, 0, { uniqueKey: 'k' }));
    await expectCode(ctx.store.commit(commitOf({ type, id: 'c' }, 0, { uniqueKey: 'k' })), 'UNIQUE_KEY_CONFLICT');
  });

  it('a unique key claimed and completed in the same commit is not held', async () => {
    const type = freshType();
    await ctx.store.commit(commitOf({ type, id: 'a' }, 0, { uniqueKey: 'once', completed: true }));
    await ctx.store.commit(commitOf({ type, id: 'b' }, 0, { uniqueKey: 'once' }));
    expect((await ctx.store.load({ type, id: 'b' })).version).toBe(1);
  });

  it('unique keys are scoped by workflow type', async () => {
    await ctx.store.commit(commitOf({ type: freshType('x'), id: 'a' }, 0, { uniqueKey: 'shared' }));
    await ctx.store.commit(commitOf({ type: freshType('y'), id: 'a' }, 0, { uniqueKey: 'shared' }));
  });

  it('of concurrent creations with one unique key exactly one instance wins', async () => {
    const type = freshType();
    const results = await concurrently(15, (i) => ctx.store.commit(commitOf({ type, id: `c-${i}` }, 0, { uniqueKey: 'race' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(isIronflowError(r.reason, 'UNIQUE_KEY_CONFLICT')).toBe(true);
    expect(await ctx.store.listInstances({ workflowType: type })).toHaveLength(1);
  });
}
