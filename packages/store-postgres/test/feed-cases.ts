// The feed never skips an event on a real server: a transaction held open on a second connection,
// with an event written, keeps every later commit out of the feed until it ends, and then all of
// them are read once, the held ones first. Only a server can hold one transaction open beside
// others (PGlite runs one at a time), so these cases run in the PostgreSQL conformance runs.
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { parseCommit, type FeedEvent, type WorkflowStore } from '@ironflow/core/store';
import { uniqueName, type ConformanceContext } from '@ironflow/testing';
import { encodeCommit } from '../src/commit-document.js';
import { decodeFeedPosition } from '../src/feed-sql.js';
import { parseSchemaName } from '../src/schema-name.js';
import { commit, eventually, T0 } from './support.js';

const idOf = (e: FeedEvent): string => `${e.workflowId}#${e.sequence}`;

/**
 * Reads the feed of `type` after `after` to its current end, page by page: until a page returns
 * nothing and leaves `next` where it was (a filtered page may be empty yet move past what it skipped).
 */
async function readToEnd(store: WorkflowStore, type: string, after: string | undefined, limit = 2): Promise<{ events: FeedEvent[]; next: string | undefined }> {
  const events: FeedEvent[] = [];
  let next = after;
  for (;;) {
    const page = await store.readFeed({ workflowTypes: [type], after: next, limit });
    events.push(...page.events);
    const moved = page.next !== next;
    next = page.next ?? next;
    if (page.events.length === 0 && !moved) return { events, next };
  }
}

/** Declares the held-transaction cases on the suite's namespace. */
export function feedCases(ctx: ConformanceContext, settings: { readonly url: string }): void {
  const clients: pg.Client[] = [];
  afterAll(async () => {
    for (const client of clients) await client.end();
  });

  it('a transaction held open with an event written keeps every later commit out of the feed until it ends, then each is read once in order', async () => {
    const { store } = ctx;
    const quoted = parseSchemaName(ctx.namespace).quoted;
    const type = uniqueName('held');
    const ref = (id: string) => ({ type, id });

    // An event before the held transaction: the reader reaches it.
    await store.commit(commit(ref('a'), 0));
    const before = await eventually('the first event', async () => {
      const read = await readToEnd(store, type, undefined);
      return read.events.length === 1 ? read : undefined;
    });
    expect(before.events.map(idOf)).toEqual(['a#1']);

    // A second connection commits through the store's function, inside a transaction it does not end.
    const held = new pg.Client({ connectionString: settings.url });
    clients.push(held);
    await held.connect();
    const commitHeld = async (version: number) => {
      const document = encodeCommit(parseCommit(commit(ref('h'), version, { now: T0 + version })));
      const { rows } = await held.query(`SELECT r_outcome FROM ${quoted}.commit_decisions($1::jsonb)`, [JSON.stringify([JSON.parse(document)])]);
      expect(rows).toEqual([{ r_outcome: 'ok' }]);
    };
    await held.query('BEGIN');
    try {
      await commitHeld(0);

      // Later commits through the store, on other connections; each returns once committed.
      await store.commit(commit(ref('b'), 0));
      await store.commit(commit(ref('b'), 1, { now: T0 + 1 }));
      await store.commitMany([commit(ref('c'), 0), commit(ref('d'), 0)]);
      // The held transaction appends again: its new event takes a position after every later commit's.
      await commitHeld(1);

      // Nothing past the held transaction is readable: not through the type's feed, not as the head.
      const blocked = await readToEnd(store, type, before.next, 10);
      expect(blocked.events).toEqual([]);
      expect(blocked.next).toBe(before.next);
      const head = await store.feedHead();
      expect(head).toBeDefined();
      expect(compare(head!, before.next!)).toBeLessThanOrEqual(0);
      await held.query('COMMIT');
    } catch (error) {
      await held.query('ROLLBACK');
      throw error;
    }

    // Once it has ended, every event is read exactly once: the held transaction's first, in the
    // order it wrote them, then the later commits in commit order; none is skipped.
    const expected = ['h#1', 'h#2', 'b#1', 'b#2', 'c#1', 'd#1'];
    const after = await eventually('the events after the held transaction', async () => {
      const read = await readToEnd(store, type, before.next);
      return read.events.length >= expected.length ? read : undefined;
    });
    expect(after.events.map(idOf)).toEqual(expected);
    const positions = after.events.map((e) => e.position);
    for (let i = 1; i < positions.length; i++) expect(compare(positions[i - 1]!, positions[i]!)).toBeLessThan(0);
    // The held transaction's second event has a greater sequence value than the later commits'
    // events: ordering by position alone would have put it last.
    expect(BigInt(decodeFeedPosition(positions[1]!).position)).toBeGreaterThan(BigInt(decodeFeedPosition(positions[2]!).position));
    // From the start, the whole feed of the type once; resuming after each event gives the rest.
    const whole = await readToEnd(store, type, undefined, 3);
    expect(whole.events.map(idOf)).toEqual(['a#1', ...expected]);
    for (let k = 0; k < whole.events.length; k++) {
      expect((await readToEnd(store, type, whole.events[k]!.position, 100)).events.map(idOf)).toEqual(whole.events.slice(k + 1).map(idOf));
    }
  });

  it('a transaction that rolls back leaves no event, and the reader moves on past where it was', async () => {
    const { store } = ctx;
    const quoted = parseSchemaName(ctx.namespace).quoted;
    const type = uniqueName('undone');
    const held = new pg.Client({ connectionString: settings.url });
    clients.push(held);
    await held.connect();
    await held.query('BEGIN');
    const document = encodeCommit(parseCommit(commit({ type, id: 'r' }, 0)));
    await held.query(`SELECT r_outcome FROM ${quoted}.commit_decisions($1::jsonb)`, [JSON.stringify([JSON.parse(document)])]);
    await store.commit(commit({ type, id: 'later' }, 0));
    expect((await readToEnd(store, type, undefined)).events).toEqual([]);
    await held.query('ROLLBACK');
    const read = await eventually('the later event', async () => {
      const events = (await readToEnd(store, type, undefined)).events;
      return events.length > 0 ? events : undefined;
    });
    expect(read.map(idOf)).toEqual(['later#1']);
  });
}

/** Orders two positions of this store by (transaction id, position). */
function compare(a: string, b: string): number {
  const x = decodeFeedPosition(a);
  const y = decodeFeedPosition(b);
  const tx = BigInt(x.tx) - BigInt(y.tx);
  const d = tx !== 0n ? tx : BigInt(x.position) - BigInt(y.position);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}
