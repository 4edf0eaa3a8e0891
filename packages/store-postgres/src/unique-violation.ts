// Unique violations the store expects: a new effect or timer whose id is already taken fails its
// statement on the table's primary key, and the store reports that as a `duplicate-id` outcome;
// a keyed effect made live by a commit and a redrive at once fails one of them on the live-key index.
import type { WorkKind } from '@ironflow/core/store';
import { resending } from './deadlock-retry.js';

/** Whether `error` is PostgreSQL's unique_violation (SQLSTATE 23505). */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/** The kind of work whose primary key `error` violates: a new effect or timer reused an id. */
export function takenKind(error: unknown): WorkKind | undefined {
  if (!isUniqueViolation(error)) return undefined;
  const constraint = (error as { constraint?: unknown }).constraint;
  return constraint === 'effects_pkey' ? 'effect' : constraint === 'timers_pkey' ? 'timer' : undefined;
}

/** Whether `error` is a violation of the one-live-effect-per-key index: a commit raced a redrive. */
export function isKeyRace(error: unknown): boolean {
  return isUniqueViolation(error) && (error as { constraint?: unknown }).constraint === 'effects_live_key_idx';
}

/** How many times a statement is sent before a key race reaches the caller. */
export const KEY_RACE_ATTEMPTS = 3;

/**
 * Runs `send` again, up to KEY_RACE_ATTEMPTS times in all, while it loses a key race: a redrive
 * made a dead keyed effect live between the statement's key check and its write. The statement
 * wrote nothing, and sent again its check sees the redriven effect.
 */
export function retryingKeyRaces<T>(send: () => Promise<T>): Promise<T> {
  return resending(send, KEY_RACE_ATTEMPTS, isKeyRace);
}

/** Which of `rows` (new effects or timers) a violation of their table's primary key is about (its detail names the id). */
export function takenId(error: unknown, rows: readonly { readonly id: string }[]): string {
  const detail = String((error as { detail?: unknown }).detail ?? '');
  return rows.find((row) => detail.includes(`=(${row.id})`))?.id ?? rows[0]?.id ?? '';
}
