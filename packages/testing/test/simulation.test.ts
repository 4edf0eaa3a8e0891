// The deterministic simulator's own tests: a seed replays exactly, a fault-free run settles
// everything, a fixed set of seeds with every fault holds every engine invariant, and two known
// classes of bug, switched back on, are found within a bounded number of seeds.
import { accept, defineWorkflow, reject } from '@ironflow/core';
import { testBugs } from '@ironflow/core/engine';
import { memoryStoreTestBugs } from '@ironflow/store-memory';
import { register } from '@ironflow/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { simulate, SimulationFailure, type SimulationOptions } from '../src/index.js';

type OrderInput =
  | { type: 'Place'; id: string; amount: number }
  | { type: 'Charged'; id: string }
  | { type: 'Shipped'; id: string }
  | { type: 'Expire'; id: string };
type OrderEvent = { type: 'Placed'; amount: number } | { type: 'Charged' } | { type: 'Shipped' } | { type: 'Expired' };
type Status = 'new' | 'placed' | 'charged' | 'shipped' | 'expired';

/** Place → charge (an effect routed back) → ship (another) → done; unpaid orders expire by a keyed timer. */
const order = defineWorkflow({
  type: 'sim.order',
  initialState: () => ({ status: 'new' as Status, charges: 0 }),
  evolve: (s, e: OrderEvent) => {
    switch (e.type) {
      case 'Placed':
        return { ...s, status: 'placed' as const };
      case 'Charged':
        return { status: 'charged' as const, charges: s.charges + 1 };
      case 'Shipped':
        return { ...s, status: 'shipped' as const };
      case 'Expired':
        return { ...s, status: 'expired' as const };
    }
  },
  decide: (input: OrderInput, state) => {
    switch (input.type) {
      case 'Place':
        if (state.status !== 'new') return reject('already placed');
        return accept<OrderEvent, { type: 'charge' | 'ship'; id: string }, OrderInput>({ type: 'Placed', amount: input.amount }, {
          effects: [{ type: 'charge', id: input.id }],
          timers: [{ key: 'expire', after: 60_000, input: { type: 'Expire', id: input.id } }],
        });
      case 'Charged':
        if (state.status !== 'placed') return reject('not awaiting a charge');
        return accept<OrderEvent, { type: 'charge' | 'ship'; id: string }, OrderInput>({ type: 'Charged' }, { effects: [{ type: 'ship', id: input.id }], cancelTimers: ['expire'] });
      case 'Shipped':
        return state.status === 'charged' ? accept({ type: 'Shipped' }) : reject('not charged');
      case 'Expire':
        return state.status === 'placed' ? accept({ type: 'Expired' }) : reject('not expiring');
    }
  },
  workflowId: (input) => input.id,
  isTerminal: (s) => s.status === 'shipped' || s.status === 'expired',
});

const registration = register(order).handle(async (effect) => (effect.type === 'charge' ? { type: 'Charged' as const, id: effect.id } : { type: 'Shipped' as const, id: effect.id }));

const options = (seed: number, extra: Partial<SimulationOptions> = {}): SimulationOptions => ({
  workflows: [registration],
  seed,
  steps: 150,
  inputs: (random) => ({ workflow: order, input: { type: 'Place', id: `o-${random.int(6)}`, amount: 10 + random.int(90) } }),
  ...extra,
});

/** The first seed of `from`…`from + count - 1` whose run fails, with its failure. */
async function firstFailure(count: number, extra: Partial<SimulationOptions> = {}): Promise<SimulationFailure | undefined> {
  for (let seed = 1; seed <= count; seed++) {
    try {
      await simulate(options(seed, { shrinkBudget: 60, ...extra }));
    } catch (error) {
      if (error instanceof SimulationFailure) return error;
      throw error;
    }
  }
  return undefined;
}

afterEach(() => {
  testBugs.unfencedRouting = false;
  memoryStoreTestBugs.attemptsAtCompletion = false;
});

describe('simulate', () => {
  it('a seed replays exactly: the same decisions, the same outcome', async () => {
    const first = await simulate(options(42));
    const second = await simulate(options(42));
    expect(second).toEqual(first);
    expect(first.trace.length).toBeGreaterThan(50);
    const other = await simulate(options(43));
    expect(other.trace).not.toEqual(first.trace);
  });

  it('without faults every placed order ends, charged and shipped or expired, and nothing is dead', async () => {
    const report = await simulate(options(7, { faults: false }));
    expect(report.inputs.accepted).toBeGreaterThan(0);
    expect(report.completed).toBe(report.inputs.accepted);
    expect(report.deadLetters).toBe(0);
    expect(report.faults).toEqual({ crashes: 0, storeFailures: 0, handlerFailures: 0, hangs: 0, clockJumps: 0 });
  });

  it('the engine keeps every invariant on a fixed set of seeds with every fault injected', async () => {
    const totals = { crashes: 0, storeFailures: 0, handlerFailures: 0, hangs: 0, clockJumps: 0 };
    for (let seed = 1; seed <= 40; seed++) {
      const report = await simulate(options(seed, { faults: { crash: 0.04, handlerHang: 0.05, clockJump: 0.05 } }));
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += report.faults[key];
    }
    // The faults did happen.
    for (const count of Object.values(totals)) expect(count).toBeGreaterThan(0);
  });

  it('a business invariant that does not hold is reported with its name, seed and a shrunk trace', async () => {
    const failure = await firstFailure(10, {
      invariants: [{ name: 'no order is ever shipped', check: async (view) => (await view.instances()).every((i) => (i.state as { status: Status }).status !== 'shipped') }],
    });
    expect(failure).toBeInstanceOf(SimulationFailure);
    expect(failure!.invariant).toBe('no order is ever shipped');
    expect(failure!.message).toContain(`seed ${failure!.seed}`);
    expect(failure!.trace.length).toBeLessThanOrEqual(failure!.shrunkFrom);
    expect(failure!.trace.some((line) => line.includes('handler of sim.order'))).toBe(true);
    // The seed reproduces it, shrunk the same way.
    await expect(simulate(options(failure!.seed, { shrinkBudget: 60, invariants: [{ name: 'no order is ever shipped', check: async (view) => (await view.instances()).every((i) => (i.state as { status: Status }).status !== 'shipped') }] }))).rejects.toThrow(failure!.message);
  });

  it('finds a routed result committed without fencing its lease within 30 seeds', async () => {
    testBugs.unfencedRouting = true;
    const failure = await firstFailure(30);
    expect(failure, 'a seed within 30 shows the bug').toBeDefined();
    expect(failure!.message).toMatch(/applied twice|ran again after its result was committed/);
    console.log(`[simulation] unfenced routing found at seed ${failure!.seed}:\n${failure!.message}`);
  });

  it('finds attempts counted at settlement instead of at claim within 30 seeds', async () => {
    memoryStoreTestBugs.attemptsAtCompletion = true;
    const failure = await firstFailure(30, { faults: { crash: 0.05, handlerHang: 0.05, clockJump: 0.05 } });
    expect(failure, 'a seed within 30 shows the bug').toBeDefined();
    expect(failure!.message).toMatch(/claimed \d+ times/);
    console.log(`[simulation] attempts at completion found at seed ${failure!.seed}:\n${failure!.message}`);
  });
});
