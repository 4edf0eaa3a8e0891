// Pausing (`pause`, `resume`, `paused`), the backlog and metrics, and the maintenance commands
// (`migrate`, `purge-idempotency-keys`).
import { Option, type Command } from 'commander';
import { usageError } from '../exit-codes.js';
import { duration, time } from '../format.js';
import type { Io } from '../output.js';
import { parseDuration } from '../parse.js';
import { withSession } from '../session.js';
import { pauseTarget } from './filters.js';

function pauseCommand(program: Command, io: Io, paused: boolean): void {
  const verb = paused ? 'pause' : 'resume';
  program
    .command(verb)
    .summary(paused ? 'pause an instance or a whole workflow type' : 'resume an instance or a whole workflow type')
    .description(
      paused
        ? 'pause an instance (<type> <id>) or a whole workflow type (--type): its effects and timers stay pending, unclaimed, until resumed; inputs are still decided'
        : 'resume an instance (<type> <id>) or a whole workflow type (--type); instances paused one by one stay paused when their type resumes',
    )
    .argument('[type]', 'workflow type of the instance')
    .argument('[id]', 'instance id')
    .option('--type <type>', `${verb} every instance of this workflow type`)
    .action(async (type: string | undefined, id: string | undefined, options: { type?: string }, command: Command) =>
      withSession(command, io, async (session) => {
        const { out, engine } = session;
        const target = pauseTarget(type, id, options);
        if (target.id !== undefined) await session.existing({ type: target.type, id: target.id });
        const r = target.id === undefined ? undefined : { type: target.type, id: target.id };
        const changed =
          r === undefined ? await (paused ? engine.pauseType(target.type) : engine.resumeType(target.type)) : await (paused ? engine.pause(r) : engine.resume(r));
        if (out.json) return out.data({ target, paused, changed });
        const name = out.cell(target.id === undefined ? `workflow type ${target.type}` : `${target.type}/${target.id}`);
        out.line(changed ? `${paused ? 'paused' : 'resumed'} ${name}` : `${name} was ${paused ? 'already paused' : 'not paused'}; nothing changed`);
      }),
    );
}

export function controlCommands(program: Command, io: Io): void {
  pauseCommand(program, io, true);
  pauseCommand(program, io, false);

  program
    .command('paused')
    .description('list the pauses in force: whole workflow types first, then instances')
    .action(async (_options: object, command: Command) =>
      withSession(command, io, async ({ out, engine }) => {
        const items = await engine.listPaused();
        if (out.json) return out.data({ items });
        out.table(['TYPE', 'ID', 'SINCE'], items.map((p) => [p.type, p.id ?? { text: '(whole type)', style: 'dim' }, time(p.since)]));
      }),
    );

  program
    .command('backlog')
    .summary('effects and timers per workflow type, by status')
    .description('effects and timers per workflow type: pending, due, leased, paused, dead, and how long the oldest due item has waited')
    .action(async (_options: object, command: Command) =>
      withSession(command, io, async ({ out, engine }) => {
        const now = Date.now();
        const items = await engine.backlog();
        if (out.json) return out.data({ now, items });
        out.table(
          ['TYPE', 'KIND', 'PENDING', 'DUE', 'LEASED', 'PAUSED', 'DEAD', 'OLDEST DUE WAITED'],
          items.map((b) => [
            b.workflowType,
            b.kind,
            String(b.pending),
            String(b.due),
            String(b.leased),
            String(b.paused),
            b.dead > 0 ? { text: String(b.dead), style: 'red' } : '0',
            b.oldestDueAt === undefined ? '' : duration(now - b.oldestDueAt),
          ]),
        );
      }),
    );

  program
    .command('metrics')
    .summary("the engine's metrics snapshot (backlog gauges)")
    .description("the engine's metrics snapshot: backlog gauges read from the store now (counters and histograms count what a running engine did: read them from its process, e.g. with @ironflow/otel)")
    .action(async (_options: object, command: Command) =>
      withSession(command, io, async ({ out, engine }) => {
        const snapshot = await engine.metrics();
        if (out.json) return out.data(snapshot);
        out.table(
          ['METRIC', 'ATTRIBUTES', 'VALUE'],
          snapshot.gauges.map((g) => [
            g.name,
            Object.entries(g.attributes)
              .map(([k, v]) => `${k.replace(/^ironflow\./, '')}=${v}`)
              .join(' '),
            String(g.value),
          ]),
        );
      }),
    );

  program
    .command('migrate')
    .summary("create or upgrade the store's schema (PostgreSQL, PGlite)")
    .description("create or upgrade the store's schema (PostgreSQL and PGlite; Redis needs none); idempotent and safe to run from several processes at once")
    .action(async (_options: object, command: Command) =>
      withSession(
        command,
        io,
        async ({ out, connection }) => {
          // withSession refused Redis already; a connection without migrations is not reached.
          if (connection.migrate === undefined) throw usageError(`${connection.label} has no schema to migrate`);
          const result = await connection.migrate();
          if (out.json) return out.data(result);
          if (result.applied.length === 0) return out.line(`schema ${result.schema} is up to date (version ${result.version})`);
          for (const m of result.applied) out.line(`applied ${m.version} ${m.name}`);
          out.line(`schema ${result.schema} is at version ${result.version}`);
        },
        { forMigration: true },
      ),
    );

  program
    .command('purge-idempotency-keys')
    .summary('forget old idempotency keys')
    .description('forget idempotency keys committed longer ago than --older-than; a repeat of such a key then runs again')
    .addOption(new Option('--older-than <duration>', 'age of the keys to forget: 30m, 24h, 7d …').argParser(parseDuration).makeOptionMandatory())
    .action(async (options: { olderThan: number }, command: Command) =>
      withSession(command, io, async ({ out, engine }) => {
        const purged = await engine.purgeIdempotencyKeys(options.olderThan);
        if (out.json) return out.data({ purged, olderThanMs: options.olderThan });
        out.line(`forgot ${purged} idempotency key${purged === 1 ? '' : 's'} older than ${duration(options.olderThan)}`);
      }),
    );
}

