// The real runtime drives a multi-step workflow end to end on the store under test: effects with
// a transient failure, result routing, a cancelled deadline timer, a heartbeat timer, completion.
import { expect, it } from 'vitest';
import { accept, createManualClock, defineWorkflow, reject, startChild, type ChildNotice } from '@ironflow/core';
import { createEngine, register, silentLogger } from '@ironflow/runtime';
import { freshType, type ConformanceContext } from './context.js';

type TripInput =
  | { type: 'Book'; tripId: string }
  | { type: 'Booked'; tripId: string; ref: string }
  | { type: 'Deadline'; tripId: string }
  | { type: 'Beat'; tripId: string; n: number };
type TripEvent =
  | { type: 'Requested'; tripId: string }
  | { type: 'Confirmed'; ref: string }
  | { type: 'Expired' }
  | { type: 'Beat'; n: number }
  | { type: 'Finished' };
interface TripState {
  status: 'new' | 'requested' | 'confirmed' | 'expired' | 'finished';
  beats: number;
}

function tripWorkflow(type: string, beatMs = 1_000) {
  return defineWorkflow({
    type,
    initialState: (): TripState => ({ status: 'new', beats: 0 }),
    evolve: (state: TripState, event: TripEvent): TripState => {
      switch (event.type) {
        case 'Requested':
          return { ...state, status: 'requested' };
        case 'Confirmed':
          return { ...state, status: 'confirmed' };
        case 'Expired':
          return { ...state, status: 'expired' };
        case 'Beat':
          return { ...state, beats: event.n };
        case 'Finished':
          return { ...state, status: 'finished' };
      }
    },
    decide: (input: TripInput, state) => {
      switch (input.type) {
        case 'Book':
          if (state.status !== 'new') return reject('already booked' as const);
          return accept<TripEvent, { type: 'reserve'; tripId: string }, TripInput>(
            { type: 'Requested', tripId: input.tripId },
            { effects: [{ type: 'reserve', tripId: input.tripId }], timers: [{ key: 'deadline', after: 60_000, input: { type: 'Deadline', tripId: input.tripId } }] },
          );
        case 'Booked':
          return accept({ type: 'Confirmed', ref: input.ref }, { cancelTimers: ['deadline'], timers: [{ key: 'beat', after: beatMs, input: { type: 'Beat', tripId: input.tripId, n: 1 } }] });
        case 'Deadline':
          return accept({ type: 'Expired' });
        case 'Beat':
          if (input.n >= 3) return accept<TripEvent, never, TripInput>([{ type: 'Beat', n: input.n }, { type: 'Finished' }]);
          return accept({ type: 'Beat', n: input.n }, { timers: [{ key: 'beat', after: beatMs, input: { type: 'Beat', tripId: input.tripId, n: input.n + 1 } }] });
      }
    },
    workflowId: (input) => input.tripId,
    isTerminal: (state) => state.status === 'finished' || state.status === 'expired',
    retry: { baseDelayMs: 500, jitter: 'none' },
  });
}

export function runtimeCases(ctx: ConformanceContext): void {
  it('the runtime drives a multi-step workflow end to end: retried effect, routed result, cancelled and heartbeat timers, completion', async () => {
    const clock = createManualClock(Date.UTC(2026, 2, 1));
    const trip = tripWorkflow(freshType('trip'));
    let calls = 0;
    const engine = createEngine({
      store: ctx.store,
      clock,
      logger: silentLogger,
      workflows: [
        register(trip).handle(async (effect, context) => {
          calls += 1;
          expect(context.idempotencyKey).toBe(`${trip.type}:${effect.tripId}:${context.effectId}`);
          if (context.attempt === 1) throw new Error('supplier timed out');
          return { type: 'Booked', tripId: effect.tripId, ref: `R-${context.attempt}` };
        }),
      ],
    });
    expect((await engine.execute(trip, { type: 'Book', tripId: 't-1' })).status).toBe('accepted');
    expect((await engine.execute(trip, { type: 'Book', tripId: 't-1' })).status).toBe('rejected');
    expect(await engine.runUntilIdle()).toEqual({ effects: 1, timers: 0 });
    expect((await engine.listEffects({ type: trip.type, id: 't-1' }))[0]).toMatchObject({ status: 'pending', attempts: 1, lastError: 'Error: supplier timed out' });
    clock.advance(500);
    expect(await engine.runUntilIdle()).toEqual({ effects: 1, timers: 0 });
    expect(calls).toBe(2);
    expect((await engine.getState(trip, 't-1')).state).toEqual({ status: 'confirmed', beats: 0 });
    for (let beat = 1; beat <= 3; beat++) {
      clock.advance(1_000);
      expect(await engine.runUntilIdle()).toEqual({ effects: 0, timers: 1 });
    }
    clock.advance(60_000);
    expect(await engine.runUntilIdle()).toEqual({ effects: 0, timers: 0 });
    const final = await engine.getState(trip, 't-1');
    expect(final).toEqual({ state: { status: 'finished', beats: 3 }, version: 6, completed: true, status: 'completed' });
    const events = await engine.getEvents({ type: trip.type, id: 't-1' });
    expect(events.map((e) => e.type)).toEqual(['Requested', 'Confirmed', 'Beat', 'Beat', 'Beat', 'Finished']);
    expect(events[1]!.metadata.causedBy).toMatchObject({ kind: 'effect' });
    const timers = await engine.listTimers({ type: trip.type, id: 't-1' });
    expect(timers.map((t) => [t.key, t.status])).toEqual([
      ['deadline', 'cancelled'],
      ['beat', 'fired'],
      ['beat', 'fired'],
      ['beat', 'fired'],
    ]);
    expect((await engine.listEffects({ type: trip.type, id: 't-1' }))[0]).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('a started runtime completes work through its worker pools on the system clock', async () => {
    const trip = tripWorkflow(freshType('live'), 20);
    const engine = createEngine({
      store: ctx.store,
      logger: silentLogger,
      effects: { pollIntervalMs: 50 },
      timers: { pollIntervalMs: 50 },
      retry: { baseDelayMs: 10, jitter: 'none' },
      workflows: [register(trip).handle(async (effect) => ({ type: 'Booked', tripId: effect.tripId, ref: 'live' }))],
    });
    engine.start();
    try {
      expect(engine.health().status).toBe('ok');
      await Promise.all(['a', 'b', 'c'].map((id) => engine.execute(trip, { type: 'Book', tripId: id })));
      const deadline = Date.now() + 15_000;
      for (;;) {
        const done = await engine.listInstances({ workflowType: trip.type, status: 'completed' });
        if (done.length === 3) break;
        if (Date.now() > deadline) throw new Error(`only ${done.length} of 3 trips completed in time`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await engine.stop();
    }
    expect(engine.health().status).toBe('stopped');
    for (const id of ['a', 'b', 'c']) {
      expect((await engine.getState(trip, id)).state).toEqual({ status: 'finished', beats: 3 });
    }
  });

  it('child workflows, waitFor and cancellation run end to end: a child started with its parent, its completion routed back, a parent cancel reaching its other child', async () => {
    const clock = createManualClock(Date.UTC(2026, 2, 1));
    const leg = defineWorkflow({
      type: freshType('leg'),
      initialState: () => ({ done: false }),
      evolve: (_s: { done: boolean }, e: { type: 'Opened' } | { type: 'Closed' }) => ({ done: e.type === 'Closed' }),
      decide: (input: { type: 'Open' | 'Close'; legId: string }) => accept(input.type === 'Open' ? { type: 'Opened' as const } : { type: 'Closed' as const }),
      workflowId: (input) => input.legId,
      isTerminal: (s) => s.done,
    });
    const journey = defineWorkflow({
      type: freshType('journey'),
      initialState: () => ({ ended: [] as string[] }),
      evolve: (s: { ended: string[] }, e: { type: 'Started' } | { type: 'LegEnded'; legId: string; outcome: string }) =>
        e.type === 'Started' ? s : { ended: [...s.ended, `${e.legId}:${e.outcome}`] },
      decide: (input: { type: 'Start'; journeyId: string } | { type: 'LegEnded'; journeyId: string; notice: ChildNotice }) =>
        input.type === 'Start'
          ? accept({ type: 'Started' as const }, { start: ['a', 'b'].map((n) => startChild(leg, { type: 'Open', legId: `${input.journeyId}-${n}` })) })
          : accept({ type: 'LegEnded' as const, legId: input.notice.workflowId, outcome: input.notice.outcome }),
      workflowId: (input) => input.journeyId,
      onChild: (notice) => ({ type: 'LegEnded' as const, journeyId: notice.workflowId.slice(0, -2), notice }),
    });
    const engine = createEngine({ store: ctx.store, clock, logger: silentLogger, workflows: [register(journey), register(leg)] });
    await engine.execute(journey, { type: 'Start', journeyId: 'j1' });
    await engine.runUntilIdle();
    const children = await engine.pageInstances({ parent: { type: journey.type, id: 'j1' } });
    expect(children.items.map((c) => [c.workflowId, c.status])).toEqual([
      ['j1-a', 'active'],
      ['j1-b', 'active'],
    ]);

    const firstEnded = engine.waitFor(journey, 'j1', { timeoutMs: 120_000, until: ({ state }) => state.ended.length === 1 });
    await engine.execute(leg, { type: 'Close', legId: 'j1-a' });
    await engine.runUntilIdle();
    expect((await firstEnded).state.ended).toEqual(['j1-a:completed']);

    const legB = engine.waitFor(leg, 'j1-b', { timeoutMs: 120_000 });
    expect(await engine.cancel({ type: journey.type, id: 'j1' }, 'trip called off')).toMatchObject({ outcome: 'cancelled' });
    expect(await legB).toMatchObject({ status: 'cancelled' });
    const [cancelled] = (await engine.pageInstances({ workflowType: leg.type, status: 'cancelled' })).items;
    expect(cancelled).toMatchObject({ workflowId: 'j1-b', cancelReason: `parent ${journey.type}:j1 cancelled: trip called off` });
  });
}
