// The client side of commit_decisions and settle_leases over a scripted executor, no server: what
// is sent, deadlock retries, the one-commit-at-a-time fallback and the mapping back to caller order.
import { describe, expect, it } from 'vitest';
import { parseCommit, StoreError, type CheckedCommit, type LeaseOperation } from '@ironflow/core/store';
import { commitBatch } from '../src/commit-batch.js';
import { DEADLOCK_ATTEMPTS } from '../src/deadlock-retry.js';
import type { SqlExecutor, SqlResult } from '../src/driver.js';
import { settleBatch } from '../src/settle-batch.js';
import { commit, T0 } from './support.js';

/** An error shaped like the ones `pg` and PGlite raise for a server ErrorResponse. */
function serverError(code: string, fields: Record<string, string> = {}): Error {
  return Object.assign(new Error(`server error ${code}`), { code, ...fields });
}

/** An executor that answers each statement with the next scripted reply and records what it was sent. */
function scripted(replies: ((documents: unknown[]) => SqlResult | Error)[]): SqlExecutor & { sent: unknown[][] } {
  const sent: unknown[][] = [];
  return {
    sent,
    async query(_text, values) {
      const documents = JSON.parse(String(values?.[0])) as unknown[];
      sent.push(documents);
      const reply = replies.shift();
      if (reply === undefined) throw new Error('no reply scripted');
      const result = reply(documents);
      if (result instanceof Error) throw result;
      return result;
    },
  };
}

/** Rows saying `ok` for every commit sent. */
const allOk = (documents: unknown[]): SqlResult => ({ rows: documents.map((_, i) => ({ r_index: i, r_outcome: 'ok', r_version: 1, r_holder: null })) });

const ids = (documents: unknown[]): string[] => documents.map((d) => (d as { workflowId: string }).workflowId);

function commits(...refIds: string[]): CheckedCommit[] {
  return refIds.map((id) => parseCommit(commit({ type: 'w', id }, 0)));
}

describe('commitBatch', () => {
  it('sends the batch in lock order and maps each outcome back to its commit, whatever order the rows come in', async () => {
    const db = scripted([
      (documents) => ({
        rows: documents
          .map((d, i) => ({ r_index: i, r_outcome: (d as { workflowId: string }).workflowId === 'b' ? 'version-conflict' : 'ok', r_version: 7, r_holder: null }))
          .reverse(),
      }),
    ]);
    const outcomes = await commitBatch(db, 'statement', commits('c', 'b', 'a'));
    expect(db.sent.map(ids)).toEqual([['a', 'b', 'c']]);
    expect(outcomes).toEqual([{ outcome: 'ok' }, { outcome: 'version-conflict', actualVersion: 7 }, { outcome: 'ok' }]);
  });

  it('sends a batch that lost a deadlock again, and gives up with the deadlock error after DEADLOCK_ATTEMPTS sends', async () => {
    const deadlock = serverError('40P01');
    const recovered = scripted([() => deadlock, allOk]);
    expect(await commitBatch(recovered, 'statement', commits('a', 'b'))).toEqual([{ outcome: 'ok' }, { outcome: 'ok' }]);
    expect(recovered.sent.map(ids)).toEqual([['a', 'b'], ['a', 'b']]);

    const stuck = scripted(Array.from({ length: DEADLOCK_ATTEMPTS }, () => () => deadlock));
    await expect(commitBatch(stuck, 'statement', commits('a', 'b'))).rejects.toBe(deadlock);
    expect(stuck.sent).toHaveLength(DEADLOCK_ATTEMPTS);
  });

  it('on a taken effect id, sends each commit alone in the caller order, and only the guilty one gets duplicate-id', async () => {
    const guilty = parseCommit(commit({ type: 'w', id: 'a' }, 0, { effects: [{ id: 'fresh', payload: 1 }, { id: 'taken', payload: 2 }] }));
    const taken = serverError('23505', { constraint: 'effects_pkey', detail: 'Key (id)=(taken) already exists.' });
    const db = scripted([() => taken, allOk, () => taken, allOk]);
    const outcomes = await commitBatch(db, 'statement', [...commits('z'), guilty, ...commits('b')]);
    expect(db.sent.map(ids)).toEqual([['a', 'b', 'z'], ['z'], ['a'], ['b']]);
    expect(outcomes).toEqual([{ outcome: 'ok' }, { outcome: 'duplicate-id', kind: 'effect', id: 'taken' }, { outcome: 'ok' }]);
  });

  it('other unique violations, a wrong number of rows and a position returned twice fail the batch', async () => {
    const other = serverError('23505', { constraint: 'something_else' });
    await expect(commitBatch(scripted([() => other]), 'statement', commits('a', 'b'))).rejects.toBe(other);
    await expect(commitBatch(scripted([() => ({ rows: [] })]), 'statement', commits('a'))).rejects.toBeInstanceOf(StoreError);
    const twice = { r_index: 0, r_outcome: 'ok', r_version: 1, r_holder: null };
    await expect(commitBatch(scripted([() => ({ rows: [twice, twice] })]), 'statement', commits('a', 'b'))).rejects.toBeInstanceOf(StoreError);
  });
});

describe('settleBatch', () => {
  it('sends the changes by kind and id, retries a deadlock, and maps each result back', async () => {
    const change = (kind: 'effect' | 'timer', id: string): LeaseOperation => ({ op: 'complete', lease: { kind, id, token: 't' }, now: T0 });
    const db = scripted([
      () => serverError('40P01'),
      (documents) => ({ rows: documents.map((d, i) => ({ r_index: i, r_applied: (d as { id: string }).id !== 'b' })) }),
    ]);
    const results = await settleBatch(db, 'statement', [change('timer', 'a'), change('effect', 'b'), change('effect', 'a')]);
    expect(db.sent[1]!.map((d) => `${(d as { kind: string }).kind}/${(d as { id: string }).id}`)).toEqual(['effect/a', 'effect/b', 'timer/a']);
    expect(results).toEqual(['ok', 'lease-lost', 'ok']);
  });
});
