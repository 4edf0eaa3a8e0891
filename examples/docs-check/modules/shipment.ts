// Stand-in for `./shipment.js`: a workflow with no effects that other workflows send inputs to.
import { accept, defineWorkflow, reject } from '@ironflow/core';

export type ShipmentInput = { type: 'Create'; shipmentId: string; orderId: string };

export const shipment = defineWorkflow({
  type: 'shipment',
  initialState: () => ({ orderId: undefined as string | undefined }),
  evolve: (_state, event: { type: 'Created'; orderId: string }) => ({ orderId: event.orderId as string | undefined }),
  decide: (input: ShipmentInput, state) =>
    state.orderId === undefined ? accept({ type: 'Created' as const, orderId: input.orderId }) : reject('exists' as const),
  workflowId: (input) => input.shipmentId,
});
