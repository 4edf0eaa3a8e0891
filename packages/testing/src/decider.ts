// Given/when/then for deciders: given past events, when an input arrives, then these events (or
// this rejection, these effects, these timers). Pure: no store, no engine.
import { expect } from 'vitest';
import type { AnyWorkflow, Decision, EffectOf, EffectOptions, EventOf, InputOf, RejectionOf, StateOf, TimerRequest } from '@ironflow/core';

/** The outcome of `when`, with assertions that chain. */
export interface DeciderOutcome<W extends AnyWorkflow> {
  /** The raw decision. */
  readonly decision: Decision<EventOf<W>, EffectOf<W>, InputOf<W>, RejectionOf<W>>;
  /** State after the given events and, when accepted, the new ones. */
  readonly state: StateOf<W>;
  /** Asserts the input was accepted with exactly these events. */
  then(events: readonly EventOf<W>[]): DeciderOutcome<W>;
  /** Asserts these effects were requested. */
  thenEffects(effects: readonly EffectOf<W>[]): DeciderOutcome<W>;
  /** Asserts these timers were scheduled. */
  thenTimers(timers: readonly TimerRequest<InputOf<W>>[]): DeciderOutcome<W>;
  /** Asserts these timer keys were cancelled. */
  thenCancelled(keys: readonly string[]): DeciderOutcome<W>;
  /** Asserts these effect keys were cancelled (`cancelEffects`). */
  thenEffectsCancelled(keys: readonly string[]): DeciderOutcome<W>;
  /** Asserts the options given with `effect()`, one entry per effect (undefined for a plain payload). */
  thenEffectOptions(options: readonly (EffectOptions | undefined)[]): DeciderOutcome<W>;
  /** Asserts these children were started, as (workflow type, input) pairs, in order. */
  thenStarted(children: readonly { readonly workflowType: string; readonly input: unknown }[]): DeciderOutcome<W>;
  /** Asserts the input was rejected (with this reason, when given). */
  thenRejected(reason?: RejectionOf<W>): DeciderOutcome<W>;
  /** Asserts the state after the decision. */
  thenState(state: StateOf<W>): DeciderOutcome<W>;
  /** Asserts whether the instance is terminal after the decision. */
  thenTerminal(terminal?: boolean): DeciderOutcome<W>;
}

/** Entry point of a decider test. */
export interface DeciderSpec<W extends AnyWorkflow> {
  given(...events: EventOf<W>[]): { when(input: InputOf<W>): DeciderOutcome<W> };
  when(input: InputOf<W>): DeciderOutcome<W>;
}

/**
 * Tests a workflow's decider without a store.
 * @example deciderSpec(order).given({ type: 'Placed', ... }).when({ type: 'Pay', ... }).then([{ type: 'Paid', ... }]);
 */
export function deciderSpec<W extends AnyWorkflow>(workflow: W, options: { now?: Date | number | undefined; workflowId?: string | undefined } = {}): DeciderSpec<W> {
  const now = options.now === undefined ? new Date(Date.UTC(2026, 0, 1)) : new Date(options.now);
  const run = (events: readonly unknown[], input: unknown): DeciderOutcome<W> => {
    let state = events.reduce((s, e) => workflow.evolve(s, e), workflow.initialState());
    const decision = workflow.decide(input, state, {
      now,
      workflowType: workflow.type,
      workflowId: options.workflowId ?? workflow.workflowId(input),
      version: events.length,
    }) as DeciderOutcome<W>['decision'];
    if (decision.kind === 'accept') state = decision.events.reduce((s, e) => workflow.evolve(s, e), state);
    const accepted = () => {
      expect(decision.kind, `expected the input to be accepted, it was rejected: ${JSON.stringify(decision.kind === 'reject' ? decision.reason : '')}`).toBe('accept');
      return decision as Extract<typeof decision, { kind: 'accept' }>;
    };
    const outcome: DeciderOutcome<W> = {
      decision,
      state: state as StateOf<W>,
      then(expected) {
        expect(accepted().events).toEqual(expected);
        return outcome;
      },
      thenEffects(expected) {
        expect(accepted().effects).toEqual(expected);
        return outcome;
      },
      thenTimers(expected) {
        expect(accepted().timers).toEqual(expected);
        return outcome;
      },
      thenCancelled(expected) {
        expect(accepted().cancelTimers).toEqual(expected);
        return outcome;
      },
      thenEffectsCancelled(expected) {
        expect(accepted().cancelEffects ?? []).toEqual(expected);
        return outcome;
      },
      thenEffectOptions(expected) {
        const decided = accepted();
        expect(decided.effects.map((_, i) => decided.effectOptions?.[i])).toEqual(expected);
        return outcome;
      },
      thenStarted(expected) {
        expect((accepted().start ?? []).map((child) => ({ workflowType: child.workflowType, input: child.input }))).toEqual(expected);
        return outcome;
      },
      thenRejected(...reason) {
        expect(decision.kind, 'expected the input to be rejected').toBe('reject');
        if (reason.length > 0 && decision.kind === 'reject') expect(decision.reason).toEqual(reason[0]);
        return outcome;
      },
      thenState(expected) {
        expect(state).toEqual(expected);
        return outcome;
      },
      thenTerminal(terminal = true) {
        expect(workflow.isTerminal ? workflow.isTerminal(state) : false).toBe(terminal);
        return outcome;
      },
    };
    return outcome;
  };
  return {
    given: (...events) => ({ when: (input) => run(events, input) }),
    when: (input) => run([], input),
  };
}
