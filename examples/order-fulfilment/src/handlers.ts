// Simulated services (inventory, payment gateway, carrier, gift cards) and the effect handlers of
// the order and shipment workflows that call them. Their failures follow fixed rules, so tests and
// the demo are reproducible.
import { setTimeout as sleep } from 'node:timers/promises';
import { NonRetryableError } from '@ironflow/core';
import type { EffectHandlerOf } from '@ironflow/runtime';
import type { OrderInput, OrderLine, OrderWorkflow } from './order-workflow.js';
import type { ShipmentInput, ShipmentWorkflow } from './shipment-workflow.js';

/** The gateway declines this card. */
export const DECLINED_CARD = '4000-0000-0000-0002';
/** The issuer of this card is slow: it answers when `slowIssuer` says, by default never. */
export const SLOW_ISSUER_CARD = '4000-0000-0000-3220';
/** The carrier does not take this SKU (freight, not a parcel): it refuses the booking for good. */
export const FREIGHT_SKU = 'SOFA-1';
/** A card that always works. */
export const GOOD_CARD = '4242-4242-4242-4242';

/** Simulated network time; honours the effect's abort signal (timeout, lost lease, shutdown). */
async function delay(ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  if (ms > 0) await sleep(ms, undefined, { signal });
}

/** An issuer that never answers: the call ends only when its signal aborts, with the signal's reason. */
function neverAnswers(_orderId: string, signal: AbortSignal): Promise<void> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** Orders whose id ends in 7 go through a flaky gateway route: see `PaymentGateway.charge`. */
export const isFlakyRoute = (orderId: string): boolean => orderId.endsWith('7');

/** Options of `createServices`. */
export interface ServiceOptions {
  /**
   * Simulated network time of every call, in ms.
   * @default 0
   */
  latencyMs?: number | undefined;
  /**
   * Decides when the issuer of `SLOW_ISSUER_CARD` answers: the charge goes through once the
   * promise resolves, and not at all if the call is aborted first. By default the issuer never
   * answers, so the call ends only when its signal aborts: in the demo, when the payment deadline
   * cancels the charge, however fast or slow the machine is.
   * @default waits for the signal to abort
   */
  slowIssuer?: ((orderId: string, signal: AbortSignal) => Promise<void>) | undefined;
  /**
   * Units in stock at start, by SKU; unknown SKUs have none.
   * @default { 'BOOK-1': 100, 'MUG-1': 100, 'TEE-1': 100, 'LAMP-1': 1, 'SOFA-1': 5 }
   */
  stock?: Readonly<Record<string, number>> | undefined;
  /**
   * The gift-card provider refuses cards above this amount, in cents.
   * @default 5000
   */
  giftCardLimit?: number | undefined;
}

/** An in-memory warehouse: reservations take all lines or none and are idempotent per order. */
export class Inventory {
  readonly #available = new Map<string, number>();
  readonly #reservations = new Map<string, { readonly items: readonly OrderLine[]; released: boolean }>();

  constructor(stock: Readonly<Record<string, number>>, private readonly latencyMs: number) {
    for (const [sku, units] of Object.entries(stock)) this.#available.set(sku, units);
  }

  /** Units of `sku` not reserved. */
  available(sku: string): number {
    return this.#available.get(sku) ?? 0;
  }

  /** Reserves every line or none; a repeated call for the order returns the same reservation. */
  async reserve(orderId: string, items: readonly OrderLine[], signal: AbortSignal): Promise<{ ok: true; reservationId: string } | { ok: false; sku: string }> {
    await delay(this.latencyMs, signal);
    const reservationId = `rsv-${orderId}`;
    if (this.#reservations.has(reservationId)) return { ok: true, reservationId };
    const short = items.find((line) => this.available(line.sku) < line.quantity);
    if (short) return { ok: false, sku: short.sku };
    for (const line of items) this.#available.set(line.sku, this.available(line.sku) - line.quantity);
    this.#reservations.set(reservationId, { items, released: false });
    return { ok: true, reservationId };
  }

  /** Puts the reserved units back; releasing twice is harmless. */
  async release(reservationId: string, signal: AbortSignal): Promise<void> {
    await delay(this.latencyMs, signal);
    const reservation = this.#reservations.get(reservationId);
    if (!reservation || reservation.released) return;
    reservation.released = true;
    for (const line of reservation.items) this.#available.set(line.sku, this.available(line.sku) + line.quantity);
  }
}

/** A charge as the gateway keeps it. */
export interface Charge {
  readonly paymentId: string;
  readonly orderId: string;
  readonly amount: number;
  refunded: boolean;
}

/** A payment gateway that deduplicates by idempotency key, like the real ones do. */
export class PaymentGateway {
  /** Charges by idempotency key. */
  readonly charges = new Map<string, Charge>();
  /** Requests seen per idempotency key. */
  readonly #requests = new Map<string, number>();
  /** While true, every request fails before reaching the gateway (an outage). */
  outage = false;

  constructor(
    private readonly latencyMs: number,
    private readonly slowIssuer: (orderId: string, signal: AbortSignal) => Promise<void>,
  ) {}

  /** Charges made for an order (at most one when callers pass an idempotency key). */
  chargesOf(orderId: string): Charge[] {
    return [...this.charges.values()].filter((charge) => charge.orderId === orderId);
  }

  /**
   * Charges a card once per idempotency key. On the flaky route the first request fails before
   * charging and the second charges but loses its response: only the key prevents a double charge.
   * An aborted call charges nothing, up to the instant the charge is recorded.
   */
  async charge(
    request: { orderId: string; amount: number; card: string },
    options: { idempotencyKey: string; signal: AbortSignal },
  ): Promise<{ status: 'succeeded'; paymentId: string } | { status: 'declined'; reason: string }> {
    const { idempotencyKey, signal } = options;
    await delay(this.latencyMs, signal);
    if (this.outage) throw new Error('payment gateway unavailable (503)');
    const seen = (this.#requests.get(idempotencyKey) ?? 0) + 1;
    this.#requests.set(idempotencyKey, seen);
    const flaky = isFlakyRoute(request.orderId);
    if (flaky && seen === 1) throw new Error('payment gateway unavailable (503)');
    const existing = this.charges.get(idempotencyKey);
    if (existing) return { status: 'succeeded', paymentId: existing.paymentId };
    if (request.card === DECLINED_CARD) return { status: 'declined', reason: 'card declined by issuer' };
    if (request.card === SLOW_ISSUER_CARD) {
      await this.slowIssuer(request.orderId, signal);
      signal.throwIfAborted();
    }
    const paymentId = `pay-${this.charges.size + 1}`;
    this.charges.set(idempotencyKey, { paymentId, orderId: request.orderId, amount: request.amount, refunded: false });
    if (flaky && seen === 2) throw new Error('payment gateway timed out after charging');
    return { status: 'succeeded', paymentId };
  }

  /**
   * Refunds a charge that went through; refunding twice is harmless. A real gateway outlives this
   * process: a charge made before a restart is refunded too, though this simulation no longer remembers it.
   */
  async refund(paymentId: string, signal: AbortSignal): Promise<string> {
    await delay(this.latencyMs, signal);
    if (this.outage) throw new Error('payment gateway unavailable (503)');
    const charge = [...this.charges.values()].find((c) => c.paymentId === paymentId);
    if (charge) charge.refunded = true;
    return `ref-${paymentId}`;
  }
}

/** A parcel as the carrier keeps it. */
export interface Parcel {
  readonly shipmentId: string;
  readonly trackingNumber: string;
  delivered: boolean;
}

/** A carrier that books one parcel per idempotency key and delivers it. */
export class ShippingService {
  /** Parcels by idempotency key of their booking. */
  readonly parcels = new Map<string, Parcel>();
  /** While true, every request fails before reaching the carrier (an outage). */
  outage = false;

  constructor(private readonly latencyMs: number) {}

  /** Books a parcel and returns its tracking number; a line of `FREIGHT_SKU` is refused for good. */
  async book(shipmentId: string, items: readonly OrderLine[], idempotencyKey: string, signal: AbortSignal): Promise<string> {
    await delay(this.latencyMs, signal);
    if (this.outage) throw new Error('carrier unavailable (503)');
    const existing = this.parcels.get(idempotencyKey);
    if (existing) return existing.trackingNumber;
    if (items.some((line) => line.sku === FREIGHT_SKU)) throw new NonRetryableError(`the carrier does not take ${FREIGHT_SKU}: freight, not a parcel`);
    const trackingNumber = `TRK-${String(this.parcels.size + 1).padStart(4, '0')}`;
    this.parcels.set(idempotencyKey, { shipmentId, trackingNumber, delivered: false });
    return trackingNumber;
  }

  /** Follows a parcel until it is delivered (here: one more round trip). */
  async track(trackingNumber: string, signal: AbortSignal): Promise<void> {
    await delay(this.latencyMs, signal);
    if (this.outage) throw new Error('carrier unavailable (503)');
    const parcel = [...this.parcels.values()].find((p) => p.trackingNumber === trackingNumber);
    // A real carrier outlives this process; this simulation forgets its parcels on a restart, and
    // then takes the tracking number's word for it.
    if (parcel) parcel.delivered = true;
  }
}

/** A gift-card provider with a per-card limit; refusals are final, so they are not retried. */
export class GiftCardProvider {
  readonly issued = new Map<string, { readonly orderId: string; readonly recipient: string; readonly amount: number; readonly code: string }>();

  constructor(
    private readonly latencyMs: number,
    /** Largest card the provider accepts, in cents; operators raise it with the provider. */
    public limit: number,
  ) {}

  /** Issues a gift card and returns its code; cards above `limit` are refused for good. */
  async issue(request: { orderId: string; recipient: string; amount: number }, idempotencyKey: string, signal: AbortSignal): Promise<string> {
    await delay(this.latencyMs, signal);
    const existing = this.issued.get(idempotencyKey);
    if (existing) return existing.code;
    if (request.amount > this.limit) {
      throw new NonRetryableError(`gift card of ${request.amount} cents exceeds the provider limit of ${this.limit}`);
    }
    const code = `GIFT-${String(this.issued.size + 1).padStart(4, '0')}`;
    this.issued.set(idempotencyKey, { orderId: request.orderId, recipient: request.recipient, amount: request.amount, code });
    return code;
  }
}

/** The simulated outside world of the example. */
export interface OrderServices {
  readonly inventory: Inventory;
  readonly payments: PaymentGateway;
  readonly shipping: ShippingService;
  readonly giftCards: GiftCardProvider;
}

/**
 * Creates fresh simulated services.
 * @example const services = createServices({ latencyMs: 50 });
 */
export function createServices(options: ServiceOptions = {}): OrderServices {
  const latencyMs = options.latencyMs ?? 0;
  return {
    inventory: new Inventory(options.stock ?? { 'BOOK-1': 100, 'MUG-1': 100, 'TEE-1': 100, 'LAMP-1': 1, [FREIGHT_SKU]: 5 }, latencyMs),
    payments: new PaymentGateway(latencyMs, options.slowIssuer ?? neverAnswers),
    shipping: new ShippingService(latencyMs),
    giftCards: new GiftCardProvider(latencyMs, options.giftCardLimit ?? 5_000),
  };
}

/**
 * The effect handler of the order workflow: calls a service and returns the result as an input.
 * Plain errors are retried with backoff; `NonRetryableError` dead-letters at once.
 */
export function createOrderHandler(services: OrderServices): EffectHandlerOf<OrderWorkflow> {
  const { inventory, payments, giftCards } = services;
  return async (effect, ctx): Promise<OrderInput> => {
    const { orderId } = effect;
    switch (effect.type) {
      case 'ReserveStock': {
        const result = await inventory.reserve(orderId, effect.items, ctx.signal);
        return result.ok ? { type: 'StockReserved', orderId, reservationId: result.reservationId } : { type: 'StockUnavailable', orderId, sku: result.sku };
      }
      case 'ReleaseStock':
        await inventory.release(effect.reservationId, ctx.signal);
        return { type: 'StockReleased', orderId };
      case 'ChargePayment': {
        const result = await payments.charge(effect, { idempotencyKey: ctx.idempotencyKey, signal: ctx.signal });
        return result.status === 'succeeded'
          ? { type: 'PaymentSucceeded', orderId, paymentId: result.paymentId }
          : { type: 'PaymentDeclined', orderId, reason: result.reason };
      }
      case 'RefundPayment':
        return { type: 'PaymentRefunded', orderId, refundId: await payments.refund(effect.paymentId, ctx.signal) };
      case 'SendGiftCard':
        return { type: 'GiftCardSent', orderId, code: await giftCards.issue(effect, ctx.idempotencyKey, ctx.signal) };
    }
  };
}

/**
 * The effect handler of the shipment workflow: books the parcel, then follows it to delivery.
 * A refused booking (`NonRetryableError`) is dead-lettered at once and ends the shipment as refused.
 */
export function createShipmentHandler(services: OrderServices): EffectHandlerOf<ShipmentWorkflow> {
  const { shipping } = services;
  return async (effect, ctx): Promise<ShipmentInput> => {
    const { shipmentId } = effect;
    switch (effect.type) {
      case 'BookParcel':
        return { type: 'ParcelBooked', shipmentId, trackingNumber: await shipping.book(shipmentId, effect.items, ctx.idempotencyKey, ctx.signal) };
      case 'TrackParcel':
        await shipping.track(effect.trackingNumber, ctx.signal);
        return { type: 'ParcelDelivered', shipmentId };
    }
  };
}
