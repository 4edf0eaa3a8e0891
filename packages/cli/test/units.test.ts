// The pieces the binary is made of, in this process and without a server: reading --url, the
// option parsers, finding workflow definitions among a module's exports, colours, escaping,
// progress, consent, and how run() maps failures to exit codes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '@ironflow/runtime';
import { consent } from '../src/confirm.js';
import { CliError, EXIT_CODES } from '../src/exit-codes.js';
import { colorEnabled, Output, safe } from '../src/output.js';
import { parseDuration, parseLimit, parseTime } from '../src/parse.js';
import { run } from '../src/run.js';
import { parseTarget, redact } from '../src/target.js';
import { isWorkflow, workflowsIn } from '../src/workflows.js';
import { audit, order } from './fixtures/workflows.js';
import { memoryIo } from './support/io.js';

/** The exit code of a CliError thrown by `fn`. */
function exitCodeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (error) {
    if (error instanceof CliError) return error.exitCode;
    throw error;
  }
  throw new Error('expected a CliError');
}

describe('--url', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ironflow-cli-units-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('names PostgreSQL, Redis, a Redis Cluster and PGlite', () => {
    expect(parseTarget('postgres://u:p@db:5432/app', '/')).toEqual({ kind: 'postgres', url: 'postgres://u:p@db:5432/app' });
    expect(parseTarget('postgresql://db/app', '/')).toEqual({ kind: 'postgres', url: 'postgresql://db/app' });
    expect(parseTarget('rediss://cache:6380', '/')).toEqual({ kind: 'redis', url: 'rediss://cache:6380' });
    expect(parseTarget('redis://a:7000, redis://b:7001', '/')).toEqual({ kind: 'redis-cluster', urls: ['redis://a:7000', 'redis://b:7001'] });
    expect(parseTarget('pglite:data/db', '/srv')).toEqual({ kind: 'pglite', dir: '/srv/data/db' });
    expect(parseTarget(dir, '/')).toEqual({ kind: 'pglite', dir });
  });

  it('refuses what names no store as a usage error (exit 2)', () => {
    for (const bad of [undefined, '', 'mysql://db', 'postgres://[oops', 'redis://a:1,postgres://b', 'pglite:', join(dir, 'missing')]) {
      expect(exitCodeOf(() => parseTarget(bad, '/')), String(bad)).toBe(EXIT_CODES.usage);
    }
  });

  it('never repeats a password in messages', () => {
    expect(redact('postgres://admin:hunter2@db/app')).toBe('postgres://admin:***@db/app');
    expect(redact('redis://:hunter2@a:1,redis://:hunter2@b:2')).not.toContain('hunter2');
    expect(redact('postgres://admin:hunter2@[broken')).not.toContain('hunter2');
  });
});

describe('option values', () => {
  it('limits are whole numbers from 1 to 1000', () => {
    expect(parseLimit('1')).toBe(1);
    expect(parseLimit('1000')).toBe(1000);
    for (const bad of ['0', '1001', '2.5', 'ten', '-1', '']) expect(() => parseLimit(bad), bad).toThrow(InvalidArgumentError);
  });

  it('times are epoch milliseconds or ISO 8601', () => {
    expect(parseTime('1700000000000')).toBe(1_700_000_000_000);
    expect(parseTime('2024-05-01T12:00:00Z')).toBe(Date.UTC(2024, 4, 1, 12));
    expect(parseTime('2024-05-01')).toBe(Date.UTC(2024, 4, 1));
    for (const bad of ['yesterday', '2024-13-45', '12:00']) expect(() => parseTime(bad), bad).toThrow(InvalidArgumentError);
  });

  it('durations take a unit, or are milliseconds', () => {
    expect(parseDuration('500')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    for (const bad of ['1w', '-5s', '1.5h', 'soon']) expect(() => parseDuration(bad), bad).toThrow(InvalidArgumentError);
  });
});

describe('--workflows exports', () => {
  it('finds definitions given as values, register() entries, arrays and a default object', () => {
    expect(workflowsIn({ order }).map((w) => w.type)).toEqual(['order']);
    expect(workflowsIn({ entries: [register(order), audit] }).map((w) => w.type)).toEqual(['order', 'audit']);
    expect(workflowsIn({ default: { order, audit }, helper: () => 1, VERSION: '1' }).map((w) => w.type)).toEqual(['order', 'audit']);
    expect(workflowsIn({ a: order, b: [order] }).map((w) => w.type)).toEqual(['order']);
    expect(isWorkflow({ type: 'x' })).toBe(false);
  });

  it('refuses two different definitions of one type', () => {
    expect(exitCodeOf(() => workflowsIn({ a: order, b: { ...order } }))).toBe(EXIT_CODES.usage);
  });
});

describe('output', () => {
  it('colours only on a terminal, never with NO_COLOR, --no-color or --json; FORCE_COLOR forces them', () => {
    const tty = memoryIo({ stdoutTTY: true }).io;
    expect(colorEnabled(tty, {})).toBe(true);
    expect(colorEnabled(tty, { color: false })).toBe(false);
    expect(colorEnabled(tty, { json: true })).toBe(false);
    expect(colorEnabled({ ...tty, env: { NO_COLOR: '1' } }, {})).toBe(false);
    expect(colorEnabled({ ...tty, env: { NO_COLOR: '' } }, {})).toBe(true);
    expect(colorEnabled(memoryIo().io, {})).toBe(false);
    expect(colorEnabled({ ...memoryIo().io, env: { FORCE_COLOR: '1' } }, {})).toBe(true);
  });

  it('escapes control characters of stored data in tables, even in colour', () => {
    const { io, stdout } = memoryIo({ stdoutTTY: true });
    const out = new Output(io, false, true);
    out.table(['NOTE'], [[{ text: 'a\u001b[31mb\u009b2Jc', style: 'red' }], ['line\nbreak']]);
    const printed = stdout.text();
    expect(printed).toContain('a\\u001b[31mb\\u009b2Jc');
    expect(printed).toContain('line\\u000abreak');
    // The only escape sequences left are the table's own colours (bold head, red cell).
    expect(printed.match(/\u001b\[/g)?.length).toBe(4);
    expect(printed).not.toContain('\u009b');
    expect(safe('tab\there')).toBe('tab\\u0009here');
  });

  it('JSON output escapes C1 controls too, and stays valid JSON', () => {
    const { io, stdout } = memoryIo();
    new Output(io, true, false).data({ note: 'x\u009b2J\u001b' });
    expect(stdout.text()).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(JSON.parse(stdout.text())).toEqual({ note: 'x\u009b2J\u001b' });
  });

  it('shows progress on a terminal stderr only, and never with --json', () => {
    for (const [stderrTTY, json, shown] of [
      [true, false, true],
      [false, false, false],
      [true, true, false],
    ] as const) {
      const { io, stderr } = memoryIo({ stderrTTY });
      const progress = new Output(io, json, false).progress('re-driven');
      progress.update(200);
      progress.update(400);
      progress.end();
      expect(stderr.text()).toBe(shown ? '\rre-driven: 200\rre-driven: 400\n' : '');
    }
    const { io, stderr } = memoryIo({ stderrTTY: true });
    const progress = new Output(io, false, false).progress('cancelled', 1000);
    progress.update(200);
    progress.end();
    expect(stderr.text()).toBe('\rcancelled: 200 of 1000\n');
  });
});

describe('consent to bulk changes', () => {
  it('--yes goes ahead without asking', async () => {
    await expect(consent(memoryIo().io, { yes: true }, 'cancel 3 instances')).resolves.toBeUndefined();
  });

  it('without --yes and without a terminal, refuses as a usage error', async () => {
    await expect(consent(memoryIo({ input: 'y\n' }).io, {}, 'cancel 3 instances')).rejects.toMatchObject({ exitCode: EXIT_CODES.usage, message: expect.stringContaining('--yes') });
  });

  it('at a terminal, asks on stderr: "y" goes ahead, anything else changes nothing', async () => {
    const yes = memoryIo({ input: 'y\n', stdinTTY: true });
    await expect(consent(yes.io, {}, 'cancel 3 instances')).resolves.toBeUndefined();
    expect(yes.stderr.text()).toContain('Cancel 3 instances? [y/N]');
    const no = memoryIo({ input: '\n', stdinTTY: true });
    await expect(consent(no.io, {}, 'cancel 3 instances')).rejects.toMatchObject({ exitCode: EXIT_CODES.failed });
  });

  it('prints its notes before the question at a terminal only, escaped, and points at --dry-run only when the command has it', async () => {
    const asked = memoryIo({ input: 'y\n', stdinTTY: true });
    await consent(asked.io, {}, 'reset projection p\u001b[2J', { notes: ['Clear the read model \u001b[31mfirst'], preview: false });
    const text = asked.stderr.text();
    expect(text.startsWith('Clear the read model \\u001b[31mfirst\n')).toBe(true);
    expect(text).toContain('Reset projection p\\u001b[2J? [y/N] ');
    await expect(consent(memoryIo().io, {}, 'skip it', { notes: ['never shown'], preview: false })).rejects.toThrow(/^refusing to skip it without --yes: stdin is not a terminal$/);
    await expect(consent(memoryIo().io, {}, 'cancel 3 instances')).rejects.toThrow(/\(preview with --dry-run\)$/);
  });
});

describe('run', () => {
  it('prints help and the version with exit 0', async () => {
    const version = memoryIo();
    expect(await run(['--version'], version.io)).toBe(EXIT_CODES.ok);
    expect(version.stdout.text()).toMatch(/^\d+\.\d+\.\d+/);
    const help = memoryIo();
    expect(await run(['cancel', '--help'], help.io)).toBe(EXIT_CODES.ok);
    expect(help.stdout.text()).toContain('--reason <text>');
    expect(help.stdout.text()).toContain('--url <url>');
  });

  it('a missing command, an unknown flag or a missing required option is a usage error (exit 2)', async () => {
    for (const argv of [[], ['instances'], ['instances', 'list', '--bogus'], ['cancel', 'order', 'o-1'], ['visualize'], ['nope']]) {
      const { io, stderr, stdout } = memoryIo();
      expect(await run(argv, io), argv.join(' ')).toBe(EXIT_CODES.usage);
      expect(stderr.text()).not.toBe('');
      expect(stdout.text()).toBe('');
    }
  });

  it('with --json, an error is one JSON line on stderr and stdout stays empty', async () => {
    const { io, stderr, stdout } = memoryIo();
    expect(await run(['instances', 'list', '--limit', 'many', '--json'], io)).toBe(EXIT_CODES.usage);
    expect(stdout.text()).toBe('');
    const lines = stderr.text().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ error: { exitCode: 2, message: expect.stringContaining('--limit') } });
  });
});
