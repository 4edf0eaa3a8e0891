// Every script the store runs, for SCRIPT LOAD at setup and for tests that check them all.
import type { BatchScript, LuaScript } from '../script.js';
import { COMMIT_BATCH, SETTLE_BATCH } from './batches.js';
import { CLAIM, PEEK } from './claim.js';
import { COMMIT } from './commit.js';
import { BACKLOG, CANCEL_INSTANCE, SET_PAUSE } from './control.js';
import { CLEAR_HANDOFF, FINALIZE_HANDOFF, PREPARE_HANDOFF, PROBE_UNIQUE, RELEASE_UNIQUE, RESERVE_UNIQUE, RESOLVE_HANDOFF, TAKE_UNIQUE } from './cross-partition.js';
import { FEED_HEAD, FEED_LAG, FEED_SCAN } from './feed.js';
import { REDRIVE, SETTLE } from './leases.js';
import { PURGE, PURGE_IDEMPOTENCY, RECORD_SETTINGS } from './maintenance.js';
import { LIST_WORK, PAGE_INSTANCES } from './pages.js';
import {
  PROJECTION_CLAIM,
  PROJECTION_LETTERS,
  PROJECTION_LIST,
  PROJECTION_REDRIVE,
  PROJECTION_RELEASE,
  PROJECTION_RENEW,
  PROJECTION_RESET,
  PROJECTION_SAVE,
  PROJECTION_SKIP,
} from './projections.js';
import { LOAD, NEXT_TIMER, OWNED_ROWS } from './reads.js';
import { DELETE_INSTANCE } from './retention.js';

/** All scripts of the store. */
export const SCRIPTS: readonly LuaScript<string, string, unknown>[] = [
  LOAD,
  COMMIT,
  PEEK,
  CLAIM,
  SETTLE,
  REDRIVE,
  PURGE,
  DELETE_INSTANCE,
  NEXT_TIMER,
  OWNED_ROWS,
  RECORD_SETTINGS,
  PREPARE_HANDOFF,
  RESOLVE_HANDOFF,
  FINALIZE_HANDOFF,
  CLEAR_HANDOFF,
  RESERVE_UNIQUE,
  PROBE_UNIQUE,
  TAKE_UNIQUE,
  RELEASE_UNIQUE,
  CANCEL_INSTANCE,
  SET_PAUSE,
  BACKLOG,
  PURGE_IDEMPOTENCY,
  LIST_WORK,
  PAGE_INSTANCES,
  FEED_SCAN,
  FEED_HEAD,
  FEED_LAG,
  PROJECTION_CLAIM,
  PROJECTION_RENEW,
  PROJECTION_SAVE,
  PROJECTION_RELEASE,
  PROJECTION_RESET,
  PROJECTION_LIST,
  PROJECTION_LETTERS,
  PROJECTION_REDRIVE,
  PROJECTION_SKIP,
];

/** The batch forms of scripts (group commit, batched settlement), loaded alongside SCRIPTS. */
export const BATCH_SCRIPTS: readonly BatchScript<string, string, unknown>[] = [COMMIT_BATCH, SETTLE_BATCH];
