// The reading commands, run as the built binary on each store seeded with the same data (see
// support/stores.ts): the tables people read, the JSON scripts read, and that reading writes nothing.
import type { EffectRecord, InstancePage, InstanceSummary, StoredEvent, TimerRecord, WorkPage } from '@ironflow/core/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, runJson } from './support/cli.js';
import { HOSTILE_NOTE, snapshot, STORES, type StoreTarget } from './support/stores.js';

const WORKFLOWS = ['--workflows', `${FIXTURES}/workflows.ts`];

for (const { name, open } of STORES) {
  describe.skipIf(open === undefined)(`reading commands on ${name}`, () => {
    let target: StoreTarget;
    let before: unknown;
    /** Runs `ironflow <args>` on this store. */
    const cli = (...args: string[]) => runCli([...args, ...target.args]);
    const json = <T>(...args: string[]) => runJson<T>([...args, ...target.args]);

    beforeAll(async () => {
      target = await (open as () => Promise<StoreTarget>)();
      before = await snapshot(target);
    });
    afterAll(async () => {
      // Every command in this file only reads.
      expect(await snapshot(target)).toEqual(before);
      await target.close();
    });

    it('instances list prints a table of every instance, and --json the page', async () => {
      const human = await cli('instances', 'list');
      expect(human).toMatchObject({ code: 0, stderr: '' });
      const rows = human.stdout.trim().split('\n');
      expect(rows[0]).toMatch(/^TYPE\s+ID\s+STATUS\s+VERSION/);
      expect(rows.slice(1).map((r) => r.split(/\s+/).slice(0, 4))).toEqual([
        ['audit', 'a-1', 'active', '1'],
        ['order', 'o-1', 'completed', '2'],
        ['order', 'o-2', 'active', '1'],
        ['order', 'o-3', 'active', '1'],
      ]);
      const page = await json<InstancePage>('instances', 'list');
      expect(page.items.map((i) => `${i.workflowType}/${i.workflowId}/${i.status}`)).toEqual(['audit/a-1/active', 'order/o-1/completed', 'order/o-2/active', 'order/o-3/active']);
      expect(page.next).toBeUndefined();
    });

    it('instances list filters by type and status, and pages with --after and --limit', async () => {
      const active = await json<InstancePage>('instances', 'list', '--type', 'order', '--status', 'active');
      expect(active.items.map((i) => i.workflowId)).toEqual(['o-2', 'o-3']);
      const first = await json<InstancePage>('instances', 'list', '--limit', '2');
      expect(first.items.map((i) => i.workflowId)).toEqual(['a-1', 'o-1']);
      expect(first.next).toEqual(expect.any(String));
      const human = await cli('instances', 'list', '--limit', '2');
      expect(human.stdout).toContain(`more: --after '${first.next ?? ''}'`);
      const second = await json<InstancePage>('instances', 'list', '--limit', '2', '--after', first.next ?? '');
      expect(second.items.map((i: InstanceSummary) => i.workflowId)).toEqual(['o-2', 'o-3']);
      expect(second.next).toBeUndefined();
      const none = await json<InstancePage>('instances', 'list', '--parent-type', 'order', '--parent-id', 'o-1');
      expect(none.items).toEqual([]);
    });

    it('instances show prints status, version and work; with --workflows the folded state, escaped', async () => {
      const plain = await cli('instances', 'show', 'order', 'o-3');
      expect(plain.code).toBe(0);
      expect(plain.stdout).toMatch(/status\s+active/);
      expect(plain.stdout).toMatch(/version\s+1/);
      expect(plain.stdout).toMatch(/effects\s+1 pending/);
      expect(plain.stdout).toMatch(/timers\s+1 pending/);
      expect(plain.stdout).toContain('pass --workflows');
      const withState = await cli('instances', 'show', 'order', 'o-3', ...WORKFLOWS);
      expect(withState.stdout).toContain('"status": "placed"');
      // The stored note holds ESC and CSI sequences: printed as text, not sent to the terminal.
      expect(withState.stdout).toContain('pay \\u001b[31mnow\\u001b[0m \\u009b2J');
      expect(withState.stdout).not.toMatch(/[\u001b\u009b]/);
      const shown = await json<{ status: string; version: number; state: unknown; effects: object; paused?: unknown }>('instances', 'show', 'order', 'o-3', ...WORKFLOWS);
      expect(shown).toMatchObject({ workflowType: 'order', workflowId: 'o-3', status: 'active', version: 1, state: { status: 'placed', note: HOSTILE_NOTE }, effects: { pending: 1 }, timers: { pending: 1 } });
      const paused = await json<{ paused: { type: string } }>('instances', 'show', 'audit', 'a-1');
      expect(paused.paused).toMatchObject({ type: 'audit' });
      expect(paused).not.toHaveProperty('state');
    });

    it("events prints an instance's timeline, with the effect a result came from", async () => {
      const { items } = await json<{ items: StoredEvent[] }>('events', 'order', 'o-1');
      expect(items.map((e) => [e.sequence, e.type, e.metadata.inputType])).toEqual([
        [1, 'Placed', 'Place'],
        [2, 'Paid', 'Charged'],
      ]);
      const human = await cli('events', 'order', 'o-1');
      expect(human.stdout).toMatch(/^SEQ\s+EVENT\s+RECORDED/);
      expect(human.stdout).toMatch(/2\s+Paid\s+\S+ \S+\s+Charged\s+effect \S+/);
      const from = await json<{ items: StoredEvent[] }>('events', 'order', 'o-1', '--from', '2');
      expect(from.items.map((e) => e.sequence)).toEqual([2]);
    });

    it('effects list shows the outbox across the store, by status, and of one instance', async () => {
      const all = await json<WorkPage>('effects', 'list');
      expect(all.items.map((e) => `${e.workflowId}:${e.status}`).sort()).toEqual(['o-1:done', 'o-2:dead', 'o-3:pending']);
      const dead = await json<WorkPage>('effects', 'list', '--status', 'dead');
      expect(dead.items).toHaveLength(1);
      expect(dead.items[0]).toMatchObject({ workflowId: 'o-2', attempts: 1, lastError: expect.stringContaining('card declined') });
      const mine = await json<WorkPage>('effects', 'list', '--type', 'order', '--id', 'o-3');
      expect(mine.items.map((e) => (e as EffectRecord).payload)).toEqual([{ type: 'Charge', orderId: 'o-3' }]);
      const human = await cli('effects', 'list', '--status', 'dead');
      expect(human.stdout).toMatch(/order\/o-2\s+dead\s+1/);
      expect(human.stdout).toContain('card declined');
    });

    it('timers list shows the timers, cancelled by a completion or pending', async () => {
      const all = await json<WorkPage>('timers', 'list', '--type', 'order');
      expect(all.items.map((t) => `${t.workflowId}:${t.status}`).sort()).toEqual(['o-1:cancelled', 'o-2:pending', 'o-3:pending']);
      expect((all.items[0] as TimerRecord).key).toBe('remind');
      const page = await json<WorkPage>('timers', 'list', '--status', 'pending', '--limit', '1');
      expect(page.items).toHaveLength(1);
      expect(page.next).toEqual(expect.any(String));
    });

    it('dead-letters list and show print the dead effect with its error and payload', async () => {
      const list = await json<{ items: EffectRecord[]; total: Record<string, number> }>('dead-letters', 'list');
      expect(list.total).toEqual({ effect: 1, timer: 0 });
      expect(list.items.map((i) => [i.kind, i.workflowId])).toEqual([['effect', 'o-2']]);
      const id = list.items[0]?.id ?? '';
      const human = await cli('dead-letters', 'show', 'effect', id);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/instance\s+order\/o-2/);
      expect(human.stdout).toContain('card declined');
      expect(human.stdout).toContain('"orderId": "o-2"');
      expect(await json('dead-letters', 'show', 'effect', id)).toMatchObject({ id, kind: 'effect', status: 'dead', payload: { type: 'Charge', orderId: 'o-2' } });
    });

    it('backlog, paused and metrics read the store-wide numbers', async () => {
      const backlog = await json<{ items: { workflowType: string; kind: string; pending: number; dead: number }[] }>('backlog');
      expect(backlog.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ workflowType: 'order', kind: 'effect', pending: 1, dead: 1 }),
          expect.objectContaining({ workflowType: 'order', kind: 'timer', pending: 2, dead: 0 }),
        ]),
      );
      expect((await cli('backlog')).stdout).toMatch(/order\s+effect\s+1\s+1\s+0\s+0\s+1/);
      const paused = await json<{ items: unknown[] }>('paused');
      expect(paused.items).toEqual([expect.objectContaining({ type: 'audit', since: expect.any(Number) })]);
      expect((await cli('paused')).stdout).toMatch(/audit\s+\(whole type\)/);
      const metrics = await json<{ gauges: { name: string; attributes: Record<string, string>; value: number }[] }>('metrics');
      expect(metrics.gauges).toContainEqual({ name: 'ironflow.backlog', attributes: { 'ironflow.workflow.type': 'order', 'ironflow.work.kind': 'effect', 'ironflow.work.status': 'dead' }, value: 1 });
    });

    it("visualize draws an instance's path from its stored events", async () => {
      const human = await cli('visualize', 'order', '--instance', 'o-1', ...WORKFLOWS);
      expect(human.code).toBe(0);
      expect(human.stdout).toContain('stateDiagram-v2');
      expect(human.stdout).toContain('class Paid current');
      const dot = await json<{ diagram: string; path: { current: string; steps: { to: string }[] } }>('visualize', 'order', '--instance', 'o-3', '--format', 'dot', ...WORKFLOWS);
      expect(dot.diagram).toMatch(/^digraph workflow \{/);
      expect(dot.path.current).toBe('Placed');
      expect(dot.path.steps.map((s) => s.to)).toEqual(['Placed']);
    });
  });
}
