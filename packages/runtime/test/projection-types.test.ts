// The batch a projection's handler receives is typed from the workflows it reads: one member per
// workflow, carrying that workflow's event type (checked by the compiler; the test runs them too).
import { describe, expectTypeOf, it } from 'vitest';
import { accept, defineWorkflow, type AnyWorkflow, type Workflow } from '@ironflow/core';
import { defineProjection, type ProjectedEvent, type ProjectedEventOf, type Projection } from '../src/index.js';
import { counterWorkflow, tallyWorkflow, type CounterEvent, type TallyEvent } from './projection-fixtures.js';

const counter = counterWorkflow();
const tally = tallyWorkflow();

describe('projection typing', () => {
  it('the batch is the union of the projected events of the workflows it reads', () => {
    const projection = defineProjection({
      name: 'typed',
      workflows: [counter, tally],
      handle(batch) {
        expectTypeOf(batch).toEqualTypeOf<readonly (ProjectedEvent<string, CounterEvent> | ProjectedEvent<string, TallyEvent>)[]>();
        for (const e of batch) {
          expectTypeOf(e.event).toEqualTypeOf<CounterEvent | TallyEvent>();
          expectTypeOf(e.position).toEqualTypeOf<string>();
        }
      },
    });
    expectTypeOf(projection).toEqualTypeOf<Projection<readonly [typeof counter, typeof tally]>>();
    // Every projection fits `createEngine({ projections })`.
    expectTypeOf(projection).toMatchTypeOf<Projection>();
  });

  it('without workflows, the batch holds every workflow type with unknown payloads', () => {
    defineProjection({
      name: 'untyped',
      handle(batch) {
        expectTypeOf(batch).toEqualTypeOf<readonly ProjectedEvent<string, unknown>[]>();
      },
    });
    expectTypeOf<ProjectedEventOf<AnyWorkflow>>().toEqualTypeOf<ProjectedEvent<string, unknown>>();
  });

  it('defineWorkflow keeps a literal type, so the batch of workflows declared inline is discriminated by workflowType', () => {
    const order = defineWorkflow({
      type: 'order',
      initialState: () => ({ total: 0 }),
      evolve: (state: { total: number }, event: CounterEvent) => (event.type === 'Added' ? { total: state.total + event.n } : state),
      decide: (input: { id: string; n: number }) => accept<CounterEvent>({ type: 'Added', n: input.n }),
      workflowId: (input) => input.id,
    });
    const parcel = defineWorkflow({
      type: 'parcel',
      initialState: () => 0,
      evolve: (n: number, _event: TallyEvent) => n + 1,
      decide: (_input: { id: string }) => accept<TallyEvent>({ type: 'Counted' }),
      workflowId: (input) => input.id,
    });
    expectTypeOf(order.type).toEqualTypeOf<'order'>();
    defineProjection({
      name: 'inline',
      workflows: [order, parcel],
      handle(batch) {
        for (const e of batch) {
          if (e.workflowType === 'order') expectTypeOf(e.event).toEqualTypeOf<CounterEvent>();
          else expectTypeOf(e.event).toEqualTypeOf<TallyEvent>();
        }
      },
    });
  });

  it('workflows whose type is a literal make the batch a union discriminated by workflowType', () => {
    const order = counter as Workflow<{ total: number }, unknown, CounterEvent> & { readonly type: 'order' };
    const parcel = tally as Workflow<number, unknown, TallyEvent> & { readonly type: 'parcel' };
    defineProjection({
      name: 'discriminated',
      workflows: [order, parcel],
      handle(batch) {
        for (const e of batch) {
          if (e.workflowType === 'order') expectTypeOf(e.event).toEqualTypeOf<CounterEvent>();
          else expectTypeOf(e.event).toEqualTypeOf<TallyEvent>();
        }
      },
    });
    expectTypeOf<ProjectedEventOf<typeof order | typeof parcel>>().toEqualTypeOf<ProjectedEvent<'order', CounterEvent> | ProjectedEvent<'parcel', TallyEvent>>();
  });
});
