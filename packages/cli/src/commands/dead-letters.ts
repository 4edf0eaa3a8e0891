// `dead-letters list|show|redrive|redrive-all`: effects and timers that exhausted their retries.
// The bulk re-drive previews first (--dry-run), and changes nothing without --yes or a "y".
import type { EffectRecord, TimerRecord, WorkKind } from '@ironflow/core/store';
import { Argument, Option, type Command } from 'commander';
import { consent } from '../confirm.js';
import { notFound, usageError } from '../exit-codes.js';
import { status, time } from '../format.js';
import type { Io, Output } from '../output.js';
import { parseCount, parseLimit } from '../parse.js';
import { withSession, type Session } from '../session.js';
import { bulkOptions, workFilter, workFilterOptions, type WorkFilterOptions } from './filters.js';
import { effectRows, timerRows } from './work.js';

const KINDS: readonly WorkKind[] = ['effect', 'timer'];
const kindOption = () => new Option('--kind <kind>', 'effects or timers only (default: both)').choices(KINDS);
const kindsOf = (kind: WorkKind | undefined): readonly WorkKind[] => (kind === undefined ? KINDS : [kind]);

/** Prints dead letters of one kind as a table. */
function printRows(out: Output, kind: WorkKind, items: readonly (EffectRecord | TimerRecord)[]): void {
  const { head, rows } = kind === 'effect' ? effectRows(items as EffectRecord[]) : timerRows(items as TimerRecord[]);
  out.line(out.c.bold(kind === 'effect' ? 'dead effects' : 'dead timers'));
  out.table(head, rows);
}

/** Up to `limit` dead letters matching the filter, read through listWork in id order. */
async function deadMatching(session: Session, kind: WorkKind, filter: ReturnType<typeof workFilter>, limit: number): Promise<(EffectRecord | TimerRecord)[]> {
  return (await session.store.listWork({ kind, ...filter, status: 'dead', limit })).items;
}

/**
 * Finds one dead letter by id. The port has no lookup by id, so this reads the dead letters of the
 * kind page by page in id order: fine for dead letters, which are few by nature.
 */
async function findDead(session: Session, kind: WorkKind, id: string): Promise<EffectRecord | TimerRecord> {
  let after: string | undefined;
  do {
    const page = await session.store.listWork({ kind, status: 'dead', limit: 1000, ...(after === undefined ? {} : { after }) });
    const found = page.items.find((row) => row.id === id);
    if (found !== undefined) return found;
    after = page.next;
  } while (after !== undefined);
  throw notFound(`no dead ${kind} ${id} in ${session.connection.label}`);
}

export function deadLetterCommands(program: Command, io: Io): void {
  const deadLetters = program.command('dead-letters').description('list, show and re-drive dead effects and timers');

  deadLetters
    .command('list')
    .description('list dead letters, newest first, with the total of each kind')
    .addOption(kindOption())
    .option('--type <type>', 'only dead letters of this workflow type')
    .option('--id <id>', 'only dead letters of this instance (with --type)')
    .addOption(new Option('--limit <n>', 'dead letters of each kind, 1 to 1000').argParser(parseLimit).default(100))
    .addOption(new Option('--offset <n>', 'skip this many of each kind').argParser(parseCount).default(0))
    .action(async (options: { kind?: WorkKind; type?: string; id?: string; limit: number; offset: number }, command: Command) =>
      withSession(command, io, async ({ out, store }) => {
        const filter = workFilter(options);
        const items: (EffectRecord | TimerRecord)[] = [];
        const total: Partial<Record<WorkKind, number>> = {};
        for (const kind of kindsOf(options.kind)) {
          total[kind] = await store.countDeadLetters({ kind, ...filter });
          items.push(...(await store.listDeadLetters({ kind, ...filter, limit: options.limit, offset: options.offset })));
        }
        if (out.json) return out.data({ items, total });
        for (const kind of kindsOf(options.kind)) {
          const rows = items.filter((i) => i.kind === kind);
          printRows(out, kind, rows);
          out.line(out.c.dim(`${rows.length} shown of ${total[kind] ?? 0}`));
        }
      }),
    );

  deadLetters
    .command('show')
    .description('show one dead letter in full: payload or input, attempts, last error')
    .addArgument(new Argument('<kind>', 'effect or timer').choices(KINDS))
    .argument('<id>', 'effect or timer id')
    .action(async (kind: WorkKind, id: string, _options: object, command: Command) =>
      withSession(command, io, async (session) => {
        const { out } = session;
        const row = await findDead(session, kind, id);
        if (out.json) return out.data(row);
        out.fields([
          [kind, row.id],
          ['instance', `${row.workflowType}/${row.workflowId}`],
          ['status', status(row.status)],
          ['attempts', String(row.attempts)],
          ['created', time(row.createdAt)],
          ['dead since', time(row.updatedAt)],
          ...(row.kind === 'effect' ? ([['tag', row.tag ?? '-'], ['key', row.key ?? '-'], ['priority', String(row.priority)]] as const) : ([['key', row.key ?? '-'], ['fire at', time(row.fireAt)]] as const)),
          ['last error', { text: row.lastError ?? '', style: 'red' }],
        ]);
        out.line(out.c.dim(row.kind === 'effect' ? 'payload' : 'input'));
        for (const line of (JSON.stringify(row.kind === 'effect' ? row.payload : row.input, null, 2) ?? 'undefined').split('\n')) out.line(`  ${out.cell(line)}`);
      }),
    );

  deadLetters
    .command('redrive')
    .description('make one dead letter claimable again, its attempts reset')
    .addArgument(new Argument('<kind>', 'effect or timer').choices(KINDS))
    .argument('<id>', 'effect or timer id')
    .action(async (kind: WorkKind, id: string, _options: object, command: Command) =>
      withSession(command, io, async ({ out, engine, connection }) => {
        if (!(await engine.deadLetters.redrive(kind, id))) throw notFound(`no dead ${kind} ${id} in ${connection.label}`);
        if (out.json) return out.data({ kind, id, redriven: true });
        out.line(`re-drove ${kind} ${out.cell(id)}`);
      }),
    );

  const redriveAll = deadLetters
    .command('redrive-all')
    .description('re-drive every dead letter the filters match, after a preview and a confirmation')
    .addOption(kindOption());
  workFilterOptions(redriveAll, 'dead letters', true);
  bulkOptions(redriveAll, 'dead letters').action(async (options: WorkFilterOptions & { kind?: WorkKind; dryRun?: boolean; yes?: boolean; limit: number }, command: Command) =>
    withSession(command, io, async (session) => {
      const { out, engine } = session;
      const filter = workFilter(options);
      if (filter.tag !== undefined && options.kind === 'timer') throw usageError('--tag applies to effects only: timers have no tags');
      // Timers have no tags: a tag filter means effects.
      const kinds = filter.tag === undefined ? kindsOf(options.kind) : (['effect'] as const);
      const counts = new Map<WorkKind, number>();
      const counting = out.progress('counting');
      try {
        for (const kind of kinds) {
          const counted = [...counts.values()].reduce((a, b) => a + b, 0);
          counts.set(kind, (await engine.deadLetters.redriveWhere({ kind, ...filter }, { dryRun: true, onProgress: (n) => counting.update(counted + n) })).matched);
        }
      } finally {
        counting.end();
      }
      const matched = [...counts.values()].reduce((a, b) => a + b, 0);
      if (options.dryRun === true) {
        const items: (EffectRecord | TimerRecord)[] = [];
        for (const kind of counts.keys()) items.push(...(await deadMatching(session, kind, filter, options.limit)));
        if (out.json) return out.data({ dryRun: true, matched, changed: 0, items });
        for (const kind of counts.keys()) printRows(out, kind, items.filter((i) => i.kind === kind));
        out.line(`${matched} dead letter${matched === 1 ? '' : 's'} would be re-driven${matched > items.length ? ` (${items.length} shown)` : ''}; nothing was changed`);
        return;
      }
      if (matched === 0) {
        if (out.json) return out.data({ dryRun: false, matched: 0, changed: 0 });
        return out.line('no dead letters match; nothing to re-drive');
      }
      await consent(io, options, `re-drive ${[...counts].filter(([, n]) => n > 0).map(([kind, n]) => `${n} dead ${kind}${n === 1 ? '' : 's'}`).join(' and ')}`);
      let changed = 0;
      let total = 0;
      const progress = out.progress('re-driven', matched);
      try {
        for (const kind of counts.keys()) {
          const result = await engine.deadLetters.redriveWhere({ kind, ...filter }, { onProgress: (done) => progress.update(changed + done) });
          changed += result.changed;
          total += result.matched;
        }
      } finally {
        progress.end();
      }
      if (out.json) return out.data({ dryRun: false, matched: total, changed });
      out.line(`re-drove ${changed} dead letter${changed === 1 ? '' : 's'}`);
    }),
  );
}
