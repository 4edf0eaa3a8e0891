// The batch forms of the commit and the fenced lease change: group commit and batched settlement
// run one script call per partition. Both stop at a HANDOFF reply, so the caller can resolve the
// cross-partition acknowledgement and go on in order.
import { defineBatchScript } from '../script.js';
import { COMMIT } from './commit.js';
import { SETTLE } from './leases.js';

/** COMMIT for many commits of one partition, in order. */
export const COMMIT_BATCH = defineBatchScript(COMMIT, { haltOn: 'HANDOFF' });

/** SETTLE for many lease changes of one partition, in order. */
export const SETTLE_BATCH = defineBatchScript(SETTLE, { haltOn: 'HANDOFF' });
