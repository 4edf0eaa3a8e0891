// Which PostgreSQL and Redis the peer comparison runs on, and what durability they have: the
// comparison is meant for PostgreSQL with fsync on and Redis without persistence.
import { Redis } from 'ioredis';
import pg from 'pg';

/** A server URL, where it came from, and its durability as the server reports it. */
export interface Server {
  readonly url: string;
  readonly source: string;
  readonly durability: string;
  readonly warnings: readonly string[];
}

function pick(benchVar: string, testVar: string): { url: string; source: string; warnings: string[] } | undefined {
  const bench = process.env[benchVar];
  if (bench) return { url: bench, source: benchVar, warnings: [] };
  const test = process.env[testVar];
  if (test) return { url: test, source: testVar, warnings: [`${benchVar} is not set: using ${testVar}`] };
  return undefined;
}

/** IRONFLOW_BENCH_POSTGRES_URL, else IRONFLOW_TEST_POSTGRES_URL; warns when fsync is off. */
export async function findPostgres(): Promise<Server | undefined> {
  const found = pick('IRONFLOW_BENCH_POSTGRES_URL', 'IRONFLOW_TEST_POSTGRES_URL');
  if (!found) return undefined;
  const client = new pg.Client({ connectionString: found.url });
  await client.connect();
  try {
    const setting = async (name: string) => (await client.query<Record<string, string>>(`SHOW ${name}`)).rows[0]?.[name] ?? '?';
    const [version, fsync, synchronousCommit, maxConnections] = [await setting('server_version'), await setting('fsync'), await setting('synchronous_commit'), await setting('max_connections')];
    if (fsync !== 'on') found.warnings.push(`PostgreSQL runs with fsync=${fsync}: the numbers are not comparable with the issue's (default durability)`);
    return { url: found.url, source: found.source, durability: `PostgreSQL ${version}, fsync=${fsync}, synchronous_commit=${synchronousCommit}, max_connections=${maxConnections}`, warnings: found.warnings };
  } finally {
    await client.end();
  }
}

/** IRONFLOW_BENCH_REDIS_URL, else IRONFLOW_TEST_REDIS_URL; reports whether persistence is on. */
export async function findRedis(): Promise<Server | undefined> {
  const found = pick('IRONFLOW_BENCH_REDIS_URL', 'IRONFLOW_TEST_REDIS_URL');
  if (!found) return undefined;
  const client = new Redis(found.url, { maxRetriesPerRequest: 3 });
  try {
    const config = async (name: string) => ((await client.call('CONFIG', 'GET', name)) as string[])[1] ?? '?';
    const info = (await client.info('server')).match(/redis_version:(\S+)/)?.[1] ?? '?';
    const [appendonly, save] = [await config('appendonly'), await config('save')];
    if (appendonly !== 'no' || save !== '') found.warnings.push(`Redis persists (appendonly=${appendonly}, save="${save}"): the issue measured Redis without persistence`);
    return { url: found.url, source: found.source, durability: `Redis ${info}, appendonly=${appendonly}, save="${save}"`, warnings: found.warnings };
  } finally {
    client.disconnect();
  }
}
