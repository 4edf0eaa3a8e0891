// How the built binary fails: unreachable servers, URLs that name no store, unknown ids, bad flags
// and broken workflow modules each give one clear line on stderr, a documented exit code, no stack
// trace (unless --debug) and no write. Also colours, IRONFLOW_URL, and PGlite created by migrate.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toMermaid } from '@ironflow/core';
import { testServerUrl } from '@ironflow/testing';
import { order } from './fixtures/workflows.js';
import { FIXTURES, runCli, runJson, type CliResult } from './support/cli.js';
import { openSeededPGlite, snapshot, STORES, type StoreTarget } from './support/stores.js';

const WORKFLOWS = ['--workflows', `${FIXTURES}/workflows.ts`];

/** Expects exit `code` with a one-line message containing `text`, nothing on stdout and no stack trace. */
function expectFailure(result: CliResult, code: number, text: string): void {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^ironflow: .+\n$/);
  expect(result.stderr).toContain(text);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('connection failures and URLs that name no store', () => {
  it('an unreachable PostgreSQL is exit 4, with the password hidden; --debug adds the stack', async () => {
    const url = 'postgres://admin:hunter2@127.0.0.1:1/app';
    const result = await runCli(['instances', 'list', '--url', url]);
    expectFailure(result, 4, 'cannot connect to PostgreSQL at postgres://admin:***@127.0.0.1:1/app');
    expect(result.stderr).not.toContain('hunter2');
    const debug = await runCli(['instances', 'list', '--url', url, '--debug']);
    expect(debug.code).toBe(4);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('an unreachable Redis or Redis Cluster is exit 4', async () => {
    expectFailure(await runCli(['backlog', '--url', 'redis://127.0.0.1:1']), 4, 'cannot connect to Redis at redis://127.0.0.1:1');
    expectFailure(await runCli(['backlog', '--url', 'redis://127.0.0.1:1,redis://127.0.0.1:2']), 4, 'cannot connect to Redis Cluster');
  });

  it('a URL of another scheme, a malformed URL or a missing directory is exit 2', async () => {
    expectFailure(await runCli(['backlog', '--url', 'mysql://127.0.0.1/app']), 2, 'unsupported scheme');
    expectFailure(await runCli(['backlog', '--url', 'postgres://[::1']), 2, 'not a valid PostgreSQL URL');
    expectFailure(await runCli(['backlog', '--url', './no-such-directory']), 2, 'neither a store URL nor an existing directory');
    expectFailure(await runCli(['backlog']), 2, 'no store given');
  });

  it('with --json, the failure is one JSON line on stderr', async () => {
    const result = await runCli(['backlog', '--url', 'redis://127.0.0.1:1', '--json']);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { exitCode: 4, message: expect.stringContaining('cannot connect') } });
  });

  const postgres = testServerUrl('postgres');
  it.skipIf(postgres === undefined)('a schema that was never migrated is exit 1, pointing at the migration', async () => {
    expectFailure(await runCli(['instances', 'list', '--url', postgres ?? '', '--schema', 'ironflow_cli_never_migrated']), 1, 'migratePostgresStore');
  });
});

describe('PGlite directories', () => {
  let parent: string;
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'ironflow-cli-pglite-'));
  });
  afterAll(() => rm(parent, { recursive: true, force: true }));

  it('a pglite: directory with no database is exit 4; migrate creates one, then a bare path opens it', async () => {
    const dir = join(parent, 'db');
    expectFailure(await runCli(['instances', 'list', '--url', `pglite:${dir}`]), 4, 'no PGlite database there');
    const migrated = await runJson<{ applied: { version: number }[]; version: number }>(['migrate', '--url', `pglite:${dir}`]);
    expect(migrated.applied.length).toBeGreaterThan(0);
    expect(migrated.applied.at(-1)?.version).toBe(migrated.version);
    expect(await runJson(['instances', 'list', '--url', dir])).toEqual({ items: [] });
    expect((await runCli(['migrate', '--url', dir])).stdout).toMatch(/is up to date/);
  });
});

/** The store the remaining tests use: PostgreSQL when configured, else PGlite. */
async function anyStore(): Promise<StoreTarget> {
  const server = STORES.find((s) => s.name === 'postgres')?.open;
  return server === undefined ? openSeededPGlite() : server();
}

describe('unknown ids, bad flags and workflow modules', () => {
  let target: StoreTarget;
  let before: unknown;
  const cli = (...args: string[]) => runCli([...args, ...target.args]);

  beforeAll(async () => {
    target = await anyStore();
    before = await snapshot(target);
  });
  afterAll(async () => {
    // Not one of these commands wrote anything.
    expect(await snapshot(target)).toEqual(before);
    await target.close();
  });

  it('an unknown instance or dead letter is exit 3', async () => {
    expectFailure(await cli('instances', 'show', 'order', 'o-404'), 3, 'no instance order/o-404');
    expectFailure(await cli('events', 'order', 'o-404'), 3, 'no instance order/o-404');
    expectFailure(await cli('effects', 'list', '--type', 'order', '--id', 'o-404'), 3, 'no instance order/o-404');
    expectFailure(await cli('dead-letters', 'show', 'timer', 'nope'), 3, 'no dead timer nope');
    expectFailure(await cli('visualize', 'order', '--instance', 'o-404', ...WORKFLOWS), 3, 'no instance order/o-404');
  });

  it('bad flags and values are exit 2', async () => {
    expectFailure(await cli('instances', 'list', '--status', 'sleeping'), 2, "argument 'sleeping' is invalid");
    expectFailure(await cli('instances', 'list', '--limit', '0'), 2, '--limit');
    expectFailure(await cli('instances', 'list', '--after', 'not-a-cursor'), 2, 'after is not a cursor');
    expectFailure(await cli('instances', 'list', '--parent-type', 'order'), 2, '--parent-type and --parent-id go together');
    expectFailure(await cli('effects', 'list', '--id', 'o-1'), 2, '--id needs --type');
    expectFailure(await cli('instances', 'list', '--updated-from', 'last tuesday'), 2, '--updated-from');
    expectFailure(await cli('instances', 'lst'), 2, 'Did you mean list?');
    expectFailure(await cli('instances', 'list', '--colour'), 2, "unknown option '--colour'");
  });

  it('--workflows: a missing file or one without definitions is exit 2, one that throws exit 1', async () => {
    expectFailure(await cli('instances', 'show', 'order', 'o-1', '--workflows', 'missing.js'), 2, 'no such file');
    expectFailure(await cli('instances', 'show', 'order', 'o-1', '--workflows', `${FIXTURES}/no-workflows.mjs`), 2, 'exports no workflow definitions');
    expectFailure(await cli('instances', 'show', 'order', 'o-1', '--workflows', `${FIXTURES}/throws.mjs`), 1, 'the configuration file is missing');
  });

  it('visualize needs --workflows and a type it defines with a state machine', async () => {
    expectFailure(await cli('visualize', 'order'), 2, 'needs --workflows');
    expectFailure(await cli('visualize', 'shipment', ...WORKFLOWS), 3, 'defines no workflow type shipment');
    expectFailure(await cli('visualize', 'audit', ...WORKFLOWS), 1, 'declares no stateMachine');
  });

  it('visualize without --instance needs no store, and prints what toMermaid renders', async () => {
    const result = await runCli(['visualize', 'order', ...WORKFLOWS]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const machine = order.stateMachine?.machine;
    expect(machine).toBeDefined();
    expect(result.stdout).toBe(`${toMermaid(machine ?? { initial: '', states: [], transitions: [] })}\n`);
  });

  it('IRONFLOW_URL stands in for --url', async () => {
    const url = target.args[target.args.indexOf('--url') + 1] ?? '';
    const rest = target.args.filter((_, i) => i !== target.args.indexOf('--url') && i !== target.args.indexOf('--url') + 1);
    const page = await runJson<{ items: unknown[] }>(['instances', 'list', ...rest], { env: { IRONFLOW_URL: url } });
    expect(page.items).toHaveLength(4);
  });

  it('colours only when asked: FORCE_COLOR on, NO_COLOR, --no-color and --json off', async () => {
    const ansi = /\u001b\[\d+m/;
    expect((await cli('instances', 'list')).stdout).not.toMatch(ansi);
    expect((await runCli(['instances', 'list', ...target.args], { env: { FORCE_COLOR: '1' } })).stdout).toMatch(ansi);
    expect((await runCli(['instances', 'list', ...target.args], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).stdout).not.toMatch(ansi);
    expect((await runCli(['instances', 'list', '--no-color', ...target.args], { env: { FORCE_COLOR: '1' } })).stdout).not.toMatch(ansi);
    const json = await runCli(['instances', 'list', '--json', ...target.args], { env: { FORCE_COLOR: '1' } });
    expect(json.stdout).not.toMatch(ansi);
    expect(JSON.parse(json.stdout)).toHaveProperty('items');
  });
});
