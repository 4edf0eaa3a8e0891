// The shipment workflow, a child of the order: book a parcel with the carrier, then follow it until
// it is delivered. The order starts it once paid (`startChild`) and hears how it ended (`onChild`).
import { accept, defineStateMachine, defineWorkflow, reject, type Decision, type DeadLetterNotice, type Workflow } from '@ironflow/core';
import type { OrderLine } from './order-workflow.js';

/** Everything the shipment workflow accepts: its start input, results of its effects, a refusal. */
export type ShipmentInput =
  // The start input, from the order's `startChild`. A shipment is named by its order's id: one
  // shipment per order, and the order knows whose ending it hears.
  | { readonly type: 'RequestShipment'; readonly shipmentId: string; readonly items: readonly OrderLine[] }
  | { readonly type: 'ParcelBooked'; readonly shipmentId: string; readonly trackingNumber: string }
  | { readonly type: 'ParcelDelivered'; readonly shipmentId: string }
  // From onDeadLetter: the carrier refused the parcel for good.
  | { readonly type: 'ParcelRefused'; readonly shipmentId: string; readonly error: string };

/** What happened to a shipment. */
export type ShipmentEvent =
  | { readonly type: 'ShipmentRequested'; readonly items: readonly OrderLine[] }
  | { readonly type: 'ParcelBooked'; readonly trackingNumber: string }
  | { readonly type: 'ParcelDelivered' }
  | { readonly type: 'ParcelRefused'; readonly error: string };

/** Calls to the carrier; `src/handlers.ts` runs them. */
export type ShipmentEffect =
  | { readonly type: 'BookParcel'; readonly shipmentId: string; readonly items: readonly OrderLine[] }
  | { readonly type: 'TrackParcel'; readonly shipmentId: string; readonly trackingNumber: string };

/** Why a shipment input was refused. */
export type ShipmentRejection =
  | { readonly code: 'SHIPMENT_EXISTS' }
  | { readonly code: 'SHIPMENT_NOT_FOUND' }
  | { readonly code: 'UNEXPECTED_INPUT'; readonly input: ShipmentInput['type'] };

/** A shipment, from request to its end: delivered, or refused by the carrier. */
export type ShipmentState =
  | { readonly status: 'none' }
  | { readonly status: 'booking'; readonly items: readonly OrderLine[] }
  | { readonly status: 'in-transit'; readonly items: readonly OrderLine[]; readonly trackingNumber: string }
  | { readonly status: 'delivered'; readonly items: readonly OrderLine[]; readonly trackingNumber: string }
  | { readonly status: 'refused'; readonly items: readonly OrderLine[]; readonly error: string };

/** The shipment workflow's type. */
export type ShipmentWorkflow = Workflow<ShipmentState, ShipmentInput, ShipmentEvent, ShipmentEffect, ShipmentRejection>;

/** Stable type key of the workflow. */
export const SHIPMENT_WORKFLOW_TYPE = 'shipment';

type ShipmentDecision = Decision<ShipmentEvent, ShipmentEffect, ShipmentInput, ShipmentRejection>;

function evolve(state: ShipmentState, event: ShipmentEvent): ShipmentState {
  if (event.type === 'ShipmentRequested') return { status: 'booking', items: event.items };
  if (state.status === 'none') throw new Error(`${event.type} recorded before ShipmentRequested`);
  switch (event.type) {
    case 'ParcelBooked':
      return { status: 'in-transit', items: state.items, trackingNumber: event.trackingNumber };
    case 'ParcelDelivered':
      return state.status === 'in-transit' ? { ...state, status: 'delivered' } : state;
    case 'ParcelRefused':
      return { status: 'refused', items: state.items, error: event.error };
  }
}

function decide(input: ShipmentInput, state: ShipmentState): ShipmentDecision {
  const unexpected = (): ShipmentDecision => reject({ code: 'UNEXPECTED_INPUT', input: input.type });
  if (input.type === 'RequestShipment') {
    if (state.status !== 'none') return reject({ code: 'SHIPMENT_EXISTS' });
    return accept({ type: 'ShipmentRequested', items: input.items }, { effects: [{ type: 'BookParcel', shipmentId: input.shipmentId, items: input.items }] });
  }
  if (state.status === 'none') return reject({ code: 'SHIPMENT_NOT_FOUND' });
  switch (input.type) {
    case 'ParcelBooked':
      if (state.status !== 'booking') return unexpected();
      return accept(
        { type: 'ParcelBooked', trackingNumber: input.trackingNumber },
        { effects: [{ type: 'TrackParcel', shipmentId: input.shipmentId, trackingNumber: input.trackingNumber }] },
      );
    case 'ParcelDelivered':
      return state.status === 'in-transit' ? accept({ type: 'ParcelDelivered' }) : unexpected();
    case 'ParcelRefused':
      return state.status === 'booking' ? accept({ type: 'ParcelRefused', error: input.error }) : unexpected();
  }
}

/**
 * A booking the carrier refuses for good ends the shipment as `refused`, so the order hears a
 * completed shipment and can act on it. A parcel whose tracking is dead-lettered stays with the
 * operator (lost in transit is not a refusal); the order hears of it as a `failed` child.
 */
function onDeadLetter(notice: DeadLetterNotice<ShipmentEffect, ShipmentInput>): ShipmentInput | undefined {
  if (notice.kind !== 'effect' || notice.effect.type !== 'BookParcel') return undefined;
  return { type: 'ParcelRefused', shipmentId: notice.effect.shipmentId, error: notice.error };
}

/** The shipment's state machine, for diagrams and instance paths; a state per `status`. */
export const shipmentMachine = defineStateMachine({
  initial: 'New',
  states: [{ name: 'New' }, { name: 'Booking' }, { name: 'InTransit' }, { name: 'Delivered', terminal: true }, { name: 'Refused', terminal: true }],
  transitions: [
    { from: 'New', to: 'Booking', input: 'RequestShipment', effects: ['BookParcel'] },
    { from: 'Booking', to: 'InTransit', input: 'ParcelBooked', effects: ['TrackParcel'] },
    { from: 'Booking', to: 'Refused', input: 'ParcelRefused', description: 'the booking was dead-lettered (onDeadLetter)' },
    { from: 'InTransit', to: 'Delivered', input: 'ParcelDelivered' },
  ],
});

const SHIPMENT_STATES = { none: 'New', booking: 'Booking', 'in-transit': 'InTransit', delivered: 'Delivered', refused: 'Refused' } as const satisfies Record<ShipmentState['status'], string>;

/**
 * The shipment workflow: started by an order with `startChild(shipmentWorkflow, { type: 'RequestShipment', … })`.
 * @example startChild(shipmentWorkflow, { type: 'RequestShipment', shipmentId: 'o-1', items: [{ sku: 'BOOK-1', quantity: 1 }] })
 */
export const shipmentWorkflow: ShipmentWorkflow = defineWorkflow<ShipmentState, ShipmentInput, ShipmentEvent, ShipmentDecision>({
  type: SHIPMENT_WORKFLOW_TYPE,
  initialState: () => ({ status: 'none' }),
  evolve,
  decide,
  workflowId: (input) => input.shipmentId,
  isTerminal: (state) => state.status === 'delivered' || state.status === 'refused',
  onDeadLetter,
  stateMachine: { machine: shipmentMachine, statusOf: (state) => SHIPMENT_STATES[state.status] },
});
