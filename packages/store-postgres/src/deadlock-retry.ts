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
export function retryingDeadlocks<T>(send: () => Promise<T>): Promise<T> {
  return resending(send, DEADLOCK_ATTEMPTS, isDeadlock);
}

/**
 * Sends a statement up to `attempts` times in all while it fails with an error `again` accepts —
 * one whose statement wrote nothing, so sending it again is safe — and raises any other error, or
 * the last one.
 */
export async function resending<T>(send: () => Promise<T>, attempts: number, again: (error: unknown) => boolean): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= attempts || !again(error)) throw error;
    }
  }
}
