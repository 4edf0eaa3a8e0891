export { createPostgresStore } from './postgres-store.js';
export type { PostgresStore, PostgresStoreOptions } from './postgres-store.js';

export { createPGliteStore } from './pglite-store.js';
export type { PGliteStoreOptions } from './pglite-store.js';

export { migratePostgresStore, migratePGliteStore, LATEST_SCHEMA_VERSION } from './migrate.js';
export type { MigratePostgresStoreOptions, MigratePGliteStoreOptions, MigrationResult } from './migrate.js';

export { classifyPostgresError } from './classify-error.js';

export { postgresTransaction } from './projection-transaction.js';
export type { PostgresProjectionTransaction } from './projection-transaction.js';

export { DEFAULT_SCHEMA } from './schema-name.js';

export type {
  PgClientLike,
  PgConnectionLike,
  PgNotificationLike,
  PgPoolClientLike,
  PgPoolLike,
  PgQueryConfigLike,
  PgQueryResultLike,
  PGliteLike,
  PGliteResultsLike,
  PGliteTransactionLike,
} from './pg-client.js';
