// The hand-written Standard Schema validator of order inputs.
import { describe, expect, it } from 'vitest';
import { orderInputSchema } from '../src/schema.js';

const validate = async (value: unknown) => orderInputSchema['~standard'].validate(value);

const place = { type: 'PlaceOrder', orderId: 'o-1', items: [{ sku: 'BOOK-1', quantity: 1 }], amount: 1_999, card: '4242-4242-4242-4242' };

describe('order input schema', () => {
  it('declares Standard Schema v1', () => {
    expect(orderInputSchema['~standard']).toMatchObject({ version: 1, vendor: 'ironflow-example' });
  });

  it('passes a valid input through unchanged', async () => {
    expect(await validate(place)).toEqual({ value: place });
    const gift = { ...place, giftCard: { recipient: 'ada@example.com', amount: 2_500 } };
    expect(await validate(gift)).toEqual({ value: gift });
    expect(await validate({ type: 'PaymentDeadlinePassed', orderId: 'o-1' })).toEqual({ value: { type: 'PaymentDeadlinePassed', orderId: 'o-1' } });
  });

  it('reports every problem with its path', async () => {
    const result = await validate({ ...place, items: [{ sku: 'book', quantity: 0 }], amount: 19.99, coupon: 'FREE' });
    expect(result.issues).toEqual([
      { message: 'must be an upper-case SKU', path: ['items', 0, 'sku'] },
      { message: 'must be a whole number greater than 0', path: ['items', 0, 'quantity'] },
      { message: 'must be a whole number greater than 0', path: ['amount'] },
      { message: 'is not a known field', path: ['coupon'] },
    ]);
  });

  it('refuses unknown input kinds, missing fields and non-objects', async () => {
    expect((await validate({ type: 'Refund', orderId: 'o-1' })).issues?.[0]?.path).toEqual(['type']);
    expect((await validate({ type: 'StockReserved', orderId: 'o-1' })).issues).toEqual([
      { message: 'must be a non-empty string of at most 128 characters', path: ['reservationId'] },
    ]);
    expect((await validate('PlaceOrder')).issues).toHaveLength(1);
    expect((await validate({ ...place, items: [] })).issues?.[0]?.path).toEqual(['items']);
  });
});
