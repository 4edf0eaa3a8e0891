// `effects list` and `timers list`: pages of work across the store, or of one instance, with the
// filters of the store's listWork (status, tag, created window), in id order.
import type { EffectRecord, TimerRecord, WorkKind, WorkStatus } from '@ironflow/core/store';
import { Option, type Command } from 'commander';
import { clip, preview, status, time } from '../format.js';
import type { Cell, Io } from '../output.js';
import { withSession } from '../session.js';
import { pageOptions, workFilter, workFilterOptions, type WorkFilterOptions } from './filters.js';

const WORK_STATUSES: readonly WorkStatus[] = ['pending', 'leased', 'done', 'dead', 'fired', 'cancelled'];

/** The table of effects. */
export function effectRows(items: readonly EffectRecord[]): { head: string[]; rows: Cell[][] } {
  return {
    head: ['ID', 'INSTANCE', 'STATUS', 'ATTEMPTS', 'TAG', 'PRIORITY', 'AVAILABLE', 'PAYLOAD', 'LAST ERROR'],
    rows: items.map((e) => [e.id, `${e.workflowType}/${e.workflowId}`, status(e.status), String(e.attempts), e.tag ?? '', String(e.priority), time(e.availableAt), preview(e.payload, 40), { text: clip(e.lastError, 50), style: 'red' }]),
  };
}

/** The table of timers. */
export function timerRows(items: readonly TimerRecord[]): { head: string[]; rows: Cell[][] } {
  return {
    head: ['ID', 'INSTANCE', 'STATUS', 'ATTEMPTS', 'KEY', 'FIRE AT', 'INPUT', 'LAST ERROR'],
    rows: items.map((t) => [t.id, `${t.workflowType}/${t.workflowId}`, status(t.status), String(t.attempts), t.key ?? '', time(t.fireAt), preview(t.input, 40), { text: clip(t.lastError, 50), style: 'red' }]),
  };
}

function workList(parent: Command, io: Io, kind: WorkKind): void {
  const what = kind === 'effect' ? 'effects' : 'timers';
  const list = parent
    .command('list')
    .summary(`list ${what}`)
    .description(`list ${what} across the store, or of one instance (--type and --id), in id order, a page at a time`)
    .addOption(new Option('--status <status>', `only ${what} with this status`).choices(kind === 'effect' ? WORK_STATUSES.filter((s) => s !== 'fired') : WORK_STATUSES.filter((s) => s !== 'done')));
  workFilterOptions(list, what, kind === 'effect');
  pageOptions(list, what).action(async (options: WorkFilterOptions & { status?: WorkStatus; after?: string; limit: number }, command: Command) =>
    withSession(command, io, async (session) => {
      const { out, store } = session;
      const filter = workFilter(options);
      if (filter.workflowType !== undefined && filter.workflowId !== undefined) await session.existing({ type: filter.workflowType, id: filter.workflowId });
      const page = await store.listWork({
        kind,
        ...filter,
        ...(options.status === undefined ? {} : { status: options.status }),
        ...(options.after === undefined ? {} : { after: options.after }),
        limit: options.limit,
      });
      if (out.json) return out.data(page);
      const { head, rows } = kind === 'effect' ? effectRows(page.items as EffectRecord[]) : timerRows(page.items as TimerRecord[]);
      out.table(head, rows);
      out.more(page.next);
    }),
  );
}

export function workCommands(program: Command, io: Io): void {
  workList(program.command('effects').description('list effects (the outbox: pending, leased, done, dead, cancelled)'), io, 'effect');
  workList(program.command('timers').description('list timers (pending, leased, fired, dead, cancelled)'), io, 'timer');
}
