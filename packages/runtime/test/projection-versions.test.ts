// Projections see the latest shape of every event (eventVersions upcasters, then `upcast`), and an
// event of a schema newer than the holder's code is left to a holder running newer code: the lease
// is given up, nothing is parked, and this engine waits before claiming again (issue 13).
import { describe, expect, it } from 'vitest';
import { accept, defineWorkflow } from '@ironflow/core';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, defineProjection, silentLogger, type ProjectedEvent } from '../src/index.js';
import { projectionEngine } from './projection-fixtures.js';

type EditInput = { type: 'Edit'; id: string; text: string };
type EditedV1 = { type: 'Edited'; text: string };
type EditedV2 = { type: 'Edited'; body: { text: string; words: number } };

function docV1() {
  return defineWorkflow({
    type: 'doc',
    initialState: () => '',
    evolve: (_s: string, e: EditedV1) => e.text,
    decide: (input: EditInput) => accept<EditedV1, never, EditInput>({ type: 'Edited', text: input.text }),
    workflowId: (input) => input.id,
  });
}

function docV2() {
  return defineWorkflow({
    type: 'doc',
    version: 2,
    eventVersions: { Edited: { version: 2, upcasters: { 1: (e: EditedV1): EditedV2 => ({ type: 'Edited', body: { text: e.text, words: e.text.split(' ').length } }) } } },
    initialState: () => '',
    evolve: (_s: string, e: EditedV2) => e.body.text,
    decide: (input: EditInput) => accept<EditedV2, never, EditInput>({ type: 'Edited', body: { text: input.text, words: input.text.split(' ').length } }),
    workflowId: (input) => input.id,
  });
}

describe('projections and event schema versions', () => {
  it('an event of a newer schema is not parked: the holder projects the events before it, gives its lease up and waits; a holder running newer code projects the rest, upcast', async () => {
    const store = createMemoryStore();
    const v1 = docV1();
    const v2 = docV2();
    const writerV1 = createEngine({ store, logger: silentLogger, workflows: [v1] });
    const writerV2 = createEngine({ store, logger: silentLogger, workflows: [v2] });
    await writerV1.execute(v1, { type: 'Edit', id: 'd1', text: 'old text' });
    await writerV2.execute(v2, { type: 'Edit', id: 'd2', text: 'new shape here' });
    await writerV1.execute(v1, { type: 'Edit', id: 'd3', text: 'old again' });

    const seenByOld: ProjectedEvent[] = [];
    const old = projectionEngine({
      store,
      workflows: [v1],
      projections: [defineProjection({ name: 'docs', workflows: [v1], handle: (batch) => void seenByOld.push(...batch) })],
    });
    const report = await old.engine.runUntilIdle();
    expect(report).toMatchObject({ projected: 1, heldElsewhere: ['docs'] });
    expect(seenByOld.map((e) => [e.workflowId, e.event])).toEqual([['d1', { type: 'Edited', text: 'old text' }]]);
    expect((await old.engine.projections.deadLetters.list('docs')).items).toEqual([]);
    const [released] = old.of('projection.released');
    expect(released!.reason).toMatch(/^EVENT_VERSION_UNKNOWN: Event 1 \(Edited\) of doc:d2 has schema version 2/);
    expect(old.logger.lines.find((l) => l.level === 'warn' && l.msg?.startsWith('projection lease given up'))?.obj).toMatchObject({ projection: 'docs', times: 1 });
    expect(await old.engine.projections.get('docs')).toMatchObject({ held: false });
    // It waits before claiming again (from half of notUnderstood.delayMs up), so newer code gets there first.
    expect(await old.engine.runUntilIdle()).toMatchObject({ projected: 0, heldElsewhere: ['docs'] });
    expect(old.of('projection.claimed')).toHaveLength(1);

    const seenByNew: ProjectedEvent[] = [];
    const next = projectionEngine(
      { store, workflows: [v2], projections: [defineProjection({ name: 'docs', workflows: [v2], handle: (batch) => void seenByNew.push(...batch) })] },
      old.clock,
    );
    expect(await next.engine.runUntilIdle()).toMatchObject({ projected: 2 });
    expect(seenByNew.map((e) => [e.workflowId, e.event])).toEqual([
      ['d2', { type: 'Edited', body: { text: 'new shape here', words: 3 } }],
      ['d3', { type: 'Edited', body: { text: 'old again', words: 2 } }],
    ]);
    expect(next.of('projection.released')).toEqual([]);
    await next.engine.stop();

    // Past its wait, the old engine claims again and finds nothing left for it.
    old.clock.advance(1_000);
    expect(await old.engine.runUntilIdle()).toMatchObject({ projected: 0 });
    expect(await old.engine.projections.get('docs')).toMatchObject({ held: true });
    await old.engine.stop();
  });

  it('a page whose first event is of a newer schema is given up with nothing handled, and each time in a row the wait grows', async () => {
    const store = createMemoryStore();
    const v2 = docV2();
    await createEngine({ store, logger: silentLogger, workflows: [v2] }).execute(v2, { type: 'Edit', id: 'n1', text: 'new' });
    const handled: unknown[] = [];
    const old = projectionEngine({ store, workflows: [docV1()], projections: [defineProjection({ name: 'early', handle: (batch) => void handled.push(...batch) })] });
    expect(await old.engine.runUntilIdle()).toMatchObject({ projected: 0, heldElsewhere: ['early'] });
    expect(handled).toEqual([]);
    expect(old.of('projection.batch')).toEqual([]);
    expect(old.of('projection.released')).toHaveLength(1);
    // Given up again after the wait, the next wait is longer.
    old.clock.advance(1_000);
    await old.engine.runUntilIdle();
    const waits = old.logger.lines.filter((l) => l.msg?.startsWith('projection lease given up')).map((l) => (l.obj as { waitMs: number }).waitMs);
    expect(waits).toHaveLength(2);
    expect(waits[1]).toBeGreaterThanOrEqual(1_000);
  });
});
