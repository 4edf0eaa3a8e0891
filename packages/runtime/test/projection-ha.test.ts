// One holder per projection across engines on one store, on a manual clock: the other engines stand
// by; once the holder's lease runs out one of them takes over from the checkpoint; a holder whose
// lease was taken over mid-batch has its checkpoint write refused and nothing is lost; stop()
// gives the lease back so another engine takes over at once.
import { describe, expect, it } from 'vitest';
import { defineProjection, type Engine, type ProjectedEvent } from '../src/index.js';
import { counterWorkflow, countingStore, projectionEngine } from './projection-fixtures.js';

const counter = counterWorkflow();
const LEASE_MS = 10_000;

/** The same projection as two processes would each declare it, recording which engine applied what. */
function shared(applied: { by: string; key: string }[], by: string, during?: (batch: readonly ProjectedEvent[]) => Promise<void>) {
  return defineProjection({
    name: 'orders-by-status',
    workflows: [counter],
    batchSize: 2,
    async handle(batch) {
      await during?.(batch);
      for (const e of batch) applied.push({ by, key: `${e.workflowId}#${e.sequence}` });
    },
  });
}

async function add(engine: Engine, ...ids: string[]): Promise<void> {
  for (const id of ids) await engine.execute(counter, { type: 'Add', id, n: 1 });
}

describe('projections across engines on one store', () => {
  it('only the holder projects; after its lease runs out another engine takes over from the checkpoint', async () => {
    const store = countingStore();
    const applied: { by: string; key: string }[] = [];
    const a = projectionEngine({ store, workflows: [counter], workerId: 'a', projections: [shared(applied, 'a')], projectionOptions: { leaseMs: LEASE_MS } });
    const b = projectionEngine({ store, workflows: [counter], workerId: 'b', projections: [shared(applied, 'b')], projectionOptions: { leaseMs: LEASE_MS } }, a.clock);
    await add(a.engine, 'o-1', 'o-2', 'o-3');
    expect(await a.engine.runUntilIdle()).toEqual({ effects: 0, timers: 0, projected: 3 });
    expect(await b.engine.runUntilIdle()).toEqual({ effects: 0, timers: 0, projected: 0, heldElsewhere: ['orders-by-status'] });
    expect(await a.engine.projections.get('orders-by-status')).toMatchObject({ owner: 'a', held: true, position: '3' });

    // a stays alive (it renews at each call); b stands by.
    a.clock.advance(LEASE_MS - 1);
    await add(b.engine, 'o-4');
    expect(await a.engine.runUntilIdle()).toMatchObject({ projected: 1 });
    a.clock.advance(LEASE_MS - 1);
    expect(await b.engine.runUntilIdle()).toMatchObject({ projected: 0, heldElsewhere: ['orders-by-status'] });

    // a goes quiet past its lease: b takes over from a's checkpoint.
    await add(b.engine, 'o-5');
    a.clock.advance(LEASE_MS);
    expect(await b.engine.runUntilIdle()).toEqual({ effects: 0, timers: 0, projected: 1 });
    expect(b.of('projection.claimed')).toEqual([{ type: 'projection.claimed', projection: 'orders-by-status', token: 2, position: '4' }]);
    expect(applied).toEqual(['o-1', 'o-2', 'o-3', 'o-4'].map((id) => ({ by: 'a', key: `${id}#1` })).concat({ by: 'b', key: 'o-5#1' }));

    // a comes back: its renewal is refused, it reports the loss and stands by.
    expect(await a.engine.runUntilIdle()).toEqual({ effects: 0, timers: 0, projected: 0, heldElsewhere: ['orders-by-status'] });
    expect(a.of('projection.lost')).toEqual([expect.objectContaining({ projection: 'orders-by-status', token: 1, error: expect.stringContaining('LEASE_LOST') })]);
    expect(a.engine.health().projections['orders-by-status']!.state).toBe('stopped');
  });

  it('a holder whose lease is taken over mid-batch has its checkpoint write refused, and the new holder handles that batch: nothing is lost', async () => {
    const store = countingStore();
    const applied: { by: string; key: string }[] = [];
    let b: ReturnType<typeof projectionEngine> | undefined;
    let stall = false;
    const a = projectionEngine({
      store,
      workflows: [counter],
      workerId: 'a',
      projectionOptions: { leaseMs: LEASE_MS },
      projections: [
        shared(applied, 'a', async () => {
          if (!stall) return;
          stall = false;
          // a stalls (a long GC pause, say) past its lease; b takes over and catches up meanwhile.
          a.clock.advance(LEASE_MS + 1);
          expect(await b!.engine.runUntilIdle()).toMatchObject({ projected: 3 });
        }),
      ],
    });
    b = projectionEngine({ store, workflows: [counter], workerId: 'b', projections: [shared(applied, 'b')], projectionOptions: { leaseMs: LEASE_MS } }, a.clock);
    await add(a.engine, 'o-1', 'o-2');
    await a.engine.runUntilIdle();
    await add(a.engine, 'o-3', 'o-4', 'o-5');
    stall = true;
    expect(await a.engine.runUntilIdle()).toEqual({ effects: 0, timers: 0, projected: 0, heldElsewhere: ['orders-by-status'] });

    // a applied its stalled batch to the read model (at least once), but could not save past it.
    const refused = store.saves.filter((s) => s.lease.owner === 'a' && s.save.position === '4');
    expect(refused).toHaveLength(1);
    expect(a.of('projection.lost')).toHaveLength(1);
    expect(a.of('projection.batch').map((e) => e.position)).toEqual(['2']);
    // Every event reached the read model; b saved the checkpoint at the head.
    expect(new Set(applied.map((x) => x.key))).toEqual(new Set(['o-1#1', 'o-2#1', 'o-3#1', 'o-4#1', 'o-5#1']));
    expect(applied.filter((x) => x.by === 'b').map((x) => x.key)).toEqual(['o-3#1', 'o-4#1', 'o-5#1']);
    expect(await a.engine.projections.get('orders-by-status')).toMatchObject({ owner: 'b', position: '5' });
    // The checkpoint only ever moved forward.
    expect(store.saved).toEqual(['2', '4', '5']);
  });

  it('stop() releases the lease, so another engine takes over at once', async () => {
    const store = countingStore();
    const applied: { by: string; key: string }[] = [];
    const a = projectionEngine({ store, workflows: [counter], workerId: 'a', projections: [shared(applied, 'a')] });
    const b = projectionEngine({ store, workflows: [counter], workerId: 'b', projections: [shared(applied, 'b')] }, a.clock);
    await add(a.engine, 'o-1');
    await a.engine.runUntilIdle();
    await a.engine.stop();
    expect(a.of('projection.released')).toEqual([{ type: 'projection.released', projection: 'orders-by-status', token: 1, position: '1' }]);
    const report = await a.engine.projections.get('orders-by-status');
    expect(report).toMatchObject({ held: false, position: '1' });
    expect(report?.owner).toBeUndefined();
    await add(b.engine, 'o-2');
    // No time passed: the released lease is free.
    expect(await b.engine.runUntilIdle()).toEqual({ effects: 0, timers: 0, projected: 1 });
    expect(applied.map((x) => `${x.by}:${x.key}`)).toEqual(['a:o-1#1', 'b:o-2#1']);
  });
});
