// The store conformance suite on PGlite (in-process PostgreSQL, no server), plus durability of a
// file-backed PGlite store across close/reopen and across a killed process.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { describeStoreConformance } from '@ironflow/testing';
import { createPGliteStore } from '../src/index.js';

// One in-memory PGlite database for the file, shared by every store the suite opens: the
// namespace is the schema, as on a PostgreSQL server.
let shared: PGlite | undefined;
describeStoreConformance({
  name: 'pglite',
  async open(schema) {
    shared ??= await PGlite.create();
    const pglite = shared;
    const store = await createPGliteStore({ pglite, schema });
    return {
      store,
      close: () => store.close(),
      async destroy() {
        await pglite.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      },
    };
  },
});
afterAll(async () => {
  await shared?.close();
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

describe('a file-backed PGlite store', () => {
  it('sees everything committed after it is closed and reopened', async () => {
    // A nested path whose parents do not exist yet: the store creates them.
    const base = await mkdtemp(join(tmpdir(), 'ironflow-pglite-'));
    const dataDir = join(base, 'nested', 'db');
    try {
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

  it('keeps every commit acknowledged before its process was killed', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ironflow-pglite-kill-'));
    try {
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
    const pglite = await PGlite.create();
    await expect(createPGliteStore({ dataDir: 'memory://', pglite })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await pglite.close();
    await expect(createPGliteStore({ dataDir: 'memory://', schema: 'Robert"); DROP TABLE students;--' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
