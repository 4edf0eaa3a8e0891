// The commands that change work, run as the built binary on a freshly seeded store per test:
// what they change (read back through the store API), what they print, and that a refused or
// failed change writes nothing.
import type { EffectRecord } from '@ironflow/core/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, runCliAtTerminal, runJson } from './support/cli.js';
import { snapshot, STORES, type StoreTarget } from './support/stores.js';

const WORKFLOWS = ['--workflows', `${FIXTURES}/workflows.ts`];

// Not on the Cluster: the CLI's code is the same as on one Redis (read.test.ts covers connecting to it).
for (const { name, open } of STORES.filter((s) => s.name !== 'redis-cluster')) {
  describe.skipIf(open === undefined)(`changing commands on ${name}`, () => {
    let target: StoreTarget;
    const cli = (...args: string[]) => runCli([...args, ...target.args]);
    const json = <T>(...args: string[]) => runJson<T>([...args, ...target.args]);
    /** Runs `ironflow <args>`, expects `code`, and checks that the store is exactly as before. */
    async function refused(code: number, ...args: string[]): Promise<string> {
      const before = await snapshot(target);
      const result = await cli(...args);
      expect(result.code, result.stderr).toBe(code);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(await snapshot(target)).toEqual(before);
      return result.stderr;
    }

    // PGlite runs PostgreSQL's SQL store, already covered on a server, and opening it is slow: it
    // gets the cancellations, the bulk re-drive and migrate; the other tests run on the servers only.
    const onServers = (name === 'pglite' ? () => undefined : it) as typeof it;

    beforeEach(async () => {
      target = await (open as () => Promise<StoreTarget>)();
    });
    afterEach(() => target.close());

    it('cancel cancels an instance and its pending work; a second cancel has nothing to do', async () => {
      const result = await cli('cancel', 'order', 'o-3', '--reason', 'customer asked');
      expect(result).toMatchObject({ code: 0, stdout: 'cancelled order/o-3 (1 effects, 1 timers cancelled)\n' });
      await target.withStore(async (store) => {
        const [summary] = (await store.pageInstances({ workflowType: 'order', status: 'cancelled' })).items;
        expect(summary).toMatchObject({ workflowId: 'o-3', cancelReason: 'customer asked' });
        expect((await store.listEffects({ type: 'order', id: 'o-3' })).map((e) => e.status)).toEqual(['cancelled']);
      });
      expect(await json('cancel', 'order', 'o-3', '--reason', 'again')).toEqual({ workflowType: 'order', workflowId: 'o-3', outcome: 'not-active' });
    });

    it("with --workflows, cancel lets the workflow's onCancel handle it", async () => {
      const result = await json<{ outcome: string; result: { status: string } }>('cancel', 'order', 'o-2', '--reason', 'fraud', ...WORKFLOWS);
      expect(result).toMatchObject({ outcome: 'handled', result: { status: 'accepted' } });
      await target.withStore(async (store) => {
        const events = await store.readEvents({ type: 'order', id: 'o-2' });
        expect(events.map((e) => [e.type, e.payload])).toEqual([
          ['Placed', { type: 'Placed' }],
          ['Cancelled', { type: 'Cancelled', reason: 'fraud' }],
        ]);
        expect((await store.load({ type: 'order', id: 'o-2' })).status).toBe('completed');
      });
    });

    it('cancel refuses a completed instance (exit 1) and an unknown one (exit 3), writing nothing', async () => {
      expect(await refused(1, 'cancel', 'order', 'o-1', '--reason', 'late')).toContain('already completed');
      expect(await refused(3, 'cancel', 'order', 'o-404', '--reason', 'typo')).toContain('no instance order/o-404');
      expect(await refused(2, 'cancel', 'order', 'o-3')).toContain('--reason');
    });

    onServers('pause and resume an instance or a whole type; paused lists them', async () => {
      expect((await cli('pause', 'order', 'o-3')).stdout).toBe('paused order/o-3\n');
      expect((await cli('pause', 'order', 'o-3')).stdout).toBe('order/o-3 was already paused; nothing changed\n');
      expect(await json('pause', '--type', 'order')).toEqual({ target: { type: 'order' }, paused: true, changed: true });
      expect(await json('resume', '--type', 'audit')).toEqual({ target: { type: 'audit' }, paused: false, changed: true });
      const listed = await json<{ items: { type: string; id?: string }[] }>('paused');
      expect(listed.items.map((p) => [p.type, p.id])).toEqual([
        ['order', undefined],
        ['order', 'o-3'],
      ]);
      expect((await cli('resume', 'order', 'o-3')).stdout).toBe('resumed order/o-3\n');
      await target.withStore(async (store) => expect(await store.listPaused()).toEqual([expect.objectContaining({ type: 'order' })]));
    });

    onServers('pause refuses an unknown instance (exit 3) and an ambiguous target (exit 2), writing nothing', async () => {
      await refused(3, 'pause', 'order', 'o-404');
      await refused(2, 'pause', 'order');
      await refused(2, 'resume', 'order', 'o-3', '--type', 'order');
    });

    onServers('dead-letters redrive makes the dead effect claimable again; an id that is not dead is exit 3', async () => {
      const [dead] = await target.withStore((store) => store.listDeadLetters({ kind: 'effect' }));
      const id = (dead as EffectRecord).id;
      expect(await cli('dead-letters', 'redrive', 'effect', id)).toMatchObject({ code: 0, stdout: `re-drove effect ${id}\n` });
      const [row] = await target.withStore(async (store) => (await store.listWork({ kind: 'effect', workflowType: 'order', workflowId: 'o-2' })).items);
      expect(row).toMatchObject({ id, status: 'pending', attempts: 0 });
      await refused(3, 'dead-letters', 'redrive', 'effect', id);
      await refused(3, 'dead-letters', 'show', 'effect', id);
      await refused(2, 'dead-letters', 'redrive', 'message', id);
    });

    it('dead-letters redrive-all previews with --dry-run, refuses without --yes off a terminal, and re-drives with --yes', async () => {
      const before = await snapshot(target);
      const preview = await cli('dead-letters', 'redrive-all', '--dry-run');
      expect(preview.code).toBe(0);
      expect(preview.stdout).toMatch(/order\/o-2\s+dead/);
      expect(preview.stdout).toContain('1 dead letter would be re-driven; nothing was changed');
      expect(await json('dead-letters', 'redrive-all', '--dry-run', '--type', 'order')).toMatchObject({ dryRun: true, matched: 1, changed: 0, items: [expect.objectContaining({ workflowId: 'o-2' })] });
      expect(await snapshot(target)).toEqual(before);
      expect(await refused(2, 'dead-letters', 'redrive-all')).toContain('--yes');
      await refused(2, 'dead-letters', 'redrive-all', '--kind', 'timer', '--tag', 'payments');
      expect(await json('dead-letters', 'redrive-all', '--type', 'audit', '--yes')).toEqual({ dryRun: false, matched: 0, changed: 0 });
      expect(await json('dead-letters', 'redrive-all', '--yes')).toEqual({ dryRun: false, matched: 1, changed: 1 });
      await target.withStore(async (store) => expect(await store.countDeadLetters({ kind: 'effect' })).toBe(0));
    });

    onServers('cancel-where needs a filter, previews, refuses without --yes, and cancels what matches with --yes', async () => {
      expect(await refused(2, 'cancel-where', '--reason', 'cleanup')).toContain('--all');
      const preview = await json<{ matched: number; items: { workflowId: string }[] }>('cancel-where', '--type', 'order', '--reason', 'cleanup', '--dry-run');
      expect(preview).toMatchObject({ dryRun: true, matched: 2, changed: 0 });
      expect(preview.items.map((i) => i.workflowId)).toEqual(['o-2', 'o-3']);
      expect((await cli('cancel-where', '--type', 'order', '--reason', 'cleanup', '--dry-run')).stdout).toContain('2 active instances would be cancelled; nothing was changed');
      await refused(2, 'cancel-where', '--type', 'order', '--reason', 'cleanup');
      expect(await json('cancel-where', '--type', 'order', '--reason', 'cleanup', '--yes')).toEqual({ dryRun: false, matched: 2, changed: 2 });
      await target.withStore(async (store) => {
        const cancelled = (await store.pageInstances({ status: 'cancelled' })).items;
        expect(cancelled.map((i) => [i.workflowId, i.cancelReason])).toEqual([
          ['o-2', 'cleanup'],
          ['o-3', 'cleanup'],
        ]);
        expect((await store.load({ type: 'audit', id: 'a-1' })).status).toBe('active');
      });
    });

    onServers('purge-idempotency-keys forgets keys older than the age given', async () => {
      expect(await json('purge-idempotency-keys', '--older-than', '7d')).toEqual({ purged: 0, olderThanMs: 604_800_000 });
      expect((await cli('purge-idempotency-keys', '--older-than', '0')).stdout).toBe('forgot 1 idempotency key older than 0ms\n');
      await refused(2, 'purge-idempotency-keys', '--older-than', 'a while');
    });

    it(name === 'redis' ? 'migrate is a usage error on Redis, which has no schema' : 'migrate reports a migrated schema as up to date', async () => {
      if (name === 'redis') {
        expect(await refused(2, 'migrate')).toContain('Redis needs no migration');
        return;
      }
      const result = await json<{ applied: unknown[]; version: number }>('migrate');
      expect(result.applied).toEqual([]);
      expect(result.version).toBeGreaterThan(0);
      expect((await cli('migrate')).stdout).toMatch(/^schema \w+ is up to date \(version \d+\)\n$/);
    });
  });
}

// At a terminal the bulk commands ask before changing anything, and count on stderr as they go.
// util-linux `script` provides the terminal, so this runs on Linux (as CI does).
const server = STORES.find((s) => s.name === 'postgres' && s.open !== undefined) ?? STORES.find((s) => s.name === 'pglite');
describe.skipIf(process.platform !== 'linux')(`bulk changes at a terminal (${server?.name ?? 'no store'})`, () => {
  let target: StoreTarget;
  beforeEach(async () => {
    target = await (server?.open as () => Promise<StoreTarget>)();
  });
  afterEach(() => target.close());

  it('a "y" at the prompt re-drives, with a progress counter', async () => {
    const result = await runCliAtTerminal(['dead-letters', 'redrive-all', ...target.args], 'y\n');
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('Re-drive 1 dead effect? [y/N]');
    expect(result.stdout).toContain('re-driven: 1 of 1');
    expect(result.stdout).toContain('re-drove 1 dead letter');
    await target.withStore(async (store) => expect(await store.countDeadLetters({ kind: 'effect' })).toBe(0));
  });

  it('anything else at the prompt changes nothing (exit 1)', async () => {
    const before = await snapshot(target);
    const result = await runCliAtTerminal(['cancel-where', '--type', 'order', '--reason', 'cleanup', ...target.args], 'n\n');
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toContain('Cancel 2 active instances? [y/N]');
    expect(result.stdout).toContain('not confirmed; nothing was changed');
    expect(await snapshot(target)).toEqual(before);
  });
});
