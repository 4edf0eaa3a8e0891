// Helpers for store implementations, so every store applies the same rules: what counts as a
// JSON value, and which socket error codes mean "the server cannot be reached right now".
import { invalidArgument } from './errors.js';

/** Serialises a JSON value; INVALID_ARGUMENT (nothing written) for BigInt, cycles or `undefined`. */
export function toJsonText(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw invalidArgument(`${what} must be a JSON value: ${cause instanceof Error ? cause.message : String(cause)}`, { what });
  }
  if (text === undefined) throw invalidArgument(`${what} must be a JSON value, got ${typeof value}`, { what });
  return text;
}

const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
]);

/** True for socket error codes (`error.code`) that mean the server cannot be reached right now. */
export function isNetworkErrorCode(code: unknown): boolean {
  return typeof code === 'string' && NETWORK_ERROR_CODES.has(code);
}
