// Memory-only behaviour; the shared contract runs in @ironflow/testing (test/memory-conformance.test.ts).
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/index.js';

const ref = { type: 'order', id: 'o-1' };
const commit = (payload: unknown) => ({
  ref, expectedVersion: 0, now: 1, completed: false, effects: [], timers: [], cancelTimers: [],
  events: [{ workflowType: 'order', workflowId: 'o-1', sequence: 1, type: 'Placed', payload, metadata: { decidedAt: 1 }, recordedAt: 1 }],
});

describe('memory store', () => {
  it('keeps copies: mutating what was committed or loaded does not change what is stored', async () => {
    const store = createMemoryStore();
    const payload = { items: ['a'] };
    await store.commit(commit(payload));
    payload.items.push('mutated after commit');
    const loaded = await store.load(ref);
    (loaded.events[0]!.payload as { items: string[] }).items.push('mutated after load');
    expect((await store.readEvents(ref))[0]!.payload).toEqual({ items: ['a'] });
  });

  it('stores what a database would: values go through JSON', async () => {
    const store = createMemoryStore();
    await store.commit(commit({ at: new Date(0), gone: undefined }));
    expect((await store.readEvents(ref))[0]!.payload).toEqual({ at: '1970-01-01T00:00:00.000Z' });
  });

  it('reset() forgets every instance, effect and timer', async () => {
    const store = createMemoryStore();
    await store.commit(commit({}));
    store.reset();
    expect(await store.listInstances()).toEqual([]);
    expect((await store.load(ref)).version).toBe(0);
  });
});

describe('memory store input checks', () => {
  it('refuses a commit that reuses the id of another instance\'s effect with INVALID_ARGUMENT and writes nothing', async () => {
    const store = createMemoryStore();
    await store.commit({ ...commit({}), effects: [{ id: 'e1', payload: { first: true } }] });
    const second = { ...commit({}), ref: { type: 'order', id: 'o-2' }, events: commit({}).events.map((e) => ({ ...e, workflowId: 'o-2' })), effects: [{ id: 'e1', payload: {} }] };
    await expect(store.commit(second)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { kind: 'effect', id: 'e1' } });
    expect((await store.load({ type: 'order', id: 'o-2' })).version).toBe(0);
    expect((await store.listEffects(ref)).map((e) => e.payload)).toEqual([{ first: true }]);
  });

  it('refuses values that are not JSON with INVALID_ARGUMENT and writes nothing', async () => {
    const store = createMemoryStore();
    const request = { ...commit({ ok: true }), effects: [{ id: 'e1', payload: { amount: 10n } }] };
    await expect(store.commit(request)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await store.load(ref)).version).toBe(0);
    expect(await store.listEffects(ref)).toEqual([]);
  });
});
