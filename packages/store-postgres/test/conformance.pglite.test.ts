// The store conformance suite on PGlite (in-process PostgreSQL, no server), plus durability of a
// file-backed PGlite store across close/reopen and across a killed process.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { describeStoreConformance } from '@ironflow/testing';
import { createPGliteStore, type PGliteLike } from '../src/index.js';
import { pgliteDriver } from '../src/pglite-driver.js';
import { batchStoreCases } from './batch-cases.js';
import { pgliteChannelProbe } from './channel-probe.js';
import { claimPlanCases } from './claim-plan-cases.js';
import { feedLagPlanCases } from './feed-lag-plan-cases.js';
import { instancePlanCases } from './instance-plan-cases.js';
import { openPGliteCopy, seedDataDir } from './pglite-template.js';
import { projectionTransactionCases } from './projection-cases.js';
import { sqlStoreCases, type CountedStore } from './sql-store-cases.js';

// One in-memory PGlite database for the file, a copy of the run's template, shared by every store
// the suite opens: the namespace is the schema, as on a PostgreSQL server. A copy per namespace
// would cost a tarball load (and a database's memory) for each; a schema costs one migration.
let shared: Promise<PGlite> | undefined;
const database = (): Promise<PGlite> => (shared ??= openPGliteCopy());

/** A store on the shared database whose client counts statements and transactions. */
async function counted(schema: string): Promise<CountedStore> {
  const db = await database();
  let trips = 0;
  const counting: PGliteLike = {
    query(text, params) {
      trips += 1;
      return db.query(text, params);
    },
    transaction(callback) {
      trips += 1;
      return db.transaction(callback);
    },
    listen: (channel, callback) => db.listen(channel, callback),
    close: () => db.close(),
    get closed() {
      return db.closed;
    },
  };
  const store = await createPGliteStore({ pglite: counting, schema, migrate: false });
  return { store, trips: () => trips, close: () => store.close() };
}

describeStoreConformance({
  name: 'pglite',
  async open(schema) {
    const pglite = await database();
    const store = await createPGliteStore({ pglite, schema });
    return {
      store,
      close: () => store.close(),
      async destroy() {
        await pglite.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      },
    };
  },
  additionalTests(ctx) {
    sqlStoreCases(ctx, counted);
    batchStoreCases(ctx, { counted, probe: async (channel) => pgliteChannelProbe(await database(), channel) });
    claimPlanCases(async () => ({ driver: pgliteDriver(await database()), close: async () => undefined }));
    feedLagPlanCases(async () => ({ driver: pgliteDriver(await database()), close: async () => undefined }));
    instancePlanCases(async () => ({ driver: pgliteDriver(await database()), close: async () => undefined }));
    projectionTransactionCases(ctx, {
      sql: async (text, values) => (await (await database()).query<Record<string, unknown>>(text, values)).rows,
      counted,
      server: false,
    });
  },
});
afterAll(async () => {
  await (await shared)?.close();
});

const T0 = Date.UTC(2026, 0, 1);
const ref = { type: 'durable', id: 'order-1' };

function firstCommit(now: number) {
  return {
    ref,
    expectedVersion: 0,
    now,
    events: [
      { workflowType: ref.type, workflowId: ref.id, sequence: 1, type: 'Placed', payload: { text: 'kept \u0000 😀' }, metadata: { decidedAt: now }, recordedAt: now },
    ],
    effects: [{ id: 'effect-1', payload: { type: 'reserve' } }],
    cancelTimers: [],
    timers: [{ id: 'timer-1', key: 'deadline', fireAt: now + 60_000, input: { type: 'Expire' } }],
    completed: false,
    idempotencyKey: 'request-1',
  };
}

// Budget of tests whose duration depends on the machine's load (opening PGlite databases, one
// real initdb, a child process starting tsx): one no busy machine reaches, not the shared default.
const SLOW = { timeout: 300_000 };

describe('a file-backed PGlite store', () => {
  it('on a new nested path creates the parent directories and the database', SLOW, async () => {
    // The one initdb of the tests besides the template's: this is the path a new user takes.
    const base = await mkdtemp(join(tmpdir(), 'ironflow-pglite-new-'));
    try {
      const store = await createPGliteStore({ dataDir: join(base, 'nested', 'db') });
      try {
        await store.commit(firstCommit(T0));
        expect((await store.load(ref)).version).toBe(1);
      } finally {
        await store.close();
      }
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('sees everything committed after it is closed and reopened', SLOW, async () => {
    const base = await mkdtemp(join(tmpdir(), 'ironflow-pglite-'));
    const dataDir = join(base, 'db');
    try {
      await seedDataDir(dataDir);
      const first = await createPGliteStore({ dataDir });
      await first.commit(firstCommit(T0));
      await first.close();

      const reopened = await createPGliteStore({ dataDir });
      try {
        const loaded = await reopened.load(ref, { idempotencyKey: 'request-1' });
        expect(loaded.version).toBe(1);
        expect(loaded.events[0]!.payload).toEqual({ text: 'kept \u0000 😀' });
        expect(loaded.idempotent).toEqual({ key: 'request-1', version: 1, eventCount: 1, committedAt: T0 });
        expect((await reopened.listEffects(ref)).map((e) => e.status)).toEqual(['pending']);
        expect(await reopened.nextTimerAt([ref.type])).toBe(T0 + 60_000);
      } finally {
        await reopened.close();
      }
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('keeps every commit acknowledged before its process was killed', SLOW, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ironflow-pglite-kill-'));
    try {
      await seedDataDir(dataDir);
      const child = spawn(
        process.execPath,
        ['--conditions=@ironflow/source', '--import', 'tsx', fileURLToPath(new URL('./fixtures/commit-then-die.ts', import.meta.url)), dataDir],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
      expect(signal).toBe('SIGKILL');
      const committed = Number(/committed (\d+)/.exec(output)?.[1]);
      expect(committed).toBeGreaterThan(0);

      const reopened = await createPGliteStore({ dataDir });
      try {
        const loaded = await reopened.load({ type: 'durable', id: 'killed' });
        expect(loaded.version).toBeGreaterThanOrEqual(committed);
        expect(loaded.events.map((e) => e.sequence)).toEqual(Array.from({ length: loaded.version }, (_, i) => i + 1));
      } finally {
        await reopened.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('createPGliteStore arguments', () => {
  it('needs exactly one of pglite and dataDir, and a valid schema name, or throws INVALID_ARGUMENT', async () => {
    await expect(createPGliteStore({})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(createPGliteStore({ dataDir: 'memory://', pglite: await database() })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(createPGliteStore({ dataDir: 'memory://', schema: 'Robert"); DROP TABLE students;--' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
