// Finding one dead letter of a projection by id with nothing but `engine.projections.deadLetters.list`,
// which pages in id order: the confirmation page of a skip shows the letter it would delete.
import type { ProjectionDeadLetter } from '@ironflow/core/store';
import type { Engine } from '@ironflow/runtime';

/** The dead letter `id` of `projection`, or undefined: dead letters are few by nature, so reading their pages is fine. */
export async function findProjectionDeadLetter(engine: Engine, projection: string, id: string): Promise<ProjectionDeadLetter | undefined> {
  let after: string | undefined;
  do {
    const page = await engine.projections.deadLetters.list(projection, { limit: 1000, after });
    const found = page.items.find((letter) => letter.id === id);
    if (found !== undefined) return found;
    after = page.next;
  } while (after !== undefined);
  return undefined;
}
