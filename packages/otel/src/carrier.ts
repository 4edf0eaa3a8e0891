// The trace carrier an execute stores with the effects and timers it writes: what the propagator
// injects for the execute's span, cut to what every store accepts (see TraceCarrier), and nothing
// at all when the span context is invalid — tracing off, no tracer provider registered.
import { defaultTextMapGetter, defaultTextMapSetter, isSpanContextValid, ROOT_CONTEXT, trace, type Context, type TextMapPropagator } from '@opentelemetry/api';
import { MAX_TRACE_FIELDS, MAX_TRACE_VALUE, type TraceCarrier } from '@ironflow/core/store';

/** The part of a propagator a carrier needs; the `propagation` API object fits as well. */
export type CarrierPropagator = Pick<TextMapPropagator, 'inject' | 'extract'>;

const FIELD_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** Kept first when a propagator writes more fields than a carrier holds: they carry the parent. */
const W3C_FIELDS = ['traceparent', 'tracestate'];

/** The carrier of `context`'s span, or undefined when it has no valid span context or nothing fits. */
export function injectCarrier(propagator: CarrierPropagator, context: Context): TraceCarrier | undefined {
  const spanContext = trace.getSpanContext(context);
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return undefined;
  const written: Record<string, unknown> = {};
  propagator.inject(context, written, defaultTextMapSetter);
  // The W3C propagator's usual output fits as it is: no copy, no sort.
  const names = Object.keys(written);
  if (names.length <= 2 && names.every((name) => (name === 'traceparent' || name === 'tracestate') && fits(written[name]))) {
    return names.length === 0 ? undefined : (written as Record<string, string>);
  }
  const fields = Object.entries(written)
    .filter((field): field is [string, string] => FIELD_NAME.test(field[0]) && fits(field[1]))
    .sort(([a], [b]) => rank(a) - rank(b))
    .slice(0, MAX_TRACE_FIELDS);
  return fields.length === 0 ? undefined : Object.fromEntries(fields);
}

const fits = (value: unknown): value is string => typeof value === 'string' && value.length <= MAX_TRACE_VALUE;

const rank = (name: string): number => {
  const index = W3C_FIELDS.indexOf(name);
  return index === -1 ? W3C_FIELDS.length : index;
};

/**
 * The context a stored carrier describes, extracted onto the root context: a claimed item's span
 * continues the trace of the execute that wrote it, never whatever the claim loop was running in.
 */
export function extractCarrier(propagator: CarrierPropagator, carrier: TraceCarrier | undefined): Context {
  return carrier === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
}
