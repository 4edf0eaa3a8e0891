// The runtime's retention: options checked with typed errors, sweeps by hand (one at a time per
// engine) and on a started engine's interval, stopped by stop(). What a sweep deletes and keeps,
// and two engines sweeping at once, run on every store in the conformance suite.
import { describe, expect, it } from 'vitest';
import { accept, createManualClock, defineWorkflow } from '@ironflow/core';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, silentLogger, type RetentionOptions } from '../src/index.js';
import { eventually } from './fixtures.js';

const note = defineWorkflow({
  type: 'note',
  initialState: () => false,
  evolve: () => true,
  decide: (_input: { id: string }) => accept({ type: 'Written' as const }),
  workflowId: (input) => input.id,
  isTerminal: (written) => written,
});

function setup(retention?: RetentionOptions) {
  const store = createMemoryStore();
  const clock = createManualClock();
  const engine = createEngine({ store, clock, logger: silentLogger, workflows: [note], ...(retention === undefined ? {} : { retention }) });
  return { store, clock, engine };
}

describe('retention', () => {
  it('refuses bad retention options with INVALID_ARGUMENT', () => {
    const store = createMemoryStore();
    const bad: unknown[] = [
      null,
      'forever',
      {},
      { workflows: [] },
      { workflows: { other: { afterMs: 1 } } },
      { workflows: { note: null } },
      { workflows: { note: { afterMs: -1 } } },
      { workflows: { note: { afterMs: 1.5 } } },
      { workflows: { note: {} } },
      { workflows: { note: { afterMs: 1, archive: 'to-s3' } } },
      { workflows: { note: { afterMs: 1 } }, intervalMs: 0 },
      { workflows: { note: { afterMs: 1 } }, batchSize: 0 },
      { workflows: { note: { afterMs: 1 } }, batchSize: 1001 },
    ];
    for (const retention of bad) {
      expect(() => createEngine({ store, logger: silentLogger, workflows: [note], retention: retention as never }), JSON.stringify(retention)).toThrowError(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });

  it('sweep() refuses a bad now with INVALID_ARGUMENT, and deletes nothing without retention', async () => {
    const t = setup();
    await t.engine.execute(note, { id: 'n' });
    await expect(t.engine.retention.sweep({ now: Number.NaN })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await t.engine.retention.sweep({ now: t.clock.now() + 1e9 })).toEqual({ deleted: 0, archived: 0, skipped: { missing: 0, changed: 0, active: 0, busy: 0 }, failed: 0 });
    expect(await t.store.listInstances()).toHaveLength(1);
  });

  it('an instance ended exactly afterMs ago is kept; one ended earlier is deleted', async () => {
    const t = setup({ workflows: { note: { afterMs: 1_000 } } });
    await t.engine.execute(note, { id: 'early' });
    t.clock.advance(1);
    await t.engine.execute(note, { id: 'edge' });
    t.clock.advance(1_000);
    expect(await t.engine.retention.sweep()).toMatchObject({ deleted: 1 });
    expect((await t.store.listInstances()).map((i) => i.workflowId)).toEqual(['edge']);
  });

  it('sweeps called while one runs in the engine join it', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const t = setup({ workflows: { note: { afterMs: 0, archive: () => gate } } });
    await t.engine.execute(note, { id: 'n' });
    t.clock.advance(1);
    const first = t.engine.retention.sweep();
    const second = t.engine.retention.sweep();
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe(b);
    expect(a).toMatchObject({ deleted: 1, archived: 1 });
  });

  it('a started engine sweeps at start and every intervalMs, and stops with stop()', async () => {
    const t = setup({ workflows: { note: { afterMs: 0 } }, intervalMs: 20 });
    const swept: number[] = [];
    t.engine.on('retention.swept', (event) => swept.push(event.deleted));
    await t.engine.execute(note, { id: 'a' });
    t.clock.advance(1);
    t.engine.start();
    await eventually(async () => (await t.store.listInstances()).length === 0);
    await t.engine.execute(note, { id: 'b' });
    t.clock.advance(1);
    await eventually(async () => (await t.store.listInstances()).length === 0);
    expect(swept.filter((n) => n > 0)).toEqual([1, 1]);
    await t.engine.stop();
    const after = swept.length;
    await t.engine.execute(note, { id: 'c' });
    t.clock.advance(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(swept.length).toBe(after);
    expect((await t.store.listInstances()).map((i) => i.workflowId)).toEqual(['c']);
  });

  it('counts the instances it deletes in ironflow.instances.deleted', async () => {
    const t = setup({ workflows: { note: { afterMs: 0 } } });
    for (const id of ['a', 'b']) await t.engine.execute(note, { id });
    t.clock.advance(1);
    await t.engine.retention.sweep();
    const counters = (await t.engine.metrics()).counters.filter((c) => c.name === 'ironflow.instances.deleted');
    expect(counters).toEqual([{ name: 'ironflow.instances.deleted', attributes: { 'ironflow.workflow.type': 'note' }, value: 2 }]);
  });
});
