// Poison isolation in the effect pool, on the memory store and a manual clock: an effect re-claimed
// after its lease expired unsettled waits for the effects in flight, then runs alone, with nothing
// else claimed until it settles. Handlers wait on gates the test opens; no assertion rests on time.
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, register, silentLogger, type Engine, type LifecycleEvent, type Logger } from '../src/index.js';
import { eventually, payWorkflow, withLostRenewals, type PayEffect, type PayInput } from './fixtures.js';

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});

/** A handler per effect id that blocks until the test opens its gate. */
function gates() {
  const open = new Map<string, () => void>();
  const waiting = new Map<string, Promise<void>>();
  const gateOf = (id: string): Promise<void> => {
    let gate = waiting.get(id);
    if (gate === undefined) {
      gate = new Promise<void>((resolve) => open.set(id, resolve));
      waiting.set(id, gate);
    }
    return gate;
  };
  return {
    handler: async (effect: PayEffect): Promise<PayInput> => {
      await gateOf(effect.id);
      return { type: 'Charged', id: effect.id, receipt: `r-${effect.id}` };
    },
    open(id: string): void {
      void gateOf(id);
      open.get(id)?.();
    },
  };
}

interface Scenario {
  readonly store: WorkflowStore;
  readonly clock: ManualClock;
  readonly engine: Engine;
  readonly pay: ReturnType<typeof payWorkflow>;
  readonly poison: ReturnType<typeof payWorkflow>;
  readonly gate: ReturnType<typeof gates>;
  /** Lifecycle events and claims, in the order they happened. */
  readonly log: string[];
  readonly warnings: string[];
  readonly started: (id: string) => boolean;
  readonly index: (entry: string) => number;
}

/**
 * Effects `a` and `b` run in the engine; `r`, of another type, was claimed by a worker that died.
 * Once `a` and `b` have started, the clock passes `r`'s lease and `c` is committed, waking the pool.
 */
async function recoveredWhileTwoRun(store: WorkflowStore = createMemoryStore(), options: { leaseMs?: number; shutdownTimeoutMs?: number } = {}): Promise<Scenario> {
  const clock = createManualClock();
  const pay = payWorkflow('payment');
  const poison = payWorkflow('poison');
  const gate = gates();
  const log: string[] = [];
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (_obj, msg) => warnings.push(msg ?? '') };
  const counting: WorkflowStore = {
    ...store,
    claimEffects: async (request) => {
      const claimed = await store.claimEffects(request);
      log.push(`claim ${claimed.map((item) => (item.payload as PayEffect).id).join(',')}`);
      return claimed;
    },
  };
  const record = (event: LifecycleEvent): void => {
    if (event.type === 'effect.started' || event.type === 'effect.succeeded' || event.type === 'effect.recovered') log.push(`${event.type} ${event.workflowId}`);
  };
  const engine = createEngine({
    store: counting,
    clock,
    logger,
    onEvent: record,
    effects: { concurrency: 4, leaseMs: options.leaseMs ?? 60_000, pollIntervalMs: 600_000 },
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 10_000,
    workflows: [register(pay).handle(gate.handler), register(poison).handle(gate.handler)],
  });
  engines.push(engine);
  await engine.execute(pay, { type: 'Start', id: 'a', amount: 1 });
  await engine.execute(pay, { type: 'Start', id: 'b', amount: 1 });
  clock.advance(1);
  await engine.execute(poison, { type: 'Start', id: 'r', amount: 1 });
  // The worker that held `r` died: its one-millisecond lease runs out at the next tick.
  expect(await store.claimEffects({ now: clock.now(), limit: 1, types: ['poison'], leaseMs: 1, owner: 'died' })).toHaveLength(1);
  const started = (id: string) => log.includes(`effect.started ${id}`);
  engine.start();
  await eventually(() => started('a') && started('b'));
  clock.advance(1);
  await engine.execute(pay, { type: 'Start', id: 'c', amount: 1 });
  await eventually(() => log.includes('effect.recovered r'));
  return { store, clock, engine, pay, poison, gate, log, warnings, started, index: (entry) => log.indexOf(entry) };
}

describe('poison isolation in the worker pool', () => {
  it('a recovered effect claimed while two others are in flight starts only after both settle, and nothing else is claimed until it settles', async () => {
    const t = await recoveredWhileTwoRun();
    expect(t.log.filter((entry) => entry.startsWith('claim'))).toEqual(['claim a,b', 'claim r']);
    expect(t.warnings).toContain('lease expired unsettled: re-claimed alone');
    t.gate.open('a');
    await eventually(() => t.log.includes('effect.succeeded a'));
    expect(t.started('r')).toBe(false);
    t.gate.open('b');
    await eventually(() => t.started('r'));
    // A wake-up while `r` runs alone claims nothing.
    await t.engine.execute(t.pay, { type: 'Start', id: 'd', amount: 1 });
    t.gate.open('r');
    await eventually(() => t.started('c') && t.started('d'));
    t.gate.open('c');
    t.gate.open('d');
    await eventually(() => t.log.includes('effect.succeeded c') && t.log.includes('effect.succeeded d'));

    expect(t.index('effect.started r')).toBeGreaterThan(t.index('effect.succeeded a'));
    expect(t.index('effect.started r')).toBeGreaterThan(t.index('effect.succeeded b'));
    const recovered = t.index('claim r');
    const settled = t.index('effect.succeeded r');
    expect(t.log.slice(recovered + 1, settled).filter((entry) => entry.startsWith('claim'))).toEqual([]);
    // Claiming resumes at once after `r` settles: c and d start long before the 600 s poll interval.
    expect(t.log.slice(settled + 1, t.index('effect.started c')).filter((entry) => entry.startsWith('claim'))).toEqual(['claim c,d']);
    const [r] = await t.store.listEffects({ type: 'poison', id: 'r' });
    expect(r).toMatchObject({ status: 'done', attempts: 2 });
  });

  it("keeps a waiting recovered effect's lease alive every third of leaseMs", async () => {
    const t = await recoveredWhileTwoRun(createMemoryStore(), { leaseMs: 300 });
    const leaseOf = async () => (await t.store.listEffects({ type: 'poison', id: 'r' }))[0]!.leaseExpiresAt;
    const claimedUntil = await leaseOf();
    t.clock.advance(50);
    await eventually(async () => (await leaseOf()) === t.clock.now() + 300);
    expect(await leaseOf()).toBeGreaterThan(claimedUntil!);
    expect(t.started('r')).toBe(false);
    t.gate.open('a');
    t.gate.open('b');
    t.gate.open('r');
    t.gate.open('c');
    await eventually(() => t.log.includes('effect.succeeded c'));
  });

  it('graceful shutdown gives back a recovered effect that has not started, its attempt uncounted', async () => {
    const t = await recoveredWhileTwoRun(createMemoryStore(), { shutdownTimeoutMs: 50 });
    await t.engine.stop();
    expect(t.started('r')).toBe(false);
    const [r] = await t.store.listEffects({ type: 'poison', id: 'r' });
    expect(r).toMatchObject({ status: 'pending', attempts: 1 });
    expect(r!.leaseOwner).toBeUndefined();
    const [a] = await t.store.listEffects({ type: 'payment', id: 'a' });
    expect(a).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('a waiting recovered effect whose lease is taken over is dropped, and claiming resumes', async () => {
    const inner = createMemoryStore();
    const store = withLostRenewals(inner, async (lease) => (await inner.listEffects({ type: 'poison', id: 'r' }))[0]?.id === lease.id);
    const lost: string[] = [];
    const t = await recoveredWhileTwoRun(store, { leaseMs: 300 });
    t.engine.on('lease.lost', (event) => lost.push(event.id));
    const [r] = await inner.listEffects({ type: 'poison', id: 'r' });
    await eventually(() => lost.includes(r!.id));
    await eventually(() => t.started('c'));
    t.gate.open('a');
    t.gate.open('b');
    t.gate.open('c');
    await eventually(() => t.log.includes('effect.succeeded c'));
    expect(t.started('r')).toBe(false);
  });
});
