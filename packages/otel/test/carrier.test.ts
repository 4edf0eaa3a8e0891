// The carrier an execute stores is cut to what every store accepts, and only written for a valid
// span context; error.type is read back from the runtime's description of a failure.
import { context, ROOT_CONTEXT, trace, TraceFlags, type TextMapPropagator } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { IronflowError } from '@ironflow/core';
import { extractCarrier, injectCarrier } from '../src/carrier.js';
import { errorTypeOf } from '@ironflow/runtime';

const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
const withSpan = trace.setSpanContext(ROOT_CONTEXT, spanContext);

/** A propagator that writes whatever fields it is given. */
const writing = (fields: Record<string, unknown>): TextMapPropagator => ({
  inject: (_context, carrier) => Object.assign(carrier as object, fields),
  extract: (ctx) => ctx,
  fields: () => Object.keys(fields),
});

describe('the stored carrier', () => {
  it('holds what the W3C propagator writes for a valid span context', () => {
    expect(injectCarrier(new W3CTraceContextPropagator(), withSpan)).toEqual({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  });

  it('keeps an unsampled context, so that the work keeps its sampling decision', () => {
    const unsampled = trace.setSpanContext(ROOT_CONTEXT, { ...spanContext, traceFlags: TraceFlags.NONE });
    expect(injectCarrier(new W3CTraceContextPropagator(), unsampled)).toEqual({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' });
  });

  it('is undefined without a valid span context, whatever the propagator would write', () => {
    const propagator = writing({ traceparent: 'anything' });
    expect(injectCarrier(propagator, ROOT_CONTEXT)).toBeUndefined();
    expect(injectCarrier(propagator, trace.setSpanContext(ROOT_CONTEXT, { ...spanContext, traceId: '00000000000000000000000000000000' }))).toBeUndefined();
    expect(injectCarrier(propagator, context.active())).toBeUndefined();
  });

  it('drops fields a store would refuse (bad names, long or non-string values) and keeps at most 8, traceparent and tracestate first', () => {
    const many = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f${i}`, 'v']));
    const carrier = injectCarrier(
      writing({ ...many, 'bad name': 'v', ['n'.repeat(65)]: 'v', long: 'x'.repeat(1025), number: 7, tracestate: 'a=b', traceparent: 'tp', ok: 'x'.repeat(1024) }),
      withSpan,
    );
    expect(Object.keys(carrier ?? {})).toEqual(['traceparent', 'tracestate', 'f0', 'f1', 'f2', 'f3', 'f4', 'f5']);
    expect(injectCarrier(writing({ 'bad name': 'v' }), withSpan)).toBeUndefined();
  });

  it("is read back onto the root context, never the caller's", () => {
    const propagator = new W3CTraceContextPropagator();
    const extracted = extractCarrier(propagator, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(trace.getSpanContext(extracted)).toEqual({ ...spanContext, isRemote: true });
    const ambient = trace.setSpanContext(ROOT_CONTEXT, { ...spanContext, spanId: '1111111111111111' });
    expect(context.with(ambient, () => extractCarrier(propagator, undefined))).toBe(ROOT_CONTEXT);
  });
});

describe('error.type', () => {
  it("is an IronflowError's code, else the error's name, else _OTHER", () => {
    expect(errorTypeOf(new IronflowError('LEASE_LOST', 'x'))).toBe('LEASE_LOST');
    expect(errorTypeOf(new RangeError('x'))).toBe('RangeError');
    expect(errorTypeOf('a string')).toBe('_OTHER');
  });
});
