// Schema version 6: routed results that complete their instance are applied set-based again.
// Frozen once released, like every migration; later changes go in a new version.
import { commitDecisions } from './migration-control.js';
import { TRACED } from './migration-trace.js';
import type { Migration } from './migrations.js';

/**
 * Version 6. Version 4 sent every commit with cancelWork through commit_one, one call per commit,
 * and the runtime sets cancelWork on every decision that completes its instance (the default
 * terminal policy): a routed result that completes its workflow, the common last step, lost the
 * set-based path version 3 gave it (10 000 such commits took 2.1 s of server time instead of 1.2 s;
 * bench/results/2026-12-07-pg-routed.md). Only commit_decisions is replaced (same signature, so
 * callers of every earlier release keep working); its outcomes are version 5's.
 */
export const routedMigration: Migration = {
  version: 6,
  name: 'completing routed results set-based',
  sql: (schema) =>
    commitDecisions(
      schema,
      {
        ...TRACED,
        notes: {
          ...TRACED.notes,
          commitDecisions: `-- commit_decisions, version 6: as version 5, and a routed result with cancelWork (one that
-- completes its instance) stays in the set-based path: after the checks, one UPDATE per table
-- cancels the other live effects and timers of those instances, then the batch's writes as before.`,
        },
      },
      { cancelWork: true },
    ),
};
