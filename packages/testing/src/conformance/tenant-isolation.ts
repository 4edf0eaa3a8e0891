// Tenants: stores on two namespaces of one backend, even overlapping ones (`X` and `X_`, Redis
// prefixes `X` and `X:p0`), never see, claim, redrive, purge, list or destroy each other's data.
import { expect, it } from 'vitest';
import type { WorkflowStore } from '@ironflow/core/store';
import { claimArgs, commitOf, eventsFor, expectCode, freshId, freshType, T0, type ConformanceContext } from './context.js';

/** The same types and ids in every tenant; only the payloads say whose a row is. */
interface World {
  readonly type: string;
  readonly shared: { readonly type: string; readonly id: string };
  readonly done: { readonly type: string; readonly id: string };
  readonly effects: { readonly done: string; readonly dead: string; readonly pending: string };
  readonly timers: { readonly fired: string; readonly keyed: string };
}

function newWorld(): World {
  const type = freshType('tenant');
  return {
    type,
    shared: { type, id: 'shared' },
    done: { type, id: 'done' },
    effects: { done: freshId('e'), dead: freshId('e'), pending: freshId('e') },
    timers: { fired: freshId('t'), keyed: freshId('t') },
  };
}

/** Writes one tenant's data: events, effects in every state, timers, unique and idempotency keys, observations. */
async function writeTenant(store: WorkflowStore, tenant: string, w: World): Promise<void> {
  await store.commit(commitOf(w.shared, 0, {
    events: eventsFor(w.shared, 0, 2).map((e) => ({ ...e, payload: { tenant } })),
    effects: [w.effects.done, w.effects.dead, w.effects.pending].map((id) => ({ id, payload: { tenant } })),
    timers: [
      { id: w.timers.fired, fireAt: T0, input: { tenant } },
      { id: w.timers.keyed, key: 'reminder', fireAt: T0 + 60_000, input: { tenant } },
    ],
    uniqueKey: 'customer-1',
    idempotencyKey: 'request-1',
    snapshot: { version: 2, revision: 'r1', state: { tenant } },
    observation: { workflowType: w.type, workflowId: 'shared', inputType: 'Start', input: { tenant }, outcome: 'accepted', observedAt: T0 },
  }));
  await store.recordObservation({ workflowType: w.type, workflowId: 'shared', inputType: 'Start', input: { tenant }, outcome: 'rejected', rejection: { tenant }, observedAt: T0 + 1 });
  await store.commit(commitOf(w.done, 0, { events: eventsFor(w.done, 0, 1).map((e) => ({ ...e, payload: { tenant } })), uniqueKey: 'customer-2', completed: true }));
  const claimed = await store.claimEffects(claimArgs([w.type], T0, { owner: tenant }));
  expect(claimed.map((c) => c.payload)).toEqual([{ tenant }, { tenant }, { tenant }]);
  expect(claimed.map((c) => c.id).sort()).toEqual([w.effects.done, w.effects.dead, w.effects.pending].sort());
  for (const c of claimed) {
    if (c.id === w.effects.done) await store.complete(c.lease, T0 + 1);
    else if (c.id === w.effects.dead) await store.deadLetter(c.lease, T0 + 1, `failed in ${tenant}`);
    else await store.release(c.lease, T0 + 1);
  }
  const timers = await store.claimTimers(claimArgs([w.type], T0, { owner: tenant }));
  expect(timers.map((t) => [t.id, t.input])).toEqual([[w.timers.fired, { tenant }]]);
  await store.complete(timers[0]!.lease, T0 + 1);
}

/** Everything a store on one namespace holds for the world, and in the whole namespace. */
async function readTenant(store: WorkflowStore, w: World) {
  return {
    instances: await store.listInstances(),
    shared: await store.load(w.shared, { idempotencyKey: 'request-1' }),
    events: [await store.readEvents(w.shared), await store.readEvents(w.done)],
    effects: [await store.listEffects(w.shared), await store.listEffects(w.done)],
    timers: await store.listTimers(w.shared),
    observations: await store.listObservations(w.shared),
    dead: [await store.listDeadLetters({ kind: 'effect' }), await store.listDeadLetters({ kind: 'timer' })],
    deadCount: await store.countDeadLetters({ kind: 'effect', workflowType: w.type }),
    nextTimerAt: (await store.nextTimerAt([w.type])) ?? null,
    paused: await store.listPaused(),
    backlog: await store.backlog(T0 + 10),
  };
}

const EMPTY = {
  instances: [],
  shared: { version: 0, completed: false, status: 'active', events: [] },
  events: [[], []],
  effects: [[], []],
  timers: [],
  observations: [],
  dead: [[], []],
  deadCount: 0,
  nextTimerAt: null,
  paused: [],
  backlog: [],
};

/** Asserts that what a tenant reads is its own data, and all of it. */
function expectOwn(read: Awaited<ReturnType<typeof readTenant>>, tenant: string, other: string): void {
  const text = JSON.stringify(read);
  expect(text.includes(other), `${tenant} reads ${other}'s data`).toBe(false);
  expect(read.instances.map((i) => i.workflowId).sort()).toEqual(['done', 'shared']);
  expect(read.shared).toMatchObject({ version: 2, snapshot: { state: { tenant } }, idempotent: { key: 'request-1' } });
  expect(read.events.flat().map((e) => e.payload)).toEqual([{ tenant }, { tenant }, { tenant }]);
  expect(read.effects[0]!.map((e) => e.status).sort()).toEqual(['dead', 'done', 'pending']);
  expect(read.timers.map((t) => t.status)).toEqual(['fired', 'pending']);
  expect(read.observations).toHaveLength(2);
  expect(read.deadCount).toBe(1);
}

export function tenantIsolationCases(ctx: ConformanceContext): void {
  const pairs = ctx.options.overlappingNamespaces ?? [
    ['', '_b'],
    ['', '_'],
  ];
  for (const [index, [a, b]] of pairs.entries()) {
    it(`stores on namespaces base${a} and base${b} never see, claim, redrive, purge or list each other's data`, async () => {
      const base = `${ctx.namespace}_iso${index}`;
      const [storeA, storeB] = [await ctx.open(base + a), await ctx.open(base + b)];
      const w = newWorld();
      await writeTenant(storeA, 'tenant-a', w);
      await writeTenant(storeB, 'tenant-b', w);
      const before = { a: await readTenant(storeA, w), b: await readTenant(storeB, w) };
      expectOwn(before.a, 'tenant-a', 'tenant-b');
      expectOwn(before.b, 'tenant-b', 'tenant-a');

      // Every write A can make, with B's ids: pause, claim, dead-letter, redrive, purge, cancel, complete.
      expect(await storeA.setPaused({ type: w.type }, true, T0 + 1)).toBe(true);
      expect(await storeA.setPaused({ type: w.type, id: w.shared.id }, true, T0 + 1)).toBe(true);
      expect(await readTenant(storeB, w)).toEqual(before.b);
      expect(await storeB.claimEffects(claimArgs([w.type], T0 + 1, { limit: 0 }))).toEqual([]);
      await storeA.setPaused({ type: w.type }, false, T0 + 2);
      await storeA.setPaused({ type: w.type, id: w.shared.id }, false, T0 + 2);
      const [pending] = await storeA.claimEffects(claimArgs([w.type], T0 + 2));
      expect(pending).toMatchObject({ id: w.effects.pending, payload: { tenant: 'tenant-a' } });
      await storeA.deadLetter(pending!.lease, T0 + 3, 'a only');
      expect(await storeA.redrive('effect', w.effects.dead, T0 + 3)).toBe(true);
      expect(await storeA.purge(T0 + 1_000_000)).toEqual({ effects: 1, timers: 1 });
      await storeA.commit(commitOf(w.shared, 2, { now: T0 + 4, cancelTimers: ['reminder'], completed: true }));
      expect(await readTenant(storeB, w)).toEqual(before.b);

      // And the other way round.
      expect(await storeB.redrive('effect', w.effects.dead, T0 + 5)).toBe(true);
      expect(await storeB.purge(T0 + 1_000_000)).toEqual({ effects: 1, timers: 1 });
      const afterA = await readTenant(storeA, w);
      expect(afterA.shared).toMatchObject({ version: 3, completed: true });
      expect(afterA.effects[0]!.map((e) => [e.id, e.status, e.lastError])).toEqual(
        expect.arrayContaining([[w.effects.pending, 'dead', 'a only'], [w.effects.dead, 'pending', 'failed in tenant-a']]),
      );
      const afterB = await readTenant(storeB, w);
      expect(afterB.shared).toMatchObject({ version: 2, completed: false });
      expect(afterB.timers.map((t) => t.status)).toEqual(['pending']);
      // A's completed holder released its unique key; B's holder still has its own.
      await expectCode(storeB.commit(commitOf({ type: w.type, id: 'another' }, 0, { uniqueKey: 'customer-1' })), 'UNIQUE_KEY_CONFLICT');
      await storeA.commit(commitOf({ type: w.type, id: 'another' }, 0, { uniqueKey: 'customer-1' }));
    });

    it(`destroying namespace base${b} leaves base${a} whole and reads as empty when opened again, and the other way round`, async () => {
      const base = `${ctx.namespace}_del${index}`;
      const w = newWorld();
      const storeA = await ctx.open(base + a);
      const storeB = await ctx.open(base + b);
      await writeTenant(storeA, 'tenant-a', w);
      await writeTenant(storeB, 'tenant-b', w);
      const beforeA = await readTenant(storeA, w);

      await ctx.destroy(base + b);
      expect(await readTenant(storeA, w)).toEqual(beforeA);
      const reopenedB = await ctx.open(base + b);
      expect(await readTenant(reopenedB, w)).toEqual(EMPTY);
      expect(await reopenedB.claimEffects(claimArgs([w.type], T0 + 1_000_000))).toEqual([]);

      await writeTenant(reopenedB, 'tenant-b', w);
      const beforeB = await readTenant(reopenedB, w);
      expectOwn(beforeB, 'tenant-b', 'tenant-a');
      await ctx.destroy(base + a);
      expect(await readTenant(reopenedB, w)).toEqual(beforeB);
      const reopenedA = await ctx.open(base + a);
      expect(await readTenant(reopenedA, w)).toEqual(EMPTY);
      expect(await reopenedA.claimTimers(claimArgs([w.type], T0 + 1_000_000))).toEqual([]);
    });
  }
}
