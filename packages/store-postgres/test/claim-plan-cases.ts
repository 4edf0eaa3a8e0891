// The claims' plans pinned with EXPLAIN (FORMAT JSON), on PostgreSQL and PGlite alike: on empty
// tables, after an unanalysed burst of 100 000 rows, and after ANALYZE, custom and generic plans.
import { describe, expect, it } from 'vitest';
import { uniqueName } from '@ironflow/testing';
import type { SqlDriver, SqlTransaction } from '../src/driver.js';
import { MIGRATIONS } from '../src/migrations.js';
import { parseSchemaName, type SchemaName } from '../src/schema-name.js';
import { statements } from '../src/sql.js';
import { T0 } from './support.js';

/** One node of an EXPLAIN (FORMAT JSON) plan: only the fields these checks read. */
export interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly Plans?: readonly PlanNode[];
}

type Table = 'effects' | 'timers';

const BURST = 100_000;
const NOW = T0 + 2 * BURST;
const TYPES = ['alpha', 'beta', 'gamma'];

// Inserting and analysing 200 000 rows takes seconds on a busy machine; generous, never asserted.
export const SLOW = { timeout: 300_000 };

/** Raised to roll back the plan test's transaction while handing its result out. */
class Rollback {
  constructor(readonly value: unknown) {}
}

/** Runs `work` in a transaction that is always rolled back, so the schema and rows it creates vanish. */
export async function rolledBack(driver: SqlDriver, work: (tx: SqlTransaction) => Promise<void>): Promise<void> {
  try {
    await driver.transaction(async (tx) => {
      await work(tx);
      throw new Rollback(undefined);
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
}

/**
 * One plan test: a fresh, migrated schema inside a transaction that is always rolled back, with
 * autovacuum off on `tables` (as on a server where it has not come by yet); `check` does the rest.
 */
export async function inScratchSchema(
  open: () => Promise<OpenedDriver>,
  label: string,
  tables: readonly string[],
  check: (tx: SqlTransaction, schema: SchemaName) => Promise<void>,
): Promise<void> {
  const opened = await open();
  try {
    await rolledBack(opened.driver, async (tx) => {
      const schema = parseSchemaName(uniqueName(label));
      await tx.exec(`CREATE SCHEMA ${schema.quoted}`);
      for (const migration of MIGRATIONS) await tx.exec(migration.sql(schema));
      await tx.exec(tables.map((table) => `ALTER TABLE ${schema.quoted}.${table} SET (autovacuum_enabled = false)`).join('; '));
      await check(tx, schema);
    });
  } finally {
    await opened.close();
  }
}

/** The custom plan of `text` with `values`. */
export async function explainCustom(tx: SqlTransaction, text: string, values: unknown[]): Promise<PlanNode> {
  return rootOf((await tx.query(`EXPLAIN (FORMAT JSON) ${text}`, values)).rows);
}

/**
 * The generic plan of `text` (parameter `types`, run with the SQL literals `args`). The store runs
 * named statements by default, and PostgreSQL may switch one to a generic plan (planned without
 * the parameters' values) after five runs: that plan must be right too.
 */
export async function explainGeneric(tx: SqlTransaction, text: string, types: string, args: string): Promise<PlanNode> {
  const name = uniqueName('plan');
  await tx.exec(`PREPARE ${name}(${types}) AS ${text}`);
  try {
    await tx.exec('SET LOCAL plan_cache_mode = force_generic_plan');
    return rootOf((await tx.query(`EXPLAIN (FORMAT JSON) EXECUTE ${name}(${args})`)).rows);
  } finally {
    await tx.exec(`RESET plan_cache_mode; DEALLOCATE ${name}`);
  }
}

/** The index a claim of `table` walks: effects by rank (by tag and rank when the claim names tags), timers by fire time. */
function claimIndexOf(table: Table, tagged = false): string {
  if (table === 'timers') return 'timers_claimable_by_type_idx';
  return tagged ? 'effects_claimable_by_tag_idx' : 'effects_claimable_by_rank_idx';
}

/** What is wrong with a claim's plan on `table`: every read of it must walk an index, and no sort may sit over an unlimited read of it. */
export function planProblems(root: PlanNode, table: Table, claimIndex = claimIndexOf(table)): string[] {
  const problems: string[] = [];
  const allowed = new Set([claimIndex, `${table}_pkey`]);
  let walksClaimIndex = false;
  const visit = (node: PlanNode, sortWithoutLimit: boolean): void => {
    const type = node['Node Type'];
    if (node['Relation Name'] === table && type !== 'ModifyTable') {
      if ((type === 'Index Scan' || type === 'Index Only Scan') && allowed.has(node['Index Name'] ?? '')) {
        if (node['Index Name'] === claimIndex) walksClaimIndex = true;
      } else {
        problems.push(`${type}${node['Index Name'] === undefined ? '' : ` using ${node['Index Name']}`} on ${table}`);
      }
      if (sortWithoutLimit) problems.push(`a Sort over every matching row of ${table}`);
    }
    const below = type === 'Sort' || (sortWithoutLimit && type !== 'Limit');
    for (const child of node.Plans ?? []) visit(child, below);
  };
  visit(root, false);
  if (!walksClaimIndex) problems.push(`no scan of ${claimIndex}`);
  return problems;
}

/** The root plan node of an EXPLAIN (FORMAT JSON) result, whether the client parsed the json or not. */
export function rootOf(rows: readonly unknown[]): PlanNode {
  const cell = (rows[0] as Record<string, unknown>)['QUERY PLAN'];
  const document = (typeof cell === 'string' ? JSON.parse(cell) : cell) as { Plan: PlanNode }[];
  return document[0]!.Plan;
}

/** A driver on the database a conformance run uses, and how to let it go. */
export interface OpenedDriver {
  readonly driver: SqlDriver;
  close(): Promise<void>;
}

/** Declares the plan cases; `open` reaches the database the conformance run uses. */
export function claimPlanCases(open: () => Promise<OpenedDriver>): void {
  describe('plan-stable claims', () => {
    it('claims (by rank, by tag and rank, by fire time) and the next timer walk their claim index by type: empty, after an unanalysed burst of 100 000 rows, after ANALYZE', SLOW, async () => {
      await inScratchSchema(open, 'plans', ['effects', 'timers'], burstAndCheck);
    });
  });
}

/** Checks the plans on empty tables, after a burst, and analysed. */
async function burstAndCheck(tx: SqlTransaction, schema: SchemaName): Promise<void> {
  const s = schema.quoted;
  const check = (stage: string) => checkPlans(tx, schema, stage);

  await check('empty tables');

  // One statement per table: a burst lands before any statistics exist. Most effects have the
  // default priority and no tag, as most work does; some have a tag, a higher or a lower priority.
  await tx.query(
    `INSERT INTO ${s}.effects (id, workflow_type, workflow_id, payload, tag, priority, status, created_at, updated_at, available_at)
     SELECT 'e' || lpad(n::text, 7, '0'), ($2::text[])[1 + n % 3], 'w' || n, '{}',
            CASE WHEN n % 10 = 0 THEN 'gpu' END, CASE WHEN n % 7 = 0 THEN -5 WHEN n % 11 = 0 THEN 3 ELSE 0 END,
            'pending', $1::bigint, $1::bigint, $1::bigint + n
       FROM generate_series(1, $3::integer) AS n`,
    [T0, TYPES, BURST],
  );
  // Paused work of one type's instances and of another type: claims skip it inside the same walks.
  await tx.query(`INSERT INTO ${s}.paused (workflow_type, workflow_id, since) VALUES ('alpha', 'w3', $1), ('gamma', '', $1)`, [T0]);
  await tx.query(
    `INSERT INTO ${s}.timers (id, workflow_type, workflow_id, key, fire_at, input, status, created_at, updated_at, available_at)
     SELECT 't' || lpad(n::text, 7, '0'), ($2::text[])[1 + n % 3], 'w' || n, NULL, $1::bigint + n, '{}', 'pending', $1::bigint, $1::bigint, $1::bigint + n
       FROM generate_series(1, $3::integer) AS n`,
    [T0, TYPES, BURST],
  );
  await check(`a burst of ${BURST} rows, not analysed`);

  await tx.exec(`ANALYZE ${s}.effects; ANALYZE ${s}.timers; ANALYZE ${s}.paused`);
  await check('analysed tables');
}

/** Checks the custom and generic plans of both claims and of nextTimerAt at one stage. */
async function checkPlans(tx: SqlTransaction, schema: SchemaName, stage: string): Promise<void> {
  const sql = statements(schema);
  const explain = (text: string, values: unknown[]) => explainCustom(tx, text, values);
  const planGeneric = (text: string, types: string, args: string) => explainGeneric(tx, text, types, args);

  for (const table of ['effects', 'timers'] as const) {
    for (const [types, limit] of [[['alpha'], 10], [TYPES, 100]] as const) {
      const what = `${table} claim of ${types.length} type(s), limit ${limit}, on ${stage}`;
      const custom = await explain(sql[table].claim, [NOW, limit, types, 'w', NOW + 60_000]);
      expect(planProblems(custom, table), what).toEqual([]);
      const generic = await planGeneric(
        sql[table].claim,
        'bigint, integer, text[], text, bigint',
        `${NOW}, ${limit}, ARRAY[${types.map((t) => `'${t}'`).join(', ')}], 'w', ${NOW + 60_000}`,
      );
      expect(planProblems(generic, table), `generic plan of the ${what}`).toEqual([]);
    }
  }
  for (const [tags, limit] of [[['gpu'], 10], [['gpu', 'tpu'], 100]] as const) {
    const what = `tagged effects claim of ${tags.length} tag(s), limit ${limit}, on ${stage}`;
    const index = claimIndexOf('effects', true);
    const custom = await explain(sql.claimTaggedEffects, [NOW, limit, TYPES, 'w', NOW + 60_000, tags]);
    expect(planProblems(custom, 'effects', index), what).toEqual([]);
    const generic = await planGeneric(
      sql.claimTaggedEffects,
      'bigint, integer, text[], text, bigint, text[]',
      `${NOW}, ${limit}, ARRAY['alpha', 'beta'], 'w', ${NOW + 60_000}, ARRAY[${tags.map((t) => `'${t}'`).join(', ')}]`,
    );
    expect(planProblems(generic, 'effects', index), `generic plan of the ${what}`).toEqual([]);
  }
  const next = await explain(sql.nextTimerAt, [TYPES]);
  expect(planProblems(next, 'timers'), `nextTimerAt on ${stage}`).toEqual([]);
  const nextGeneric = await planGeneric(sql.nextTimerAt, 'text[]', `ARRAY['alpha', 'beta']`);
  expect(planProblems(nextGeneric, 'timers'), `generic plan of nextTimerAt on ${stage}`).toEqual([]);
}
