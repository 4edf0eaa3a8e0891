// A hand-written Standard Schema v1 validator for order inputs, so the example needs no schema
// library; zod, valibot or arktype schemas plug into `schema` the same way.
import type { StandardSchemaV1 } from '@ironflow/core';
import type { OrderInput } from './order-workflow.js';

type Path = readonly (string | number)[];
type Issue = StandardSchemaV1.Issue;
/** Checks one value; returns its issues (none when valid). */
type Check = (value: unknown, path: Path) => Issue[];

const issue = (message: string, path: Path): Issue[] => [{ message, path }];
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const text =
  (max: number): Check =>
  (value, path) =>
    typeof value === 'string' && value.length > 0 && value.length <= max ? [] : issue(`must be a non-empty string of at most ${max} characters`, path);

const pattern =
  (regex: RegExp, what: string): Check =>
  (value, path) =>
    typeof value === 'string' && regex.test(value) ? [] : issue(`must be ${what}`, path);

/** An instant as epoch milliseconds. */
const instant: Check = (value, path) => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? [] : issue('must be epoch milliseconds', path));

/** Whole, positive numbers: quantities and amounts in cents. */
const count: Check = (value, path) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? [] : issue('must be a whole number greater than 0', path);

const optional =
  (check: Check): Check =>
  (value, path) =>
    value === undefined ? [] : check(value, path);

/** An object with exactly these fields: unknown fields are refused, so typos do not pass silently. */
const object =
  (fields: Readonly<Record<string, Check>>): Check =>
  (value, path) => {
    if (!isRecord(value)) return issue('must be an object', path);
    const issues = Object.entries(fields).flatMap(([name, check]) => check(value[name], [...path, name]));
    for (const name of Object.keys(value)) if (!(name in fields)) issues.push(...issue('is not a known field', [...path, name]));
    return issues;
  };

const listOf =
  (check: Check, max: number): Check =>
  (value, path) => {
    if (!Array.isArray(value) || value.length === 0 || value.length > max) return issue(`must be a list of 1 to ${max} entries`, path);
    return value.flatMap((entry, index) => check(entry, [...path, index]));
  };

const id = text(128);
const message = text(2_000);
const line = object({ sku: pattern(/^[A-Z0-9-]{1,32}$/, 'an upper-case SKU'), quantity: count });
const giftCard = object({ recipient: pattern(/^[^\s@]+@[^\s@]+$/, 'an e-mail address'), amount: count });
const card = pattern(/^\d{4}-\d{4}-\d{4}-\d{4}$/, 'a card number like 4242-4242-4242-4242');

/** The fields of each input kind, besides `type`; typed so that every kind must be listed. */
const shapes: { readonly [K in OrderInput['type']]: Readonly<Record<string, Check>> } = {
  PlaceOrder: { orderId: id, items: listOf(line, 50), amount: count, card, giftCard: optional(giftCard), placedAt: optional(instant) },
  CancelOrder: { orderId: id },
  StockReserved: { orderId: id, reservationId: id },
  StockUnavailable: { orderId: id, sku: id },
  StockReleased: { orderId: id },
  PaymentSucceeded: { orderId: id, paymentId: id },
  PaymentDeclined: { orderId: id, reason: message },
  PaymentFailed: { orderId: id, error: message },
  PaymentRefunded: { orderId: id, refundId: id },
  GiftCardSent: { orderId: id, code: id },
  GiftCardFailed: { orderId: id, error: message },
  ShipmentDelivered: { orderId: id, trackingNumber: id },
  ShipmentFailed: { orderId: id, error: message },
  PaymentDeadlinePassed: { orderId: id },
};

const isInputType = (value: unknown): value is OrderInput['type'] => typeof value === 'string' && Object.hasOwn(shapes, value);

/** Validates any order input: the engine applies it to commands, routed results, timer inputs and onChild inputs. */
export const orderInputSchema: StandardSchemaV1<unknown, OrderInput> = {
  '~standard': {
    version: 1,
    vendor: 'ironflow-example',
    validate(value) {
      if (!isRecord(value)) return { issues: issue('an order input must be an object', []) };
      if (!isInputType(value.type)) return { issues: issue(`must be one of ${Object.keys(shapes).join(', ')}`, ['type']) };
      const issues = object({ type: () => [], ...shapes[value.type] })(value, []);
      // Every field of this kind was checked above, so the value has the shape of OrderInput.
      return issues.length > 0 ? { issues } : { value: value as OrderInput };
    },
  },
};
