// Bad input: every port method refuses every malformed argument with INVALID_ARGUMENT, the same on
// every store, and writes nothing, which each case proves by reading the store back.
import { beforeAll, expect, it } from 'vitest';
import type { WorkflowStore } from '@ironflow/core/store';
import { AS_LEASE_CHANGE, BAD_CASES, READ_ONLY, VALID_CALLS, type BadInputWorld, type PortMethod } from './bad-input-cases.js';
import { claimArgs, commitOf, expectCode, freshId, freshType, T0, type ConformanceContext } from './context.js';

const HOUR = 3_600_000;

/** Seeds a world: an instance with effects done, dead, leased and pending, timers leased and pending, keys and observations. */
async function seed(store: WorkflowStore): Promise<BadInputWorld> {
  const type = freshType('bad');
  const main = { type, id: 'main' };
  const [done, dead, leased] = [freshId('e'), freshId('e'), freshId('e')];
  await store.commit(commitOf(main, 0, {
    effects: [done, dead, leased].map((id) => ({ id, payload: { id } })),
    timers: [
      { id: freshId('t'), fireAt: T0, input: {} },
      { id: freshId('t'), key: 'pending-key', fireAt: T0 + 10, input: {} },
    ],
    uniqueKey: 'held-by-main',
    idempotencyKey: 'idem-1',
    snapshot: { version: 1, revision: 'r0', state: { seeded: true } },
    observation: { workflowType: type, workflowId: main.id, inputType: 'Start', input: {}, outcome: 'accepted', observedAt: T0 },
  }));
  const claimed = await store.claimEffects(claimArgs([type], T0, { leaseMs: HOUR }));
  const lease = (id: string) => claimed.find((c) => c.id === id)!.lease;
  await store.complete(lease(done), T0);
  await store.deadLetter(lease(dead), T0, 'seeded dead letter');
  const [timerClaim] = await store.claimTimers(claimArgs([type], T0, { leaseMs: HOUR, limit: 1 }));
  await store.commit(commitOf(main, 1, { now: T0 + 1, effects: [{ id: freshId('e'), payload: { pending: true } }] }));
  const other = { type, id: 'other' };
  await store.commit(commitOf(other, 0, { uniqueKey: 'held-by-other' }));
  await store.recordObservation({ workflowType: type, workflowId: main.id, inputType: 'Poke', input: {}, outcome: 'rejected', observedAt: T0 + 2 });
  const projection = `${type}.projection`;
  const position = (await store.readFeed({ workflowTypes: [type], limit: 1 })).events[0]?.position ?? (await store.feedHead());
  if (position === undefined) throw new Error('the seeded events are not in the feed');
  const held = await store.claimProjection({ name: projection, owner: 'bad-input', now: T0, leaseMs: HOUR });
  if (held === undefined) throw new Error('a fresh projection could not be claimed');
  const projectionDeadLetter = freshId('pdl');
  await store.saveProjection(held.lease, {
    now: T0,
    parked: [{ id: projectionDeadLetter, workflowType: type, workflowId: main.id, sequence: 1, eventType: 'Poked', position, error: 'seeded', attempts: 1 }],
  });
  return {
    type,
    main,
    mainVersion: 2,
    other,
    fresh: { type, id: 'fresh' },
    effectLease: lease(leased),
    timerLease: timerClaim!.lease,
    deadEffect: dead,
    now: T0 + 100,
    projection,
    projectionLease: held.lease,
    projectionDeadLetter,
    position,
  };
}

/** Everything a malformed call could have written to, read back. */
async function readBack(store: WorkflowStore, w: BadInputWorld) {
  return {
    main: await store.load(w.main, { idempotencyKey: 'idem-2' }),
    other: await store.load(w.other),
    fresh: await store.load(w.fresh),
    instances: await store.listInstances({ workflowType: w.type }),
    effects: [await store.listEffects(w.main), await store.listEffects(w.fresh)],
    timers: [await store.listTimers(w.main), await store.listTimers(w.fresh)],
    observations: [await store.listObservations(w.main), await store.listObservations(w.other), await store.listObservations(w.fresh)],
    dead: [await store.countDeadLetters({ kind: 'effect', workflowType: w.type }), await store.countDeadLetters({ kind: 'timer', workflowType: w.type })],
    nextTimerAt: (await store.nextTimerAt([w.type])) ?? null,
    paused: (await store.listPaused()).filter((p) => p.type === w.type),
    projections: (await store.listProjections()).filter((p) => p.name.startsWith(w.projection)),
    projectionDeadLetters: (await store.listProjectionDeadLetters({ projection: w.projection, limit: 1000 })).items,
  };
}

/** Calls a port method with arguments its types would not allow; a synchronous throw becomes a rejection. */
function callPort(store: WorkflowStore, method: PortMethod, args: readonly unknown[]): Promise<unknown> {
  return Promise.resolve().then((): unknown => {
    const fn: unknown = Reflect.get(store, method);
    if (typeof fn !== 'function') throw new Error(`the store has no ${method}()`);
    return Reflect.apply(fn, store, args);
  });
}

export function badInputCases(ctx: ConformanceContext): void {
  let world: BadInputWorld;
  let last: Awaited<ReturnType<typeof readBack>>;
  beforeAll(async () => {
    world = await seed(ctx.store);
    last = await readBack(ctx.store, world);
  });

  for (const c of BAD_CASES) {
    it(`${c.method} refuses ${c.name}`, async () => {
      if (READ_ONLY.has(c.method)) return expectCode(callPort(ctx.store, c.method, c.args(world)), 'INVALID_ARGUMENT');
      // Compared with the read-back just before this case, taken again even when the call was
      // accepted, so a store that wrongly writes fails that case alone.
      const before = last;
      try {
        await expectCode(callPort(ctx.store, c.method, c.args(world)), 'INVALID_ARGUMENT');
      } finally {
        last = await readBack(ctx.store, world);
      }
      expect(last, 'nothing written').toEqual(before);
    });
  }

  it('commitMany gives every malformed commit above its own INVALID_ARGUMENT, in one batch, and writes nothing', async () => {
    const cases = BAD_CASES.filter((c) => c.method === 'commit');
    const before = last;
    const results = await ctx.store.commitMany(cases.map((c) => c.args(world)[0]) as never);
    last = await readBack(ctx.store, world);
    expect(last, 'nothing written').toEqual(before);
    expect(results.map((r, i) => (r.ok ? `${cases[i]!.name}: accepted` : r.error.code))).toEqual(cases.map(() => 'INVALID_ARGUMENT'));
  });

  it('settleMany gives every malformed lease change above its own INVALID_ARGUMENT, in one batch, and writes nothing', async () => {
    const cases = BAD_CASES.filter((c) => AS_LEASE_CHANGE[c.method] !== undefined);
    const before = last;
    const results = await ctx.store.settleMany(cases.map((c) => AS_LEASE_CHANGE[c.method]!(c.args(world))) as never);
    last = await readBack(ctx.store, world);
    expect(last, 'nothing written').toEqual(before);
    expect(results.map((r, i) => (r.ok ? `${cases[i]!.method} ${cases[i]!.name}: accepted` : r.error.code))).toEqual(cases.map(() => 'INVALID_ARGUMENT'));
  });

  it('the well-formed calls every case above is made from are accepted', async () => {
    for (const method of Object.keys(VALID_CALLS) as PortMethod[]) {
      const w = await seed(ctx.store);
      const result = await callPort(ctx.store, method, VALID_CALLS[method](w)).catch((error: unknown) => new Error(`${method}: ${String(error)}`));
      expect(result, method).not.toBeInstanceOf(Error);
      if (typeof result === 'function') result();
    }
  });
}
