// Unique violations the store expects: a new effect or timer whose id is already taken fails its
// statement on the table's primary key, and the store reports that as a `duplicate-id` outcome.
import type { CheckedCommit, WorkKind } from '@ironflow/core/store';

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

/** Which new effect or timer of `commit` a violation of `kind`'s primary key is about (its detail names the id). */
export function takenId(error: unknown, kind: WorkKind, commit: CheckedCommit): string {
  const detail = String((error as { detail?: unknown }).detail ?? '');
  const ids = kind === 'effect' ? commit.effects.map((e) => e.id) : commit.timers.map((t) => t.id);
  return ids.find((id) => detail.includes(`=(${id})`)) ?? ids[0] ?? '';
}
