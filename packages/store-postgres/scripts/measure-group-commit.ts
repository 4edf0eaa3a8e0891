// Group commit against single commits on one server: N effect-emitting commits one by one, 16 at a
// time, and as one commitMany; then N completions settled one by one and as one settleMany.
// Not a test: it times things. Run: source /tmp/svc.env && npx tsx --conditions=@ironflow/source scripts/measure-group-commit.ts
import pg from 'pg';
import { parseCommit, type CommitRequest } from '@ironflow/core/store';
import { encodeCommit } from '../src/commit-document.js';
import { createPostgresStore, migratePostgresStore, type PostgresStore } from '../src/index.js';

const url = process.env.IRONFLOW_TEST_POSTGRES_URL;
if (url === undefined) throw new Error('set IRONFLOW_TEST_POSTGRES_URL (source /tmp/svc.env)');
const N = 500;
const RUNS = 5;
const T0 = Date.UTC(2026, 0, 1);
let run = 0;

/** N creating commits with one effect each, on instances no other run uses. */
function requests(): CommitRequest[] {
  run += 1;
  const type = `bench${run}`;
  return Array.from({ length: N }, (_, i) => {
    const ref = { type, id: `i${i}` };
    return {
      ref,
      expectedVersion: 0,
      now: T0,
      events: [{ workflowType: type, workflowId: ref.id, sequence: 1, type: 'Started', payload: { i }, metadata: { decidedAt: T0 }, recordedAt: T0 }],
      effects: [{ id: `${type}-e${i}`, payload: { i } }],
      cancelTimers: [],
      timers: [],
      completed: false,
    };
  });
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function inParallel<T>(items: readonly T[], width: number, each: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await each(items[next++]!);
    }),
  );
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function claimAll(store: PostgresStore, type: string) {
  return store.claimEffects({ now: T0, limit: N, types: [type], leaseMs: 600_000, owner: 'bench' });
}

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 16 });
  const schema = `ironflow_group_bench_${process.pid}`;
  try {
    const settings = await pool.query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'wal_sync_method') ORDER BY name",
    );
    console.log(settings.rows.map((r) => `${r.name}=${r.setting}`).join(', '));
    await migratePostgresStore({ pool, schema });
    const store = createPostgresStore({ pool, schema });
    // The two functions called directly, without the store kit around them: what the SQL costs.
    const raw = (text: string, wrap: (document: string) => string) => (r: CommitRequest) =>
      pool.query({ name: `bench_${text.length}`, text, values: [wrap(encodeCommit(parseCommit(r)))] });
    const modes: Record<string, () => Promise<unknown>> = {
      'commit, one by one': () => inParallel(requests(), 1, (r) => store.commit(r)),
      'SQL commit_decisions([one]), one by one': () =>
        inParallel(requests(), 1, raw(`SELECT r_index, r_outcome FROM "${schema}".commit_decisions($1::json)`, (d) => `[${d}]`)),
      'SQL commit_decision (previous release), one by one': () =>
        inParallel(requests(), 1, raw(`SELECT r_outcome FROM "${schema}".commit_decision($1::json)`, (d) => d)),
      'commit, 16 at a time': () => inParallel(requests(), 16, (r) => store.commit(r)),
      'commitMany of all': () => store.commitMany(requests()),
    };
    const times = new Map<string, number[]>();
    for (const work of Object.values(modes)) await work(); // warm-up: plans, connections
    // Round robin, so a change in the machine's load touches every mode alike.
    for (let i = 0; i < RUNS; i++) for (const [name, work] of Object.entries(modes)) times.set(name, [...(times.get(name) ?? []), await timed(work)]);
    const results: string[] = [];
    for (const [name, runs] of times) {
      const ms = median(runs);
      results.push(`${name.padEnd(52)} ${ms.toFixed(1).padStart(8)} ms  ${Math.round((N / ms) * 1000).toString().padStart(7)} commits/s`);
    }
    for (const [name, batched] of [['complete, one by one', false], ['settleMany of all', true]] as const) {
      const times: number[] = [];
      for (let i = 0; i < RUNS + 1; i++) {
        const batch = requests();
        await store.commitMany(batch);
        const claimed = await claimAll(store, batch[0]!.ref.type);
        const changes = claimed.map((c) => ({ op: 'complete' as const, lease: c.lease, now: T0 + 1 }));
        const ms = await timed(() => (batched ? store.settleMany(changes) : inParallel(changes, 1, (c) => store.complete(c.lease, c.now))));
        if (i > 0) times.push(ms);
      }
      const ms = median(times);
      results.push(`${name.padEnd(52)} ${ms.toFixed(1).padStart(8)} ms  ${Math.round((N / ms) * 1000).toString().padStart(7)} changes/s`);
    }
    console.log(`N = ${N}, median of ${RUNS} runs`);
    for (const line of results) console.log(line);
    await store.close();
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}

await main();
