// Release, not dead (issue 13), end to end on the store under test: two engines on one namespace
// run two code versions of one workflow type, as processes do in a rolling deploy. The old one
// gives back what it cannot understand — work written by the new version, results and timer inputs
// for instances holding events of the new schema — without a dead letter; the new one completes
// everything. Work no running code understands is dead after `maxReleases` with NOT_UNDERSTOOD.
import { expect, it } from 'vitest';
import { accept, createManualClock, defineWorkflow, type ManualClock } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, register, silentLogger, type Engine, type LifecycleEvent } from '@ironflow/runtime';
import { freshType, T0, type ConformanceContext } from './context.js';

type OrderInput =
  | { type: 'Place'; id: string; total: number }
  | { type: 'Note'; id: string; text: string }
  | { type: 'Charged'; id: string; receipt: string }
  | { type: 'Remind'; id: string };
/** The events in the shape version 2 folds; version 1 wrote `Placed { total }` and `Noted { text }`. */
type OrderEvent =
  | { type: 'Placed'; amount: { value: number; currency: string } }
  | { type: 'Noted'; note: { text: string; by: string } }
  | { type: 'Charged'; receipt: string }
  | { type: 'Reminded' };
type V1Event = { type: 'Placed'; total: number } | { type: 'Noted'; text: string } | { type: 'Charged'; receipt: string } | { type: 'Reminded' };
interface OrderState {
  placed: number;
  notes: number;
  charged: boolean;
  reminded: boolean;
}

const initialState = (): OrderState => ({ placed: 0, notes: 0, charged: false, reminded: false });
const isTerminal = (state: OrderState): boolean => state.charged && state.reminded;

/** Version 1 of the order workflow: events of schema 1, effects and timers of version 1. */
function orderV1(type: string) {
  return defineWorkflow({
    type,
    initialState,
    evolve: (state: OrderState, event: V1Event): OrderState => {
      switch (event.type) {
        case 'Placed':
          return { ...state, placed: event.total };
        case 'Noted':
          return { ...state, notes: state.notes + 1 };
        case 'Charged':
          return { ...state, charged: true };
        case 'Reminded':
          return { ...state, reminded: true };
      }
    },
    decide: (input: OrderInput) => {
      switch (input.type) {
        case 'Place':
          return accept<V1Event, { type: 'charge'; id: string; total: number }, OrderInput>(
            { type: 'Placed', total: input.total },
            { effects: [{ type: 'charge', id: input.id, total: input.total }], timers: [{ key: 'remind', after: 1_000, input: { type: 'Remind', id: input.id } }] },
          );
        case 'Note':
          return accept({ type: 'Noted' as const, text: input.text });
        case 'Charged':
          return accept({ type: 'Charged' as const, receipt: input.receipt });
        case 'Remind':
          return accept({ type: 'Reminded' as const });
      }
    },
    workflowId: (input) => input.id,
    isTerminal,
  });
}

/** Version 2 (or `version` above): `Placed` and `Noted` of schema 2 with upcasters from 1, effects and timers of its version. */
function orderV2(type: string, version = 2) {
  return defineWorkflow({
    type,
    version,
    eventVersions: {
      Placed: { version: 2, upcasters: { 1: (p: { total: number }) => ({ type: 'Placed', amount: { value: p.total, currency: 'EUR' } }) } },
      Noted: { version: 2, upcasters: { 1: (n: { text: string }) => ({ type: 'Noted', note: { text: n.text, by: 'unknown' } }) } },
    },
    initialState,
    evolve: (state: OrderState, event: OrderEvent): OrderState => {
      switch (event.type) {
        case 'Placed':
          return { ...state, placed: event.amount.value };
        case 'Noted':
          return { ...state, notes: state.notes + 1 };
        case 'Charged':
          return { ...state, charged: true };
        case 'Reminded':
          return { ...state, reminded: true };
      }
    },
    decide: (input: OrderInput) => {
      switch (input.type) {
        case 'Place':
          return accept<OrderEvent, { type: 'charge'; id: string; amount: { value: number; currency: string } }, OrderInput>(
            { type: 'Placed', amount: { value: input.total, currency: 'EUR' } },
            { effects: [{ type: 'charge', id: input.id, amount: { value: input.total, currency: 'EUR' } }], timers: [{ key: 'remind', after: 1_000, input: { type: 'Remind', id: input.id } }] },
          );
        case 'Note':
          return accept({ type: 'Noted' as const, note: { text: input.text, by: 'v2' } });
        case 'Charged':
          return accept({ type: 'Charged' as const, receipt: input.receipt });
        case 'Remind':
          return accept({ type: 'Reminded' as const });
      }
    },
    workflowId: (input) => input.id,
    isTerminal,
  });
}

interface Handled {
  readonly by: string;
  readonly id: string;
}

/** An engine of one code version on `store`, recording its handler calls and lifecycle events. */
function engineOf(
  store: WorkflowStore,
  clock: ManualClock,
  workflow: ReturnType<typeof orderV1> | ReturnType<typeof orderV2>,
  name: string,
  handled: Handled[],
  events: LifecycleEvent[],
  notUnderstood: { maxReleases?: number; delayMs?: number; maxDelayMs?: number },
): Engine {
  const handler = async (effect: unknown) => {
    const { id } = effect as { id: string };
    handled.push({ by: name, id });
    return { type: 'Charged' as const, id, receipt: `${name}-${id}` };
  };
  return createEngine({
    store,
    clock,
    logger: silentLogger,
    workerId: name,
    workflows: [register(workflow as ReturnType<typeof orderV1>).handle(handler)],
    notUnderstood,
    onEvent: (event) => events.push(event),
  });
}

const releasesOf = (events: readonly LifecycleEvent[], type: 'effect.released' | 'timer.released') =>
  events.filter((e): e is Extract<LifecycleEvent, { type: typeof type }> => e.type === type);

export function releaseRuntimeCases(ctx: ConformanceContext): void {
  it('an engine of the old version releases what it cannot understand, without a dead letter, and the new version completes everything', async () => {
    const type = freshType('rolling');
    const clock = createManualClock(T0);
    const handled: Handled[] = [];
    const oldEvents: LifecycleEvent[] = [];
    const newEvents: LifecycleEvent[] = [];
    const settings = { delayMs: 5_000, maxDelayMs: 5_000 };
    const v1 = orderV1(type);
    const v2 = orderV2(type);
    const old = engineOf(ctx.store, clock, v1, 'v1', handled, oldEvents, settings);
    const next = engineOf(await ctx.open(ctx.namespace), clock, v2, 'v2', handled, newEvents, settings);

    // `a`: placed by v1 (its effect and timer of version 1), then a note of schema 2 written by v2.
    await old.execute(v1, { type: 'Place', id: 'a', total: 10 });
    await next.execute(v2, { type: 'Note', id: 'a', text: 'gift' });
    // `b`: placed by v2: an event of schema 2, an effect and a timer of version 2.
    await next.execute(v2, { type: 'Place', id: 'b', total: 20 });
    const stored = await ctx.store.readEvents({ type, id: 'a' });
    expect(stored.map((e) => [e.type, e.schemaVersion ?? 1])).toEqual([['Placed', 1], ['Noted', 2]]);

    // The old engine runs `a`'s charge (v1 understands the effect), but cannot decide its result on
    // an instance with a newer event; it gives back `b`'s charge without running it.
    await old.runUntilIdle();
    clock.advance(1_000);
    await old.runUntilIdle();
    expect(handled).toEqual([{ by: 'v1', id: 'a' }]);
    expect(releasesOf(oldEvents, 'effect.released').map((e) => [e.workflowId, e.releases]).sort()).toEqual([['a', 1], ['b', 1]]);
    expect(releasesOf(oldEvents, 'timer.released').map((e) => [e.workflowId, e.releases]).sort()).toEqual([['a', 1], ['b', 1]]);
    const [releasedA] = releasesOf(oldEvents, 'effect.released').filter((e) => e.workflowId === 'a');
    expect(releasedA!.reason).toMatch(/^EVENT_VERSION_UNKNOWN/);
    expect(releasesOf(oldEvents, 'effect.released').find((e) => e.workflowId === 'b')!.reason).toContain('version 2');
    for (const id of ['a', 'b']) {
      const [effect] = await ctx.store.listEffects({ type, id });
      const [timer] = await ctx.store.listTimers({ type, id });
      expect(effect).toMatchObject({ status: 'pending', releases: 1, attempts: 0 });
      expect(timer).toMatchObject({ status: 'pending', releases: 1, attempts: 0 });
    }
    expect(await ctx.store.countDeadLetters({ kind: 'effect', workflowType: type })).toBe(0);
    expect(await ctx.store.countDeadLetters({ kind: 'timer', workflowType: type })).toBe(0);
    expect(oldEvents.filter((e) => e.type === 'effect.dead-lettered' || e.type === 'timer.dead-lettered')).toEqual([]);
    const counted = (await old.metrics()).counters.filter((c) => c.name === 'ironflow.releases');
    expect(counted.map((c) => [c.attributes['ironflow.work.kind'], c.value]).sort()).toEqual([['effect', 2], ['timer', 2]]);

    // The deploy finishes: the new version takes everything over once its delay has passed.
    clock.advance(10_000);
    await next.runUntilIdle();
    expect(handled.filter((h) => h.by === 'v2').map((h) => h.id).sort()).toEqual(['a', 'b']);
    for (const id of ['a', 'b']) {
      const state = await next.getState(v2, id);
      expect(state).toMatchObject({ completed: true, status: 'completed' });
      expect((await ctx.store.listEffects({ type, id })).map((e) => e.status)).toEqual(['done']);
      expect((await ctx.store.listTimers({ type, id })).map((t) => t.status)).toEqual(['fired']);
    }
    expect((await next.getState(v2, 'a')).state).toEqual({ placed: 10, notes: 1, charged: true, reminded: true });
    expect((await next.getState(v2, 'b')).state).toEqual({ placed: 20, notes: 0, charged: true, reminded: true });
    expect(await ctx.store.countDeadLetters({ kind: 'effect', workflowType: type })).toBe(0);
    expect(await ctx.store.countDeadLetters({ kind: 'timer', workflowType: type })).toBe(0);
    expect(newEvents.filter((e) => e.type.endsWith('.released') || e.type.endsWith('.dead-lettered'))).toEqual([]);
  });

  it('work no running version understands is released maxReleases times, then dead-lettered as NOT_UNDERSTOOD', async () => {
    const type = freshType('unknown');
    const clock = createManualClock(T0);
    const handled: Handled[] = [];
    const events: LifecycleEvent[] = [];
    const v3 = orderV2(type, 3);
    // Version 3 writes the work and goes away (a rollback); versions 1 and 2 run on.
    const newest = engineOf(ctx.store, clock, v3, 'v3', handled, [], {});
    await newest.execute(v3, { type: 'Place', id: 'c', total: 30 });
    const v1 = engineOf(ctx.store, clock, orderV1(type), 'v1', handled, events, { maxReleases: 2, delayMs: 0 });
    const v2 = engineOf(await ctx.open(ctx.namespace), clock, orderV2(type), 'v2', handled, events, { maxReleases: 2, delayMs: 0 });

    await v1.runUntilIdle();
    await v2.runUntilIdle();
    expect(handled).toEqual([]);
    const [effect] = await ctx.store.listEffects({ type, id: 'c' });
    expect(effect).toMatchObject({ status: 'dead', version: 3, releases: 2 });
    expect(effect!.lastError).toMatch(/^NOT_UNDERSTOOD: .*released 2 times.*written by version 3/);
    const dead = await ctx.store.listDeadLetters({ kind: 'effect', workflowType: type });
    expect(dead.map((d) => d.id)).toEqual([effect!.id]);
    expect(events.filter((e) => e.type === 'effect.released').map((e) => (e as { releases: number }).releases)).toEqual([1, 2]);
    expect(events.filter((e) => e.type === 'effect.dead-lettered')).toEqual([expect.objectContaining({ workflowId: 'c', errorType: 'NOT_UNDERSTOOD' })]);

    // Re-driven (once code that understands it runs), it starts over with no releases.
    expect(await ctx.store.redrive('effect', effect!.id, clock.now())).toBe(true);
    const [again] = await ctx.store.listEffects({ type, id: 'c' });
    expect(again).toMatchObject({ status: 'pending', attempts: 0 });
    expect(again!.releases).toBeUndefined();
  });
}
