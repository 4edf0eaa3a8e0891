// How workflows join a runtime: a workflow plus the handler of its effects, and how a handler
// addresses an input to another workflow.
import type { AnyWorkflow, EffectOf, InputOf, Workflow, WorkflowRef } from '@ironflow/core';

const ROUTE = Symbol.for('ironflow.route');

/** An input addressed to another registered workflow; create with `sendTo`. */
export interface RoutedInput {
  readonly [ROUTE]: true;
  readonly workflowType: string;
  readonly input: unknown;
}

/**
 * Addresses an effect's result to another workflow instead of the one that emitted the effect.
 * @example return sendTo(shippingWorkflow, { type: 'Ship', orderId });
 */
export function sendTo<W extends AnyWorkflow>(workflow: W, input: InputOf<W>): RoutedInput;
export function sendTo<S, I, E, F, R>(workflow: Workflow<S, I, E, F, R>, input: I): RoutedInput {
  return { [ROUTE]: true, workflowType: workflow.type, input };
}

/** True for values made by `sendTo`. */
export function isRoutedInput(value: unknown): value is RoutedInput {
  return typeof value === 'object' && value !== null && (value as { [ROUTE]?: unknown })[ROUTE] === true;
}

/** What an effect handler knows about the effect it runs. */
export interface EffectContext {
  readonly effectId: string;
  readonly workflow: WorkflowRef;
  /** 1 on the first attempt. */
  readonly attempt: number;
  readonly createdAt: Date;
  /** Stable across retries of this effect, distinct between effects: pass it to payment APIs. */
  readonly idempotencyKey: string;
  /** Fires on timeout, lost lease or shutdown; pass it to fetch() and friends. */
  readonly signal: AbortSignal;
}

/** Runs one effect `F`; returns nothing, an input `I` for its own workflow, or `sendTo(other, input)`. */
export type EffectHandler<F, I> = (
  effect: F,
  context: EffectContext,
) => Promise<I | RoutedInput | void> | I | RoutedInput | void;

/** The effect handler type of a workflow. */
export type EffectHandlerOf<W extends AnyWorkflow> = EffectHandler<EffectOf<W>, InputOf<W>>;

/** A workflow with its effect handler, ready for `createEngine`. */
export interface Registration {
  readonly workflow: AnyWorkflow;
  readonly handler?: EffectHandler<unknown, unknown> | undefined;
}

/** A registration without a handler yet; `handle()` adds the handler of the workflow's effects. */
export interface RegistrationBuilder<F, I> extends Registration {
  /** Sets the handler of this workflow's effects. */
  handle(handler: EffectHandler<F, I>): Registration;
}

/**
 * Registers a workflow with an engine; chain `.handle(fn)` when it emits effects.
 * (Two steps, so TypeScript knows the workflow's types before it checks the handler.)
 * @example createEngine({ store, workflows: [register(order).handle(async (effect, ctx) => { ... }), register(audit)] })
 */
export function register<S, I, E, F, R>(workflow: Workflow<S, I, E, F, R>): RegistrationBuilder<F, I> {
  return {
    workflow,
    handle: (handler) => ({
      workflow,
      // Type erasure at the registry boundary: the engine calls it only with this workflow's effects.
      handler: handler as EffectHandler<unknown, unknown>,
    }),
  };
}
