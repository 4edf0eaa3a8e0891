// Stand-in for `./payments.js`, "your payment client" in docs/getting-started.md.
/** Charges a card through a payment provider. */
export declare function chargeCard(amount: number, options: { idempotencyKey: string; signal: AbortSignal }): Promise<{ receipt: string }>;
