// Ids, types and keys are data, never SQL, Lua, key patterns, LIKE patterns or hash tags: made of
// the characters those languages treat specially, they round-trip exactly and match only themselves.
import { expect, it } from 'vitest';
import { compareIds, MAX_KEY_LENGTH, type WorkflowRef } from '@ironflow/core/store';
import { claimArgs, commitOf, eventsFor, expectCode, freshId, freshType, T0, timer, type ConformanceContext } from './context.js';

/** Strings that mean something to SQL, Lua, Redis key patterns and hash tags, JSON, or Unicode normalisation. */
export const HOSTILE: readonly string[] = [
  ':', '::', '{', '}', '{}', '{x}', '*', '?', '[', ']', '[a-z]', '^', '\\', '\\\\', "'", '"', '`', '%', '_', '%_', '$1',
  '\n', '\r\n', '\t', ' ', '  ', '\u2028',
  "'; DROP TABLE events; --", "') OR ('1'='1", "redis.call('FLUSHALL')", "]] .. redis.call('DEL', KEYS[1]) .. [[",
  '\u00e9', 'e\u0301', '\u{1F600}', '\u{1D11E}', '\uE000', '\uFFFF', '\u{10000}', '\u{10FFFF}',
];

/** Suffixes whose UTF-16 order differs from their code-point order (U+E000–U+FFFF against astral characters). */
const ORDERED = ['a', 'z', '\u00e9', '\uE000', '\uFFFD', '\uFFFF', '\u{10000}', '\u{1F600}', '\u{10FFFF}', '~', '\u007f'];

/** A string of exactly MAX_KEY_LENGTH UTF-16 units: `prefix`, then astral characters, then `x`s. */
function longest(prefix: string): string {
  let text = prefix;
  while (text.length + 2 <= MAX_KEY_LENGTH) text += '\u{1F600}';
  return text.padEnd(MAX_KEY_LENGTH, 'x');
}

export function hostileIdentifierCases(ctx: ConformanceContext): void {
  it('instances whose ids are made of hostile characters round-trip exactly with their events, work, keys and observations, and never touch one another', async () => {
    const type = freshType('hostile');
    const refs: WorkflowRef[] = HOSTILE.map((h) => ({ type, id: h }));
    const effectIds = HOSTILE.map((h) => `${freshId('e')}${h}`);
    for (const [i, h] of HOSTILE.entries()) {
      const ref = refs[i]!;
      const events = eventsFor(ref, 0, 2).map((e) => ({ ...e, type: `E${h}`, payload: { owner: h } }));
      const observation = { workflowType: type, workflowId: h, inputType: h, input: { owner: h }, outcome: 'accepted' as const, observedAt: T0 };
      await ctx.store.commit(commitOf(ref, 0, {
        events,
        effects: [{ id: effectIds[i]!, payload: { owner: h } }],
        timers: [{ id: `${freshId('t')}${h}`, key: h, fireAt: T0, input: { owner: h } }],
        uniqueKey: h,
        idempotencyKey: h,
        snapshot: { version: 1, revision: h, state: { owner: h } },
        observation,
      }));
    }
    for (const [i, h] of HOSTILE.entries()) {
      const ref = refs[i]!;
      const loaded = await ctx.store.load(ref, { idempotencyKey: h });
      expect(loaded).toMatchObject({ version: 2, snapshot: { version: 1, revision: h, state: { owner: h } }, idempotent: { key: h, version: 2 } });
      expect(loaded.events.map((e) => [e.workflowId, e.sequence, e.type, e.payload])).toEqual([[h, 2, `E${h}`, { owner: h }]]);
      expect((await ctx.store.readEvents(ref)).map((e) => [e.workflowType, e.workflowId, e.type])).toEqual([[type, h, `E${h}`], [type, h, `E${h}`]]);
      expect((await ctx.store.load(ref, { idempotencyKey: HOSTILE[(i + 1) % HOSTILE.length]! })).idempotent).toBeUndefined();
      expect((await ctx.store.listEffects(ref)).map((e) => [e.id, e.workflowId, e.payload])).toEqual([[effectIds[i], h, { owner: h }]]);
      expect((await ctx.store.listTimers(ref)).map((t) => [t.key, t.workflowId, t.input])).toEqual([[h, h, { owner: h }]]);
      expect((await ctx.store.listObservations(ref)).map((o) => [o.workflowId, o.inputType])).toEqual([[h, h]]);
      let conflict: unknown;
      try {
        await ctx.store.commit(commitOf({ type, id: `second holder of ${i}` }, 0, { uniqueKey: h }));
      } catch (error) {
        conflict = error;
      }
      expect(conflict).toMatchObject({ code: 'UNIQUE_KEY_CONFLICT', uniqueKey: h, holderId: h });
    }
    const listed = await ctx.store.listInstances({ workflowType: type, limit: 1000 });
    expect(listed.map((i) => i.workflowId).sort(compareIds)).toEqual([...HOSTILE].sort(compareIds));
    const claimed = await ctx.store.claimEffects(claimArgs([type], T0, { limit: 1000 }));
    expect(claimed.map((c) => c.id).sort(compareIds)).toEqual([...effectIds].sort(compareIds));
    for (const c of claimed) expect(c.payload).toEqual({ owner: c.workflowId });
  });

  it('timer keys made of hostile characters are matched exactly by keyed upserts and cancels', async () => {
    const ref = { type: freshType('hostile'), id: 'keys' };
    const first = HOSTILE.map((key) => ({ id: freshId('t'), key, fireAt: T0 + 1000, input: { key, v: 1 } }));
    await ctx.store.commit(commitOf(ref, 0, { timers: first }));
    const half = Math.floor(HOSTILE.length / 2);
    const cancelled = HOSTILE.slice(0, half);
    const replaced = HOSTILE.slice(half);
    await ctx.store.commit(commitOf(ref, 1, {
      now: T0 + 1,
      cancelTimers: cancelled,
      timers: replaced.map((key) => ({ id: freshId('t'), key, fireAt: T0 + 2000, input: { key, v: 2 } })),
    }));
    const timers = await ctx.store.listTimers(ref);
    expect(timers).toHaveLength(HOSTILE.length);
    for (const t of timers) {
      const original = first.find((f) => f.key === t.key);
      expect(t.id, `timer ${JSON.stringify(t.key)} keeps its id`).toBe(original?.id);
      expect([t.status, t.input], `timer ${JSON.stringify(t.key)}`).toEqual(
        cancelled.includes(t.key ?? '') ? ['cancelled', { key: t.key, v: 1 }] : ['pending', { key: t.key, v: 2 }],
      );
    }
  });

  it('workflow types made of hostile characters are matched exactly by claims, listings, dead letters, re-drive and timer look-ups', async () => {
    const base = freshType('hostile');
    const types = HOSTILE.map((h) => `${base}${h}`);
    const fx = new Map<string, string>();
    for (const [i, type] of types.entries()) {
      const id = `${freshId('e')}${HOSTILE[i]}`;
      fx.set(type, id);
      await ctx.store.commit(commitOf({ type, id: 'same' }, 0, { effects: [{ id, payload: { type } }], timers: [timer(T0 + i, { type })] }));
    }
    for (const [i, type] of types.entries()) {
      expect(await ctx.store.nextTimerAt([type]), `next timer of ${JSON.stringify(type)}`).toBe(T0 + i);
      const [claimedEffect, ...moreEffects] = await ctx.store.claimEffects(claimArgs([type], T0, { limit: 100 }));
      expect(moreEffects).toEqual([]);
      expect([claimedEffect?.workflowType, claimedEffect?.id, claimedEffect?.payload]).toEqual([type, fx.get(type), { type }]);
      const timers = await ctx.store.claimTimers(claimArgs([type], T0 + 1000, { limit: 100 }));
      expect(timers.map((t) => [t.workflowType, t.input])).toEqual([[type, { type }]]);
      await ctx.store.deadLetter(claimedEffect!.lease, T0 + 1, `dead ${type}`);
    }
    for (const type of types) {
      expect((await ctx.store.listInstances({ workflowType: type })).map((i) => [i.workflowType, i.workflowId])).toEqual([[type, 'same']]);
      expect(await ctx.store.countDeadLetters({ kind: 'effect', workflowType: type })).toBe(1);
      expect(await ctx.store.countDeadLetters({ kind: 'effect', workflowType: type, workflowId: 'same' })).toBe(1);
      expect((await ctx.store.listDeadLetters({ kind: 'effect', workflowType: type })).map((d) => [d.id, d.lastError])).toEqual([[fx.get(type), `dead ${type}`]]);
    }
    for (const type of types) {
      expect(await ctx.store.redrive('effect', fx.get(type)!, T0 + 2)).toBe(true);
      expect(await ctx.store.countDeadLetters({ kind: 'effect', workflowType: type })).toBe(0);
    }
  });

  it('claims and listings order ids by code point, so U+E000–U+FFFF come before astral characters', async () => {
    const type = freshType('order');
    const prefix = freshId('o');
    const ids = ORDERED.map((suffix) => `${prefix}${suffix}`);
    const expected = [...ids].sort(compareIds);
    // Timer ids differ from effect ids (one commit may not use an id twice) but sort alike.
    const timerIds = expected.map((id) => `${id}.t`);
    const ref = { type, id: 'ordered' };
    await ctx.store.commit(commitOf(ref, 0, {
      effects: ids.map((id) => ({ id, payload: {} })),
      timers: [...timerIds].reverse().map((id) => ({ id, fireAt: T0, input: {} })),
    }));
    for (const id of ids) await ctx.store.commit(commitOf({ type, id }, 0));
    expect((await ctx.store.listEffects(ref)).map((e) => e.id)).toEqual(expected);
    expect((await ctx.store.listTimers(ref)).map((t) => t.id)).toEqual(timerIds);
    const instances = await ctx.store.listInstances({ workflowType: type, limit: 100 });
    expect(instances.filter((i) => i.workflowId !== ref.id).map((i) => i.workflowId)).toEqual(expected);
    const effects: string[] = [];
    const timers: string[] = [];
    for (let i = 0; i < ids.length; i += 2) {
      const batch = await ctx.store.claimEffects(claimArgs([type], T0, { limit: 2 }));
      effects.push(...batch.map((c) => c.id));
      timers.push(...(await ctx.store.claimTimers(claimArgs([type], T0, { limit: 2 }))).map((c) => c.id));
      for (const c of batch) await ctx.store.deadLetter(c.lease, T0 + 1, 'x');
    }
    expect(effects).toEqual(expected);
    expect(timers).toEqual(timerIds);
    expect((await ctx.store.listDeadLetters({ kind: 'effect', workflowType: type })).map((d) => d.id)).toEqual(expected);
  });

  it('ids, types and keys of exactly 512 characters round-trip exactly, and one more character is refused', async () => {
    const type = longest(freshType('long'));
    const id = longest('id:');
    const ref = { type, id };
    const effectId = longest(freshId('e'));
    const timerId = longest(freshId('t'));
    const key = longest('key:');
    const events = eventsFor(ref, 0, 1).map((e) => ({ ...e, type: longest('event:') }));
    await ctx.store.commit(commitOf(ref, 0, {
      events,
      effects: [{ id: effectId, payload: {} }],
      timers: [{ id: timerId, key, fireAt: T0, input: {} }],
      uniqueKey: longest('unique:'),
      idempotencyKey: longest('idem:'),
      snapshot: { version: 1, revision: longest('rev:'), state: {} },
      observation: { workflowType: type, workflowId: id, inputType: longest('input:'), input: {}, outcome: 'accepted', observedAt: T0 },
    }));
    const loaded = await ctx.store.load(ref, { idempotencyKey: longest('idem:') });
    expect(loaded).toMatchObject({ version: 1, snapshot: { revision: longest('rev:') }, idempotent: { key: longest('idem:') } });
    expect(await ctx.store.readEvents(ref)).toEqual(events);
    expect((await ctx.store.listInstances({ workflowType: type })).map((i) => i.workflowId)).toEqual([id]);
    expect((await ctx.store.listObservations(ref)).map((o) => o.inputType)).toEqual([longest('input:')]);
    expect((await ctx.store.claimEffects(claimArgs([type], T0))).map((c) => [c.id, c.workflowType, c.workflowId])).toEqual([[effectId, type, id]]);
    expect((await ctx.store.claimTimers(claimArgs([type], T0))).map((c) => [c.id, c.key])).toEqual([[timerId, key]]);
    await expectCode(ctx.store.commit(commitOf({ type, id: 'other' }, 0, { uniqueKey: longest('unique:') })), 'UNIQUE_KEY_CONFLICT');
    await expectCode(ctx.store.load({ type, id: `${id}x` }), 'INVALID_ARGUMENT');
  });
}
