// Values a `decide` function has at hand, for blocks that show the decisions it returns.
declare const orderId: string;
declare const amount: number;
declare const receipt: string;
