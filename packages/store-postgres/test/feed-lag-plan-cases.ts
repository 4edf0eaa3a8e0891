// The plans of the feed lag and of the unfiltered feed read pinned with EXPLAIN (FORMAT JSON), on
// PostgreSQL and PGlite alike: each walks events_feed_idx in order and stops at the limit, on empty
// tables, after an unanalysed burst of 100 000 events and after ANALYZE, custom and generic plans,
// near the head or far behind it.
import { describe, expect, it } from 'vitest';
import { uniqueName } from '@ironflow/testing';
import type { SqlTransaction } from '../src/driver.js';
import { feedStatements } from '../src/feed-sql.js';
import { MIGRATIONS } from '../src/migrations.js';
import { parseSchemaName } from '../src/schema-name.js';
import { rolledBack, rootOf, SLOW, type OpenedDriver, type PlanNode } from './claim-plan-cases.js';
import { T0 } from './support.js';

const BURST = 100_000;
/** Events per transaction in the burst, as group commits write them. */
const PER_TX = 10;
const FIRST_TX = 1000;

/**
 * What is wrong with a lag plan: every read of events must be an index scan of events_feed_idx
 * (the count's index-only) under a Limit, and nothing may be sorted or read through a bitmap.
 */
export function lagPlanProblems(root: PlanNode, expectedScans = 2): string[] {
  const problems: string[] = [];
  let scans = 0;
  const visit = (node: PlanNode, limited: boolean): void => {
    const type = node['Node Type'];
    if (type === 'Sort' || type === 'Incremental Sort') problems.push(type);
    if (node['Relation Name'] === 'events') {
      scans += 1;
      if ((type !== 'Index Scan' && type !== 'Index Only Scan') || node['Index Name'] !== 'events_feed_idx') {
        problems.push(`${type}${node['Index Name'] === undefined ? '' : ` using ${node['Index Name']}`} on events`);
      }
      if (!limited) problems.push(`an unlimited ${type} on events`);
    }
    for (const child of node.Plans ?? []) visit(child, limited || type === 'Limit');
  };
  visit(root, false);
  if (scans !== expectedScans) problems.push(`${scans} reads of events, not ${expectedScans}`);
  return problems;
}

/** Declares the case; `open` reaches the database the conformance run uses. */
export function feedLagPlanCases(open: () => Promise<OpenedDriver>): void {
  describe('feed lag plan', () => {
    it('feedLag and the unfiltered feed read walk events_feed_idx in order up to their limit: empty, after an unanalysed burst of 100 000 events, after ANALYZE', SLOW, async () => {
      const opened = await open();
      try {
        await rolledBack(opened.driver, (tx) => createAndCheck(tx));
      } finally {
        await opened.close();
      }
    });
  });
}

async function createAndCheck(tx: SqlTransaction): Promise<void> {
  const schema = parseSchemaName(uniqueName('lag_plans'));
  const s = schema.quoted;
  await tx.exec(`CREATE SCHEMA ${s}`);
  for (const migration of MIGRATIONS) await tx.exec(migration.sql(schema));
  await tx.exec(`ALTER TABLE ${s}.events SET (autovacuum_enabled = false)`);
  const check = async (stage: string): Promise<void> => {
    await checkPlans(tx, feedStatements(s).lag, stage, 2);
    await checkPlans(tx, feedStatements(s).readAll, stage, 1);
  };

  await check('empty tables');
  // Transaction ids given explicitly, PER_TX events each, as a busy store's commits leave them.
  await tx.query(
    `INSERT INTO ${s}.events (workflow_type, workflow_id, sequence, type, payload, metadata, recorded_at, tx)
     SELECT 'alpha', 'w' || n, 1, 'Happened', '{}', '{}', $1::bigint + n, ($2::bigint + n / $3::integer)::text::xid8
       FROM generate_series(1, $4::integer) AS n`,
    [T0, FIRST_TX, PER_TX, BURST],
  );
  await check(`a burst of ${BURST} events, not analysed`);
  await tx.exec(`ANALYZE ${s}.events`);
  await check('analysed tables');
}

/** Checks the custom and generic plans of a statement ($1 tx, $2 position, $3 limit) from the start, and from near the end, at one stage. */
async function checkPlans(tx: SqlTransaction, lag: string, stage: string, scans: number): Promise<void> {
  const nearEnd = [String(FIRST_TX + (BURST - 1000) / PER_TX), String(BURST - 1000)];
  const cases: [string, unknown[]][] = [
    ['from the start, limit 10 000', ['0', '0', 10_001]],
    ['from the start, limit 100 000', ['0', '0', 100_001]],
    ['1 000 events behind, limit 10 000', [...nearEnd, 10_001]],
  ];
  for (const [what, values] of cases) {
    const custom = rootOf((await tx.query(`EXPLAIN (FORMAT JSON) ${lag}`, values)).rows);
    expect(lagPlanProblems(custom, scans), `${what}, on ${stage}`).toEqual([]);
  }
  // The store runs named statements, which PostgreSQL may switch to a generic plan after five runs.
  const name = uniqueName('lag_plan');
  await tx.exec(`PREPARE ${name}(text, bigint, integer) AS ${lag}`);
  try {
    await tx.exec('SET LOCAL plan_cache_mode = force_generic_plan');
    const generic = rootOf((await tx.query(`EXPLAIN (FORMAT JSON) EXECUTE ${name}('0', 0, 10001)`)).rows);
    expect(lagPlanProblems(generic, scans), `generic plan on ${stage}`).toEqual([]);
  } finally {
    await tx.exec(`RESET plan_cache_mode; DEALLOCATE ${name}`);
  }
}
