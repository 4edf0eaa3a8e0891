import { describe, expect, expectTypeOf, it } from 'vitest';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { accept, createManualClock, defineWorkflow, effect, reject } from '../src/index.js';
import { createRegistry, foldEvents, validateWithSchema } from '../src/engine/index.js';
import { parseKey } from '../src/store/index.js';

const counter = defineWorkflow({
  type: 'counter',
  initialState: () => ({ n: 0 }),
  evolve: (s: { n: number }, e: { type: 'Added'; by: number }) => ({ n: s.n + e.by }),
  decide: (input: { id: string; by: number }) => (input.by > 0 ? accept({ type: 'Added' as const, by: input.by }) : reject('not positive' as const)),
  workflowId: (input) => input.id,
});

describe('decisions', () => {
  it('accept takes one event or a list, with effects, timers and cancellations', () => {
    expect(accept({ type: 'A' })).toEqual({ kind: 'accept', events: [{ type: 'A' }], effects: [], timers: [], cancelTimers: [], cancelEffects: [] });
    expect(accept([{ type: 'A' }, { type: 'B' }], { effects: [1], timers: [{ after: 5, input: 'x' }], cancelTimers: ['k'], cancelEffects: ['e'] })).toEqual({
      kind: 'accept', events: [{ type: 'A' }, { type: 'B' }], effects: [1], timers: [{ after: 5, input: 'x' }], cancelTimers: ['k'], cancelEffects: ['e'],
    });
    expect(reject({ code: 'NO' })).toEqual({ kind: 'reject', reason: { code: 'NO' } });
  });

  it('effect() entries keep their payload in effects and their options beside it, by index', () => {
    const deadline = new Date(5_000);
    const decision = accept({ type: 'A' }, { effects: [{ n: 1 }, effect({ n: 2 }, { key: 'k', priority: 5, deadline }), { n: 3 }] });
    expect(decision.effects).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(decision.effectOptions).toEqual([undefined, { key: 'k', priority: 5, deadline }, undefined]);
    expect('effectOptions' in accept({ type: 'A' }, { effects: [{ n: 1 }] })).toBe(false);
  });

  it('defineWorkflow refuses a terminal policy other than cancel or run', () => {
    expect(() => defineWorkflow({ ...counter, terminalPolicy: 'drop' as 'run' })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(defineWorkflow({ ...counter, type: 'runs', terminalPolicy: 'run' }).terminalPolicy).toBe('run');
  });

  it('defineWorkflow infers the types and freezes the definition', () => {
    const decision = counter.decide({ id: 'c', by: 2 }, counter.initialState(), { now: new Date(), workflowType: 'counter', workflowId: 'c', version: 0 });
    expect(decision).toMatchObject({ kind: 'accept', events: [{ type: 'Added', by: 2 }] });
    expect(Object.isFrozen(counter)).toBe(true);
  });

  it('defineWorkflow refuses types that are not stable identifiers', () => {
    for (const type of ['', '1abc', 'has space', 'x'.repeat(129), 'semi;colon']) {
      expect(() => defineWorkflow({ ...counter, type })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});

describe('registry', () => {
  it('finds workflows by type and refuses duplicates', () => {
    const registry = createRegistry([counter]);
    expect(registry.types).toEqual(['counter']);
    expect(registry.get('counter')).toBe(counter);
    expect(registry.find('nope')).toBeUndefined();
    expect(() => registry.get('nope')).toThrowError(expect.objectContaining({ code: 'UNKNOWN_WORKFLOW_TYPE' }));
    expect(() => createRegistry([counter, counter])).toThrowError(expect.objectContaining({ code: 'DUPLICATE_WORKFLOW_TYPE' }));
  });
});

describe('keys and schemas', () => {
  it('parseKey accepts ordinary strings and refuses empty, long, NUL-bearing or non-string keys', () => {
    expect(parseKey('order-1', 'id')).toBe('order-1');
    expect(parseKey('emoji-😀-ok', 'id')).toBe('emoji-😀-ok');
    for (const bad of ['', 'a'.repeat(513), 'a\u0000b', 'lone-\uD83D', 'lone-\uDE00-low', 42, null]) expect(() => parseKey(bad, 'id')).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('validateWithSchema returns the output of sync and async Standard Schemas and lists issues', async () => {
    const trim: StandardSchemaV1<unknown, string> = { '~standard': { version: 1, vendor: 't', validate: (v) => (typeof v === 'string' ? { value: v.trim() } : { issues: [{ message: 'not a string', path: [{ key: 'name' }] }] }) } };
    const later: StandardSchemaV1<unknown, number> = { '~standard': { version: 1, vendor: 't', validate: async (v) => ({ value: Number(v) }) } };
    expect(await validateWithSchema(trim, '  x ', 'Input')).toBe('x');
    expect(await validateWithSchema(later, '7', 'Input')).toBe(7);
    await expect(validateWithSchema(trim, 3, 'Input of order')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED', message: 'Input of order is invalid: name: not a string', details: { issues: [{ message: 'not a string', path: ['name'] }] },
    });
  });
});

describe('manual clock', () => {
  it('moves only forward, only when told', () => {
    const clock = createManualClock(1000);
    expect(clock.now()).toBe(1000);
    expect(clock.advance(500)).toBe(1500);
    expect(clock.set(new Date(2000))).toBe(2000);
    expect(() => clock.set(10)).toThrow(RangeError);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });
});

describe('type inference', () => {
  it('infers effect and rejection types as unions of everything decide returns', () => {
    const order = defineWorkflow({
      type: 'order',
      initialState: () => ({ placed: false }),
      evolve: (_s, e: { type: 'Placed' } | { type: 'Paid' }) => ({ placed: e.type === 'Placed' }),
      decide: (input: { type: 'Place' | 'Pay'; id: string }, state) => {
        if (input.type === 'Place') {
          if (state.placed) return reject({ code: 'ALREADY_PLACED' as const });
          return accept({ type: 'Placed' }, { effects: [{ kind: 'reserve' as const, id: input.id }] });
        }
        if (!state.placed) return reject({ code: 'NOT_PLACED' as const });
        return accept({ type: 'Paid' }, { effects: [{ kind: 'ship' as const }], timers: [{ after: 1, input: { type: 'Pay', id: input.id } }] });
      },
      workflowId: (input) => input.id,
    });
    type Rejection = import('../src/index.js').RejectionOf<typeof order>;
    type Effect = import('../src/index.js').EffectOf<typeof order>;
    type Input = import('../src/index.js').InputOf<typeof order>;
    expectTypeOf<Rejection>().toEqualTypeOf<{ code: 'ALREADY_PLACED' } | { code: 'NOT_PLACED' }>();
    expectTypeOf<Effect>().toEqualTypeOf<{ kind: 'reserve'; id: string } | { kind: 'ship' }>();
    expectTypeOf<Input>().toEqualTypeOf<{ type: 'Place' | 'Pay'; id: string }>();
    expect(order.type).toBe('order');
  });

  it('infers the effect type through effect() entries, mixed with plain payloads and across branches', () => {
    const job = defineWorkflow({
      type: 'job',
      initialState: () => ({ n: 0 }),
      evolve: (s: { n: number }, _e: { type: 'Ran' }) => ({ n: s.n + 1 }),
      decide: (input: { id: string; gpu: boolean }) => {
        if (input.gpu) return accept({ type: 'Ran' as const }, { effects: [effect({ kind: 'render' as const, id: input.id }, { tag: 'gpu', priority: 10 }), { kind: 'notify' as const }] });
        return accept({ type: 'Ran' as const }, { effects: [effect({ kind: 'email' as const, to: input.id }, { key: 'mail', retry: { maxAttempts: 2 } })], cancelEffects: ['mail'] });
      },
      workflowId: (input) => input.id,
    });
    type Effect = import('../src/index.js').EffectOf<typeof job>;
    expectTypeOf<Effect>().toEqualTypeOf<{ kind: 'render'; id: string } | { kind: 'notify' } | { kind: 'email'; to: string }>();
    // Explicit type arguments still take effect() entries of that payload type, and only those.
    type Pay = { type: 'charge'; amount: number };
    const explicit = accept<{ type: 'E' }, Pay, never>({ type: 'E' }, { effects: [effect({ type: 'charge', amount: 1 }, { key: 'c' }), { type: 'charge', amount: 2 }] });
    expectTypeOf(explicit.effects).toEqualTypeOf<readonly Pay[]>();
    // @ts-expect-error -- the payload of an effect() entry must be a Pay
    accept<{ type: 'E' }, Pay, never>({ type: 'E' }, { effects: [effect({ type: 'charge' })] });
    expect(job.type).toBe('job');
  });
});

describe('upcasting', () => {
  it('upcasts stored events when folding, never events that were just decided', () => {
    const seen: number[] = [];
    const renamed = defineWorkflow({
      type: 'renamed',
      initialState: () => ({ total: 0 }),
      evolve: (s, e: { type: 'Added'; amount: number }) => ({ total: s.total + e.amount }),
      decide: (input: { id: string; amount: number }) => accept({ type: 'Added', amount: input.amount }),
      workflowId: (input) => input.id,
      upcast: (stored) => {
        seen.push(stored.sequence);
        const old = stored.payload as { amount?: number; value?: number };
        return { type: 'Added', amount: old.amount ?? old.value ?? 0 };
      },
    });
    const stored = (sequence: number, payload: unknown) => ({
      workflowType: 'renamed', workflowId: 'a', sequence, type: 'Added', payload, metadata: { decidedAt: 0 }, recordedAt: 0,
    });
    const events = [stored(1, { type: 'Added', value: 2 }), stored(2, { type: 'Added', amount: 3 })];
    expect(foldEvents(renamed, renamed.initialState(), events)).toEqual({ total: 5 });
    expect(seen).toEqual([1, 2]);
    expect(foldEvents(renamed, renamed.initialState(), [stored(3, { type: 'Added', amount: 4 })], { fresh: true })).toEqual({ total: 4 });
    expect(seen).toEqual([1, 2]);
  });
});
