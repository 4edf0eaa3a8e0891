// Reads `--url` into the store it names: a PostgreSQL URL, a Redis URL, several Redis URLs (a
// Cluster), or a PGlite data directory. Only parsing here; connecting is connect.ts's job.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { usageError } from './exit-codes.js';

/** A store named by `--url`. */
export type Target =
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'redis'; readonly url: string }
  | { readonly kind: 'redis-cluster'; readonly urls: readonly string[] }
  | { readonly kind: 'pglite'; readonly dir: string };

const REDIS = /^rediss?:\/\//i;
const POSTGRES = /^postgres(ql)?:\/\//i;
const ANY_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Checks that `raw` parses as a URL, without echoing a password back. */
function checkUrl(raw: string, what: string): string {
  try {
    const url = new URL(raw);
    if (url.hostname === '') throw new Error('no host');
  } catch {
    throw usageError(`--url is not a valid ${what} URL: ${redact(raw)}`);
  }
  return raw;
}

/**
 * Reads a `--url` value. A value without a scheme is a PGlite directory, which must exist: a typo
 * must not create an empty database somewhere (only `migrate` may, through `pglite:<dir>`).
 */
export function parseTarget(raw: string | undefined, cwd: string): Target {
  const value = raw?.trim() ?? '';
  if (value === '') throw usageError('no store given: pass --url (or set IRONFLOW_URL) to a postgres://, redis:// or pglite: URL');
  if (value.includes(',')) {
    const urls = value.split(',').map((part) => part.trim());
    if (!urls.every((u) => REDIS.test(u))) throw usageError(`--url with commas must list Redis Cluster nodes as redis:// URLs, got ${redact(value)}`);
    return { kind: 'redis-cluster', urls: urls.map((u) => checkUrl(u, 'Redis')) };
  }
  if (POSTGRES.test(value)) return { kind: 'postgres', url: checkUrl(value, 'PostgreSQL') };
  if (REDIS.test(value)) return { kind: 'redis', url: checkUrl(value, 'Redis') };
  if (/^pglite:/i.test(value)) {
    const dir = value.slice('pglite:'.length);
    if (dir === '') throw usageError('--url pglite: needs a directory, as in pglite:./data');
    return { kind: 'pglite', dir: resolve(cwd, dir) };
  }
  if (ANY_SCHEME.test(value)) {
    throw usageError(`--url has an unsupported scheme: ${redact(value)} (expected postgres://, postgresql://, redis://, rediss:// or pglite:<dir>)`);
  }
  const dir = resolve(cwd, value);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw usageError(`--url ${value} is neither a store URL nor an existing directory (a PGlite data directory)`);
  }
  return { kind: 'pglite', dir };
}

/** A URL (or comma-separated URLs) with any password replaced, for messages. */
export function redact(raw: string): string {
  return raw
    .split(',')
    .map((part) => {
      try {
        const url = new URL(part.trim());
        if (url.password !== '') url.password = '***';
        return url.toString();
      } catch {
        // Not parseable: hide what looks like credentials before an @.
        return part.replace(/\/\/[^@/]*@/, '//***@');
      }
    })
    .join(',');
}

/** How messages name the target. */
export function describeTarget(target: Target): string {
  switch (target.kind) {
    case 'postgres':
      return `PostgreSQL at ${redact(target.url)}`;
    case 'redis':
      return `Redis at ${redact(target.url)}`;
    case 'redis-cluster':
      return `Redis Cluster at ${redact(target.urls.join(','))}`;
    case 'pglite':
      return `PGlite in ${target.dir}`;
  }
}
