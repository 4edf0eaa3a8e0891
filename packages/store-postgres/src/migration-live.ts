// Schema version 10: an instance's live work is read through the instance index, whatever the
// statistics say. Frozen once released, like every migration; later changes go in a new version.
import { cancelInstance, commitDecisions, commitOne, type LiveRows, type WorkWrites } from './migration-control.js';
import { deleteInstance, VERSIONED } from './migration-versions.js';
import type { Migration } from './migrations.js';

/** The statuses a row of each table may settle in (the tables' CHECK constraints): live is every other. */
const SETTLED = { effects: `'done', 'dead', 'cancelled'`, timers: `'fired', 'dead', 'cancelled'` } as const;

/**
 * Live, as version 10 writes it in the statements that read one instance's live work: not settled.
 * The same rows as `status IN ('pending', 'leased')` (the tables' CHECK constraints allow no other
 * status), but no partial index of live rows can be proved to hold them, so the planner cannot
 * walk a claim index (led by the workflow type alone, through every live row of the type) and
 * reads the instance index, (workflow_type, workflow_id, created_at, id), or the whole table when
 * that is cheaper. The condition stays on the updated table, so a row a concurrent settle or claim
 * changed is checked again when its lock is granted.
 */
export const LIVE_NOT_SETTLED: LiveRows = (w, table) => `${w}.status NOT IN (${SETTLED[table]})`;

const NOTE = `-- The live effects and timers of an instance (cancelWork) are found through the instance index:
-- live is written "status NOT IN (settled statuses)", from which no claim index's predicate can be
-- proved, so no plan walks every live row of the type (on tables not yet analysed the planner
-- chose the claim index, led by the type alone, and PL/pgSQL kept that plan).`;

/** The commit functions of version 10: version 9's, live work of an instance read by the instance index. */
const LIVE: WorkWrites = {
  ...VERSIONED,
  live: LIVE_NOT_SETTLED,
  notes: {
    commitOne: `-- commit_one, version 10: as version 9.
${NOTE}`,
    commitDecisions: `-- commit_decisions, version 10: as version 9, with version 10's commit_one.
${NOTE}`,
    cancelInstance: `-- cancel_instance, version 10: as version 9, and the instance's live effects and timers are found
-- through the instance index (live written as not settled; see commit_one).`,
  },
};

/**
 * Version 10. Replaces in place, with the same signatures, columns and outcomes (so grants and
 * processes of the previous release keep working), the four functions that read one instance's
 * live work by (workflow_type, workflow_id): commit_one, commit_decisions, cancel_instance and
 * delete_instance. Each keeps its statements, one per table for a batch, and its lock order; only
 * the condition that a row is live is written so that the instance index serves it. No table or
 * index changes. Statements that also name an effect key or timer key keep the live-key indexes,
 * which are led by the instance.
 */
export const liveWorkMigration: Migration = {
  version: 10,
  name: 'live work of an instance by its instance index',
  sql: (schema) =>
    [
      commitOne(schema, LIVE),
      commitDecisions(schema, LIVE, { cancelWork: true }),
      cancelInstance(schema, LIVE),
      deleteInstance(schema, {
        head: () => `-- delete_instance, version 10: as version 9, and the check for live work reads the instance index
-- (live written as not settled; see commit_one).
CREATE OR REPLACE FUNCTION `,
        live: LIVE_NOT_SETTLED,
      }),
    ].join('\n'),
};
