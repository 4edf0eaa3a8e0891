// Projections across real processes (issue 12): two runner processes race for one projection over
// a backlog; the test SIGKILLs the holder while it holds a batch open, mid-write. The other takes
// the projection over once the lease lapses, and the read model ends with every event applied:
// exactly once on PostgreSQL (the read model is written in the checkpoint's transaction), at least
// once on Redis. The checkpoint never moves backwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, silentLogger } from '@ironflow/runtime';
import { createPostgresStore, migratePostgresStore } from '@ironflow/store-postgres';
import { createRedisStore } from '@ironflow/store-redis';
import { testServerUrl, uniqueName } from '@ironflow/testing';
import { ledgerWorkflow, PROJECTION, RUNNER_LINE, seedInputs, TOTAL_EVENTS, type RunnerConfig } from './fixtures/projection-scenario.js';
import type { StoreTarget } from './fixtures/worker-config.js';

const runnerPath = fileURLToPath(new URL('./fixtures/projection-runner.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));
/** Lease of the runners: a takeover waits this long after the kill. */
const LEASE_MS = 2_000;
/** A ceiling on a busy machine, not an expectation. */
const RUN_TIMEOUT_MS = 300_000;

/** A runner process and the lines it printed. */
interface Runner {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: string;
}

function startRunner(target: StoreTarget, name: string): Runner {
  const config: RunnerConfig = { ...target, leaseMs: LEASE_MS, name };
  const child = spawn(process.execPath, ['--conditions=@ironflow/source', '--import', 'tsx', runnerPath, JSON.stringify(config)], { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] });
  const runner: Runner = {
    name,
    child,
    lines: [],
    stderr: '',
    exited: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))),
  };
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    runner.lines.push(...lines);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    runner.stderr = (runner.stderr + chunk.toString()).slice(-4_000);
  });
  return runner;
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = RUN_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const batchesOf = (runner: Runner): number => runner.lines.filter((l) => l.startsWith(RUNNER_LINE.inBatch)).length;

/** Compares two positions of one store: PostgreSQL `<tx>.<position>`, Redis stream ids `<ms>-<seq>` joined by commas (one per partition). */
function comparePositions(a: string, b: string): number {
  const parts = (p: string) => p.split(/[.,-]/).map(BigInt);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0n) - (y[i] ?? 0n);
    if (d !== 0n) return d < 0n ? -1 : 1;
  }
  return 0;
}

/** One run: seed the backlog, start two runners, kill the holder mid-batch, let the other finish. */
async function takeover(
  store: WorkflowStore,
  target: StoreTarget,
  readModel: { complete: () => Promise<boolean>; checkExactlyOnce?: () => Promise<void>; checkAtLeastOnce?: () => Promise<number> },
): Promise<void> {
  const seeder = createEngine({ store, logger: silentLogger, workflows: [ledgerWorkflow] });
  const inputs = seedInputs();
  for (let i = 0; i < inputs.length; i += 200) {
    const results = await seeder.executeMany(ledgerWorkflow, inputs.slice(i, i + 200));
    expect(results.every((r) => r.status === 'accepted')).toBe(true);
  }

  // Watch the checkpoint the whole time: it must never go back.
  const seen: string[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const position = (await store.listProjections()).find((p) => p.name === PROJECTION)?.position;
      if (position !== undefined && seen.at(-1) !== position) seen.push(position);
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
  })();

  const runners = [startRunner(target, 'runner-a'), startRunner(target, 'runner-b')];
  try {
    // The holder has written a few batches; kill it while it holds the next one open.
    const holder = await until('a runner has projected three batches', () => runners.find((r) => batchesOf(r) >= 3));
    const survivor = runners.find((r) => r !== holder)!;
    const done = batchesOf(holder);
    await until('the holder is inside its next batch', () => (batchesOf(holder) > done ? true : undefined));
    holder.child.kill('SIGKILL');
    expect((await holder.exited).signal).toBe('SIGKILL');
    expect(batchesOf(survivor), 'the standby projected nothing while the holder lived').toBe(0);

    await until('the survivor has projected every event', async () => ((await readModel.complete()) ? true : undefined));
    expect(survivor.lines.some((l) => l.startsWith(RUNNER_LINE.holding))).toBe(true);
    const caughtUp = await until('the checkpoint reaches the head', async () => {
      const head = await store.feedHead();
      const position = (await store.listProjections()).find((p) => p.name === PROJECTION)?.position;
      return head !== undefined && position !== undefined && comparePositions(position, head) >= 0 ? position : undefined;
    });
    expect(caughtUp).toEqual(expect.any(String));

    if (readModel.checkExactlyOnce) await readModel.checkExactlyOnce();
    if (readModel.checkAtLeastOnce) console.log(`[projection takeover] ${target.store}: ${await readModel.checkAtLeastOnce()} events delivered twice after the kill`);

    // A graceful stop releases the lease.
    survivor.child.kill('SIGTERM');
    expect((await survivor.exited).code, survivor.stderr).toBe(0);
    const status = (await store.listProjections()).find((p) => p.name === PROJECTION);
    expect(status?.owner).toBeUndefined();
  } finally {
    watching = false;
    await watcher;
    for (const r of runners) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  }
  for (let i = 1; i < seen.length; i++) expect(comparePositions(seen[i]!, seen[i - 1]!), `checkpoint ${seen[i - 1]} → ${seen[i]}`).toBeGreaterThan(0);
  expect(seen.length).toBeGreaterThan(3);
}

const postgresUrl = testServerUrl('postgres');
const redisUrl = testServerUrl('redis');

describe.skipIf(!postgresUrl)('projection takeover across processes (PostgreSQL, SQL read model)', () => {
  it(
    'a SIGKILLed holder is taken over; every event is in the read model exactly once; the checkpoint never goes back',
    async () => {
      const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
      const schema = uniqueName('ironflow_projection');
      await migratePostgresStore({ pool, schema });
      await pool.query(`CREATE TABLE "${schema}".ledger_read_model (id bigserial PRIMARY KEY, account text NOT NULL, sequence integer NOT NULL, amount integer NOT NULL, runner text NOT NULL)`);
      // Every checkpoint write, in commit order (the projection's row lock orders them).
      await pool.query(`CREATE TABLE "${schema}".checkpoint_log (id bigserial PRIMARY KEY, position text, token bigint)`);
      await pool.query(`CREATE FUNCTION "${schema}".log_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO "${schema}".checkpoint_log (position, token) VALUES (NEW.position, NEW.token); RETURN NEW; END $$`);
      await pool.query(`CREATE TRIGGER log_checkpoint AFTER INSERT OR UPDATE OF position ON "${schema}".projections FOR EACH ROW EXECUTE FUNCTION "${schema}".log_checkpoint()`);
      const store = createPostgresStore({ pool, schema });
      try {
        await takeover(store, { store: 'postgres', url: postgresUrl!, schema }, {
          complete: async () => {
            const { rows } = await pool.query<{ n: string }>(`SELECT count(DISTINCT (account, sequence)) AS n FROM "${schema}".ledger_read_model`);
            return Number(rows[0]!.n) === TOTAL_EVENTS;
          },
          checkExactlyOnce: async () => {
            const { rows } = await pool.query<{ n: string; distinct: string; sum: string }>(
              `SELECT count(*) AS n, count(DISTINCT (account, sequence)) AS distinct, sum(amount) AS sum FROM "${schema}".ledger_read_model`,
            );
            expect(rows[0]).toEqual({ n: String(TOTAL_EVENTS), distinct: String(TOTAL_EVENTS), sum: String((TOTAL_EVENTS / 5) * (1 + 2 + 3 + 4 + 5)) });
            const runners = await pool.query<{ runner: string }>(`SELECT DISTINCT runner FROM "${schema}".ledger_read_model`);
            expect(runners.rows.length, 'both runners wrote part of the read model').toBe(2);
            const log = await pool.query<{ position: string | null; token: string }>(`SELECT position, token FROM "${schema}".checkpoint_log ORDER BY id`);
            const positions = log.rows.flatMap((r) => (r.position === null ? [] : [r.position]));
            for (let i = 1; i < positions.length; i++) expect(comparePositions(positions[i]!, positions[i - 1]!)).toBeGreaterThanOrEqual(0);
            const tokens = log.rows.map((r) => Number(r.token));
            expect(tokens, 'tokens in commit order never go back').toEqual([...tokens].sort((a, b) => a - b));
          },
        });
      } finally {
        await store.close();
        await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
        await pool.end();
      }
    },
    RUN_TIMEOUT_MS,
  );
});

describe.skipIf(!redisUrl)('projection takeover across processes (Redis, at-least-once read model)', () => {
  it(
    'a SIGKILLed holder is taken over; every event is in the read model at least once; the checkpoint never goes back',
    async () => {
      const client = new Redis(redisUrl!);
      const keyPrefix = uniqueName('ironflow_projection');
      const store = createRedisStore({ client, keyPrefix });
      const readModel = `${keyPrefix}:read-model`;
      try {
        await takeover(store, { store: 'redis', url: redisUrl!, keyPrefix }, {
          complete: async () => (await client.hlen(readModel)) === TOTAL_EVENTS,
          checkAtLeastOnce: async () => {
            const counts = Object.values(await client.hgetall(readModel)).map(Number);
            expect(counts).toHaveLength(TOTAL_EVENTS);
            expect(counts.every((n) => n >= 1)).toBe(true);
            return counts.filter((n) => n > 1).length;
          },
        });
      } finally {
        await client.del(readModel);
        await store.destroy();
        await store.close();
        client.disconnect();
      }
    },
    RUN_TIMEOUT_MS,
  );
});
