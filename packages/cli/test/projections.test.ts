// The projection commands, run as the built binary on each store with projections seeded through
// the store port (support/projections.ts): the tables and JSON they print, the dead letters they
// re-drive and skip, the checkpoints they reset (read back through the port), and that unknown
// names, bad values and refused confirmations are the documented exit codes and write nothing.
import type { ProjectionDeadLetterPage } from '@ironflow/core/store';
import type { ProjectionReport } from '@ironflow/runtime';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, runCliAtTerminal, runJson } from './support/cli.js';
import { HOSTILE_ERROR, projectionSnapshot, seedProjections, type SeededProjections } from './support/projections.js';
import { STORES, type StoreTarget } from './support/stores.js';

/** Opens a fresh store of `open`'s kind with the projections seeded. */
async function openSeeded(open: () => Promise<StoreTarget>): Promise<{ target: StoreTarget; seeded: SeededProjections }> {
  const target = await open();
  return { target, seeded: await target.withStore(seedProjections) };
}

for (const { name, open } of STORES) {
  describe.skipIf(open === undefined)(`projection commands on ${name}`, () => {
    describe('reading, and refusals that write nothing', () => {
      let target: StoreTarget;
      let seeded: SeededProjections;
      let before: unknown;
      const cli = (...args: string[]) => runCli([...args, ...target.args]);
      const json = <T>(...args: string[]) => runJson<T>([...args, ...target.args]);
      /** Runs `ironflow <args>` and expects exit `code` with one line on stderr containing `text`, and nothing on stdout. */
      async function refused(code: number, text: string, ...args: string[]): Promise<void> {
        const result = await cli(...args);
        expect(result.code, result.stderr).toBe(code);
        expect(result.stdout).toBe('');
        expect(result.stderr).toMatch(/^ironflow: [^\n]+\n$/);
        expect(result.stderr).toContain(text);
      }

      beforeAll(async () => {
        ({ target, seeded } = await openSeeded(open as () => Promise<StoreTarget>));
        before = await target.withStore(projectionSnapshot);
      });
      afterAll(async () => {
        // Nothing in this block may change a projection.
        expect(await target.withStore(projectionSnapshot)).toEqual(before);
        await target.close();
      });

      it('projections list shows each checkpoint, holder and lease, token, dead letters and lag', async () => {
        const { items } = await json<{ items: ProjectionReport[] }>('projections', 'list');
        expect(items.map((p) => p.name)).toEqual(['orders', 'revenue', 'search']);
        const [orders, revenue, search] = items as [ProjectionReport, ProjectionReport, ProjectionReport];
        const behind = await target.withStore((store) => store.feedLag({ after: seeded.ordersPosition }));
        expect(orders).toMatchObject({ position: seeded.ordersPosition, owner: 'worker-a', held: true, deadLetters: 3, lag: { events: behind.events, capped: false } });
        expect(orders.lag.ageMs).toEqual(expect.any(Number));
        expect(revenue).toMatchObject({ held: false, deadLetters: 0, lag: { events: 0, capped: false } });
        expect(revenue).not.toHaveProperty('owner');
        expect(revenue.lag).not.toHaveProperty('ageMs');
        expect(search).toMatchObject({ owner: 'worker-c', held: false, lag: { events: 5, capped: false } });
        expect(search).not.toHaveProperty('position');

        const human = await cli('projections', 'list');
        expect(human).toMatchObject({ code: 0, stderr: '' });
        const rows = human.stdout.trim().split('\n');
        expect(rows[0]).toMatch(/^NAME\s+CHECKPOINT\s+HOLDER\s+LEASE\s+TOKEN\s+DEAD\s+LAG\s+OLDEST UNPROJECTED$/);
        expect(rows[1]).toMatch(new RegExp(`^orders\\s+\\S+\\s+worker-a\\s+live until \\S+ \\S+Z\\s+${orders.token}\\s+3\\s+${behind.events}\\s+\\d`));
        expect(rows[2]).toMatch(/^revenue\s+\S+\s+-\s+none\s+\d+\s+0\s+0$/);
        expect(rows[3]).toMatch(/^search\s+\(start\)\s+worker-c\s+expired \S+ \S+Z\s+\d+\s+0\s+5\s+\d/);
      });

      it("projections show prints one projection in full with its first dead letters, their errors escaped", async () => {
        const shown = await json<{ projection: ProjectionReport; deadLetters: ProjectionDeadLetterPage }>('projections', 'show', 'orders');
        expect(shown.projection).toMatchObject({ name: 'orders', position: seeded.ordersPosition, deadLetters: 3 });
        expect(shown.deadLetters.items.map((l) => [l.id, l.status])).toEqual([
          ['pdl-1', 'parked'],
          ['pdl-2', 'parked'],
          ['pdl-3', 'redriven'],
        ]);
        expect(shown.deadLetters.items[0]?.error).toBe(HOSTILE_ERROR);

        const human = await cli('projections', 'show', 'orders', '--limit', '2');
        expect(human.code, human.stderr).toBe(0);
        expect(human.stdout).toMatch(/projection\s+orders\n/);
        expect(human.stdout).toContain(`checkpoint    ${seeded.ordersPosition}\n`);
        expect(human.stdout).toMatch(/lease\s+live until /);
        expect(human.stdout).toMatch(/lag\s+\d+ events?, the oldest recorded .+ ago/);
        const first = seeded.events[0];
        expect(human.stdout).toMatch(new RegExp(`pdl-1\\s+parked\\s+${first?.workflowType}/${first?.workflowId} #${first?.sequence} ${first?.type}\\s+`));
        expect(human.stdout).toContain('boom \\u001b[31m<b>red</b>\\u001b[0m \\u009b2J');
        expect(human.stdout).not.toMatch(/[\u001b\u009b]/);
        expect(human.stdout).not.toContain('pdl-3');
        expect(human.stdout).toMatch(/more: ironflow projections dead-letters 'orders' --after '[^']+'\n$/);

        const caughtUp = await cli('projections', 'show', 'revenue');
        expect(caughtUp.stdout).toMatch(/holder\s+none\n/);
        expect(caughtUp.stdout).toMatch(/lag\s+0 events\n/);
      });

      it('projections dead-letters pages with --limit and --after, and filters by status', async () => {
        const first = await json<ProjectionDeadLetterPage>('projections', 'dead-letters', 'orders', '--limit', '2');
        expect(first.items.map((l) => l.id)).toEqual(['pdl-1', 'pdl-2']);
        expect(first.next).toEqual(expect.any(String));
        const human = await cli('projections', 'dead-letters', 'orders', '--limit', '2');
        expect(human.stdout).toMatch(/^ID\s+STATUS\s+EVENT\s+POSITION\s+ATTEMPTS\s+PARKED\s+ERROR\n/);
        expect(human.stdout).toContain(`more: --after '${first.next ?? ''}'`);
        const second = await json<ProjectionDeadLetterPage>('projections', 'dead-letters', 'orders', '--limit', '2', '--after', first.next ?? '');
        expect(second.items.map((l) => l.id)).toEqual(['pdl-3']);
        expect(second.next).toBeUndefined();
        const redriven = await json<ProjectionDeadLetterPage>('projections', 'dead-letters', 'orders', '--status', 'redriven');
        expect(redriven.items.map((l) => [l.id, l.workflowId, l.attempts])).toEqual([['pdl-3', seeded.events[1]?.workflowId, 1]]);
        expect((await json<ProjectionDeadLetterPage>('projections', 'dead-letters', 'orders', '--status', 'parked')).items.map((l) => l.id)).toEqual(['pdl-1', 'pdl-2']);
        expect(await json('projections', 'dead-letters', 'search')).toEqual({ items: [] });
        expect((await cli('projections', 'dead-letters', 'search')).stdout).toBe('no dead letters here\n');
      });

      it('an unknown projection or dead letter is exit 3', async () => {
        await refused(3, 'no projection nope', 'projections', 'show', 'nope');
        await refused(3, 'no projection nope', 'projections', 'dead-letters', 'nope');
        await refused(3, 'no projection nope', 'projections', 'redrive', 'nope', 'pdl-1');
        await refused(3, 'no projection nope', 'projections', 'skip', 'nope', 'pdl-1', '--yes');
        await refused(3, 'no projection nope', 'projections', 'reset', 'nope', '--yes');
        await refused(3, 'no dead letter pdl-9 in projection orders', 'projections', 'redrive', 'orders', 'pdl-9');
        await refused(3, 'no dead letter pdl-9 in projection orders', 'projections', 'skip', 'orders', 'pdl-9', '--yes');
      });

      it('bad values are exit 2, a letter re-driven already exit 1, and skip and reset need --yes off a terminal', async () => {
        await refused(2, "argument 'lost' is invalid", 'projections', 'dead-letters', 'orders', '--status', 'lost');
        await refused(2, '--limit', 'projections', 'dead-letters', 'orders', '--limit', '0');
        await refused(2, 'after', 'projections', 'dead-letters', 'orders', '--after', 'not-a-cursor');
        await refused(2, '--position is refused by the store', 'projections', 'reset', 'orders', '--position', 'not-a-position', '--yes');
        await refused(2, "missing required argument 'id'", 'projections', 'skip', 'orders');
        await refused(2, 'name', 'projections', 'show', 'x'.repeat(600));
        await refused(1, 'dead letter pdl-3 of projection orders is redriven already', 'projections', 'redrive', 'orders', 'pdl-3');
        await refused(2, 'refusing to skip dead letter pdl-1 of projection orders without --yes: stdin is not a terminal', 'projections', 'skip', 'orders', 'pdl-1');
        await refused(2, 'refusing to rebuild projection orders from the first event (5 events to project), deleting its 3 dead letters without --yes', 'projections', 'reset', 'orders');
        const json = await runCli(['projections', 'reset', 'orders', '--json', ...target.args]);
        expect(json.code).toBe(2);
        expect(JSON.parse(json.stderr)).toMatchObject({ error: { exitCode: 2, message: expect.stringContaining('--yes') } });
      });
    });

    describe('changes', () => {
      let target: StoreTarget;
      let seeded: SeededProjections;
      const cli = (...args: string[]) => runCli([...args, ...target.args]);
      const json = <T>(...args: string[]) => runJson<T>([...args, ...target.args]);
      const lettersOf = (projection: string) => target.withStore(async (store) => (await store.listProjectionDeadLetters({ projection })).items.map((l) => [l.id, l.status]));
      const statusOf = (projection: string) => target.withStore(async (store) => (await store.listProjections()).find((p) => p.name === projection));

      beforeEach(async () => {
        ({ target, seeded } = await openSeeded(open as () => Promise<StoreTarget>));
      });
      afterEach(() => target.close());

      it('redrive hands a parked dead letter back; skip --yes deletes one', async () => {
        expect(await cli('projections', 'redrive', 'orders', 'pdl-1')).toMatchObject({ code: 0, stdout: 're-drove dead letter pdl-1 of projection orders: its runner tries the event again\n' });
        expect(await json('projections', 'redrive', 'orders', 'pdl-2')).toEqual({ projection: 'orders', id: 'pdl-2', redriven: true });
        expect(await lettersOf('orders')).toEqual([
          ['pdl-1', 'redriven'],
          ['pdl-2', 'redriven'],
          ['pdl-3', 'redriven'],
        ]);
        expect(await cli('projections', 'skip', 'orders', 'pdl-1', '--yes')).toMatchObject({ code: 0, stdout: 'skipped dead letter pdl-1 of projection orders: its event stays unprojected\n' });
        expect(await json('projections', 'skip', 'orders', 'pdl-3', '-y')).toEqual({ projection: 'orders', id: 'pdl-3', skipped: true });
        expect(await lettersOf('orders')).toEqual([['pdl-2', 'redriven']]);
        expect(await statusOf('orders')).toMatchObject({ deadLetters: 1, owner: 'worker-a', position: seeded.ordersPosition });
      });

      it('reset --yes rebuilds from the start, or resumes after --position keeping its dead letters; the holder is fenced', async () => {
        const held = await statusOf('orders');
        const human = await cli('projections', 'reset', 'orders', '--yes');
        expect(human).toMatchObject({ code: 0, stderr: '' });
        expect(human.stdout).toBe('reset projection orders to the start: its runner rebuilds it from the first event (5 events); 3 dead letters deleted\n');
        const reset = await statusOf('orders');
        expect(reset).toMatchObject({ deadLetters: 0, token: (held?.token ?? 0) + 1 });
        for (const gone of ['position', 'owner', 'expiresAt']) expect(reset).not.toHaveProperty(gone);
        // The runner that held it is fenced: its next write is refused.
        await target.withStore(async (store) => {
          await expect(store.saveProjection({ name: 'orders', owner: 'worker-a', token: held?.token ?? 0 }, { now: Date.now(), position: seeded.ordersPosition })).rejects.toMatchObject({ code: 'LEASE_LOST' });
        });

        const to = seeded.events[2]?.position ?? '';
        const behind = await target.withStore((store) => store.feedLag({ after: to }));
        await target.withStore(async (store) => {
          const claim = await store.claimProjection({ name: 'search', owner: 'worker-d', now: Date.now(), leaseMs: 60_000 });
          await store.saveProjection(claim!.lease, { now: Date.now(), parked: [{ id: 'pdl-s', workflowType: 'order', workflowId: 'o-3', sequence: 1, eventType: 'Placed', position: to, error: 'x', attempts: 1 }] });
        });
        expect(await json('projections', 'reset', 'search', '--position', to, '--keep-dead-letters', '--yes')).toEqual({
          projection: 'search',
          position: to,
          keepDeadLetters: true,
          deadLettersDeleted: 0,
          lag: { events: behind.events, capped: false },
        });
        const search = await statusOf('search');
        expect(search).toMatchObject({ position: to, deadLetters: 1 });
        expect(search).not.toHaveProperty('owner');
        expect((await cli('projections', 'reset', 'search', '--position', to, '--keep-dead-letters', '--yes')).stdout).toBe(
          `reset projection search: its runner resumes after ${to} (${behind.events} event${behind.events === 1 ? '' : 's'}); 1 dead letter kept\n`,
        );
      });
    });
  });
}

// At a terminal, skip and reset say what they will do and ask first. util-linux `script` provides
// the terminal, so this runs on Linux (as CI does).
const server = STORES.find((s) => s.name === 'postgres' && s.open !== undefined) ?? STORES.find((s) => s.name === 'pglite');
describe.skipIf(process.platform !== 'linux')(`projection changes at a terminal (${server?.name ?? 'no store'})`, () => {
  let target: StoreTarget;
  let seeded: SeededProjections;
  beforeEach(async () => {
    ({ target, seeded } = await openSeeded(server?.open as () => Promise<StoreTarget>));
  });
  afterEach(() => target.close());

  it('reset says what it will do and warns about the read model; a "y" resets', async () => {
    const result = await runCliAtTerminal(['projections', 'reset', 'orders', ...target.args], 'y\n');
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('Its runner (worker-a, holding it now) stops at its next write and resumes from the new checkpoint.');
    expect(result.stdout).toContain('Clear the read model first unless the projection is idempotent');
    expect(result.stdout).toContain('Rebuild projection orders from the first event (5 events to project), deleting its 3 dead letters? [y/N]');
    expect(result.stdout).toContain('reset projection orders to the start');
    const orders = await target.withStore(async (store) => (await store.listProjections()).find((p) => p.name === 'orders'));
    expect(orders).toMatchObject({ deadLetters: 0 });
    expect(orders).not.toHaveProperty('owner');
  });

  it('skip names the event and its error; anything but "y" changes nothing (exit 1)', async () => {
    const before = await target.withStore(projectionSnapshot);
    const result = await runCliAtTerminal(['projections', 'skip', 'orders', 'pdl-1', ...target.args], 'n\n');
    expect(result.code, result.stdout).toBe(1);
    const first = seeded.events[0];
    expect(result.stdout).toContain(`It holds ${first?.type} #${first?.sequence} of ${first?.workflowType}/${first?.workflowId} (3 attempts; last error: boom \\u001b[31m<b>red</b>\\u001b[0m \\u009b2J).`);
    expect(result.stdout).toContain('Skip dead letter pdl-1 of projection orders? [y/N]');
    expect(result.stdout).toContain('not confirmed; nothing was changed');
    expect(await target.withStore(projectionSnapshot)).toEqual(before);
  });
});
