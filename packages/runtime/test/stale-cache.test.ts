// Several processes on one store each cache instances. A commit on a stale cached state is a
// version conflict and is decided again; a rejection writes nothing, so it must not be decided on
// a cached state another process has moved on — the deterministic simulator found exactly this: a
// routed result refused ("not charged yet") by a process whose cache still had the order unpaid.
import { accept, defineWorkflow, reject } from '@ironflow/core';
import { createMemoryStore } from '@ironflow/store-memory';
import { describe, expect, it, vi } from 'vitest';
import { createEngine, silentLogger } from '../src/index.js';

type Input = { type: 'Open'; id: string } | { type: 'Pay'; id: string } | { type: 'Ship'; id: string };
type Event = { type: 'Opened' } | { type: 'Paid' } | { type: 'Shipped' };
const order = defineWorkflow({
  type: 'stale.order',
  initialState: () => ({ status: 'new' as 'new' | 'open' | 'paid' | 'shipped' }),
  evolve: (_s, e: Event) => ({ status: e.type === 'Opened' ? ('open' as const) : e.type === 'Paid' ? ('paid' as const) : ('shipped' as const) }),
  decide: (input: Input, state) => {
    if (input.type === 'Open') return state.status === 'new' ? accept({ type: 'Opened' }) : reject('exists');
    if (input.type === 'Pay') return state.status === 'open' ? accept({ type: 'Paid' }) : reject('not open');
    return state.status === 'paid' ? accept({ type: 'Shipped' }) : reject('not paid');
  },
  workflowId: (input) => input.id,
});

describe('decisions on a cached state another process moved on', () => {
  it('a rejection decided on a stale cached state is decided again on the stored one', async () => {
    const store = createMemoryStore();
    const a = createEngine({ store, logger: silentLogger, workflows: [order] });
    const b = createEngine({ store, logger: silentLogger, workflows: [order] });
    expect((await a.execute(order, { type: 'Open', id: 'o1' })).status).toBe('accepted'); // a caches o1 at 'open'
    expect((await b.execute(order, { type: 'Pay', id: 'o1' })).status).toBe('accepted'); // b moves it to 'paid'
    // a's cache still says 'open', where Ship is refused; the store says 'paid', where it is accepted.
    const load = vi.spyOn(store, 'load');
    expect(await a.execute(order, { type: 'Ship', id: 'o1' })).toMatchObject({ status: 'accepted', version: 3 });
    expect(load).toHaveBeenCalledOnce();
  });

  it('a rejection that holds on the stored state costs one load, and stands', async () => {
    const store = createMemoryStore();
    const a = createEngine({ store, logger: silentLogger, workflows: [order] });
    await a.execute(order, { type: 'Open', id: 'o2' });
    const load = vi.spyOn(store, 'load');
    expect(await a.execute(order, { type: 'Open', id: 'o2' })).toMatchObject({ status: 'rejected', reason: 'exists', version: 1 });
    expect(load).toHaveBeenCalledOnce();
    // An accepted input on a current cached state still needs no load.
    await a.execute(order, { type: 'Pay', id: 'o2' });
    expect(load).toHaveBeenCalledOnce();
  });
});
