// `instances list` (cursor pages with filters) and `instances show` (one instance: status,
// version, its work, its pause, and with --workflows its current state folded from its events).
import type { InstanceStatus, WorkStatus } from '@ironflow/core/store';
import { Option, type Command } from 'commander';
import { clip, ref, status, time } from '../format.js';
import { safe, type Io } from '../output.js';
import { withSession } from '../session.js';
import { instanceFilter, instanceFilterOptions, pageOptions, type InstanceFilterOptions } from './filters.js';

/** Counts of rows by status, e.g. `{ pending: 1, done: 2 }`. */
function byStatus(rows: readonly { readonly status: WorkStatus }[]): Partial<Record<WorkStatus, number>> {
  const counts: Partial<Record<WorkStatus, number>> = {};
  for (const row of rows) counts[row.status] = (counts[row.status] ?? 0) + 1;
  return counts;
}

const countsText = (counts: Partial<Record<string, number>>): string =>
  Object.entries(counts)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ') || 'none';

export function instancesCommands(program: Command, io: Io): void {
  const instances = program.command('instances').description('list and show workflow instances');

  const list = instances
    .command('list')
    .summary('list instances')
    .description('list instances in (type, id) order, a page at a time, with filters')
    .addOption(new Option('--status <status>', 'only instances with this status').choices(['active', 'completed', 'cancelled']));
  instanceFilterOptions(list);
  pageOptions(list, 'instances').action(async (options: InstanceFilterOptions & { status?: InstanceStatus; after?: string; limit: number }, command: Command) =>
    withSession(command, io, async ({ out, store }) => {
      const page = await store.pageInstances({
        ...instanceFilter(options),
        ...(options.status === undefined ? {} : { status: options.status }),
        ...(options.after === undefined ? {} : { after: options.after }),
        limit: options.limit,
      });
      if (out.json) return out.data(page);
      out.table(
        ['TYPE', 'ID', 'STATUS', 'VERSION', 'PARENT', 'CREATED', 'UPDATED', 'CANCEL REASON'],
        page.items.map((i) => [i.workflowType, i.workflowId, status(i.status), String(i.version), ref(i.parent), time(i.createdAt), time(i.updatedAt), clip(i.cancelReason, 40)]),
      );
      out.more(page.next);
    }),
  );

  instances
    .command('show')
    .summary('show one instance')
    .description('show one instance: status, version, parent, times, its effects and timers, its pause; its current state with --workflows')
    .argument('<type>', 'workflow type')
    .argument('<id>', 'instance id')
    .action(async (type: string, id: string, _options: object, command: Command) =>
      withSession(command, io, async (session) => {
        const { out, store, engine } = session;
        const r = { type, id };
        const loaded = await session.existing(r);
        // Without a snapshot, the load returned every event already.
        const [events, effects, timers, paused] = await Promise.all([
          loaded.snapshot === undefined ? loaded.events : store.readEvents(r),
          store.listEffects(r),
          store.listTimers(r),
          store.listPaused(),
        ]);
        const pause = paused.find((p) => p.type === type && (p.id === undefined || p.id === id));
        const workflow = session.workflows.get(type);
        const state = workflow === undefined ? undefined : (await engine.getState(workflow, id)).state;
        const shown = {
          workflowType: type,
          workflowId: id,
          status: loaded.status,
          version: loaded.version,
          ...(loaded.parent === undefined ? {} : { parent: loaded.parent }),
          firstEventAt: events[0]?.recordedAt,
          lastEventAt: events[events.length - 1]?.recordedAt,
          effects: byStatus(effects),
          timers: byStatus(timers),
          ...(pause === undefined ? {} : { paused: pause }),
          ...(workflow === undefined ? {} : { state }),
        };
        if (out.json) return out.data(shown);
        out.fields([
          ['instance', `${type}/${id}`],
          ['status', status(loaded.status)],
          ['version', String(loaded.version)],
          ['parent', loaded.parent === undefined ? '-' : ref(loaded.parent)],
          ['first event', time(shown.firstEventAt)],
          ['last event', time(shown.lastEventAt)],
          ['effects', countsText(shown.effects)],
          ['timers', countsText(shown.timers)],
          ['paused', pause === undefined ? 'no' : `${pause.id === undefined ? 'its whole type' : 'yes'}, since ${time(pause.since)}`],
        ]);
        if (workflow === undefined) {
          out.line(out.c.dim(session.hasDefinitions ? `(--workflows defines no type ${safe(type)}: state not shown)` : '(pass --workflows <module> to see the current state)'));
        } else {
          out.line(out.c.dim('state'));
          for (const line of (JSON.stringify(state, null, 2) ?? 'undefined').split('\n')) out.line(`  ${safe(line)}`);
        }
      }),
    );
}
