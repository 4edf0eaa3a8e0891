// The payment workflow of docs/concepts/effects.md and its handler, for blocks that register it.
import { handlePayment, payment } from '../modules/payment.js';
