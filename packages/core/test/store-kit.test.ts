import { describe, expect, it, vi } from 'vitest';
import {
  compareIds,
  createWakeHub,
  defineStore,
  parseClaim,
  parseCommit,
  parseDeadLetterQuery,
  parseInstanceQuery,
  parseKey,
  parseText,
  StoreError,
  type CommitOutcome,
  type CommitRequest,
  type StoreBackend,
  type WorkKind,
} from '../src/store/index.js';

const ref = { type: 'order', id: 'o-1' };
const T0 = Date.UTC(2026, 0, 1);
const event = (sequence: number, fields: Record<string, unknown> = {}) => ({
  workflowType: 'order', workflowId: 'o-1', sequence, type: 'Placed', payload: { n: sequence }, metadata: { decidedAt: T0 }, recordedAt: T0, ...fields,
});
const commit = (fields: Partial<Record<keyof CommitRequest, unknown>> = {}): CommitRequest =>
  ({ ref, expectedVersion: 0, now: T0, events: [event(1)], effects: [], cancelTimers: [], timers: [], completed: false, ...fields }) as CommitRequest;

function invalid(fn: () => unknown): void {
  expect(fn).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
}

describe('store kit rules', () => {
  it('parseKey accepts ordinary ids and refuses empty, long, NUL, unpaired-surrogate and non-string ones', () => {
    for (const ok of ['o-1', 'emoji-😀', 'a'.repeat(512), 'with space', '{tag}:*?']) expect(parseKey(ok, 'id')).toBe(ok);
    for (const bad of ['', 'a'.repeat(513), 'a\u0000b', 'lone-\uD83D', '\uDE00', 42, null, undefined, {}]) invalid(() => parseKey(bad, 'id'));
  });

  it('parseText keeps text but replaces what no store can hold', () => {
    expect(parseText('boom \u0000 \uD800 ok 😀', 'error')).toBe('boom \uFFFD \uFFFD ok 😀');
    invalid(() => parseText(42, 'error'));
  });

  it('parseCommit returns JSON values as text and the new version', () => {
    const checked = parseCommit(commit({ effects: [{ id: 'e1', payload: { at: new Date(0) } }], timers: [{ id: 't1', key: 'k', fireAt: T0 + 5, input: { x: 1 } }] }));
    expect(checked.newVersion).toBe(1);
    expect(checked.events[0]).toEqual({ sequence: 1, type: 'Placed', payload: '{"n":1}', metadata: `{"decidedAt":${T0}}`, recordedAt: T0, schemaVersion: 1 });
    expect(checked.effects).toEqual([{ id: 'e1', payload: '{"at":"1970-01-01T00:00:00.000Z"}', priority: 0, version: 1 }]);
    expect(checked.timers).toEqual([{ id: 't1', key: 'k', fireAt: T0 + 5, input: '{"x":1}', version: 1 }]);
  });

  it('parseCommit refuses the five malformed requests the stores used to disagree on', () => {
    invalid(() => parseCommit(commit({ ref: { type: 'order', id: '' } })));
    invalid(() => parseCommit(commit({ effects: [{ id: 'same', payload: 1 }], timers: [{ id: 'same', fireAt: T0, input: 1 }] })));
    invalid(() => parseCommit(commit({ now: -5 })));
    invalid(() => parseCommit(commit({ expectedVersion: 1, events: [event(2)], uniqueKey: 'k' })));
    invalid(() => parseCommit(commit({ events: [event(1, { workflowId: 'o-2' })] })));
  });

  it('parseCommit refuses non-JSON values, bad sequences, repeated timer keys and acks of an unknown outcome', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const payload of [10n, cycle, undefined, () => 1]) invalid(() => parseCommit(commit({ effects: [{ id: 'e', payload }] })));
    invalid(() => parseCommit(commit({ events: [] })));
    invalid(() => parseCommit(commit({ events: [event(2)] })));
    invalid(() => parseCommit(commit({ timers: [{ id: 'a', key: 'k', fireAt: T0, input: 1 }, { id: 'b', key: 'k', fireAt: T0, input: 1 }] })));
    invalid(() => parseCommit(commit({ ack: { kind: 'effect', id: 'e', token: 't', outcome: 'maybe' } })));
    invalid(() => parseCommit(commit({ snapshot: { version: 2, revision: '1', state: {} } })));
    invalid(() => parseCommit(null));
  });

  it('parseClaim, parseDeadLetterQuery and parseInstanceQuery fill defaults and refuse bad fields', () => {
    expect(parseClaim({ now: T0, limit: 3, types: ['a', 'a', 'b'], leaseMs: 10, owner: 'w' })).toEqual({
      now: T0, limit: 3, types: ['a', 'b'], leaseMs: 10, expiresAt: T0 + 10, owner: 'w',
    });
    invalid(() => parseClaim({ now: T0, limit: 3, types: ['a'], leaseMs: 0, owner: 'w' }));
    invalid(() => parseClaim({ now: T0, limit: -1, types: ['a'], leaseMs: 10, owner: 'w' }));
    expect(parseDeadLetterQuery({ kind: 'timer' })).toEqual({ kind: 'timer', workflowType: undefined, workflowId: undefined, limit: 100, offset: 0 });
    invalid(() => parseDeadLetterQuery({ kind: 'job' }));
    expect(parseInstanceQuery(undefined)).toEqual({ workflowType: undefined, status: undefined, limit: 100, offset: 0 });
    invalid(() => parseInstanceQuery({ status: 'done' }));
    invalid(() => parseInstanceQuery({ limit: 1.5 }));
  });
});

describe('compareIds', () => {
  it('orders by code point, which is UTF-8 byte order, unlike UTF-16 comparison', () => {
    const ids = ['\u{10000}', '\uE000', 'b', 'a', 'ab', '😀', '\uFFFF'];
    const sorted = [...ids].sort(compareIds);
    expect(sorted).toEqual(['a', 'ab', 'b', '\uE000', '\uFFFF', '\u{10000}', '😀']);
    const bytes = (s: string) => [...new TextEncoder().encode(s)];
    for (let i = 1; i < sorted.length; i++) {
      const [a, b] = [bytes(sorted[i - 1]!), bytes(sorted[i]!)];
      const k = a.findIndex((x, j) => x !== b[j]);
      expect(k === -1 ? a.length < b.length : a[k]! < b[k]!).toBe(true);
    }
    expect(compareIds('same', 'same')).toBe(0);
  });
});

describe('wake hub', () => {
  it('opens the backend source with the first listener, closes it with the last, and survives a throwing listener', async () => {
    const stop = vi.fn(async () => {});
    let source: ((kind: WorkKind) => void) | undefined;
    const errors: unknown[] = [];
    const hub = createWakeHub({ listen: (wake) => ((source = wake), { stop }), onListenerError: (e) => errors.push(e) });
    const heard: WorkKind[] = [];
    const a = hub.subscribe(() => {
      throw new Error('listener bug');
    });
    const b = hub.subscribe((kind) => heard.push(kind));
    source?.('effect');
    hub.wake('timer');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(heard).toEqual(['effect', 'timer']);
    expect(errors).toHaveLength(2);
    a();
    expect(stop).not.toHaveBeenCalled();
    b();
    expect(stop).toHaveBeenCalledOnce();
    await hub.close();
    expect(() => hub.subscribe(() => {})).toThrowError(expect.objectContaining({ code: 'SHUTTING_DOWN' }));
  });
});

describe('defineStore', () => {
  function backendWith(outcome: CommitOutcome, calls: string[] = []): StoreBackend {
    const unused = async (): Promise<never> => {
      throw new Error('not used');
    };
    return {
      name: 'fake',
      classify: (error, operation) => new StoreError('unavailable', `fake ${operation} failed`, { cause: error }),
      load: unused,
      commit: async () => {
        calls.push('commit');
        return outcome;
      },
      recordObservation: unused,
      claim: async () => {
        throw Object.assign(new Error('socket closed'), { code: 'ECONNRESET' });
      },
      nextTimerAt: unused,
      settle: async () => 'lease-lost',
      cancelInstance: unused,
      setPaused: unused,
      listPaused: unused,
      backlog: unused,
      purgeIdempotencyKeys: unused,
      listWork: unused,
      pageInstances: unused,
      listDeadLetters: unused,
      countDeadLetters: unused,
      redrive: unused,
      purge: unused,
      deleteInstance: unused,
      readEvents: unused,
      listInstances: unused,
      listEffects: unused,
      listTimers: unused,
      listObservations: unused,
      readFeed: unused,
      feedHead: unused,
      feedLag: unused,
      claimProjection: unused,
      renewProjection: async () => 'lease-lost',
      saveProjection: async (_save, apply) => {
        calls.push('saveProjection');
        await apply?.({ sql: 'the transaction' });
        return 'ok';
      },
      releaseProjection: unused,
      resetProjection: unused,
      listProjections: unused,
      listProjectionDeadLetters: unused,
      redriveProjectionDeadLetter: unused,
      skipProjectionDeadLetter: unused,
      projectionTransactions: true,
    };
  }

  it('a projection write whose token moved on is LEASE_LOST naming the projection; an error thrown by apply comes back as thrown, not as a store failure', async () => {
    const lease = { name: 'orders', owner: 'w1', token: 4 };
    await expect(defineStore(backendWith({ outcome: 'ok' })).renewProjection(lease, 0, 1000)).rejects.toMatchObject({
      code: 'LEASE_LOST',
      details: { projection: 'orders', owner: 'w1', token: 4 },
    });
    const thrown = new RangeError('the read model refused it');
    const calls: string[] = [];
    const store = defineStore(backendWith({ outcome: 'ok' }, calls));
    let seen: unknown;
    await expect(
      store.saveProjection(lease, { now: 0 }, async (tx) => {
        seen = tx;
        throw thrown;
      }),
    ).rejects.toBe(thrown);
    expect(seen).toEqual({ sql: 'the transaction' });
    expect(calls).toEqual(['saveProjection']);
    expect(store.projectionTransactions).toBe(true);
  });

  it('raises the typed error for each commit outcome, and the backend never sees a bad request', async () => {
    const calls: string[] = [];
    await expect(defineStore(backendWith({ outcome: 'version-conflict', actualVersion: 3 }, calls)).commit(commit())).rejects.toMatchObject({
      code: 'VERSION_CONFLICT', expectedVersion: 0, details: { actualVersion: 3 },
    });
    await expect(defineStore(backendWith({ outcome: 'unique-key-conflict', holderId: 'o-0' })).commit(commit({ uniqueKey: 'k' }))).rejects.toMatchObject({
      code: 'UNIQUE_KEY_CONFLICT', uniqueKey: 'k', holderId: 'o-0',
    });
    await expect(
      defineStore(backendWith({ outcome: 'lease-lost' })).commit(commit({ ack: { kind: 'timer', id: 't9', token: 'x', outcome: 'done' } })),
    ).rejects.toMatchObject({ code: 'LEASE_LOST', kind: 'timer', id: 't9' });
    await expect(defineStore(backendWith({ outcome: 'duplicate-id', kind: 'timer', id: 't1' })).commit(commit())).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT', details: { kind: 'timer', id: 't1' },
    });
    await expect(defineStore(backendWith({ outcome: 'ok' }, calls)).commit(commit({ now: -1 }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(calls).toEqual(['commit']);
  });

  it('classifies native errors, maps lost leases, and wakes subscribers after an accepted commit with effects', async () => {
    const store = defineStore(backendWith({ outcome: 'ok' }), { extra: 42 });
    expect(store.extra).toBe(42);
    await expect(store.claimEffects({ now: T0, limit: 1, types: ['order'], leaseMs: 10, owner: 'w' })).rejects.toMatchObject({
      code: 'STORE_FAILURE', reason: 'unavailable', retryable: true,
    });
    expect(await store.claimEffects({ now: T0, limit: 0, types: ['order'], leaseMs: 10, owner: 'w' })).toEqual([]);
    await expect(store.complete({ kind: 'effect', id: 'e1', token: 't' }, T0)).rejects.toMatchObject({ code: 'LEASE_LOST', id: 'e1' });
    const heard: WorkKind[] = [];
    store.subscribe((kind) => heard.push(kind));
    await store.commit(commit({ effects: [{ id: 'e1', payload: {} }] }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(heard).toEqual(['effect']);
  });

  it('close() is idempotent: the backend is closed once however often it is called', async () => {
    let closed = 0;
    const store = defineStore({ ...backendWith({ outcome: 'ok' }), close: async () => void (closed += 1) });
    await Promise.all([store.close(), store.close()]);
    await store.close();
    expect(closed).toBe(1);
    expect(() => store.subscribe(() => {})).toThrowError(expect.objectContaining({ code: 'SHUTTING_DOWN' }));
  });
});
