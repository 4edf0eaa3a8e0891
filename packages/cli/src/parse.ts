// Parsers of option values, run by commander while it reads the command line: a bad value is a
// usage error (exit 2) before anything connects.
import { InvalidArgumentError } from 'commander';

/** A page size: a whole number from 1 to 1000 (the stores' largest page). */
export function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('expected a whole number from 1 to 1000');
  return n;
}

/** A whole number >= 0 (offsets, sequences). */
export function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number >= 0');
  return n;
}

/** A whole number >= 1 (partitions, sequences). */
export function parsePositive(value: string): number {
  const n = parseCount(value);
  if (n < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return n;
}

/** A time: epoch milliseconds, or an ISO 8601 date or date-time (`2024-05-01`, `2024-05-01T12:00:00Z`). */
export function parseTime(value: string): number {
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
  }
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) throw new InvalidArgumentError('expected epoch milliseconds or an ISO 8601 date-time');
  return ms;
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration: a number with a unit (`500ms`, `30s`, `15m`, `24h`, `7d`), or plain milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value);
  const n = match === null ? Number.NaN : Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? Number.NaN);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a duration such as 500ms, 30s, 15m, 24h or 7d');
  return n;
}
