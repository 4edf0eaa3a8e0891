// The checkout workflow of docs/concepts/decider.md, an engine running it, an input that arrived
// and an HTTP reply helper, for blocks that use them without defining them.
import type { Engine } from '@ironflow/runtime';
import { checkout, type CheckoutInput } from '../modules/checkout.js';

declare const engine: Engine;
declare const input: CheckoutInput;
declare function reply(status: number, body: object): Response;
