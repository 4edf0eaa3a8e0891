// The projection transaction handle without a server: postgresTransaction accepts only a handle the
// store made, the handle passes statements through and counts rows, and it refuses every call once
// its transaction is over.
import { describe, expect, it } from 'vitest';
import type { SqlExecutor } from '../src/driver.js';
import { postgresTransaction } from '../src/index.js';
import { openProjectionTransaction } from '../src/projection-transaction.js';
import { rejection } from './support.js';

/** An executor that records what it was sent and answers `rows` (with `rowCount` when given). */
function recording(rows: unknown[], rowCount?: number): SqlExecutor & { sent: unknown[][] } {
  const sent: unknown[][] = [];
  return {
    sent,
    async query(text, values) {
      sent.push([text, values]);
      return rowCount === undefined ? { rows } : { rows, rowCount };
    },
  };
}

describe('postgresTransaction', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an empty object', {}],
    ['a pg pool-like client', { query: async () => ({ rows: [] }) }],
    ['a string', 'BEGIN'],
  ])('refuses %s with INVALID_ARGUMENT that says how to get a transaction', (_, value) => {
    expect(() => postgresTransaction(value)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/transactional projection on a PostgreSQL or PGlite store/) }),
    );
  });

  it('narrows the handle the store passes to apply, which sends each statement through with a copy of its values', async () => {
    const executor = recording([{ n: 1 }, { n: 2 }]);
    const { handle } = openProjectionTransaction(executor, 'orders');
    const sql = postgresTransaction(handle as unknown);
    expect(sql).toBe(handle);
    const values = ['a', 1] as const;
    expect(await sql.query<{ n: number }>('SELECT n FROM t WHERE a = $1 AND b = $2', values)).toEqual({ rows: [{ n: 1 }, { n: 2 }], rowCount: 2 });
    expect(executor.sent).toEqual([['SELECT n FROM t WHERE a = $1 AND b = $2', ['a', 1]]]);
    expect(executor.sent[0]![1]).not.toBe(values);
    // A driver's count wins over the rows returned (an UPDATE without RETURNING returns none).
    const counted = openProjectionTransaction(recording([], 3), 'orders').handle;
    expect(await counted.query('UPDATE t SET n = n + 1')).toEqual({ rows: [], rowCount: 3 });
  });

  it('a handle refuses every call once its transaction is over, and malformed calls before', async () => {
    const executor = recording([]);
    const opened = openProjectionTransaction(executor, 'orders');
    expect(await rejection(opened.handle.query(42 as unknown as string))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await rejection(opened.handle.query('SELECT 1', 'a' as unknown as unknown[]))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    opened.close();
    const late = await rejection(opened.handle.query('SELECT 1'));
    expect(late).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/projection "orders" has ended/) });
    expect(executor.sent).toEqual([]);
  });
});
