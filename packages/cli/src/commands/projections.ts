// `projections list|show|dead-letters|redrive|skip|reset`: the checkpoints, leases, lag and dead
// letters of every projection on the store, through `engine.projections`. Skip and reset change
// nothing without --yes or a "y"; reset says first what it will do and what the operator must do.
import { isIronflowError } from '@ironflow/core';
import type { FeedLag, FeedPosition, ProjectionDeadLetter, ProjectionDeadLetterStatus } from '@ironflow/core/store';
import type { ProjectionReport } from '@ironflow/runtime';
import { Option, type Command } from 'commander';
import { consent } from '../confirm.js';
import { CliError, EXIT_CODES, notFound, usageError } from '../exit-codes.js';
import { clip, duration, status, time } from '../format.js';
import { shellQuote, type Cell, type Io, type Output } from '../output.js';
import { parseLimit } from '../parse.js';
import { withSession, type Session } from '../session.js';
import { pageOptions } from './filters.js';

/** Most events a lag or a reset counts, as `engine.projections` does; more is shown as "≥10000". */
const COUNT_LIMIT = 10_000;
const STATUSES: readonly ProjectionDeadLetterStatus[] = ['parked', 'redriven'];

/** A projection the store knows, or exit 3. */
async function existing(session: Session, name: string): Promise<ProjectionReport> {
  const report = await session.engine.projections.get(name);
  if (report === undefined) throw notFound(`no projection ${name} in ${session.connection.label}`);
  return report;
}

/**
 * Finds one dead letter by id. The port has no lookup by id, so this reads the projection's dead
 * letters page by page in id order: fine for dead letters, which are few by nature.
 */
async function findLetter(session: Session, name: string, id: string): Promise<ProjectionDeadLetter | undefined> {
  let after: string | undefined;
  do {
    const page = await session.engine.projections.deadLetters.list(name, { limit: 1000, ...(after === undefined ? {} : { after }) });
    const found = page.items.find((letter) => letter.id === id);
    if (found !== undefined) return found;
    after = page.next;
  } while (after !== undefined);
  return undefined;
}

/** `12`, or `≥10000` when the count stopped at its limit. */
const count = (lag: Pick<FeedLag, 'events' | 'capped'>): string => (lag.capped ? `≥${lag.events}` : String(lag.events));
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const events = (lag: Pick<FeedLag, 'events' | 'capped'>): string => `${count(lag)} event${!lag.capped && lag.events === 1 ? '' : 's'}`;

/** Where the checkpoint is: the feed's start when there is none. */
const checkpoint = (position: FeedPosition | undefined, max?: number): Cell =>
  position === undefined ? { text: '(start)', style: 'dim' } : max === undefined ? position : clip(position, max);

/** Whether the holder's lease is live now, and until when. */
function lease(p: ProjectionReport): Cell {
  if (p.owner === undefined || p.expiresAt === undefined) return { text: 'none', style: 'dim' };
  return p.held ? { text: `live until ${time(p.expiresAt)}`, style: 'green' } : { text: `expired ${time(p.expiresAt)}`, style: 'yellow' };
}

/** Prints dead letters as a table. */
function printLetters(out: Output, items: readonly ProjectionDeadLetter[]): void {
  out.table(
    ['ID', 'STATUS', 'EVENT', 'POSITION', 'ATTEMPTS', 'PARKED', 'ERROR'],
    items.map((l) => [l.id, status(l.status), `${l.workflowType}/${l.workflowId} #${l.sequence} ${l.eventType}`, l.position, String(l.attempts), time(l.parkedAt), { text: clip(l.error), style: 'red' }]),
  );
}

/** What a reset will do, for the question and the report after it. */
function plan(name: string, position: FeedPosition | undefined, lag: FeedLag): string {
  return position === undefined
    ? `rebuild projection ${name} from the first event (${events(lag)} to project)`
    : `reset projection ${name} to resume after ${position} (${events(lag)} after it)`;
}

export function projectionCommands(program: Command, io: Io): void {
  const projections = program.command('projections').description('list projections with their lag, show one, and manage its dead letters and checkpoint');

  projections
    .command('list')
    .description('list every projection on the store: checkpoint, holder and lease, token, dead letters, and lag (events behind, age of the oldest unprojected event)')
    .action(async (_options: object, command: Command) =>
      withSession(command, io, async ({ out, engine }) => {
        const items = await engine.projections.list();
        if (out.json) return out.data({ items });
        if (items.length === 0) return out.line(out.c.dim('no projections in this store (a runner creates one at its first claim)'));
        out.table(
          ['NAME', 'CHECKPOINT', 'HOLDER', 'LEASE', 'TOKEN', 'DEAD', 'LAG', 'OLDEST UNPROJECTED'],
          items.map((p) => [
            p.name,
            checkpoint(p.position, 32),
            p.owner ?? { text: '-', style: 'dim' },
            lease(p),
            String(p.token),
            p.deadLetters > 0 ? { text: String(p.deadLetters), style: 'red' } : '0',
            count(p.lag),
            p.lag.ageMs === undefined ? '' : duration(p.lag.ageMs),
          ]),
        );
      }),
    );

  projections
    .command('show')
    .description('show one projection: its full checkpoint, lease, lag, and the first page of its dead letters')
    .argument('<name>', 'projection name')
    .addOption(new Option('--limit <n>', 'dead letters shown, 1 to 1000').argParser(parseLimit).default(20))
    .action(async (name: string, options: { limit: number }, command: Command) =>
      withSession(command, io, async (session) => {
        const { out, engine } = session;
        const report = await existing(session, name);
        const page = await engine.projections.deadLetters.list(name, { limit: options.limit });
        if (out.json) return out.data({ projection: report, deadLetters: page });
        out.fields([
          ['projection', report.name],
          ['checkpoint', checkpoint(report.position)],
          ['holder', report.owner ?? { text: 'none', style: 'dim' }],
          ['lease', lease(report)],
          ['token', String(report.token)],
          ['updated', time(report.updatedAt)],
          ['dead letters', report.deadLetters > 0 ? { text: String(report.deadLetters), style: 'red' } : '0'],
          ['lag', `${events(report.lag)}${report.lag.ageMs === undefined ? '' : `, the oldest recorded ${duration(report.lag.ageMs)} ago`}`],
        ]);
        if (page.items.length === 0) return;
        out.line();
        out.line(out.c.bold('dead letters'));
        printLetters(out, page.items);
        out.more(page.next, `ironflow projections dead-letters ${shellQuote(name)}`);
      }),
    );

  pageOptions(
    projections
      .command('dead-letters')
      .description("list a projection's dead letters in id order, a page at a time: the event it failed on, its position, attempts and last error")
      .argument('<name>', 'projection name')
      .addOption(new Option('--status <status>', 'only dead letters with this status').choices(STATUSES)),
    'dead letters',
  ).action(async (name: string, options: { status?: ProjectionDeadLetterStatus; after?: string; limit: number }, command: Command) =>
    withSession(command, io, async (session) => {
      const { out, engine } = session;
      await existing(session, name);
      const page = await engine.projections.deadLetters.list(name, {
        limit: options.limit,
        ...(options.status === undefined ? {} : { status: options.status }),
        ...(options.after === undefined ? {} : { after: options.after }),
      });
      if (out.json) return out.data(page);
      if (page.items.length === 0) return out.line(out.c.dim('no dead letters here'));
      printLetters(out, page.items);
      out.more(page.next);
    }),
  );

  projections
    .command('redrive')
    .description("hand a parked dead letter back to the projection's runner, which tries its event again")
    .argument('<name>', 'projection name')
    .argument('<id>', 'dead letter id')
    .action(async (name: string, id: string, _options: object, command: Command) =>
      withSession(command, io, async (session) => {
        const { out, engine } = session;
        await existing(session, name);
        if (!(await engine.projections.deadLetters.redrive(name, id))) {
          const letter = await findLetter(session, name, id);
          if (letter === undefined) throw notFound(`no dead letter ${id} in projection ${name}`);
          throw new CliError(EXIT_CODES.failed, `dead letter ${id} of projection ${name} is ${letter.status} already: its runner tries it at its next batch`);
        }
        if (out.json) return out.data({ projection: name, id, redriven: true });
        out.line(`re-drove dead letter ${out.cell(id)} of projection ${out.cell(name)}: its runner tries the event again`);
      }),
    );

  projections
    .command('skip')
    .description('delete a dead letter, after a confirmation: its event stays unprojected')
    .argument('<name>', 'projection name')
    .argument('<id>', 'dead letter id')
    .option('-y, --yes', 'go ahead without asking (needed when stdin is not a terminal)')
    .action(async (name: string, id: string, options: { yes?: boolean }, command: Command) =>
      withSession(command, io, async (session) => {
        const { out, engine } = session;
        await existing(session, name);
        const letter = await findLetter(session, name, id);
        if (letter === undefined) throw notFound(`no dead letter ${id} in projection ${name}`);
        await consent(io, options, `skip dead letter ${id} of projection ${name}`, {
          preview: false,
          notes: [`It holds ${letter.eventType} #${letter.sequence} of ${letter.workflowType}/${letter.workflowId} (${plural(letter.attempts, 'attempt')}; last error: ${clip(letter.error)}).`, 'Skipped, the event is never handed to the projection again (unless it is reset to before it).'],
        });
        if (!(await engine.projections.deadLetters.skip(name, id))) throw notFound(`no dead letter ${id} in projection ${name}`);
        if (out.json) return out.data({ projection: name, id, skipped: true });
        out.line(`skipped dead letter ${out.cell(id)} of projection ${out.cell(name)}: its event stays unprojected`);
      }),
    );

  projections
    .command('reset')
    .summary("move a projection's checkpoint: rebuild from the start, or resume after --position")
    .description(
      "move a projection's checkpoint, after a confirmation: to the start (a rebuild) or after --position, deleting its dead letters unless --keep-dead-letters; its runner stops at its next write and resumes from there. Clear the read model first when its handler is not idempotent: the events are handed to it again",
    )
    .argument('<name>', 'projection name')
    .option('--position <position>', "resume after this feed position (a checkpoint as `projections show` prints it, or a dead letter's position); default: from the first event")
    .option('--keep-dead-letters', 'keep its dead letters (default: they are deleted)')
    .option('-y, --yes', 'go ahead without asking (needed when stdin is not a terminal)')
    .action(async (name: string, options: { position?: string; keepDeadLetters?: boolean; yes?: boolean }, command: Command) =>
      withSession(command, io, async (session) => {
        const { out, engine, store } = session;
        const report = await existing(session, name);
        const keep = options.keepDeadLetters === true;
        // The store decodes the position here, before anything is asked or written (text it did not
        // write is INVALID_ARGUMENT, exit 2), and counts what the projection will be handed.
        const lag = await store.feedLag({ ...(options.position === undefined ? {} : { after: options.position }), limit: COUNT_LIMIT }).catch((error: unknown) => {
          if (options.position !== undefined && isIronflowError(error, 'INVALID_ARGUMENT')) throw usageError(`--position is refused by the store: ${error.message}`);
          throw error;
        });
        const dropped = keep ? 0 : report.deadLetters;
        await consent(io, options, `${plan(name, options.position, lag)}${dropped > 0 ? `, deleting its ${plural(dropped, 'dead letter')}` : ''}`, {
          preview: false,
          notes: [
            `Its runner${report.held ? ` (${report.owner ?? ''}, holding it now)` : ''} stops at its next write and resumes from the new checkpoint.`,
            'Clear the read model first unless the projection is idempotent: those events are handed to its handler again.',
          ],
        });
        await engine.projections.reset(name, { ...(options.position === undefined ? {} : { position: options.position }), keepDeadLetters: keep });
        if (out.json) return out.data({ projection: name, ...(options.position === undefined ? {} : { position: options.position }), keepDeadLetters: keep, deadLettersDeleted: dropped, lag: { events: lag.events, capped: lag.capped } });
        out.line(
          `${options.position === undefined ? `reset projection ${out.cell(name)} to the start: its runner rebuilds it from the first event` : `reset projection ${out.cell(name)}: its runner resumes after ${out.cell(options.position)}`} (${events(lag)}); ${
            keep ? `${plural(report.deadLetters, 'dead letter')} kept` : `${plural(dropped, 'dead letter')} deleted`
          }`,
        );
      }),
    );
}
