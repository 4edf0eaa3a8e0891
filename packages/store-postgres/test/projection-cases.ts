// Transactional projections on PostgreSQL and PGlite alike, added to each conformance run: apply's
// SQL commits with the checkpoint or not at all, a fenced holder's apply never runs, a takeover
// waits for a save in flight and resumes after it, and each checkpoint operation is one round trip.
import { describe, expect, it } from 'vitest';
import { isIronflowError, type FeedPosition, type ProjectionLease, type WorkflowStore } from '@ironflow/core/store';
import { uniqueName, type ConformanceContext } from '@ironflow/testing';
import { postgresTransaction, type PostgresProjectionTransaction } from '../src/index.js';
import { parseSchemaName } from '../src/schema-name.js';
import type { CountedStore } from './sql-store-cases.js';
import { commit, eventually, rejection, T0 } from './support.js';

const LEASE = 30_000;

/** What the cases need besides the suite: raw SQL on the suite's database, and a counting store. */
export interface ProjectionCaseSettings {
  /** Runs one statement outside any store (a read model's DDL, reading it back, pg_stat_activity). */
  sql(text: string, values?: unknown[]): Promise<Record<string, unknown>[]>;
  counted(namespace: string): Promise<CountedStore>;
  /** A server, where one connection can wait on another's lock; PGlite runs one transaction at a time. */
  readonly server: boolean;
}

/** A read model table in the suite's schema: one row per applied event, keyed by it. */
async function readModel(ctx: ConformanceContext, settings: ProjectionCaseSettings): Promise<{ table: string; rows(): Promise<string[]> }> {
  const table = `${parseSchemaName(ctx.namespace).quoted}.${uniqueName('read_model')}`;
  await settings.sql(`CREATE TABLE ${table} (event text PRIMARY KEY, runner text NOT NULL)`);
  return {
    table,
    rows: async () => (await settings.sql(`SELECT event, runner FROM ${table} ORDER BY event`)).map((r) => `${String(r.event)}:${String(r.runner)}`),
  };
}

/**
 * Positions of `count` fresh events of one new type, once readable: read from the head before
 * they were committed, following `next` (a filtered page looks at a bounded number of rows).
 */
async function positions(store: WorkflowStore, count: number): Promise<FeedPosition[]> {
  const type = uniqueName('projected');
  let after = await store.feedHead();
  for (let i = 0; i < count; i++) await store.commit(commit({ type, id: `i${i}` }, 0));
  const found: FeedPosition[] = [];
  await eventually('the events in the feed', async () => {
    const page = await store.readFeed({ workflowTypes: [type], after, limit: 100 });
    found.push(...page.events.map((e) => e.position));
    after = page.next ?? after;
    return found.length >= count ? true : undefined;
  });
  return found;
}

/** An apply that inserts one read-model row per event name, as `runner`. */
function inserting(table: string, runner: string, events: readonly string[]) {
  return async (tx: unknown): Promise<void> => {
    const sql = postgresTransaction(tx);
    for (const event of events) {
      const result = await sql.query(`INSERT INTO ${table} (event, runner) VALUES ($1, $2)`, [event, runner]);
      expect(result.rowCount).toBe(1);
    }
  };
}

async function claim(store: WorkflowStore, name: string, owner: string, now = T0): Promise<{ lease: ProjectionLease; position?: FeedPosition | undefined }> {
  const claimed = await store.claimProjection({ name, owner, now, leaseMs: LEASE });
  if (claimed === undefined) throw new Error(`${owner} could not claim ${name}`);
  return claimed;
}

/** Declares the cases on the suite's namespace. */
export function projectionTransactionCases(ctx: ConformanceContext, settings: ProjectionCaseSettings): void {
  const statusOf = async (name: string) => (await ctx.store.listProjections()).find((p) => p.name === name);

  describe('transactional projections', () => {
    it('the store runs apply in the checkpoint transaction', () => {
      expect(ctx.store.projectionTransactions).toBe(true);
    });

    it("apply's SQL writes commit with the checkpoint and its dead letters; the handle answers rows and counts", async () => {
      const { table, rows } = await readModel(ctx, settings);
      const name = uniqueName('projection');
      const [p1, p2] = await positions(ctx.store, 2);
      const a = await claim(ctx.store, name, 'runner-a');
      let seen: { rows: Record<string, unknown>[]; rowCount: number } | undefined;
      await ctx.store.saveProjection(a.lease, { now: T0 + 1, position: p2, parked: [{ id: 'pdl-1', workflowType: 't', workflowId: 'i', sequence: 1, eventType: 'E', position: p1!, error: 'x', attempts: 1 }] }, async (tx) => {
        await inserting(table, 'a', ['e1', 'e2'])(tx);
        seen = await postgresTransaction(tx).query<{ event: string }>(`SELECT event FROM ${table} ORDER BY event`);
        expect((await postgresTransaction(tx).query(`UPDATE ${table} SET runner = runner WHERE event = $1`, ['none'])).rowCount).toBe(0);
      });
      expect(seen).toEqual({ rows: [{ event: 'e1' }, { event: 'e2' }], rowCount: 2 });
      expect(await rows()).toEqual(['e1:a', 'e2:a']);
      expect(await statusOf(name)).toMatchObject({ position: p2, updatedAt: T0 + 1, deadLetters: 1 });
    });

    it('a throwing apply leaves neither its rows nor the checkpoint, and its error comes back as thrown, SQL errors too', async () => {
      const { table, rows } = await readModel(ctx, settings);
      const name = uniqueName('projection');
      const [p1] = await positions(ctx.store, 1);
      const a = await claim(ctx.store, name, 'runner-a');
      const thrown = new RangeError('the read model refused the batch');
      const failing = async (tx: unknown) => {
        await inserting(table, 'a', ['e1'])(tx);
        throw thrown;
      };
      await expect(ctx.store.saveProjection(a.lease, { now: T0 + 1, position: p1 }, failing)).rejects.toBe(thrown);
      // A statement of apply's that fails: the driver's own error, not a StoreError.
      const duplicate = await rejection(ctx.store.saveProjection(a.lease, { now: T0 + 2, position: p1 }, inserting(table, 'a', ['e2', 'e2'])));
      expect(duplicate).toMatchObject({ code: '23505' });
      expect(isIronflowError(duplicate)).toBe(false);
      expect(await rows()).toEqual([]);
      expect(await statusOf(name)).toMatchObject({ token: a.lease.token, updatedAt: T0 });
      expect((await statusOf(name))?.position).toBeUndefined();
      // The lease is intact: the next save lands.
      await ctx.store.saveProjection(a.lease, { now: T0 + 3, position: p1 }, inserting(table, 'a', ['e1']));
      expect(await rows()).toEqual(['e1:a']);
    });

    it('a save with a stale token never calls apply and writes nothing', async () => {
      const { table, rows } = await readModel(ctx, settings);
      const name = uniqueName('projection');
      const [p1, p2] = await positions(ctx.store, 2);
      const a = await claim(ctx.store, name, 'runner-a');
      const b = await claim(ctx.store, name, 'runner-b', T0 + LEASE);
      await ctx.store.saveProjection(b.lease, { now: T0 + LEASE + 1, position: p1 });
      let called = false;
      const error = await rejection(
        ctx.store.saveProjection(a.lease, { now: T0 + LEASE + 2, position: p2 }, async (tx) => {
          called = true;
          await inserting(table, 'a', ['e1'])(tx);
        }),
      );
      expect(isIronflowError(error, 'LEASE_LOST')).toBe(true);
      expect(called).toBe(false);
      expect(await rows()).toEqual([]);
      expect(await statusOf(name)).toMatchObject({ position: p1, owner: 'runner-b', token: b.lease.token, updatedAt: T0 + LEASE + 1 });
    });

    it('the handle is usable only while apply runs: afterwards every call is refused', async () => {
      const { table } = await readModel(ctx, settings);
      const name = uniqueName('projection');
      const a = await claim(ctx.store, name, 'runner-a');
      let kept: PostgresProjectionTransaction | undefined;
      await ctx.store.saveProjection(a.lease, { now: T0 + 1 }, async (tx) => {
        kept = postgresTransaction(tx);
      });
      const late = await rejection(kept!.query(`INSERT INTO ${table} (event, runner) VALUES ('late', 'a')`));
      expect(late).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/has ended/) });
      await rejection(
        ctx.store.saveProjection(a.lease, { now: T0 + 2 }, async (tx) => {
          kept = postgresTransaction(tx);
          throw new Error('rolled back');
        }),
      );
      expect(await rejection(kept!.query('SELECT 1'))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    });

    it("the old token's and the new token's saves racing from two stores: only the new one's rows and checkpoint land", async () => {
      const { table, rows } = await readModel(ctx, settings);
      const other = await ctx.open(ctx.namespace);
      for (let round = 0; round < 5; round++) {
        const name = uniqueName('projection');
        const [p1, p2] = await positions(ctx.store, 2);
        const a = await claim(ctx.store, name, 'runner-a');
        const b = await claim(other, name, 'runner-b', T0 + LEASE);
        const [old, current] = await Promise.allSettled([
          ctx.store.saveProjection(a.lease, { now: T0 + LEASE + 1, position: p2 }, inserting(table, 'a', [`${round}-old`])),
          other.saveProjection(b.lease, { now: T0 + LEASE + 1, position: p1 }, inserting(table, 'b', [`${round}-new`])),
        ]);
        expect(old.status === 'rejected' && isIronflowError(old.reason, 'LEASE_LOST'), `round ${round}`).toBe(true);
        expect(current.status, `round ${round}`).toBe('fulfilled');
        expect((await statusOf(name))?.position).toBe(p1);
      }
      expect(await rows()).toEqual(['0-new:b', '1-new:b', '2-new:b', '3-new:b', '4-new:b']);
    });

    it('a takeover claimed while a save with apply is in flight waits for it, then resumes after its checkpoint; the old holder is fenced from then on', async () => {
      const { table, rows } = await readModel(ctx, settings);
      const other = await ctx.open(ctx.namespace);
      const name = uniqueName('projection');
      const [p1, p2] = await positions(ctx.store, 2);
      const a = await claim(ctx.store, name, 'runner-a');
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let applying!: () => void;
      const started = new Promise<void>((resolve) => {
        applying = resolve;
      });
      // A's lease has run out, but its save is still running: B's claim must not slip in between.
      const saving = ctx.store.saveProjection(a.lease, { now: T0 + LEASE + 1, position: p1 }, async (tx) => {
        await inserting(table, 'a', ['e1'])(tx);
        applying();
        await gate;
      });
      await started;
      const claiming = other.claimProjection({ name, owner: 'runner-b', now: T0 + LEASE + 2, leaseMs: LEASE });
      try {
        if (settings.server) {
          // The claim is on the server, waiting for the projection row A's transaction holds.
          const quoted = parseSchemaName(ctx.namespace).quoted;
          await eventually('the claim to wait on the row lock', async () => {
            const waiting = await settings.sql(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`, [
              `%INSERT INTO ${quoted}.projections AS p%`,
            ]);
            return waiting[0]?.n === 1 ? true : undefined;
          });
        }
      } finally {
        // Never leave A's transaction open, whatever failed above.
        release();
      }
      await saving;
      const b = await claiming;
      expect(b).toMatchObject({ lease: { owner: 'runner-b', token: a.lease.token + 1 }, position: p1 });
      let called = false;
      await expect(
        ctx.store.saveProjection(a.lease, { now: T0 + LEASE + 3, position: p2 }, async () => {
          called = true;
        }),
      ).rejects.toMatchObject({ code: 'LEASE_LOST' });
      expect(called).toBe(false);
      await other.saveProjection(b!.lease, { now: T0 + LEASE + 4, position: p2 }, inserting(table, 'b', ['e2']));
      // Each event applied once, by whoever held the checkpoint when it was applied.
      expect(await rows()).toEqual(['e1:a', 'e2:b']);
      expect((await statusOf(name))?.position).toBe(p2);
    });

    it('claim, renew, a save without apply, release, a reset keeping dead letters, listing, redrive, skip and feedLag cost one round trip each; bad input none', async () => {
      const opened = await settings.counted(ctx.namespace);
      try {
        const { store } = opened;
        const [p1] = await positions(store, 1);
        const name = uniqueName('projection');
        const trips = async (run: () => Promise<unknown>) => {
          const before = opened.trips();
          await run();
          return opened.trips() - before;
        };
        let lease: ProjectionLease | undefined;
        expect(await trips(async () => (lease = (await claim(store, name, 'runner-a')).lease))).toBe(1);
        expect(await trips(() => store.renewProjection(lease!, T0 + 1, LEASE))).toBe(1);
        const parked = { id: 'pdl-1', workflowType: 't', workflowId: 'i', sequence: 1, eventType: 'E', position: p1!, error: 'x', attempts: 1 };
        expect(await trips(() => store.saveProjection(lease!, { now: T0 + 2, position: p1, leaseMs: LEASE, parked: [parked] }))).toBe(1);
        expect(await trips(() => store.redriveProjectionDeadLetter(name, 'pdl-1', T0 + 3))).toBe(1);
        expect(await trips(() => store.listProjectionDeadLetters({ projection: name }))).toBe(1);
        expect(await trips(() => store.skipProjectionDeadLetter(name, 'pdl-1'))).toBe(1);
        expect(await trips(() => store.releaseProjection(lease!, T0 + 4))).toBe(1);
        expect(await trips(() => store.resetProjection({ name, now: T0 + 5, keepDeadLetters: true }))).toBe(1);
        expect(await trips(() => store.listProjections())).toBe(1);
        expect(await trips(() => store.feedLag({ after: p1 }))).toBe(1);
        expect(await trips(() => store.saveProjection(lease!, { now: T0 + 6, position: 'x' }).catch(() => undefined))).toBe(0);
        expect(await trips(() => store.feedLag({ after: '1.x' }).catch(() => undefined))).toBe(0);
        expect(await trips(() => store.resetProjection({ name, now: T0 + 7, position: '01.1' }).catch(() => undefined))).toBe(0);
      } finally {
        await opened.close();
      }
    });
  });
}
