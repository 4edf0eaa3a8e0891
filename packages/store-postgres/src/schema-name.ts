// The one identifier this store ever puts into SQL text: the schema name. It is checked against a
// strict pattern, then always double-quoted; every other value travels as a bound parameter.
import { invalidArgument } from '@ironflow/core/store';

/** The schema used when none is given. */
export const DEFAULT_SCHEMA = 'ironflow';

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,47}$/;

/** A checked schema name with the SQL pieces derived from it. */
export interface SchemaName {
  /** The name as given, e.g. `ironflow`. */
  readonly name: string;
  /** The quoted identifier to put in SQL text, e.g. `"ironflow"`. */
  readonly quoted: string;
  /** The LISTEN/NOTIFY channel of this schema, e.g. `ironflow_wakeup`. */
  readonly channel: string;
}

/**
 * Checks a schema name (lower-case letters, digits and `_`, starting with a letter or `_`, at most
 * 48 characters, not `pg_*`); throws INVALID_ARGUMENT otherwise.
 */
export function parseSchemaName(value: unknown = DEFAULT_SCHEMA): SchemaName {
  if (typeof value !== 'string' || !SCHEMA_PATTERN.test(value) || value.startsWith('pg_')) {
    throw invalidArgument(
      `schema must be 1-48 characters of a-z, 0-9 and _, start with a letter or _, and not start with pg_; got ${describe(value)}`,
      { schema: typeof value === 'string' ? value.slice(0, 100) : typeof value },
    );
  }
  return { name: value, quoted: `"${value}"`, channel: `${value}_wakeup` };
}

function describe(value: unknown): string {
  if (typeof value !== 'string') return value === null ? 'null' : typeof value;
  return value.length > 60 ? `a string of ${value.length} characters` : JSON.stringify(value);
}
