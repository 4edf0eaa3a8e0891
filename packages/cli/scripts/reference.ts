// Generates docs/cli.md from the command tree of src/program.ts, through commander's own Help (the
// same usage lines, option terms, defaults and choices as `--help`), so the reference cannot drift
// from the parser. Run `pnpm --filter @ironflow/cli reference`; test/reference.test.ts fails while
// the committed page differs from what this renders.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command, Option } from 'commander';
import { EXIT_CODE_TABLE } from '../src/exit-codes.js';
import { processIo } from '../src/output.js';
import { CONNECTING, createProgram } from '../src/program.js';

/** Where the page lives. */
export const REFERENCE_PATH = fileURLToPath(new URL('../../../docs/cli.md', import.meta.url));

/** Text for Markdown prose: `<type>` would be read as an HTML tag. */
const prose = (text: string): string => text.replaceAll('<', '&lt;').replaceAll('>', '&gt;');
/** Text for a Markdown table cell. */
const cell = (text: string): string => prose(text).replaceAll('|', '\\|').replace(/\s*\n\s*/g, ' ');
/** A description as a sentence. */
const sentence = (text: string): string => `${prose(text.charAt(0).toUpperCase() + text.slice(1))}${text.endsWith('.') ? '' : '.'}`;
const code = (text: string): string => `\`${text}\``;

/** Every command under `command` that runs something, depth first, in definition order. */
function leaves(command: Command): Command[] {
  const help = command.createHelp();
  return help.visibleCommands(command).flatMap((sub) => (sub.name() === 'help' ? [] : sub.commands.length > 0 ? leaves(sub) : [sub]));
}

/** `ironflow instances list`. */
function path(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function optionTable(command: Command, options: readonly Option[]): string[] {
  const help = command.createHelp();
  return ['| option | |', '| --- | --- |', ...options.map((o) => `| ${code(help.optionTerm(o))} | ${o.mandatory ? 'Required. ' : ''}${cell(help.optionDescription(o))} |`)];
}

function commandSection(command: Command): string[] {
  const help = command.createHelp();
  const lines = [`### ${code(path(command))}`, '', sentence(command.description()), '', '```sh', help.commandUsage(command), '```'];
  const args = help.visibleArguments(command);
  if (args.length > 0) {
    lines.push('', '| argument | |', '| --- | --- |', ...args.map((a) => `| ${code(help.argumentTerm(a))} | ${cell(help.argumentDescription(a))} |`));
  }
  const options = help.visibleOptions(command).filter((o) => o.long !== '--help');
  if (options.length > 0) lines.push('', ...optionTable(command, options));
  return lines;
}

/** The whole page, as docs/cli.md must hold it. */
export function renderReference(program: Command = createProgram(processIo())): string {
  const help = program.createHelp();
  const globals = help.visibleOptions(program).filter((o) => o.long !== '--help' && o.long !== '--version');
  const lines = [
    '# The `ironflow` command line',
    '',
    '<!-- Generated from the command definitions by packages/cli/scripts/reference.ts: do not edit by hand; run `pnpm --filter @ironflow/cli reference`. -->',
    '',
    `${prose(program.description())} The CLI is built on the public API only (the store port, and an engine that is never started), so it works the same on every store.`,
    '',
    '```sh',
    'npm install -g @ironflow/cli   # or: npx @ironflow/cli --help',
    'ironflow instances list --url postgres://localhost/app --status active',
    '```',
    '',
    'Every command takes `--json`: stdout then holds one JSON document and nothing else (no colours, no tables), and an error is one JSON line on stderr, `{"error":{"exitCode","code","message"}}`. Without it, output is tables for people, in colour only on a terminal (never with `NO_COLOR` set or `--no-color`); stored data is printed with control characters escaped, so a payload cannot drive the terminal. Long bulk operations show a progress counter on stderr when it is a terminal.',
    '',
    '## Connecting',
    '',
    '`--url` (or the `IRONFLOW_URL` environment variable) names the store:',
    '',
    '| `--url` | store |',
    '| --- | --- |',
    ...CONNECTING.map(([form, meaning]) => `| ${form.split('  or  ').map(code).join(' or ')} | ${cell(meaning)} |`),
    '',
    'The connection is checked before the command runs, and closed when it ends. A Redis prefix set up with several partitions is read with the count recorded for it, unless `--partitions` says otherwise. A PGlite directory can be open in one process at a time: stop the application that uses it first. Only `migrate` creates a PGlite database; every other command needs one that exists.',
    '',
    'Without `--workflows` the CLI works at the store level. With `--workflows <module>`, a module whose exports include workflow definitions (values made by `defineWorkflow`, `register()` entries, or arrays of them), `instances show` also prints the current state, `cancel` lets a workflow with `onCancel` handle its cancellation, `visualize` can draw the workflow, and `replay-check` replays the stored instances with that code (its `--module`, for the code about to be deployed; see [changing a workflow safely](./guides/changing-workflows-safely.md)). A `.js`/`.mjs` module is imported as it is; a TypeScript module needs [`tsx`](https://tsx.is) installed (next to the CLI or in the current project), or pass the built JavaScript. Importing the module runs its top-level code: point it at a module that defines workflows, not at the one that starts your application.',
    '',
    'The `projections` commands work on the checkpoints that projection runners keep in the store ([ADR 0012](./decisions/0012-projections.md)), whether or not any runner is up: each projection\'s checkpoint (an opaque feed position), the lease of its one active runner (holder, fencing token, expiry), its lag behind the feed, and its dead letters (events it failed on, parked so it could go on). `redrive` hands a dead letter back to the runner, `skip` deletes it, and `reset` moves the checkpoint (to the start to rebuild the read model) and ends the lease, so the runner holding it stops at its next write and resumes from the new checkpoint.',
    '',
    '## Exit codes',
    '',
    '| code | meaning |',
    '| --- | --- |',
    ...EXIT_CODE_TABLE.map(({ code: c, meaning }) => `| ${c} | ${cell(meaning)} |`),
    '',
    'Errors are one line on stderr (a stack trace only with `--debug`), and a failed command writes nothing to the store: bulk changes (`dead-letters redrive-all`, `cancel-where`) preview with `--dry-run`, and ask for confirmation at a terminal or need `--yes` elsewhere, as `projections skip` and `projections reset` do.',
    '',
    '## Global options',
    '',
    'Accepted before or after the command.',
    '',
    ...optionTable(program, globals),
    '',
    '## Commands',
  ];
  for (const command of leaves(program)) lines.push('', ...commandSection(command));
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(REFERENCE_PATH, renderReference());
  process.stdout.write(`wrote ${REFERENCE_PATH}\n`);
}
