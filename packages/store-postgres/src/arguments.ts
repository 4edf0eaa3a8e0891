// Argument checks shared by every store operation. They run before any SQL, so bad input gets a
// typed INVALID_ARGUMENT error and writes nothing.
import { parseKey, invalidArgument, toJsonText, type WorkKind } from '@ironflow/core/store';

// Free text may contain what a `text` column cannot hold; it is replaced rather than refused.
const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** An id, type or key: core's rule (non-empty, no NUL, at most 512 characters, well-formed UTF-16). */
export function key(value: unknown, what: string): string {
  return parseKey(value, what);
}

/** A whole number that PostgreSQL `bigint` and JavaScript both hold exactly, at least `min`. */
export function integer(value: unknown, what: string, min = Number.MIN_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalidArgument(`${what} must be a whole number${min > Number.MIN_SAFE_INTEGER ? ` >= ${min}` : ''}, got ${String(value)}`, {
      what,
    });
  }
  return value;
}

/** An optional `limit`/`offset`-style count. */
export function optionalCount(value: unknown, what: string, fallback: number): number {
  return value === undefined ? fallback : integer(value, what, 0);
}

/** `effect` or `timer`. */
export function workKind(value: unknown): WorkKind {
  if (value !== 'effect' && value !== 'timer') throw invalidArgument(`kind must be 'effect' or 'timer', got ${String(value)}`);
  return value;
}

/** A list of workflow types to filter by. */
export function typeList(value: unknown): string[] {
  if (!Array.isArray(value)) throw invalidArgument('types must be an array of workflow types');
  return value.map((type, index) => key(type, `types[${index}]`));
}

/** Serializes a JSON value; INVALID_ARGUMENT when it is `undefined` or cannot be serialized. */
export const json = toJsonText;

/** Free text for a `text` column (error messages): NUL and unpaired surrogates become U+FFFD. */
export function freeText(value: unknown, what: string): string {
  if (typeof value !== 'string') throw invalidArgument(`${what} must be a string, got ${typeof value}`, { what });
  return value.replace(/\u0000/g, '\uFFFD').replace(LONE_SURROGATES, '\uFFFD');
}
