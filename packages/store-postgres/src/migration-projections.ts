// Schema version 8: projection checkpoints. One row per projection holds its checkpoint (a feed
// position as the store wrote it) and its lease, fenced by a token; its dead letters sit beside it.
// Frozen once released, like every migration; later changes go in a new version.
import type { Migration } from './migrations.js';

/**
 * Version 8. Two new tables and nothing else: no existing table is touched or locked, and
 * processes of the previous release never read them, so it can run while they work.
 */
export const projectionsMigration: Migration = {
  version: 8,
  name: 'projection checkpoints',
  sql: ({ quoted: s }) => `
-- A projection's checkpoint and lease. "token" grows with every claim and reset; every write of a
-- holder names the token it claimed and is refused once it is not the stored one.
CREATE TABLE ${s}.projections (
  name       text COLLATE "C" PRIMARY KEY,
  position   text,
  owner      text COLLATE "C",
  token      bigint NOT NULL,
  expires_at bigint,
  updated_at bigint NOT NULL
);

-- Events a projection gave up on, parked with the checkpoint that moved past them.
CREATE TABLE ${s}.projection_dead_letters (
  projection    text COLLATE "C" NOT NULL,
  id            text COLLATE "C" NOT NULL,
  workflow_type text COLLATE "C" NOT NULL,
  workflow_id   text COLLATE "C" NOT NULL,
  sequence      integer NOT NULL,
  event_type    text NOT NULL,
  position      text NOT NULL,
  error         text NOT NULL,
  attempts      integer NOT NULL,
  status        text NOT NULL CHECK (status IN ('parked', 'redriven')),
  parked_at     bigint NOT NULL,
  updated_at    bigint NOT NULL,
  PRIMARY KEY (projection, id)
);
`,
};
