// `replay-check` as the built binary on each store seeded by support/stores.ts: the seeding code
// replays cleanly (exit 0), new code that cannot replay the histories is exit 1 with each instance
// listed, options limit what is checked, and the check writes nothing. Module and flag errors are
// checked once, before any store is needed.
import type { ReplayReport } from '@ironflow/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, runJson } from './support/cli.js';
import { snapshot, STORES, type StoreTarget } from './support/stores.js';

const CLEAN = ['--module', `${FIXTURES}/workflows.ts`];
const BROKEN = ['--module', `${FIXTURES}/replay-broken.ts`];

interface Reports {
  readonly ok: boolean;
  readonly reports: ReplayReport[];
}

const summary = (reports: readonly ReplayReport[]) => reports.map((r) => [r.workflowType, r.checked, r.failed]);

for (const { name, open } of STORES) {
  describe.skipIf(open === undefined)(`replay-check on ${name}`, () => {
    let target: StoreTarget;
    let before: unknown;
    const cli = (...args: string[]) => runCli(['replay-check', ...args, ...target.args]);
    const json = <T>(...args: string[]) => runJson<T>(['replay-check', ...args, ...target.args]);

    beforeAll(async () => {
      target = await (open as () => Promise<StoreTarget>)();
      before = await snapshot(target);
    });
    afterAll(async () => {
      expect(await snapshot(target)).toEqual(before);
      await target.close();
    });

    it('the code that wrote the histories replays them: exit 0, one line per workflow type', async () => {
      const human = await cli(...CLEAN, '--decide');
      expect(human, human.stderr).toMatchObject({ code: 0, stderr: '' });
      // In the module's export order (a module namespace sorts its names).
      expect(human.stdout).toMatch(/^audit: 1 checked, ok \(\d+\.\ds\)\norder: 3 checked, ok \(\d+\.\ds\)\n$/);
      const result = await json<Reports>(...CLEAN);
      expect(result.ok).toBe(true);
      expect(summary(result.reports)).toEqual([
        ['audit', 1, 0],
        ['order', 3, 0],
      ]);
    });

    it('new code that cannot replay them is exit 1, listing each instance, its problem and code, with stored text escaped', async () => {
      const human = await cli(...BROKEN);
      expect(human.code, human.stderr).toBe(1);
      expect(human.stderr).toBe('ironflow: replay check failed: 2 instances of audit, order cannot be replayed by this code\n');
      const lines = human.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^audit: 1 checked, 1 failed/);
      expect(lines[1]).toMatch(/^ID\s+PROBLEM\s+SEQ\s+CODE\s+MESSAGE$/);
      expect(lines[2]).toMatch(/^a-1\s+terminal-differs\s+.*stored active/);
      expect(lines[3]).toMatch(/^order: 3 checked, 1 failed/);
      expect(lines[5]).toMatch(/^o-3\s+fold-failed\s+1\s+UPCAST_FAILED\s+.*cannot upcast the note pay \\u001b\[31mnow/);
      expect(human.stdout).not.toContain('\u001b');

      const result = await runCli(['replay-check', ...BROKEN, ...target.args, '--json']);
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stderr)).toMatchObject({ error: { exitCode: 1 } });
      const parsed = JSON.parse(result.stdout) as Reports;
      expect(parsed.ok).toBe(false);
      expect(parsed.reports.map((r) => r.problems.map((p) => [p.workflowId, p.kind, p.code]))).toEqual([[['a-1', 'terminal-differs', undefined]], [['o-3', 'fold-failed', 'UPCAST_FAILED']]]);
    });

    it('--type, --active and --sample limit what is checked; --progress reports on stderr', async () => {
      const typed = await runCli(['replay-check', ...BROKEN, '--type', 'audit', ...target.args, '--json']);
      expect(typed.code).toBe(1);
      expect(summary((JSON.parse(typed.stdout) as Reports).reports)).toEqual([['audit', 1, 1]]);
      const active = await json<Reports>(...CLEAN, '--type', 'order', '--active');
      expect(summary(active.reports)).toEqual([['order', 2, 0]]);
      const sampled = await json<Reports>(...CLEAN, '--type', 'order', '--sample', '1', '--page-size', '1', '--progress');
      expect(summary(sampled.reports)).toEqual([['order', 1, 0]]);
      const progress = await cli(...CLEAN, '--type', 'order', '--page-size', '2', '--progress');
      expect(progress.code).toBe(0);
      expect(progress.stderr).toBe('replay-check order: 2 checked, 0 failed\nreplay-check order: 3 checked, 0 failed\n');
    });
  });
}

describe('replay-check refusals', () => {
  // Refused before connecting: the URL names no reachable server.
  const url = ['--url', 'postgres://127.0.0.1:1/none'];

  it('a module that does not exist, or defines no such type or no workflow, is exit 3', async () => {
    const missing = await runCli(['replay-check', '--module', 'missing.ts', ...url]);
    expect(missing).toMatchObject({ code: 3, stdout: '', stderr: 'ironflow: --module missing.ts: no such file\n' });
    const unknown = await runCli(['replay-check', ...CLEAN, '--type', 'nope', ...url]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('defines no workflow type nope (it defines audit, order)');
    const empty = await runCli(['replay-check', '--module', `${FIXTURES}/no-workflows.mjs`, ...url]);
    expect(empty.code).toBe(3);
    expect(empty.stderr).toContain('exports no workflow definitions');
  });

  it('no module and bad values are exit 2', async () => {
    const none = await runCli(['replay-check', ...url]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('replay-check needs --module <path>');
    for (const bad of [['--sample', '0'], ['--page-size', '1001'], ['--max-problems', '-1'], ['--bogus']]) {
      const result = await runCli(['replay-check', ...CLEAN, ...bad, ...url]);
      expect(result.code, bad.join(' ')).toBe(2);
    }
  });
});
