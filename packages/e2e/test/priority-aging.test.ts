// Starvation (issue 9): a steady stream of high-priority effects does not hold a low-priority one
// beyond the aging bound. Claims rank effects by `availableAt - priority × PRIORITY_AGING_MS`, so an
// effect `gap` levels below the stream waits at most `gap × PRIORITY_AGING_MS` once available.
// One process, a manual clock and direct claims: the outcome is exact, on memory, PostgreSQL and Redis.
import { describe, expect, it } from 'vitest';
import { accept, defineWorkflow, effect } from '@ironflow/core';
import { PRIORITY_AGING_MS, type WorkflowStore } from '@ironflow/core/store';
import { register } from '@ironflow/runtime';
import { createTestEngine, testServerUrl } from '@ironflow/testing';
import { openPostgres, openRedis, type ServerStore } from './server-stores.js';

/** Priority levels between the stream and the waiting effect. */
const GAP = 5;
const HIGH = 3;
const LOW = HIGH - GAP;
/** A new high-priority effect every STEP_MS of clock, and one claim (of one effect) each time. */
const STEP_MS = 100;
/** The low effect becomes available off the step grid, so no claim ties it on rank. */
const LOW_OFFSET_MS = 50;
const BOUND_MS = GAP * PRIORITY_AGING_MS;

type Input = { type: 'Enqueue'; id: string; priority: number };

const queued = defineWorkflow({
  type: 'e2e.prioritised',
  initialState: () => ({}),
  evolve: (state) => state,
  decide: (input: Input) => accept({ type: 'Enqueued' }, { effects: [effect({ id: input.id }, { priority: input.priority })] }),
  workflowId: (input) => input.id,
});

/** What one effect claim took: which instance, at what clock time. */
interface Claim {
  readonly id: string;
  readonly at: number;
}

async function starvationRun(store?: WorkflowStore): Promise<void> {
  const t = createTestEngine({ workflows: [register(queued)], ...(store === undefined ? {} : { store }) });
  const start = t.clock.now();
  /** Claims the one best-ranked effect and completes it, as a worker with one slot would. */
  const claimOne = async (): Promise<Claim | undefined> => {
    const [item, ...more] = await t.store.claimEffects({ now: t.clock.now(), limit: 1, types: [queued.type], leaseMs: 60_000, owner: 'aging' });
    expect(more).toEqual([]);
    if (item === undefined) return undefined;
    await t.store.complete(item.lease, t.clock.now());
    return { id: item.workflowId, at: t.clock.now() };
  };
  const enqueue = async (id: string, priority: number): Promise<void> => {
    expect(await t.engine.execute(queued, { type: 'Enqueue', id, priority })).toMatchObject({ status: 'accepted' });
  };

  t.clock.advance(LOW_OFFSET_MS);
  await enqueue('low', LOW);
  const [low] = await t.store.listEffects({ type: queued.type, id: 'low' });
  expect({ availableAt: low?.availableAt, priority: low?.priority }).toEqual({ availableAt: start + LOW_OFFSET_MS, priority: LOW });
  const lowAvailableAt = start + LOW_OFFSET_MS;

  // The stream: every step one new high effect, then one claim. Each high one outranks the low one
  // until it became available more than BOUND_MS after it; the claims keep up, so none waits.
  const claims: Claim[] = [];
  const steps = Math.ceil((BOUND_MS + LOW_OFFSET_MS) / STEP_MS) + 5;
  for (let step = 1; step <= steps; step++) {
    t.clock.set(start + step * STEP_MS);
    await enqueue(`high-${String(step).padStart(3, '0')}`, HIGH);
    const claim = await claimOne();
    expect(claim).toBeDefined();
    claims.push(claim!);
  }

  const lowClaim = claims.find((c) => c.id === 'low');
  expect(lowClaim, 'the low-priority effect was never claimed').toBeDefined();
  // Claimed by the first claim after its wait passed the bound, and by no claim before it.
  const firstPastBound = claims.find((c) => c.at > lowAvailableAt + BOUND_MS);
  expect(lowClaim).toEqual(firstPastBound);
  expect(lowClaim!.at - lowAvailableAt).toBeGreaterThan(BOUND_MS);
  expect(lowClaim!.at - lowAvailableAt).toBeLessThanOrEqual(BOUND_MS + STEP_MS);
  // Until then the stream went first, each high effect in its own step; afterwards it resumes,
  // one step behind (the step of the low claim left its high effect for the next claim).
  const index = claims.indexOf(lowClaim!);
  expect(claims.slice(0, index).map((c) => c.id)).toEqual(claims.slice(0, index).map((_, i) => `high-${String(i + 1).padStart(3, '0')}`));
  expect(claims.slice(index + 1).map((c) => c.id)).toEqual(claims.slice(index + 1).map((_, i) => `high-${String(index + 1 + i).padStart(3, '0')}`));
}

/** The same run on a fresh schema or key prefix of a server. */
async function serverRun(open: () => Promise<ServerStore>): Promise<void> {
  const server = await open();
  try {
    await starvationRun(server.store);
  } finally {
    await server.cleanUp();
  }
}

const postgresUrl = testServerUrl('postgres');
const redisUrl = testServerUrl('redis');
const title = `a low effect ${GAP} levels below a steady high-priority stream is claimed once it has waited ${BOUND_MS} ms, never later`;

describe('priority aging (memory)', () => {
  it(title, () => starvationRun());
});

describe.skipIf(!postgresUrl)('priority aging (PostgreSQL)', () => {
  it(title, () => serverRun(() => openPostgres(postgresUrl ?? '', 'ironflow_aging')));
});

describe.skipIf(!redisUrl)('priority aging (Redis)', () => {
  it(title, () => serverRun(() => openRedis(redisUrl ?? '', 'ironflow_aging')));
});
