// Finding instances by exact id and by id prefix with nothing but `engine.pageInstances`, which pages
// in (type, id) order after a cursor: a page that starts right before the wanted id begins with it,
// or with the first id that has the prefix. The cursor is the store kit's (the JSON of the last
// row's sort key); test/instance-lookup.test.ts pins that on the memory store and PostgreSQL.
import { MAX_KEY_LENGTH, type InstanceStatus, type InstanceSummary } from '@ironflow/core/store';
import type { Engine } from '@ironflow/runtime';

const HIGHEST = String.fromCodePoint(0x10ffff);

/**
 * The greatest valid key (at most MAX_KEY_LENGTH UTF-16 units, no NUL, no lone surrogate) that
 * sorts before `key` in code-point order, or undefined when `key` is the least key (`\u0001`).
 * @example keyBefore('b') // 'a' followed by U+10FFFF as often as it fits
 */
export function keyBefore(key: string): string | undefined {
  const points = [...key];
  const last = points.pop()?.codePointAt(0);
  if (last === undefined) return undefined;
  const head = points.join('');
  // Nothing lies between `head` and `head + U+0001`: NUL is not allowed in keys.
  if (last === 1) return head === '' ? undefined : head;
  let previous = last - 1;
  // Surrogate code points are not characters: below U+E000 comes U+D7FF.
  if (previous >= 0xd800 && previous <= 0xdfff) previous = 0xd7ff;
  let before = head + String.fromCodePoint(previous);
  while (before.length + HIGHEST.length <= MAX_KEY_LENGTH) before += HIGHEST;
  if (before.length < MAX_KEY_LENGTH) before += '\uffff';
  return before;
}

/** The cursor of a page of instances that starts at the first id of `type` at or after `id`. */
export function cursorAt(type: string, id: string): string | undefined {
  const before = keyBefore(id);
  return before === undefined ? undefined : JSON.stringify([type, before]);
}

/** The summary of one instance, or undefined when it does not exist. */
export async function findInstance(engine: Engine, type: string, id: string): Promise<InstanceSummary | undefined> {
  const page = await engine.pageInstances({ workflowType: type, after: cursorAt(type, id), limit: 1 });
  const found = page.items[0];
  return found !== undefined && found.workflowType === type && found.workflowId === id ? found : undefined;
}

/** A page of a search by id prefix. */
export interface PrefixPage {
  readonly items: InstanceSummary[];
  /** The cursor of the next page, when there may be more matches. */
  readonly next?: string | undefined;
}

/**
 * Instances of `type` whose id starts with `prefix`, in id order, after `after` (a `next` of an
 * earlier page) or from the first match. Matches are contiguous in id order, so the search stops
 * at the first id past them.
 */
export async function searchByPrefix(
  engine: Engine,
  query: { type: string; prefix: string; status?: InstanceStatus | undefined; after?: string | undefined; limit: number },
): Promise<PrefixPage> {
  const after = query.after ?? cursorAt(query.type, query.prefix);
  const page = await engine.pageInstances({ workflowType: query.type, status: query.status, after, limit: query.limit });
  const items: InstanceSummary[] = [];
  for (const item of page.items) {
    if (!item.workflowId.startsWith(query.prefix)) return { items };
    items.push(item);
  }
  return { items, next: page.next };
}
