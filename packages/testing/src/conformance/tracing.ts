// Trace context carried with work: a commit writes each effect's and timer's trace carrier with it,
// and every read of the row (claim, list, page, dead letters) returns it unchanged, so the work
// continues the trace of the decision that asked for it in whatever process runs it.
import { expect, it } from 'vitest';
import type { TraceCarrier, WorkflowRef } from '@ironflow/core/store';
import { claimArgs, commitOf, effect, freshType, timer, T0, type ConformanceContext } from './context.js';

/** A W3C trace context, as OpenTelemetry's propagator writes it. */
function carrier(span: string, state?: string): TraceCarrier {
  const traceparent = `00-0af7651916cd43dd8448eb211c80319c-${span}-01`;
  return state === undefined ? { traceparent } : { traceparent, tracestate: state };
}

export function traceCases(ctx: ConformanceContext): void {
  const fresh = (label: string): WorkflowRef => ({ type: freshType(label), id: 'i1' });

  it('an effect keeps its trace carrier through listing, claim, page and dead letter; one without has none', async () => {
    const ref = fresh('trace');
    const traced = { ...effect({ type: 'charge' }), trace: carrier('b7ad6b7169203331', 'vendor=a1,other=b2') };
    const bare = effect({ type: 'email' });
    await ctx.store.commit(commitOf(ref, 0, { effects: [traced, bare] }));

    const listed = new Map((await ctx.store.listEffects(ref)).map((e) => [e.id, e]));
    expect(listed.get(traced.id)!.trace).toEqual(traced.trace);
    expect(listed.get(bare.id)).not.toHaveProperty('trace');

    const claimed = await ctx.store.claimEffects(claimArgs([ref.type], T0 + 1));
    expect(new Map(claimed.map((c) => [c.id, c.trace]))).toEqual(new Map([[traced.id, traced.trace], [bare.id, undefined]]));
    expect(claimed.find((c) => c.id === bare.id)).not.toHaveProperty('trace');

    const page = await ctx.store.listWork({ kind: 'effect', workflowType: ref.type });
    expect(page.items.find((e) => e.id === traced.id)!.trace).toEqual(traced.trace);

    const lease = claimed.find((c) => c.id === traced.id)!.lease;
    await ctx.store.deadLetter(lease, T0 + 2, 'gave up');
    const [dead] = await ctx.store.listDeadLetters({ kind: 'effect', workflowType: ref.type });
    expect(dead).toMatchObject({ id: traced.id, trace: traced.trace });
  });

  it('a timer keeps its trace carrier; rescheduled under its key, it takes the new decision\'s (or none)', async () => {
    const ref = fresh('trace');
    const first = { ...timer(T0 + 100, { type: 'remind' }, 'reminder'), trace: carrier('00f067aa0ba902b7') };
    await ctx.store.commit(commitOf(ref, 0, { timers: [first] }));
    expect((await ctx.store.listTimers(ref))[0]!.trace).toEqual(first.trace);

    const again = { ...timer(T0 + 200, { type: 'remind' }, 'reminder'), trace: carrier('1111111111111111', 'k=v') };
    await ctx.store.commit(commitOf(ref, 1, { timers: [again], now: T0 + 10 }));
    const [rearmed] = (await ctx.store.listTimers(ref)).filter((t) => t.status === 'pending');
    expect(rearmed).toMatchObject({ fireAt: T0 + 200, trace: again.trace });

    const [claimed] = await ctx.store.claimTimers(claimArgs([ref.type], T0 + 200));
    expect(claimed!.trace).toEqual(again.trace);
    await ctx.store.release(claimed!.lease, T0 + 201);

    await ctx.store.commit(commitOf(ref, 2, { timers: [timer(T0 + 300, { type: 'remind' }, 'reminder')], now: T0 + 20 }));
    const [untraced] = (await ctx.store.listTimers(ref)).filter((t) => t.status === 'pending');
    expect(untraced).toMatchObject({ fireAt: T0 + 300 });
    expect(untraced).not.toHaveProperty('trace');
  });

  it('group commits and the effects a cancellation writes keep each one\'s own trace carrier', async () => {
    const a = fresh('trace');
    const b = fresh('trace');
    const ea = { ...effect({ type: 'a' }), trace: carrier('aaaaaaaaaaaaaaaa') };
    const eb = { ...effect({ type: 'b' }), trace: carrier('bbbbbbbbbbbbbbbb', 'x=1') };
    const tb = { ...timer(T0 + 50, { type: 'tick' }), trace: carrier('cccccccccccccccc') };
    const results = await ctx.store.commitMany([commitOf(a, 0, { effects: [ea] }), commitOf(b, 0, { effects: [eb], timers: [tb] })]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect((await ctx.store.listEffects(a))[0]!.trace).toEqual(ea.trace);
    expect((await ctx.store.listEffects(b))[0]!.trace).toEqual(eb.trace);
    expect((await ctx.store.listTimers(b))[0]!.trace).toEqual(tb.trace);

    const onCancel = { ...effect({ type: 'refund' }), trace: carrier('dddddddddddddddd') };
    await ctx.store.cancelInstance({ ref: a, now: T0 + 5, reason: 'stop', effects: [onCancel] });
    const written = (await ctx.store.listEffects(a)).find((e) => e.id === onCancel.id);
    expect(written).toMatchObject({ status: 'pending', trace: onCancel.trace });
  });

  it('a carrier is kept as given: other propagators\' fields, unicode and the longest values', async () => {
    const ref = fresh('trace');
    const odd: TraceCarrier = {
      'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
      'uber-trace-id': 'abc:def:0:1',
      baggage: 'userId=ünïcødé,tenant=a%20b',
      tracestate: 'v'.repeat(1024),
    };
    const e = { ...effect({ type: 'x' }), trace: odd };
    await ctx.store.commit(commitOf(ref, 0, { effects: [e] }));
    expect((await ctx.store.listEffects(ref))[0]!.trace).toEqual(odd);
  });
}
