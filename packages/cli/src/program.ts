// The command tree, defined once with commander: `run` parses with it, and docs/cli.md is
// generated from it (scripts/reference.ts), so the reference cannot drift from the parser.
import { Command, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { cancelCommands } from './commands/cancel.js';
import { controlCommands } from './commands/control.js';
import { deadLetterCommands } from './commands/dead-letters.js';
import { eventsCommand } from './commands/events.js';
import { instancesCommands } from './commands/instances.js';
import { projectionCommands } from './commands/projections.js';
import { replayCheckCommand } from './commands/replay-check.js';
import { visualizeCommand } from './commands/visualize.js';
import { workCommands } from './commands/work.js';
import { EXIT_CODE_TABLE } from './exit-codes.js';
import type { Io } from './output.js';
import { parseDuration, parsePositive } from './parse.js';

/** How `--url` names a store; shown by `--help` and in docs/cli.md. */
export const CONNECTING: readonly (readonly [form: string, meaning: string])[] = [
  ['postgres://user:pass@host:5432/db', 'PostgreSQL (also postgresql://); --schema picks the schema (default ironflow)'],
  ['redis://[user:pass@]host:6379[/db]', 'Redis (rediss:// for TLS); --prefix picks the key prefix (default ironflow)'],
  ['redis://host1:7000,redis://host2:7001', 'Redis Cluster: the URLs of some of its nodes, comma-separated; credentials from the first'],
  ['pglite:./data  or  ./data', 'a PGlite data directory (a bare path must be an existing directory); --schema as for PostgreSQL'],
];

/** The global options' help, the URL forms and the exit codes, after the root command's help. */
function epilog(): string {
  const width = Math.max(...CONNECTING.map(([form]) => form.length));
  return [
    'Connecting (--url, or the IRONFLOW_URL environment variable):',
    ...CONNECTING.map(([form, meaning]) => `  ${form.padEnd(width)}  ${meaning}`),
    '',
    'Exit codes:',
    ...EXIT_CODE_TABLE.map(({ code, meaning }) => `  ${code}  ${meaning}`),
  ].join('\n');
}

/** Options of `createProgram`. */
export interface ProgramOptions {
  /** Leave parse errors to the caller (who prints them as JSON): commander writes nothing to stderr. */
  readonly quietErrors?: boolean | undefined;
}

/** Builds the `ironflow` program; its actions write to `io`. */
export function createProgram(io: Io, options: ProgramOptions = {}): Command {
  const quiet = options.quietErrors === true;
  const program = new Command('ironflow')
    .description('Operate Ironflow workflows on PostgreSQL, PGlite and Redis: list and inspect instances and their work, cancel, pause, re-drive dead letters, watch and manage projections, check new workflow code against stored histories before a deploy, migrate.')
    .version(packageJson.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print help for the command')
    .option('--url <url>', 'the store: postgres://…, redis://…, several redis:// URLs (a Cluster), or pglite:<dir> (default: $IRONFLOW_URL)')
    .option('--schema <schema>', 'PostgreSQL / PGlite schema of the store (default: ironflow)')
    .option('--prefix <prefix>', 'Redis key prefix of the store (default: ironflow)')
    .addOption(new Option('--partitions <n>', 'Redis partition count (default: the count recorded for the prefix)').argParser(parsePositive))
    .option('--workflows <module>', 'a module exporting workflow definitions (.js, .mjs; .ts with tsx installed): shows state, runs onCancel, needed by visualize; replay-check takes it when --module is not given')
    .addOption(new Option('--connect-timeout <duration>', 'give up connecting after this long').argParser(parseDuration).default(10_000, '10s'))
    .option('--json', 'print machine-readable JSON only, on stdout')
    .option('--no-color', 'no colours (also when NO_COLOR is set, or stdout is not a terminal)')
    .option('--debug', 'print stack traces of errors')
    .addHelpText('after', `\n${epilog()}`)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => (quiet ? true : io.stderr.write(text)),
      // One line, as every other error: commander's suggestion ("Did you mean …?") joins it.
      outputError: (text, write) => (quiet ? undefined : write(`ironflow: ${text.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')} (see --help)\n`)),
    })
    .exitOverride();

  instancesCommands(program, io);
  eventsCommand(program, io);
  workCommands(program, io);
  deadLetterCommands(program, io);
  cancelCommands(program, io);
  controlCommands(program, io);
  projectionCommands(program, io);
  visualizeCommand(program, io);
  replayCheckCommand(program, io);
  return program;
}
