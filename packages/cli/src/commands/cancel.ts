// `cancel <type> <id>` and `cancel-where`: through engine.cancel, so a workflow loaded with
// --workflows handles its cancellation with `onCancel`, children are cancelled with their parent,
// and a child's parent hears of it. The bulk form previews and asks first.
import type { InstanceSummary } from '@ironflow/core/store';
import type { CancelOptions } from '@ironflow/runtime';
import type { Command } from 'commander';
import { consent } from '../confirm.js';
import { CliError, EXIT_CODES, usageError } from '../exit-codes.js';
import { ref, status, time } from '../format.js';
import type { Io } from '../output.js';
import { withSession } from '../session.js';
import { bulkOptions, instanceFilter, instanceFilterOptions, type InstanceFilterOptions } from './filters.js';

interface CancelFlags {
  reason: string;
  force?: boolean | undefined;
  children: boolean;
}

function cancelOptions(command: Command): Command {
  return command
    .requiredOption('--reason <text>', 'why, recorded with the cancellation')
    .option('--force', "cancel at once even when the workflow handles cancellation with onCancel (with --workflows)")
    .option('--no-children', 'leave the children the instance started running');
}

const engineOptions = (flags: CancelFlags): CancelOptions => ({ force: flags.force === true, children: flags.children });

export function cancelCommands(program: Command, io: Io): void {
  cancelOptions(
    program
      .command('cancel')
      .summary('cancel an instance (or let its workflow handle it with onCancel)')
      .description("cancel an instance: its pending effects and timers are cancelled, running handlers lose their lease; with --workflows, a workflow's onCancel handles it instead")
      .argument('<type>', 'workflow type')
      .argument('<id>', 'instance id'),
  ).action(async (type: string, id: string, flags: CancelFlags, command: Command) =>
    withSession(command, io, async (session) => {
      const { out, engine } = session;
      const loaded = await session.existing({ type, id });
      if (loaded.status === 'completed') throw new CliError(EXIT_CODES.failed, `${type}/${id} is already completed; nothing was cancelled`);
      const result = await engine.cancel({ type, id }, flags.reason, engineOptions(flags));
      if (out.json) return out.data({ workflowType: type, workflowId: id, ...result });
      const name = out.cell(`${type}/${id}`);
      if (result.outcome === 'cancelled') out.line(`cancelled ${name} (${result.effects} effects, ${result.timers} timers cancelled)`);
      else if (result.outcome === 'handled') out.line(`${name} handles its cancellation (onCancel): the input was ${result.result.status}`);
      else out.line(`${name} is already ${loaded.status}; nothing to do`);
    }),
  );

  const where = program
    .command('cancel-where')
    .summary('cancel every active instance a filter matches')
    .description('cancel every active instance the filters match, after a preview and a confirmation')
    .option('--all', 'match every active instance of every type (needed when no filter is given)');
  instanceFilterOptions(where);
  bulkOptions(cancelOptions(where), 'instances').action(
    async (flags: CancelFlags & InstanceFilterOptions & { all?: boolean; dryRun?: boolean; yes?: boolean; limit: number }, command: Command) =>
      withSession(command, io, async ({ out, store, engine }) => {
        const filter = instanceFilter(flags);
        if (Object.keys(filter).length === 0 && flags.all !== true) throw usageError('cancel-where needs a filter (--type, --parent-type/--parent-id, --updated-from, --updated-before) or --all');
        const counting = out.progress('counting');
        let matched: number;
        try {
          ({ matched } = await engine.cancelWhere(filter, flags.reason, { dryRun: true, onProgress: (n) => counting.update(n) }));
        } finally {
          counting.end();
        }
        if (flags.dryRun === true) {
          const items: InstanceSummary[] = (await store.pageInstances({ ...filter, status: 'active', limit: flags.limit })).items;
          if (out.json) return out.data({ dryRun: true, matched, changed: 0, items });
          out.table(
            ['TYPE', 'ID', 'STATUS', 'VERSION', 'PARENT', 'UPDATED'],
            items.map((i) => [i.workflowType, i.workflowId, status(i.status), String(i.version), ref(i.parent), time(i.updatedAt)]),
          );
          out.line(`${matched} active instance${matched === 1 ? '' : 's'} would be cancelled${matched > items.length ? ` (${items.length} shown)` : ''}; nothing was changed`);
          return;
        }
        if (matched === 0) {
          if (out.json) return out.data({ dryRun: false, matched: 0, changed: 0 });
          return out.line('no active instances match; nothing to cancel');
        }
        await consent(io, flags, `cancel ${matched} active instance${matched === 1 ? '' : 's'}`);
        const progress = out.progress('cancelled', matched);
        let result: { matched: number; changed: number };
        try {
          result = await engine.cancelWhere(filter, flags.reason, { ...engineOptions(flags), onProgress: (done) => progress.update(done) });
        } finally {
          progress.end();
        }
        if (out.json) return out.data({ dryRun: false, ...result });
        out.line(`cancelled ${result.changed} instance${result.changed === 1 ? '' : 's'}`);
      }),
  );
}
