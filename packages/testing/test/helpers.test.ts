import { describe, expect, it } from 'vitest';
import { accept, defineWorkflow, effect, reject, startChild } from '@ironflow/core';
import { register } from '@ironflow/runtime';
import { createTestEngine, deciderSpec, testServerUrl, uniqueName } from '../src/index.js';

const door = defineWorkflow({
  type: 'door',
  initialState: () => ({ open: false, locked: false }),
  evolve: (s, e: { type: 'Opened' } | { type: 'Closed' } | { type: 'Locked' }) =>
    e.type === 'Opened' ? { ...s, open: true } : e.type === 'Closed' ? { ...s, open: false } : { ...s, locked: true },
  decide: (input: { type: 'Open' | 'Close' | 'Lock'; id: string }, state) => {
    if (input.type === 'Open') return state.locked ? reject({ code: 'LOCKED' as const }) : accept({ type: 'Opened' }, { timers: [{ key: 'auto-close', after: 5_000, input: { type: 'Close', id: input.id } }] });
    if (input.type === 'Close') return accept({ type: 'Closed' }, { cancelTimers: ['auto-close'] });
    return accept([{ type: 'Closed' }, { type: 'Locked' }], { effects: [{ notify: input.id }] });
  },
  workflowId: (input) => input.id,
  isTerminal: (s) => s.locked,
});

describe('deciderSpec', () => {
  it('passes when the decision matches and fails when it does not', () => {
    deciderSpec(door)
      .when({ type: 'Open', id: 'd' })
      .then([{ type: 'Opened' }])
      .thenTimers([{ key: 'auto-close', after: 5_000, input: { type: 'Close', id: 'd' } }])
      .thenState({ open: true, locked: false })
      .thenTerminal(false);
    deciderSpec(door).given({ type: 'Locked' }).when({ type: 'Open', id: 'd' }).thenRejected({ code: 'LOCKED' });
    deciderSpec(door).when({ type: 'Lock', id: 'd' }).thenEffects([{ notify: 'd' }]).thenTerminal();
    deciderSpec(door).when({ type: 'Close', id: 'd' }).thenCancelled(['auto-close']);
    expect(() => deciderSpec(door).when({ type: 'Open', id: 'd' }).then([{ type: 'Closed' }])).toThrow();
    expect(() => deciderSpec(door).when({ type: 'Open', id: 'd' }).thenRejected()).toThrow();
    expect(() => deciderSpec(door).given({ type: 'Locked' }).when({ type: 'Open', id: 'd' }).then([])).toThrow(/rejected/);
  });
});

const dispatch = defineWorkflow({
  type: 'dispatch',
  initialState: () => ({ sent: false }),
  evolve: () => ({ sent: true }),
  decide: (input: { type: 'Send' | 'Recall'; id: string }) =>
    input.type === 'Send'
      ? accept({ type: 'Sent' }, { effects: [effect({ courier: input.id }, { key: 'courier', priority: 5 }), { courier: 'backup' }], start: [startChild(door, { type: 'Open', id: `door-${input.id}` })] })
      : accept({ type: 'Recalled' }, { cancelEffects: ['courier'] }),
  workflowId: (input) => input.id,
});

describe('deciderSpec with effect options, cancelled effects and children', () => {
  it('asserts what effect(), cancelEffects and startChild put in a decision', () => {
    deciderSpec(dispatch)
      .when({ type: 'Send', id: 'p' })
      .thenEffects([{ courier: 'p' }, { courier: 'backup' }])
      .thenEffectOptions([{ key: 'courier', priority: 5 }, undefined])
      .thenStarted([{ workflowType: 'door', input: { type: 'Open', id: 'door-p' } }])
      .thenEffectsCancelled([]);
    deciderSpec(dispatch).when({ type: 'Recall', id: 'p' }).thenEffectsCancelled(['courier']).thenStarted([]);
    expect(() => deciderSpec(dispatch).when({ type: 'Send', id: 'p' }).thenEffectOptions([undefined, undefined])).toThrow();
    expect(() => deciderSpec(dispatch).when({ type: 'Recall', id: 'p' }).thenEffectsCancelled(['other'])).toThrow();
  });
});

describe('createTestEngine', () => {
  it('advances a manual clock and processes due timers and effects', async () => {
    const notified: string[] = [];
    const t = createTestEngine({ workflows: [register(door).handle((effect) => void notified.push(effect.notify))] });
    await t.engine.execute(door, { type: 'Open', id: 'front' });
    expect(await t.advance(4_999)).toEqual({ effects: 0, timers: 0 });
    expect(await t.advance(1)).toEqual({ effects: 0, timers: 1 });
    expect((await t.engine.getState(door, 'front')).state.open).toBe(false);
    await t.engine.execute(door, { type: 'Lock', id: 'front' });
    expect(await t.settle()).toEqual({ effects: 1, timers: 0 });
    expect(notified).toEqual(['front']);
  });
});

describe('test environment', () => {
  it('testServerUrl reads the URL, skips without one, and throws when the backend is required', () => {
    const saved = { ...process.env };
    try {
      process.env.IRONFLOW_TEST_REDIS_CLUSTER_URL = 'redis://127.0.0.1:1,redis://127.0.0.1:2';
      expect(testServerUrl('redis-cluster')).toBe('redis://127.0.0.1:1,redis://127.0.0.1:2');
      delete process.env.IRONFLOW_TEST_REDIS_CLUSTER_URL;
      process.env.IRONFLOW_TEST_REQUIRE = 'postgres';
      expect(testServerUrl('redis-cluster')).toBeUndefined();
      process.env.IRONFLOW_TEST_REQUIRE = 'postgres, redis-cluster';
      expect(() => testServerUrl('redis-cluster')).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    } finally {
      process.env = saved;
    }
  });

  it('uniqueName gives distinct identifier-safe names', () => {
    const names = new Set(Array.from({ length: 100 }, () => uniqueName('ironflow_t')));
    expect(names.size).toBe(100);
    for (const n of names) expect(n).toMatch(/^[a-z0-9_]+$/);
  });
});
