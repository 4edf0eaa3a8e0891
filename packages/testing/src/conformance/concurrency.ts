// Optimistic concurrency under real parallelism: one winner per version, no gaps, nothing lost.
import { expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import { commitOf, concurrently, effect, eventsFor, freshType, type ConformanceContext } from './context.js';

export function concurrencyCases(ctx: ConformanceContext): void {
  it('of many concurrent commits at the same version exactly one wins and the others write nothing', async () => {
    const ref = { type: freshType(), id: 'race' };
    await ctx.store.commit(commitOf(ref, 0));
    const results = await concurrently(20, (i) =>
      ctx.store.commit(commitOf(ref, 1, { events: eventsFor(ref, 1, 2).map((e) => ({ ...e, payload: { writer: i } })), effects: [effect({ writer: i })] })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(isIronflowError(r.reason, 'VERSION_CONFLICT')).toBe(true);
    const events = await ctx.store.readEvents(ref);
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3]);
    const winner = (events[1]!.payload as { writer: number }).writer;
    expect((events[2]!.payload as { writer: number }).writer).toBe(winner);
    expect((await ctx.store.listEffects(ref)).map((e) => e.payload)).toEqual([{ writer: winner }]);
  });

  it('concurrent writers that retry on conflict produce gapless sequences and lose nothing', async () => {
    const ref = { type: freshType(), id: 'retry' };
    const writers = 25;
    await concurrently(writers, async (i) => {
      for (;;) {
        const { version } = await ctx.store.load(ref);
        try {
          await ctx.store.commit(commitOf(ref, version, { events: eventsFor(ref, version, 1).map((e) => ({ ...e, payload: { writer: i } })) }));
          return;
        } catch (error) {
          if (!isIronflowError(error, 'VERSION_CONFLICT')) throw error;
        }
      }
    }).then((rs) => rs.forEach((r) => expect(r.status).toBe('fulfilled')));
    const events = await ctx.store.readEvents(ref);
    expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: writers }, (_, i) => i + 1));
    expect(new Set(events.map((e) => (e.payload as { writer: number }).writer)).size).toBe(writers);
  });

  it('concurrent commits to different instances all succeed', async () => {
    const type = freshType();
    const results = await concurrently(30, (i) => ctx.store.commit(commitOf({ type, id: `i-${i}` }, 0, { eventCount: 2 })));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(await ctx.store.listInstances({ workflowType: type, limit: 100 })).toHaveLength(30);
  });
}
