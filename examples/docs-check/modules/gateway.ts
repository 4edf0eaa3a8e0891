// Stand-in for `./gateway.js`, the payment client of docs/concepts/effects.md.
/** The issuer refused the card; retrying cannot help. */
export declare class CardRejected extends Error {}
/** Charges a card and returns the receipt. */
export declare function charge(card: string, amount: number, options: { idempotencyKey: string; signal: AbortSignal }): Promise<string>;
