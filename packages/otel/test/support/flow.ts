// The workflow the tests trace: a start asks for effect A; A's result asks for effect B; B's result
// schedules a timer a minute later; the timer's input completes the instance. `Fail` asks for an
// effect whose handler always throws; `Explode` makes decide throw; `Note` only appends an event;
// `Refuse` is rejected.
import { accept, defineWorkflow, reject } from '@ironflow/core';
import { register, type Registration } from '@ironflow/runtime';

export type FlowInput =
  | { type: 'Start'; id: string }
  | { type: 'ADone'; id: string }
  | { type: 'BDone'; id: string }
  | { type: 'Wake'; id: string }
  | { type: 'Fail'; id: string }
  | { type: 'Explode'; id: string }
  | { type: 'Note'; id: string }
  | { type: 'Refuse'; id: string };
type FlowEvent = { type: 'Started' } | { type: 'ADone' } | { type: 'BDone' } | { type: 'Woken' } | { type: 'Failing' } | { type: 'Noted' };
type FlowEffect = { step: 'A' | 'B' | 'fail'; id: string };

/** The timer's delay: the tests advance a manual clock past it. */
export const WAKE_AFTER_MS = 60_000;

export const flow = defineWorkflow({
  type: 'flow',
  initialState: () => ({ done: false }),
  evolve: (state: { done: boolean }, event: FlowEvent) => (event.type === 'Woken' ? { done: true } : state),
  decide: (input: FlowInput) => {
    switch (input.type) {
      case 'Start':
        return accept<FlowEvent, FlowEffect, FlowInput>({ type: 'Started' }, { effects: [{ step: 'A', id: input.id }] });
      case 'ADone':
        return accept<FlowEvent, FlowEffect, FlowInput>({ type: 'ADone' }, { effects: [{ step: 'B', id: input.id }] });
      case 'BDone':
        return accept<FlowEvent, FlowEffect, FlowInput>({ type: 'BDone' }, { timers: [{ after: WAKE_AFTER_MS, input: { type: 'Wake', id: input.id } }] });
      case 'Wake':
        return accept<FlowEvent, FlowEffect, FlowInput>({ type: 'Woken' });
      case 'Fail':
        return accept<FlowEvent, FlowEffect, FlowInput>({ type: 'Failing' }, { effects: [{ step: 'fail', id: input.id }] });
      case 'Explode':
        throw new TypeError('decide exploded');
      case 'Note':
        return accept<FlowEvent, FlowEffect, FlowInput>({ type: 'Noted' });
      case 'Refuse':
        return reject({ code: 'REFUSED' as const });
    }
  },
  workflowId: (input) => input.id,
  isTerminal: (state) => state.done,
  // Two attempts, one second apart: a retried attempt, then a dead letter.
  retry: { maxAttempts: 2, baseDelayMs: 1_000, maxDelayMs: 1_000, jitter: 'none' },
});

/** The handler's failure, with a name that `error.type` reports. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
}

/** Effect A answers ADone, B answers BDone, `fail` throws. */
export function flowRegistration(): Registration {
  return register(flow).handle(async (effect) => {
    if (effect.step === 'fail') throw new GatewayError('gateway unavailable');
    return { type: effect.step === 'A' ? 'ADone' : 'BDone', id: effect.id };
  });
}
