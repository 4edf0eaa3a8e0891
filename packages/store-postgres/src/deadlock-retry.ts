// A batch statement that lost a deadlock was rolled back whole (one statement outside any open
// transaction is one transaction), so sending it again is safe; after a few tries it surfaces.

/** How many times a statement is sent before its deadlock error reaches the caller. */
export const DEADLOCK_ATTEMPTS = 3;

/** Whether `error` is PostgreSQL's deadlock_detected (SQLSTATE 40P01). */
export function isDeadlock(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '40P01';
}

/**
 * Runs `send` again, up to DEADLOCK_ATTEMPTS times in all, while it fails on a deadlock. Only for a
 * single statement sent outside a transaction: a deadlock rolled it back and it wrote nothing.
 */
export async function retryingDeadlocks<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= DEADLOCK_ATTEMPTS || !isDeadlock(error)) throw error;
    }
  }
}
