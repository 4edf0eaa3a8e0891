// The plans of the feed lag and of the unfiltered feed read pinned with EXPLAIN (FORMAT JSON), on
// PostgreSQL and PGlite alike: each walks events_feed_idx in order and stops at the limit, on empty
// tables, after an unanalysed burst of 100 000 events and after ANALYZE, custom and generic plans,
// near the head or far behind it.
import { describe, expect, it } from 'vitest';
import type { SqlTransaction } from '../src/driver.js';
import { feedStatements } from '../src/feed-sql.js';
import type { SchemaName } from '../src/schema-name.js';
import { explainCustom, explainGeneric, inScratchSchema, SLOW, type OpenedDriver, type PlanNode } from './claim-plan-cases.js';
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
  // A scan of events reachable from `node` without passing a Limit.
  const unlimitedScanBelow = (node: PlanNode): boolean =>
    node['Relation Name'] === 'events' || (node['Node Type'] !== 'Limit' && (node.Plans ?? []).some(unlimitedScanBelow));
  const visit = (node: PlanNode, limited: boolean): void => {
    const type = node['Node Type'];
    // Sorting what limits already bounded (a page's rows) is cheap; sorting events read without a limit is not.
    if ((type === 'Sort' || type === 'Incremental Sort') && (node.Plans ?? []).some(unlimitedScanBelow)) problems.push(type);
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

/**
 * What is wrong with a filtered read's plan: the rows it looks at end at a bound found by an index
 * walk of events_feed_idx under a Limit; the events it returns lie between the position and that
 * bound (at most the rows looked at), so any index access to them is bounded, sorted or not — only
 * a sequential scan of events, or a bound found otherwise, is wrong.
 */
export function filteredReadPlanProblems(root: PlanNode): string[] {
  const scans: { node: PlanNode; limited: boolean }[] = [];
  const otherIndexes: string[] = [];
  const visit = (node: PlanNode, limited: boolean): void => {
    if (node['Relation Name'] === 'events') scans.push({ node, limited });
    // Any other index of events (the primary key, led by the workflow type) holds every event of a type.
    const index = node['Index Name'];
    if (index !== undefined && index.startsWith('events_') && index !== 'events_feed_idx') otherIndexes.push(`${node['Node Type']} using ${index}`);
    for (const child of node.Plans ?? []) visit(child, limited || node['Node Type'] === 'Limit');
  };
  visit(root, false);
  const problems: string[] = [];
  if (scans.length !== 2) problems.push(`${scans.length} reads of events, not the bound's and the page's`);
  const walks = scans.filter(({ node, limited }) => limited && (node['Node Type'] === 'Index Only Scan' || node['Node Type'] === 'Index Scan') && node['Index Name'] === 'events_feed_idx');
  if (walks.length === 0) problems.push('no ordered, limited walk of events_feed_idx finds the bound');
  for (const { node } of scans) if (node['Node Type'] === 'Seq Scan') problems.push('Seq Scan on events');
  problems.push(...otherIndexes);
  return problems;
}

/** Declares the case; `open` reaches the database the conformance run uses. */
export function feedLagPlanCases(open: () => Promise<OpenedDriver>): void {
  describe('feed lag plan', () => {
    it('feedLag and the feed reads walk events_feed_idx in order up to their limit (a filtered read up to the bound of the rows it looks at): empty, after an unanalysed burst of 100 000 events, after ANALYZE', SLOW, async () => {
      await inScratchSchema(open, 'lag_plans', ['events'], burstAndCheck);
    });
  });
}

/** Checks the plans on an empty table, after a burst, and analysed. */
async function burstAndCheck(tx: SqlTransaction, schema: SchemaName): Promise<void> {
  const s = schema.quoted;
  const check = async (stage: string): Promise<void> => {
    const statements = feedStatements(s);
    await checkPlans(tx, statements.lag, stage, 2);
    await checkPlans(tx, statements.readAll, stage, 1);
    await checkPlans(tx, statements.read, stage, 2, true);
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
async function checkPlans(tx: SqlTransaction, lag: string, stage: string, scans: number, filtered = false): Promise<void> {
  const nearEnd = [String(FIRST_TX + (BURST - 1000) / PER_TX), String(BURST - 1000)];
  // The filtered read takes ($1, $2, types, event types, limit, rows to look at); the others ($1, $2, limit).
  const limits = (n: number): unknown[] => (filtered ? [['alpha'], null, Math.floor(n / 10), n] : [n]);
  const cases: [string, unknown[]][] = [
    ['from the start, limit 10 000', ['0', '0', ...limits(10_001)]],
    ['from the start, limit 100 000', ['0', '0', ...limits(100_001)]],
    ['1 000 events behind, limit 10 000', [...nearEnd, ...limits(10_001)]],
  ];
  for (const [what, values] of cases) {
    const custom = await explainCustom(tx, lag, values);
    expect(filtered ? filteredReadPlanProblems(custom) : lagPlanProblems(custom, scans), `${filtered ? 'filtered read' : scans === 1 ? 'unfiltered read' : 'lag'}: ${what}, on ${stage}`).toEqual([]);
  }
  const generic = await explainGeneric(
    tx,
    lag,
    filtered ? 'text, bigint, text[], text[], integer, integer' : 'text, bigint, integer',
    filtered ? "'0', 0, '{alpha}', NULL, 1000, 10000" : "'0', 0, 10001",
  );
  expect(filtered ? filteredReadPlanProblems(generic) : lagPlanProblems(generic, scans), `generic plan on ${stage}`).toEqual([]);
}
