// The same store embedded in the process on PGlite (PostgreSQL compiled to WebAssembly), durable
// in a directory with no server. Opens the database itself when given `dataDir`.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { invalidArgument, isIronflowError, type StoreError } from '@ironflow/core/store';
import { classifyPostgresError } from './classify-error.js';
import { runMigrations } from './migrate.js';
import type { PGliteLike } from './pg-client.js';
import { pgliteDriver } from './pglite-driver.js';
import { createSqlStore, type PostgresStore } from './postgres-store.js';
import { parseSchemaName } from './schema-name.js';

/** Options of `createPGliteStore`: give exactly one of `pglite` and `dataDir`. */
export interface PGliteStoreOptions {
  /** An open PGlite instance that you own; the store never closes it. */
  pglite?: PGliteLike | undefined;
  /**
   * A directory for a file-backed database the store opens (creating it when missing) and closes
   * on `store.close()`; `memory://` keeps it in memory.
   */
  dataDir?: string | undefined;
  /**
   * The schema holding the store's tables.
   * @default 'ironflow'
   */
  schema?: string | undefined;
  /**
   * Create or upgrade the schema before returning (idempotent).
   * @default true
   */
  migrate?: boolean | undefined;
  /**
   * Called with failures of the in-process LISTEN subscription.
   * @default failures are ignored (workers still poll)
   */
  onListenError?: ((error: StoreError) => void) | undefined;
}

/**
 * Creates a store on PGlite, migrated and ready; needs the optional peer `@electric-sql/pglite`.
 * @example
 * const store = await createPGliteStore({ dataDir: './.ironflow/db' });
 * // … and on shutdown:
 * await store.close();
 */
export async function createPGliteStore(options: PGliteStoreOptions): Promise<PostgresStore> {
  if (typeof options !== 'object' || options === null) throw invalidArgument('createPGliteStore needs an options object');
  const { pglite, dataDir } = options;
  if ((pglite === undefined) === (dataDir === undefined)) {
    throw invalidArgument('createPGliteStore needs exactly one of `pglite` (an open PGlite) and `dataDir` (a directory)');
  }
  if (pglite !== undefined && (typeof pglite !== 'object' || pglite === null || typeof pglite.query !== 'function')) {
    throw invalidArgument('pglite must be a PGlite instance');
  }
  if (dataDir !== undefined && (typeof dataDir !== 'string' || dataDir.length === 0)) {
    throw invalidArgument('dataDir must be a non-empty directory path (or memory://)');
  }
  if (options.onListenError !== undefined && typeof options.onListenError !== 'function') {
    throw invalidArgument('onListenError must be a function');
  }
  const schema = parseSchemaName(options.schema);
  const db = pglite ?? (await openPGlite(dataDir ?? 'memory://'));
  const owned = pglite === undefined;
  const driver = pgliteDriver(db);
  try {
    if (options.migrate !== false) await runMigrations(driver, schema);
  } catch (error) {
    if (owned) await db.close().catch(() => undefined);
    throw error;
  }
  return createSqlStore(driver, {
    name: 'pglite',
    schema,
    onListenError: options.onListenError,
    onClose: owned ? () => db.close() : undefined,
  });
}

async function openPGlite(dataDir: string): Promise<PGliteLike> {
  try {
    // PGlite creates the last directory only; create the parents, as the option promises.
    if (!dataDir.includes('://')) await mkdir(dirname(dataDir), { recursive: true });
    const { PGlite } = await import('@electric-sql/pglite');
    return await PGlite.create(dataDir);
  } catch (error) {
    if (isIronflowError(error)) throw error;
    throw classifyPostgresError(error, `open PGlite at ${dataDir}`);
  }
}
