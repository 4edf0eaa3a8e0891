// An engine as the tests run it: started, on a manual clock (the test moves time past the timer and
// retries), polling often so that nothing waits long for a claim, and instrumented when asked.
import type { ManualClock } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, silentLogger, type Engine, type Instrumentation } from '@ironflow/runtime';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { flowRegistration } from './flow.js';

export function flowEngine(store: WorkflowStore, clock: ManualClock, instrumentation: Instrumentation | undefined, start = true): Engine {
  const engine = createEngine({
    store,
    clock,
    logger: silentLogger,
    workflows: [flowRegistration()],
    effects: { pollIntervalMs: 25 },
    timers: { pollIntervalMs: 25 },
    ...(instrumentation === undefined ? {} : { instrumentation }),
  });
  if (start) engine.start();
  return engine;
}

/** Resolves once `condition` holds, checking every 20 ms for up to a minute (a busy machine is slow, not wrong). */
export async function eventually(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A span tree by name and kind, children in start order: what the structure tests compare. */
export interface SpanNode {
  readonly name: string;
  readonly kind: number;
  readonly children: SpanNode[];
}

/** The trees of `spans` (roots are spans whose parent is not among them), and the spans by id. */
export function spanTrees(spans: readonly ReadableSpan[]): SpanNode[] {
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const byStart = [...spans].sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
  const node = (span: ReadableSpan): SpanNode => ({
    name: span.name,
    kind: span.kind,
    children: byStart.filter((c) => c.parentSpanContext?.spanId === span.spanContext().spanId).map(node),
  });
  return byStart.filter((s) => s.parentSpanContext === undefined || !ids.has(s.parentSpanContext.spanId)).map(node);
}

/** The one span named `name` whose attribute `key` is `value`. */
export function spanWith(spans: readonly ReadableSpan[], name: string, key: string, value: unknown): ReadableSpan {
  const found = spans.filter((s) => s.name === name && s.attributes[key] === value);
  if (found.length !== 1) throw new Error(`expected one span ${name} with ${key}=${String(value)}, found ${found.length}`);
  return found[0] as ReadableSpan;
}
