// The client side of commit_decisions and settle_leases over a scripted executor, no server: what
// is sent, deadlock and key-race retries, the one-commit-at-a-time fallback and the mapping back to caller order.
import { describe, expect, it } from 'vitest';
import { parseCommit, StoreError, type CheckedCommit, type LeaseOperation } from '@ironflow/core/store';
import { commitBatch } from '../src/commit-batch.js';
import { DEADLOCK_ATTEMPTS } from '../src/deadlock-retry.js';
import { KEY_RACE_ATTEMPTS } from '../src/unique-violation.js';
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

  it('a batch that lost a key race to a redrive is sent again, and the function then reports the key conflict', async () => {
    const race = serverError('23505', { constraint: 'effects_live_key_idx' });
    const conflict = (documents: unknown[]): SqlResult => ({
      rows: documents.map((_, i) => (i === 0 ? { r_index: i, r_outcome: 'effect-key-conflict', r_version: null, r_holder: 'charge' } : { r_index: i, r_outcome: 'ok', r_version: 1, r_holder: null })),
    });
    const db = scripted([() => race, conflict]);
    expect(await commitBatch(db, 'statement', commits('a', 'b'))).toEqual([{ outcome: 'effect-key-conflict', key: 'charge' }, { outcome: 'ok' }]);
    expect(db.sent.map(ids)).toEqual([['a', 'b'], ['a', 'b']]);

    const stuck = scripted(Array.from({ length: KEY_RACE_ATTEMPTS }, () => () => race));
    await expect(commitBatch(stuck, 'statement', commits('a'))).rejects.toBe(race);
    expect(stuck.sent).toHaveLength(KEY_RACE_ATTEMPTS);
  });

  it('a completing commit names the sending store object as its origin; other commits do not', async () => {
    const db = scripted([allOk]);
    const finishing = parseCommit(commit({ type: 'w', id: 'b' }, 0, { completed: true }));
    await commitBatch(db, 'statement', [...commits('a'), finishing], 'store-1');
    expect(db.sent[0]!.map((d) => (d as { origin?: string }).origin)).toEqual([undefined, 'store-1']);
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
  it('sends the changes by kind and id, retries a deadlock, and maps each result back, a cancelled row as cancelled', async () => {
    const change = (kind: 'effect' | 'timer', id: string): LeaseOperation => ({ op: 'complete', lease: { kind, id, token: 't' }, now: T0 });
    const db = scripted([
      () => serverError('40P01'),
      (documents) => ({
        rows: documents.map((d, i) => {
          const id = (d as { id: string }).id;
          return { r_index: i, r_applied: id === 'a', r_cancelled: id === 'c' };
        }),
      }),
    ]);
    const results = await settleBatch(db, 'statement', [change('timer', 'a'), change('effect', 'b'), change('effect', 'a'), change('effect', 'c')]);
    expect(db.sent[1]!.map((d) => `${(d as { kind: string }).kind}/${(d as { id: string }).id}`)).toEqual(['effect/a', 'effect/b', 'effect/c', 'timer/a']);
    expect(results).toEqual(['ok', 'lease-lost', 'ok', 'cancelled']);
  });
});
