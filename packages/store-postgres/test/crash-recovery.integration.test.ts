// Work is never stranded after a crash, across real processes on a real server: a worker process
// is SIGKILLed while its handler holds an effect's lease; another engine reclaims the effect once
// the lease expires, the attempt the dead process used is counted, and the result is routed once.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createEngine, register, silentLogger } from '@ironflow/runtime';
import { testServerUrl, uniqueName } from '@ironflow/testing';
import { createPostgresStore, migratePostgresStore } from '../src/index.js';
import { crashWorkflow } from './fixtures/crash-workflow.js';

const url = testServerUrl('postgres');

describe.skipIf(!url)('crash recovery across processes (PostgreSQL)', () => {
  // A child process starting tsx and a lease running out take as long as the machine's load makes
  // them: the budgets are ones no busy machine reaches, not the shared default.
  it('an effect whose worker process was killed mid-handler is reclaimed after its lease, run again and routed once', { timeout: 300_000 }, async () => {
    const pool = new pg.Pool({ connectionString: url, max: 8 });
    const schema = uniqueName('ironflow_crash');
    await migratePostgresStore({ pool, schema });
    const store = createPostgresStore({ pool, schema });
    try {
      const child = spawn(
        process.execPath,
        ['--conditions=@ironflow/source', '--import', 'tsx', fileURLToPath(new URL('./fixtures/hanging-worker.ts', import.meta.url)), url!, schema],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      const claimed = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('claimed') && resolve());
        child.on('exit', () => reject(new Error('the worker process exited before it claimed the effect')));
      });
      const producer = createEngine({ store, logger: silentLogger, workflows: [crashWorkflow] });
      await producer.execute(crashWorkflow, { type: 'Request', id: 'p-1' });
      await claimed;
      const [held] = await store.listEffects({ type: crashWorkflow.type, id: 'p-1' });
      expect(held).toMatchObject({ status: 'leased', attempts: 1, leaseOwner: 'doomed-worker' });
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');

      let runs = 0;
      let ranAt = 0;
      const survivor = createEngine({
        store,
        logger: silentLogger,
        effects: { pollIntervalMs: 100 },
        workflows: [register(crashWorkflow).handle(async (_effect, ctx) => {
          runs += 1;
          ranAt = Date.now();
          return { type: 'Charged', id: 'p-1', by: `survivor, attempt ${ctx.attempt}` };
        })],
      });
      survivor.start();
      try {
        const deadline = Date.now() + 240_000;
        while (!(await survivor.getState(crashWorkflow, 'p-1')).completed) {
          if (Date.now() > deadline) throw new Error('the effect was not recovered within 240 s');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        await survivor.stop();
      }
      // Never reclaimed while the dead worker's lease was still live.
      expect(ranAt).toBeGreaterThanOrEqual(held!.leaseExpiresAt!);
      expect(runs).toBe(1);
      const [effect] = await store.listEffects({ type: crashWorkflow.type, id: 'p-1' });
      expect(effect).toMatchObject({ status: 'done', attempts: 2 });
      const events = await store.readEvents({ type: crashWorkflow.type, id: 'p-1' });
      expect(events.map((e) => e.payload)).toEqual([{ type: 'Requested' }, { type: 'Charged', by: 'survivor, attempt 2' }]);
    } finally {
      await store.close();
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      await pool.end();
    }
  });
});
