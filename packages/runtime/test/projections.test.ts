// Projections driven by runUntilIdle on the memory store and a manual clock: what a handler
// receives (upcast, filtered, in order), one checkpoint write per batch, retries, parked events and
// their re-drive or skip, rebuilds, and the lifecycle events, metrics and health that report it.
import { describe, expect, it } from 'vitest';
import { defineProjection, type ProjectedEvent } from '../src/index.js';
import { counterWorkflow, countingStore, projectionEngine, tallyWorkflow, type CounterEvent } from './projection-fixtures.js';

const counter = counterWorkflow();
const tally = tallyWorkflow();

/** A projection that records what it is handed, failing on the events `fails` says. */
function recorder(name: string, options: { fails?: (e: ProjectedEvent) => boolean; batchSize?: number; eventTypes?: string[]; workflows?: 'counter' } = {}) {
  const seen: ProjectedEvent[] = [];
  const batches: number[] = [];
  const attempts: number[] = [];
  const projection = defineProjection({
    name,
    ...(options.workflows === 'counter' ? { workflows: [counter] } : {}),
    ...(options.eventTypes === undefined ? {} : { eventTypes: options.eventTypes }),
    batchSize: options.batchSize ?? 100,
    retry: { maxAttempts: 3, baseDelayMs: 1_000, jitter: 'none' },
    handle(batch, ctx) {
      attempts.push(ctx.attempt);
      const poison = batch.find((e) => options.fails?.(e) === true);
      if (poison !== undefined) throw new Error(`cannot project ${poison.workflowId}#${poison.sequence}`);
      batches.push(batch.length);
      seen.push(...batch);
    },
  });
  return { projection, seen, batches, attempts, keys: () => seen.map((e) => `${e.workflowId}#${e.sequence}`) };
}

describe('a projection driven by runUntilIdle', () => {
  it('hands every event of its workflows to handle once, in feed order, upcast, and writes the checkpoint once per batch', async () => {
    const store = countingStore();
    const r = recorder('all', { batchSize: 2 });
    const { engine } = projectionEngine({ store, workflows: [counter, tally], projections: [r.projection] });
    await engine.execute(counter, { type: 'Add', id: 'c-1', n: 1 });
    await engine.execute(tally, { type: 'Count', id: 't-1' });
    await engine.execute(counter, { type: 'Add', id: 'c-1', n: 2 });
    await engine.execute(counter, { type: 'Note', id: 'c-2', text: 'hi' });
    await engine.execute(counter, { type: 'Add', id: 'c-1', n: 3 });

    expect(await engine.runUntilIdle()).toEqual({ effects: 0, timers: 0, projected: 5 });
    expect(r.keys()).toEqual(['c-1#1', 't-1#1', 'c-1#2', 'c-2#1', 'c-1#3']);
    expect(r.batches).toEqual([2, 2, 1]);
    // The counter's upcast ran on its events; the tally has none.
    expect(r.seen.map((e) => e.event)).toEqual([
      { type: 'Added', n: 1, v: 2 },
      { type: 'Counted' },
      { type: 'Added', n: 2, v: 2 },
      { type: 'Noted', text: 'hi', v: 2 },
      { type: 'Added', n: 3, v: 2 },
    ]);
    expect(r.seen[0]).toMatchObject({ workflowType: 'counter', workflowId: 'c-1', sequence: 1, type: 'Added', metadata: { inputType: 'Add' } });
    expect(store.saves.map((s) => s.save.position)).toEqual(['2', '4', '5']);
    expect(store.saves.every((s) => s.save.leaseMs === 30_000 && !s.transactional)).toBe(true);

    // Caught up: nothing handled, nothing written; a new event is handled from the checkpoint.
    expect(await engine.runUntilIdle()).toEqual({ effects: 0, timers: 0, projected: 0 });
    expect(store.saves).toHaveLength(3);
    await engine.execute(tally, { type: 'Count', id: 't-1' });
    expect(await engine.runUntilIdle()).toMatchObject({ projected: 1 });
    expect(r.keys().at(-1)).toBe('t-1#2');
    expect(await engine.projections.get('all')).toMatchObject({ position: '6', held: true, lag: { events: 0, capped: false } });
  });

  it('reads only its workflows and event kinds, and moves its checkpoint past the rest once, without calling handle', async () => {
    const store = countingStore();
    const r = recorder('added', { workflows: 'counter', eventTypes: ['Added'] });
    const { engine } = projectionEngine({ store, workflows: [counter, tally], projections: [r.projection] });
    await engine.execute(counter, { type: 'Add', id: 'c-1', n: 1 });
    await engine.execute(counter, { type: 'Note', id: 'c-1', text: 'skipped' });
    await engine.execute(tally, { type: 'Count', id: 't-1' });
    expect(await engine.runUntilIdle()).toMatchObject({ projected: 1 });
    expect(r.keys()).toEqual(['c-1#1']);
    expect(store.saves.map((s) => s.save.position)).toEqual(['3']);

    await engine.execute(tally, { type: 'Count', id: 't-2' });
    await engine.execute(counter, { type: 'Note', id: 'c-2', text: 'skipped' });
    expect(await engine.runUntilIdle()).toMatchObject({ projected: 0 });
    expect(r.batches).toEqual([1]);
    expect(store.saves.map((s) => s.save.position)).toEqual(['3', '5']);
    // Idle again: the position did not move, so nothing is written.
    await engine.runUntilIdle();
    expect(store.saves).toHaveLength(2);
  });

  it('retries a failing batch, then each event alone, parks the poison event and goes on with the rest', async () => {
    const store = countingStore();
    const r = recorder('poison', { batchSize: 10, fails: (e) => e.workflowId === 'bad' });
    const { engine, of, logger } = projectionEngine({ store, workflows: [counter], projections: [r.projection] });
    await engine.execute(counter, { type: 'Add', id: 'a', n: 1 });
    await engine.execute(counter, { type: 'Add', id: 'bad', n: 2 });
    await engine.execute(counter, { type: 'Add', id: 'b', n: 3 });

    expect(await engine.runUntilIdle()).toMatchObject({ projected: 2 });
    expect(r.keys()).toEqual(['a#1', 'b#1']);
    // Three tries of the batch, then a, bad ×3, b alone.
    expect(r.attempts).toEqual([1, 2, 3, 1, 1, 2, 3, 1]);
    expect(of('projection.failed').map((e) => [e.events, e.attempt, e.next, e.event?.workflowId])).toEqual([
      [3, 1, 'retry', undefined],
      [3, 2, 'retry', undefined],
      [3, 3, 'split', undefined],
      [1, 1, 'retry', 'bad'],
      [1, 2, 'retry', 'bad'],
      [1, 3, 'park', 'bad'],
    ]);
    const { items } = await engine.projections.deadLetters.list('poison');
    expect(items).toEqual([
      expect.objectContaining({ projection: 'poison', status: 'parked', workflowType: 'counter', workflowId: 'bad', sequence: 1, eventType: 'Added', position: '2', attempts: 6, error: 'Error: cannot project bad#1' }),
    ]);
    expect(of('projection.parked')).toEqual([expect.objectContaining({ projection: 'poison', id: items[0]!.id, workflowId: 'bad', attempts: 6 })]);
    // Parked in the save that moved past it; then the checkpoint after the batch.
    expect(store.saves.map((s) => [s.save.position, s.save.parked?.length ?? 0])).toEqual([['2', 1], ['3', 0]]);
    expect(logger.lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([expect.stringContaining('parked as a dead letter')]);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(6);
  });

  it('parks a lone failing event after its tries, without splitting it again', async () => {
    const r = recorder('lone', { fails: () => true });
    const { engine, of } = projectionEngine({ store: countingStore(), workflows: [counter], projections: [r.projection] });
    await engine.execute(counter, { type: 'Add', id: 'bad', n: 1 });
    expect(await engine.runUntilIdle()).toMatchObject({ projected: 0 });
    expect(r.attempts).toEqual([1, 2, 3]);
    expect(of('projection.failed').map((e) => e.next)).toEqual(['retry', 'retry', 'park']);
    expect((await engine.projections.deadLetters.list('lone')).items).toEqual([expect.objectContaining({ workflowId: 'bad', attempts: 3 })]);
  });

  it('an event whose upcast throws is parked like one its handler refuses', async () => {
    const fragile = { ...counterWorkflow('fragile'), upcast: (stored: { payload: unknown }) => {
      const event = stored.payload as CounterEvent;
      if (event.type === 'Added' && event.n < 0) throw new Error('negative amounts cannot be upcast');
      return event;
    } };
    const seen: number[] = [];
    const projection = defineProjection({
      name: 'upcast',
      workflows: [fragile],
      retry: { maxAttempts: 1 },
      handle: (batch) => void seen.push(...batch.map((e) => (e.event.type === 'Added' ? e.event.n : 0))),
    });
    const { engine } = projectionEngine({ store: countingStore(), workflows: [fragile], projections: [projection] });
    for (const n of [1, -1, 2]) await engine.execute(fragile, { type: 'Add', id: `f${n}`, n });
    expect(await engine.runUntilIdle()).toMatchObject({ projected: 2 });
    expect(seen).toEqual([1, 2]);
    expect((await engine.projections.deadLetters.list('upcast')).items).toEqual([expect.objectContaining({ workflowId: 'f-1', error: expect.stringMatching(/^UPCAST_FAILED: upcast failed for fragile:f-1 at event 1/) })]);
  });

  it('a re-driven dead letter is tried again by the holder: resolved when it succeeds, parked again under its id when it fails', async () => {
    let broken = new Set(['x', 'y']);
    const r = recorder('redrive', { fails: (e) => broken.has(e.workflowId) });
    const store = countingStore();
    const { engine, of } = projectionEngine({ store, workflows: [counter], projections: [r.projection] });
    for (const id of ['x', 'ok', 'y']) await engine.execute(counter, { type: 'Add', id, n: 1 });
    await engine.runUntilIdle();
    const parked = (await engine.projections.deadLetters.list('redrive')).items;
    expect(parked.map((l) => l.workflowId).sort()).toEqual(['x', 'y']);
    const x = parked.find((l) => l.workflowId === 'x')!;
    const y = parked.find((l) => l.workflowId === 'y')!;

    // x is fixed, y is not; both are re-driven.
    broken = new Set(['y']);
    expect(await engine.projections.deadLetters.redrive('redrive', x.id)).toBe(true);
    expect(await engine.projections.deadLetters.redrive('redrive', y.id)).toBe(true);
    expect(await engine.projections.deadLetters.redrive('redrive', y.id)).toBe(false);
    const checkpoint = (await engine.projections.get('redrive'))!.position;
    expect(await engine.runUntilIdle()).toMatchObject({ projected: 1 });
    expect(r.keys()).toEqual(['ok#1', 'x#1']);
    expect(r.seen.at(-1)).toMatchObject({ workflowId: 'x', position: x.position, event: { type: 'Added', n: 1, v: 2 } });
    const after = (await engine.projections.deadLetters.list('redrive')).items;
    expect(after).toEqual([expect.objectContaining({ id: y.id, status: 'parked', attempts: y.attempts + 3 })]);
    // Neither moved the checkpoint.
    expect((await engine.projections.get('redrive'))!.position).toBe(checkpoint);
    expect(store.saves.filter((s) => s.save.resolved !== undefined).map((s) => s.save.resolved)).toEqual([[x.id]]);
    expect(of('projection.parked').filter((e) => e.id === y.id)).toHaveLength(2);
  });

  it('a skipped dead letter is deleted and never tried again', async () => {
    const r = recorder('skip', { fails: (e) => e.workflowId === 'bad' });
    const { engine } = projectionEngine({ store: countingStore(), workflows: [counter], projections: [r.projection] });
    await engine.execute(counter, { type: 'Add', id: 'bad', n: 1 });
    await engine.runUntilIdle();
    const [letter] = (await engine.projections.deadLetters.list('skip')).items;
    expect(await engine.projections.deadLetters.skip('skip', letter!.id)).toBe(true);
    expect(await engine.projections.deadLetters.redrive('skip', letter!.id)).toBe(false);
    const tries = r.attempts.length;
    expect(await engine.runUntilIdle()).toMatchObject({ projected: 0 });
    expect(r.attempts).toHaveLength(tries);
    expect((await engine.projections.deadLetters.list('skip')).items).toEqual([]);
  });

  it('a reset to the start rebuilds the read model: the holder loses its lease, claims again and handles every event again', async () => {
    const r = recorder('rebuild');
    const { engine, of } = projectionEngine({ store: countingStore(), workflows: [counter], projections: [r.projection] });
    for (const id of ['a', 'b', 'c']) await engine.execute(counter, { type: 'Add', id, n: 1 });
    await engine.runUntilIdle();
    await engine.projections.reset('rebuild');
    expect(await engine.projections.get('rebuild')).toMatchObject({ held: false, lag: { events: 3 } });
    expect(await engine.runUntilIdle()).toMatchObject({ projected: 3 });
    expect(r.keys()).toEqual(['a#1', 'b#1', 'c#1', 'a#1', 'b#1', 'c#1']);
    expect(of('projection.lost')).toHaveLength(1);
    expect(of('projection.claimed').map((e) => [e.token, e.position])).toEqual([[1, undefined], [3, undefined]]);
    // A reset to a position resumes after it.
    await engine.projections.reset('rebuild', { position: '2' });
    expect(await engine.runUntilIdle()).toMatchObject({ projected: 1 });
    expect(r.keys().at(-1)).toBe('c#1');
  });

  it('reports its work as lifecycle events, counters, a histogram and lag gauges', async () => {
    const r = recorder('observed', { batchSize: 2, fails: (e) => e.workflowId === 'bad' });
    const { engine, of } = projectionEngine({ store: countingStore(), workflows: [counter], projections: [r.projection] });
    for (const id of ['a', 'b', 'bad']) await engine.execute(counter, { type: 'Add', id, n: 1 });
    await engine.runUntilIdle();
    expect(of('projection.claimed')).toEqual([{ type: 'projection.claimed', projection: 'observed', token: 1, position: undefined }]);
    expect(of('projection.batch').map((e) => [e.events, e.position])).toEqual([[2, '2'], [0, '3']]);
    expect(of('projection.batch').every((e) => e.durationMs >= 0)).toBe(true);
    // Measured at the end of each drive: caught up.
    expect(of('projection.lag').at(-1)).toEqual({ type: 'projection.lag', projection: 'observed', events: 0, capped: false, ageMs: undefined });

    const { counters, histograms, gauges } = await engine.metrics();
    const attributes = { 'ironflow.projection.name': 'observed' };
    expect(counters).toContainEqual({ name: 'ironflow.projection.events', attributes, value: 2 });
    expect(counters).toContainEqual({ name: 'ironflow.projection.dead_letters', attributes, value: 1 });
    expect(histograms).toContainEqual(expect.objectContaining({ name: 'ironflow.projection.batch.duration', attributes, count: 2 }));
    expect(gauges).toContainEqual({ name: 'ironflow.projection.lag.events', attributes, value: 0 });
    expect(gauges).toContainEqual({ name: 'ironflow.projection.lag.age', attributes, value: 0 });

    await engine.stop();
    expect(of('projection.released')).toEqual([{ type: 'projection.released', projection: 'observed', token: 1, position: '3' }]);
    // Released: this engine no longer reports the lag.
    expect((await engine.metrics()).gauges.filter((g) => g.name.startsWith('ironflow.projection.'))).toEqual([]);
  });

  it('health reports each projection: active with its checkpoint, lag and last batch, or standing by', async () => {
    const store = countingStore();
    const r = recorder('health');
    const a = projectionEngine({ store, workflows: [counter], projections: [r.projection], workerId: 'a' });
    const b = projectionEngine({ store, workflows: [counter], projections: [recorder('health').projection], workerId: 'b' }, a.clock);
    expect(a.engine.health().projections).toEqual({ health: { state: 'stopped', consecutiveFailures: 0, position: undefined, lag: undefined, lastError: undefined, lastBatchAt: undefined } });
    await a.engine.execute(counter, { type: 'Add', id: 'a', n: 1 });
    await a.engine.runUntilIdle();
    expect(a.engine.health().projections.health).toMatchObject({ state: 'active', position: '1', lag: { events: 0, capped: false }, consecutiveFailures: 0, lastBatchAt: a.clock.now() });
    expect(await b.engine.runUntilIdle()).toEqual({ effects: 0, timers: 0, projected: 0, heldElsewhere: ['health'] });
    expect(b.engine.health().projections.health!.state).toBe('stopped');
  });
});
