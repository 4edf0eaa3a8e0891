/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// The path an instance took: the decisions it went through, one row per commit (its input and the
// events it wrote), read from the stored events alone.
import type { StoredEvent } from '@ironflow/core/store';
import type { PageContext } from '../context.js';
import { Time } from './components.js';

/** One decision of an instance: the input kind and the events its commit wrote. */
export interface DecisionStep {
  readonly inputType?: string | undefined;
  readonly events: readonly string[];
  readonly at: number;
  readonly firstSequence: number;
}

/** What the path section shows. */
export type MachineView = { readonly kind: 'decisions'; readonly steps: readonly DecisionStep[] };

/** Groups an instance's events into the decisions that wrote them (events of one commit share their metadata and time). */
export function decisionsOf(events: readonly StoredEvent[]): DecisionStep[] {
  const steps: { inputType?: string | undefined; events: string[]; at: number; firstSequence: number; key: string }[] = [];
  for (const event of events) {
    const { inputType, causedBy, idempotencyKey, decidedAt } = event.metadata;
    const key = JSON.stringify([event.recordedAt, decidedAt, inputType ?? null, causedBy?.kind ?? null, causedBy?.id ?? null, idempotencyKey ?? null]);
    const last = steps.at(-1);
    if (last !== undefined && last.key === key) last.events.push(event.type);
    else steps.push({ inputType, events: [event.type], at: event.recordedAt, firstSequence: event.sequence, key });
  }
  return steps.map(({ key: _key, ...step }) => step);
}

export function MachineSection(props: { ctx: PageContext; view: MachineView }) {
  const { ctx, view } = props;
  return (
    <>
      <h2>Path taken</h2>
      {view.steps.length === 0 ? (
        <p class="muted">No decisions yet.</p>
      ) : (
        <table id="path">
          <thead>
            <tr>
              <th class="num">Step</th>
              <th>Input</th>
              <th>Events written</th>
              <th>At</th>
            </tr>
          </thead>
          <tbody>
            {view.steps.map((step, index) => (
              <tr>
                <td class="num">{index + 1}</td>
                <td>{step.inputType ?? <span class="muted">(not recorded)</span>}</td>
                <td>{step.events.join(', ')}</td>
                <td>
                  <Time ctx={ctx} at={step.at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
