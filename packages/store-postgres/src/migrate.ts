// Brings a schema up to the latest version: one transaction, serialized by a transaction-level
// advisory lock, so running it twice, or from many processes at once, applies each version once.
import { invalidArgument, isIronflowError } from '@ironflow/core/store';
import { classifyPostgresError } from './classify-error.js';
import type { SqlDriver, SqlTransaction } from './driver.js';
import { MIGRATIONS } from './migrations.js';
import type { PGliteLike, PgPoolLike } from './pg-client.js';
import { pgPoolDriver } from './pg-driver.js';
import { pgliteDriver } from './pglite-driver.js';
import { Row } from './rows.js';
import { parseSchemaName, type SchemaName } from './schema-name.js';

/** Options of `migratePostgresStore`. */
export interface MigratePostgresStoreOptions {
  /** The pool to migrate through; one connection is used for the migration transaction. */
  pool: PgPoolLike;
  /**
   * The schema to create or upgrade.
   * @default 'ironflow'
   */
  schema?: string | undefined;
}

/** Options of `migratePGliteStore`. */
export interface MigratePGliteStoreOptions {
  /** The PGlite instance to migrate. */
  pglite: PGliteLike;
  /**
   * The schema to create or upgrade.
   * @default 'ironflow'
   */
  schema?: string | undefined;
}

/** What a migration run did. */
export interface MigrationResult {
  readonly schema: string;
  /** Versions this run applied, oldest first; empty when the schema was up to date. */
  readonly applied: readonly { readonly version: number; readonly name: string }[];
  /** The schema's version after the run. */
  readonly version: number;
}

/** The newest schema version this package knows. */
export const LATEST_SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

// Advisory-lock class of Ironflow migrations ("IFLW"); the second key is a hash of the schema name.
const LOCK_CLASS = 0x49464c57;

/**
 * Creates or upgrades the store's schema on PostgreSQL 13+; idempotent and safe to run concurrently.
 * @example await migratePostgresStore({ pool, schema: 'ironflow' });
 */
export async function migratePostgresStore(options: MigratePostgresStoreOptions): Promise<MigrationResult> {
  if (typeof options !== 'object' || options === null) throw invalidArgument('migratePostgresStore needs an options object');
  const { pool } = options;
  if (typeof pool !== 'object' || pool === null || typeof pool.query !== 'function' || typeof pool.connect !== 'function') {
    throw invalidArgument('migratePostgresStore needs `pool`: a pg.Pool (with query() and connect())');
  }
  const schema = parseSchemaName(options.schema);
  return runMigrations(pgPoolDriver(pool, { listenHealthCheckMs: 0, preparedStatements: false }), schema);
}

/**
 * Creates or upgrades the store's schema inside a PGlite database.
 * @example await migratePGliteStore({ pglite: await PGlite.create('./data') });
 */
export async function migratePGliteStore(options: MigratePGliteStoreOptions): Promise<MigrationResult> {
  if (typeof options !== 'object' || options === null) throw invalidArgument('migratePGliteStore needs an options object');
  const { pglite } = options;
  if (typeof pglite !== 'object' || pglite === null || typeof pglite.query !== 'function' || typeof pglite.transaction !== 'function') {
    throw invalidArgument('migratePGliteStore needs `pglite`: a PGlite instance');
  }
  const schema = parseSchemaName(options.schema);
  return runMigrations(pgliteDriver(pglite), schema);
}

/** Applies the pending migrations of `schema` through `driver`. */
export async function runMigrations(driver: SqlDriver, schema: SchemaName): Promise<MigrationResult> {
  try {
    return await driver.transaction((tx) => migrate(tx, schema));
  } catch (error) {
    throw isIronflowError(error) ? error : classifyPostgresError(error, 'migrate');
  }
}

async function migrate(tx: SqlTransaction, schema: SchemaName): Promise<MigrationResult> {
  const s = schema.quoted;
  // Held until the transaction ends; a second migrator waits here, then finds nothing to do.
  await tx.query('SELECT pg_advisory_xact_lock($1::integer, hashtext($2::text))', [LOCK_CLASS, `ironflow:${schema.name}`]);

  // Existence checks first, so a role without CREATE rights can still "migrate" an up-to-date schema.
  const found = await tx.query(
    'SELECT to_regnamespace($1::text) IS NOT NULL AS has_schema, to_regclass($2::text) IS NOT NULL AS has_table',
    [s, `${s}.schema_migrations`],
  );
  const row = new Row(found.rows[0]);
  if (!row.boolean('has_schema')) await tx.exec(`CREATE SCHEMA ${s}`);
  if (!row.boolean('has_table')) {
    await tx.exec(`CREATE TABLE ${s}.schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`);
  }

  const existing = await tx.query(`SELECT version FROM ${s}.schema_migrations ORDER BY version`);
  const done = new Set(existing.rows.map((r) => new Row(r).number('version')));
  const applied: { version: number; name: string }[] = [];
  for (const migration of MIGRATIONS) {
    if (done.has(migration.version)) continue;
    await tx.exec(migration.sql(schema));
    await tx.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
    applied.push({ version: migration.version, name: migration.name });
    done.add(migration.version);
  }
  return { schema: schema.name, applied, version: Math.max(0, ...done) };
}
