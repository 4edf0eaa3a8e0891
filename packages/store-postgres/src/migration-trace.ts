// Schema version 5: effects and timers keep the trace context of the decision that wrote them.
// Frozen once released, like every migration; later changes go in a new version.
import { cancelInstance, commitDecisions, commitOne, type WorkWrites } from './migration-control.js';
import type { Migration } from './migrations.js';
import type { SchemaName } from './schema-name.js';

/**
 * The commit functions of version 5: version 4's, writing each new effect's and timer's `trace`
 * (the document element's JSON text, cast to json) too. An element without one (tracing off, or a
 * document of the previous release) writes NULL, and a keyed timer rescheduled in place takes the
 * new timer's trace, or none.
 */
export const TRACED: WorkWrites = {
  columns: ', trace',
  values: (x) => `, (${x}->>'trace')::json`,
  rearm: ', trace = EXCLUDED.trace',
  notes: {
    commitOne: `-- commit_one, version 5: as version 4, and each new effect and timer keeps its element's trace
-- carrier (json text under 'trace'); a keyed timer scheduled again in place takes the new one's,
-- or none. Elements without one, as processes of the previous release send them, write NULL.`,
    commitDecisions: `-- commit_decisions, version 5: as version 4, with version 5's commit_one and the trace column in
-- both set-based paths.`,
    cancelInstance: `-- cancel_instance, version 5: as version 4, and the effects of p_effects keep their trace carriers.`,
  },
};

/**
 * Version 5. The two columns are nullable without a default, so adding them rewrites and reads
 * nothing; the functions that write effects or timers are replaced in place (same signatures, so
 * grants and callers of the previous release keep working). commit_decision and settle_leases
 * write no new rows and stay as version 4 left them.
 */
export const traceMigration: Migration = {
  version: 5,
  name: 'trace context of work',
  sql: (schema) => [columns(schema), commitOne(schema, TRACED), commitDecisions(schema, TRACED), cancelInstance(schema, TRACED)].join('\n'),
};

function columns({ quoted: s }: SchemaName): string {
  return `
-- The trace carrier (TraceCarrier in @ironflow/core) of the decision that wrote the row, NULL when
-- tracing was off. IF NOT EXISTS: an operator may add them beforehand.
ALTER TABLE ${s}.effects ADD COLUMN IF NOT EXISTS trace json;
ALTER TABLE ${s}.timers ADD COLUMN IF NOT EXISTS trace json;
`;
}
