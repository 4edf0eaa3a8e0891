// `events <type> <id>`: an instance's timeline, one stored event a row, with the input that
// produced it and the effect or timer whose result that input was.
import { Option, type Command } from 'commander';
import { preview, time } from '../format.js';
import type { Io } from '../output.js';
import { parsePositive } from '../parse.js';
import { withSession } from '../session.js';

export function eventsCommand(program: Command, io: Io): void {
  program
    .command('events')
    .summary("an instance's events: its timeline")
    .description("an instance's events in sequence order (its timeline), with the input that produced each and the effect or timer that input came from")
    .argument('<type>', 'workflow type')
    .argument('<id>', 'instance id')
    .addOption(new Option('--from <sequence>', 'start at this sequence number').argParser(parsePositive))
    .action(async (type: string, id: string, options: { from?: number }, command: Command) =>
      withSession(command, io, async (session) => {
        const { out, store } = session;
        const r = { type, id };
        const items = await store.readEvents(r, options.from === undefined ? {} : { fromSequence: options.from });
        // Every instance has an event: none at all means no instance (past its last with --from is fine).
        if (items.length === 0) await session.existing(r);
        if (out.json) return out.data({ items });
        out.table(
          ['SEQ', 'EVENT', 'RECORDED', 'INPUT', 'CAUSED BY', 'PAYLOAD'],
          items.map((e) => [
            String(e.sequence),
            { text: e.type, style: 'bold' },
            time(e.recordedAt),
            e.metadata.inputType ?? '',
            e.metadata.causedBy === undefined ? '' : `${e.metadata.causedBy.kind} ${e.metadata.causedBy.id}`,
            preview(e.payload, 80),
          ]),
        );
      }),
    );
}
