// Claim latency and plans at a large backlog, on tables analysed or not (autovacuum off): the
// numbers behind "plan-stable claims" in docs/stores/postgres.md. Not a test: it times things.
// Run: source /tmp/svc.env && npx tsx --conditions=@ironflow/source scripts/measure-claims.ts [--plans]
import pg from 'pg';
import { migratePostgresStore } from '../src/index.js';
import { parseSchemaName } from '../src/schema-name.js';
import { statements } from '../src/sql.js';

const url = process.env.IRONFLOW_TEST_POSTGRES_URL;
if (url === undefined) throw new Error('set IRONFLOW_TEST_POSTGRES_URL (source /tmp/svc.env)');
const showPlans = process.argv.includes('--plans');
const T0 = Date.UTC(2026, 0, 1);
const RUNS = 50;
const TYPES = ['alpha', 'beta', 'gamma'];

/** Median of the claim's round trip (50 runs, each rolled back so every run sees the same backlog). */
async function measure(client: pg.PoolClient, name: string, claim: string, params: unknown[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS + 5; i++) {
    await client.query('BEGIN');
    const started = process.hrtime.bigint();
    // Named, as the store runs it by default: after five runs PostgreSQL may switch to a generic plan.
    await client.query({ name, text: claim, values: params });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    await client.query('ROLLBACK');
    if (i >= 5) times.push(elapsed);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const schema = parseSchemaName('ironflow_claim_bench');
  const s = schema.quoted;
  const claim = statements(schema).effects.claim;
  const rows: string[] = [];
  try {
    for (const backlog of [10_000, 100_000]) {
      for (const analysed of [false, true]) {
        await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
        await migratePostgresStore({ pool, schema: schema.name });
        await pool.query(`ALTER TABLE ${s}.effects SET (autovacuum_enabled = false)`);
        // One statement, as a burst of commits lands before autovacuum looks at the table.
        await pool.query(
          `INSERT INTO ${s}.effects (id, workflow_type, workflow_id, payload, status, created_at, updated_at, available_at)
           SELECT 'e' || lpad(n::text, 7, '0'), ($2::text[])[1 + n % 3], 'w' || n, '{}', 'pending', $1::bigint, $1::bigint, $1::bigint + n
             FROM generate_series(1, $3::integer) AS n`,
          [T0, TYPES, backlog],
        );
        if (analysed) await pool.query(`ANALYZE ${s}.effects`);
        const client = await pool.connect();
        try {
          for (const [types, limit] of [[['alpha'], 10], [TYPES, 100]] as const) {
            const params = [T0 + backlog * 2, limit, types, 'bench', T0 + backlog * 2 + 60_000];
            if (showPlans) {
              await client.query('BEGIN');
              const plan = await client.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${claim}`, params);
              await client.query('ROLLBACK');
              console.log(`\n--- ${backlog} rows, ${analysed ? 'analysed' : 'not analysed'}, ${types.length} type(s), limit ${limit}`);
              console.log(plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
            }
            const median = await measure(client, `claim_${rows.length}`, claim, params);
            rows.push(`| ${backlog} | ${analysed ? 'yes' : 'no'} | ${types.length} | ${limit} | ${median.toFixed(2)} ms |`);
          }
        } finally {
          client.release();
        }
      }
    }
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await pool.end();
  }
  console.log('\n| backlog | analysed | types | limit | claim median of 50 |\n|---|---|---|---|---|');
  console.log(rows.join('\n'));
}

await main();
