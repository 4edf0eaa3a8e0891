// The plans of the statements that read one instance's live effects or timers by (workflow_type,
// workflow_id), pinned with EXPLAIN (FORMAT JSON) on PostgreSQL and PGlite alike: cancelWork of
// commit_one and of commit_decisions' routed results, cancel_instance, delete_instance's check for
// live work, and a page of an instance's work by status. Each must read the instance index, never
// a claim index (led by the type alone: every live row of the type) nor the whole table: on empty
// tables, after an unanalysed burst of 20 000 live rows of one type, and after ANALYZE, custom and
// generic plans (PL/pgSQL caches a generic plan after five calls). The statements are the ones the
// functions of the latest schema version are built from, with parameters for their variables.
import { describe, expect, it } from 'vitest';
import type { SqlTransaction } from '../src/driver.js';
import { cancelInstanceWorkStatement, cancelWorkStatement, followedCancelStatement, type WorkTable } from '../src/migration-control.js';
import { LIVE_NOT_SETTLED } from '../src/migration-live.js';
import { liveWorkExists } from '../src/migration-versions.js';
import { listWorkQuery } from '../src/pages-sql.js';
import type { SchemaName } from '../src/schema-name.js';
import { explainCustom, explainGeneric, inScratchSchema, SLOW, type OpenedDriver, type PlanNode } from './claim-plan-cases.js';
import { T0 } from './support.js';

const BURST = 20_000;
const TYPE = 'bench.job';

/** What is wrong with a plan reading one instance's rows of `table`: every read of the table must be through its instance index. */
export function instancePlanProblems(root: PlanNode, table: WorkTable): string[] {
  const problems: string[] = [];
  const index = `${table}_instance_idx`;
  let reads = 0;
  const visit = (node: PlanNode): void => {
    const type = node['Node Type'];
    if (type === 'Bitmap Index Scan' || (node['Relation Name'] === table && type !== 'ModifyTable' && type !== 'Bitmap Heap Scan')) {
      reads += 1;
      if (!['Index Scan', 'Index Only Scan', 'Bitmap Index Scan'].includes(type) || node['Index Name'] !== index) {
        problems.push(`${type}${node['Index Name'] === undefined ? '' : ` using ${node['Index Name']}`} on ${table}`);
      }
    }
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(root);
  if (reads === 0) problems.push(`no read of ${table}`);
  return problems;
}

/** One statement to explain: its text, the types of its parameters, and their values (custom plan) as SQL literals too (generic plan). */
interface Case {
  readonly what: string;
  readonly table: WorkTable;
  readonly text: string;
  readonly types: string;
  readonly values: unknown[];
  readonly literals: string;
  /**
   * A join of the batch's commits to the table, whose generic plan may hash-join a sequential scan
   * while the table is empty and never analysed (estimated at 10 pages, cheaper than an index
   * probe per commit); once it holds rows, or statistics, it probes the instance index per commit.
   */
  readonly batch?: true;
}

/** The statements, for instance `id` of TYPE, each acknowledging effect `ack` where one does. */
function cases(schema: SchemaName, id: string, ack: string, now: number): Case[] {
  const s = schema.quoted;
  const live = LIVE_NOT_SETTLED;
  const vars = { type: '$1', id: '$2', now: '$3' };
  const commit = JSON.stringify([{ workflowType: TYPE, workflowId: id, now, cancelWork: true, ack: { kind: 'effect', id: ack } }]);
  const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
  const byInstance = { types: 'text, text, bigint', values: [TYPE, id, now], literals: `${quote(TYPE)}, ${quote(id)}, ${now}` };
  return (['effects', 'timers'] as const).flatMap((table): Case[] => {
    const kind = table === 'effects' ? 'effect' : 'timer';
    return [
      { what: `commit_one's cancelWork of ${table}`, table, text: cancelWorkStatement(s, table, live, vars), ...byInstance },
      {
        what: `commit_decisions' cancelWork of ${table} for routed results`,
        table,
        text: followedCancelStatement(s, table, live, '$1::jsonb', '$2::integer[]'),
        types: 'jsonb, integer[]',
        values: [commit, [0]],
        literals: `${quote(commit)}, ARRAY[0]`,
        batch: true,
      },
      {
        what: `cancel_instance's cancel of ${table}`,
        table,
        text: cancelInstanceWorkStatement(s, table, live, { ...vars, reason: '$4' }),
        types: `${byInstance.types}, text`,
        values: [...byInstance.values, 'stop'],
        literals: `${byInstance.literals}, 'stop'`,
      },
      {
        what: `delete_instance's check for live ${table}`,
        table,
        text: `SELECT ${liveWorkExists(s, table, live, '$1', '$2')}`,
        types: 'text, text',
        values: [TYPE, id],
        literals: `${quote(TYPE)}, ${quote(id)}`,
      },
      ...(['pending', 'leased', 'dead'] as const).map((status): Case => {
        const [text, values] = listWorkQuery(s, { kind, workflowType: TYPE, workflowId: id, status, limit: 50 });
        return {
          what: `a page of one instance's ${status} ${table}`,
          table,
          text,
          types: 'text, text, text[], integer',
          values,
          literals: `${quote(TYPE)}, ${quote(id)}, ARRAY[${(values[2] as string[]).map(quote).join(', ')}], 50`,
        };
      }),
    ];
  });
}

/** Declares the plan cases; `open` reaches the database the conformance run uses. */
export function instancePlanCases(open: () => Promise<OpenedDriver>): void {
  describe('plan-stable reads of an instance\'s live work', () => {
    it('cancelWork (commit_one, routed results), cancel_instance, delete_instance\'s check and a page by status read the instance index: empty, after an unanalysed burst of 20 000 live rows of one type, after ANALYZE', SLOW, async () => {
      await inScratchSchema(open, 'plans', ['effects', 'timers'], burstAndCheck);
    });
  });
}

/** Checks the plans on empty tables, after a burst, and analysed. */
async function burstAndCheck(tx: SqlTransaction, schema: SchemaName): Promise<void> {
  const s = schema.quoted;
  const now = T0 + 2 * BURST;
  const check = (stage: string, empty = false) => checkPlans(tx, schema, now, stage, empty);

  await check('empty tables', true);

  // A burst of one type, as executeMany writes it: one instance per job, each with one live
  // effect and one live timer, some leased; a few settled rows besides.
  await tx.query(
    `INSERT INTO ${s}.effects (id, workflow_type, workflow_id, payload, status, lease_token, lease_expires_at, created_at, updated_at, available_at)
     SELECT 'e' || n, $2::text, 'j' || n, '{}', CASE WHEN n % 10 = 0 THEN 'leased' WHEN n % 97 = 0 THEN 'done' ELSE 'pending' END,
            CASE WHEN n % 10 = 0 THEN 'token' END, CASE WHEN n % 10 = 0 THEN $1::bigint + 60000 END, $1::bigint, $1::bigint, $1::bigint + n
       FROM generate_series(1, $3::integer) AS n`,
    [T0, TYPE, BURST],
  );
  await tx.query(
    `INSERT INTO ${s}.timers (id, workflow_type, workflow_id, key, fire_at, input, status, created_at, updated_at, available_at)
     SELECT 't' || n, $2::text, 'j' || n, 'k', $1::bigint + n, '{}', CASE WHEN n % 97 = 0 THEN 'fired' ELSE 'pending' END, $1::bigint, $1::bigint, $1::bigint + n
       FROM generate_series(1, $3::integer) AS n`,
    [T0, TYPE, BURST],
  );
  await check(`a burst of ${BURST} live rows of one type, not analysed`);

  await tx.exec(`ANALYZE ${s}.effects; ANALYZE ${s}.timers`);
  await check('analysed tables');
}

/** Checks the custom and generic plan of every case at one stage. */
async function checkPlans(tx: SqlTransaction, schema: SchemaName, now: number, stage: string, empty: boolean): Promise<void> {
  const explain = (text: string, values: unknown[]) => explainCustom(tx, text, values);
  const problems: string[] = [];
  for (const c of cases(schema, 'j5', 'e5', now)) {
    const text = c.text.replace(/;\s*$/, '');
    const what = `${c.what}, on ${stage}`;
    for (const p of instancePlanProblems(await explain(text, c.values), c.table)) problems.push(`${what}: ${p}`);
    const tolerated = empty && c.batch ? `Seq Scan on ${c.table}` : undefined;
    for (const p of instancePlanProblems(await explainGeneric(tx, text, c.types, c.literals), c.table)) {
      if (p !== tolerated) problems.push(`generic plan of ${what}: ${p}`);
    }
  }
  expect(problems).toEqual([]);
}
