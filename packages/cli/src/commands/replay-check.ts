// `replay-check`: before a deploy, replays the stored instances of each workflow the new code's
// module exports (replayCheck of @ironflow/runtime) and fails (exit 1) when any instance cannot be
// replayed, so CI can stop the deploy. Reads only.
import type { AnyWorkflow } from '@ironflow/core';
import { replayCheck, type ReplayProgress, type ReplayReport } from '@ironflow/runtime';
import { Option, type Command } from 'commander';
import { connect } from '../connect.js';
import { CliError, EXIT_CODES, notFound, usageError } from '../exit-codes.js';
import { colorEnabled, Output, type Io } from '../output.js';
import { parseCount, parseLimit, parsePositive } from '../parse.js';
import type { GlobalOptions } from '../session.js';
import { parseTarget } from '../target.js';
import { importModule, workflowsIn } from '../workflows.js';

interface ReplayCheckFlags {
  module?: string | undefined;
  type?: string[] | undefined;
  active?: boolean | undefined;
  sample?: number | undefined;
  decide?: boolean | undefined;
  pageSize: number;
  maxProblems: number;
  progress?: boolean | undefined;
}

/** The workflows to check: those of the module, or the ones `--type` names (exit 3 for a type it lacks). */
async function workflowsToCheck(flags: ReplayCheckFlags & GlobalOptions, io: Io): Promise<AnyWorkflow[]> {
  const specifier = flags.module ?? flags.workflows;
  if (specifier === undefined) throw usageError('replay-check needs --module <path>: the module of the new code, exporting its workflow definitions');
  const flag = flags.module === undefined ? '--workflows' : '--module';
  const workflows = workflowsIn(await importModule(specifier, io.cwd, flag, notFound));
  if (workflows.length === 0) throw notFound(`${flag} ${specifier} exports no workflow definitions (objects made by defineWorkflow, or register() entries)`);
  const types = flags.type ?? [];
  if (types.length === 0) return workflows;
  const byType = new Map(workflows.map((w) => [w.type, w]));
  const unknown = types.filter((t) => !byType.has(t));
  if (unknown.length > 0) throw notFound(`${flag} ${specifier} defines no workflow type ${unknown.join(', ')} (it defines ${[...byType.keys()].join(', ')})`);
  return [...new Set(types)].map((t) => byType.get(t)!);
}

/** Progress lines on stderr: rewritten in place on a terminal, one line each otherwise (--progress in CI logs). */
function progressWriter(io: Io, enabled: boolean) {
  const tty = io.stderr.isTTY === true;
  let open = false;
  return {
    update(type: string, p: ReplayProgress): void {
      if (!enabled) return;
      const line = `replay-check ${type}: ${p.checked}${p.total === undefined ? '' : ` of ${p.total}`} checked, ${p.failed} failed`;
      io.stderr.write(tty ? `\r${line}` : `${line}\n`);
      open = tty;
    },
    end(): void {
      if (open) io.stderr.write('\n');
      open = false;
    },
  };
}

function printReport(out: Output, report: ReplayReport): void {
  const seconds = (report.elapsedMs / 1000).toFixed(1);
  const verdict = report.failed === 0 ? out.c.green('ok') : out.c.red(`${report.failed} failed`);
  out.line(`${out.cell({ text: report.workflowType, style: 'bold' })}: ${report.checked} checked, ${verdict} (${seconds}s)`);
  if (report.problems.length === 0) return;
  out.table(
    ['ID', 'PROBLEM', 'SEQ', 'CODE', 'MESSAGE'],
    report.problems.map((p) => [p.workflowId, { text: p.kind, style: 'red' }, p.sequence === undefined ? '' : String(p.sequence), p.code ?? '', p.message]),
  );
  if (report.truncated) out.line(out.c.dim(`more problems were found than listed (raise --max-problems to see more)`));
}

export function replayCheckCommand(program: Command, io: Io): void {
  program
    .command('replay-check')
    .summary('check new workflow code against the stored histories, before a deploy')
    .description(
      'replay the stored instances of each workflow the module exports with that (new) code — upcasters, evolve, snapshots, the terminal check, and with --decide the recorded inputs — and list each instance it cannot replay; exit 1 when there is one, for CI. Reads only',
    )
    .option('--module <path>', 'the module of the new code, exporting its workflow definitions (.js, .mjs; .ts with tsx installed); default: --workflows')
    .addOption(new Option('--type <type>', 'check only this workflow type (repeat for several); default: every workflow the module exports').argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]))
    .option('--active', 'check only active instances (those the new code will go on deciding)')
    .addOption(new Option('--sample <n>', 'check about n instances of each type, spread evenly over all of them').argParser(parsePositive))
    .option('--decide', 'also run decide again on each recorded accepted input (workflows that record observations) and compare the events')
    .addOption(new Option('--page-size <n>', 'instances read per page').argParser(parseLimit).default(100))
    .addOption(new Option('--max-problems <n>', 'most problems listed per type (every failed instance is still counted)').argParser(parseCount).default(100))
    .option('--progress', 'print progress on stderr even when it is not a terminal (it is shown on a terminal anyway)')
    .action(async (flags: ReplayCheckFlags, command: Command) => {
      const options = command.optsWithGlobals<ReplayCheckFlags & GlobalOptions>();
      const out = new Output(io, options.json === true, colorEnabled(io, options));
      // The module first: a broken or unknown one costs no connection.
      const workflows = await workflowsToCheck(options, io);
      const target = parseTarget(options.url ?? io.env.IRONFLOW_URL, io.cwd);
      const connection = await connect(target, { schema: options.schema, prefix: options.prefix, partitions: options.partitions, connectTimeoutMs: options.connectTimeout });
      const progress = progressWriter(io, options.progress === true || (!out.json && io.stderr.isTTY === true));
      const reports: ReplayReport[] = [];
      try {
        for (const workflow of workflows) {
          const report = await replayCheck({
            store: connection.store,
            workflow,
            select: flags.active === true ? 'active' : 'all',
            sample: flags.sample,
            decide: flags.decide === true,
            pageSize: flags.pageSize,
            maxProblems: flags.maxProblems,
            onProgress: (p) => progress.update(workflow.type, p),
          });
          progress.end();
          reports.push(report);
          if (!out.json) printReport(out, report);
        }
      } catch (error) {
        progress.end();
        await connection.close().catch(() => undefined);
        throw error;
      }
      await connection.close();
      if (out.json) out.data({ ok: reports.every((r) => r.failed === 0), reports });
      const failed = reports.filter((r) => r.failed > 0);
      if (failed.length > 0) {
        const instances = failed.reduce((sum, r) => sum + r.failed, 0);
        throw new CliError(EXIT_CODES.failed, `replay check failed: ${instances} instance${instances === 1 ? '' : 's'} of ${failed.map((r) => r.workflowType).join(', ')} cannot be replayed by this code`);
      }
    });
}
