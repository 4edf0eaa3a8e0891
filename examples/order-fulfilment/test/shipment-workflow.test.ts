// The shipment decider, the child workflow of a paid order: book a parcel, follow it, end
// delivered, or refused when the carrier refuses the booking for good.
import { describe, expect, it } from 'vitest';
import { deciderSpec } from '@ironflow/testing';
import { shipmentWorkflow, type ShipmentEvent } from '../src/shipment-workflow.js';

const spec = deciderSpec(shipmentWorkflow);
const shipmentId = 'o-1';
const items = [{ sku: 'BOOK-1', quantity: 2 }];
const requested: ShipmentEvent = { type: 'ShipmentRequested', items };
const booked: ShipmentEvent = { type: 'ParcelBooked', trackingNumber: 'TRK-0001' };

describe('shipment', () => {
  it('a request books a parcel with the carrier', () => {
    spec
      .when({ type: 'RequestShipment', shipmentId, items })
      .then([requested])
      .thenEffects([{ type: 'BookParcel', shipmentId, items }])
      .thenState({ status: 'booking', items })
      .thenTerminal(false);
  });

  it('a booked parcel is tracked until delivered, which completes the shipment', () => {
    spec
      .given(requested)
      .when({ type: 'ParcelBooked', shipmentId, trackingNumber: 'TRK-0001' })
      .then([booked])
      .thenEffects([{ type: 'TrackParcel', shipmentId, trackingNumber: 'TRK-0001' }])
      .thenTerminal(false);
    spec
      .given(requested, booked)
      .when({ type: 'ParcelDelivered', shipmentId })
      .then([{ type: 'ParcelDelivered' }])
      .thenState({ status: 'delivered', items, trackingNumber: 'TRK-0001' })
      .thenTerminal();
  });

  it('a booking the carrier refuses ends the shipment as refused', () => {
    spec
      .given(requested)
      .when({ type: 'ParcelRefused', shipmentId, error: 'NON_RETRYABLE: freight' })
      .then([{ type: 'ParcelRefused', error: 'NON_RETRYABLE: freight' }])
      .thenState({ status: 'refused', items, error: 'NON_RETRYABLE: freight' })
      .thenTerminal();
  });

  it('refuses a second request (SHIPMENT_EXISTS), inputs of a shipment never requested (SHIPMENT_NOT_FOUND) and results out of turn', () => {
    spec.given(requested).when({ type: 'RequestShipment', shipmentId, items }).thenRejected({ code: 'SHIPMENT_EXISTS' });
    spec.when({ type: 'ParcelDelivered', shipmentId }).thenRejected({ code: 'SHIPMENT_NOT_FOUND' });
    spec.given(requested).when({ type: 'ParcelDelivered', shipmentId }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'ParcelDelivered' });
    spec.given(requested, booked).when({ type: 'ParcelBooked', shipmentId, trackingNumber: 'TRK-0002' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'ParcelBooked' });
    spec.given(requested, booked).when({ type: 'ParcelRefused', shipmentId, error: 'x' }).thenRejected({ code: 'UNEXPECTED_INPUT', input: 'ParcelRefused' });
  });

  it('a booking dead-lettered becomes ParcelRefused; a dead-lettered tracking stays with the operator (the order hears it as failed)', () => {
    expect(shipmentWorkflow.onDeadLetter?.({ kind: 'effect', id: 'e-1', effect: { type: 'BookParcel', shipmentId, items }, attempts: 1, error: 'NON_RETRYABLE: freight' })).toEqual({
      type: 'ParcelRefused',
      shipmentId,
      error: 'NON_RETRYABLE: freight',
    });
    expect(shipmentWorkflow.onDeadLetter?.({ kind: 'effect', id: 'e-2', effect: { type: 'TrackParcel', shipmentId, trackingNumber: 'TRK-0001' }, attempts: 4, error: 'x' })).toBeUndefined();
  });
});
