// pg-boss as a peer: bulk `insert` of arrays, workers fetching batches (`batchSize`), each call of
// `work` one polling worker, as its docs prescribe for concurrency since `teamSize` was removed.
import PgBoss from 'pg-boss';
import pg from 'pg';
import { BULK_CHUNK, countdown, IdleProbe, inChunks, settled, type System, type Workload } from './harness.js';

/**
 * pg-boss 10 sleeps out its polling interval after every batch, so its drain is capped near
 * workers × batchSize ÷ interval; more workers contend on the fetch. In a sweep at 20 000 jobs
 * (16×200, 8×500, 4×500, 2×1000, 3×1000, 1×4000, …) 3×1000 was the best that does not lease a
 * large share of the backlog at once (1×4000 drained faster only by taking a fifth of it per fetch).
 */
const WORKERS = 3;
const BATCH_SIZE = 1000;
/** The smallest polling interval pg-boss accepts; it has no push wake-up across processes. */
const POLLING_INTERVAL_SECONDS = 0.5;
const POOL_MAX = 20;
const QUEUE = 'bench';

async function open(url: string, namespace: string): Promise<{ boss: PgBoss; close(): Promise<void> }> {
  const schema = `pgboss_${namespace}`;
  const boss = new PgBoss({ connectionString: url, schema, max: POOL_MAX, supervise: false, schedule: false });
  boss.on('error', (error) => console.error('pg-boss:', error));
  await boss.start();
  await boss.createQueue(QUEUE);
  return {
    boss,
    close: async () => {
      await boss.stop({ graceful: true, wait: true, timeout: 30_000 });
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

/** How many polling workers, and how many jobs each fetches at once. */
export interface PgBossTuning {
  readonly workers: number;
  readonly batchSize: number;
}

async function startWorkers(boss: PgBoss, tuning: PgBossTuning, handle: (n: number) => void): Promise<void> {
  for (let w = 0; w < tuning.workers; w++) {
    await boss.work<{ n: number }>(QUEUE, { batchSize: tuning.batchSize, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS }, async (jobs) => {
      for (const job of jobs) handle(job.data.n);
    });
  }
}

/** pg-boss on PostgreSQL, one schema per measurement, dropped afterwards. */
export function pgBoss(url: string, version: string, tuning: PgBossTuning = { workers: WORKERS, batchSize: BATCH_SIZE }): System {
  return {
    name: `pg-boss ${version}`,
    backend: 'postgres',
    settings: `${tuning.workers} workers (\`work\` called ${tuning.workers} times), batchSize ${tuning.batchSize}, pollingIntervalSeconds ${POLLING_INTERVAL_SECONDS} (the minimum), pool max ${POOL_MAX}, \`insert\` of ${BULK_CHUNK}-job arrays; supervise and schedule off`,
    drain: async (workload: Workload) => {
      const { boss, close } = await open(url, workload.namespace);
      try {
        const enqueuePerSecond = await inChunks(workload.jobs, BULK_CHUNK, (from, to) =>
          boss.insert(Array.from({ length: to - from }, (_, i) => ({ name: QUEUE, data: { n: from + i } }))),
        );
        const completions = countdown(workload.jobs);
        const started = performance.now();
        await startWorkers(boss, tuning, () => completions.tick());
        await completions.done;
        // pg-boss completes a batch after its handler returns, without awaiting it: wait for the rows.
        await settled(() => boss.getQueueSize(QUEUE, { before: 'completed' }));
        return { enqueuePerSecond, drainPerSecond: (workload.jobs / (performance.now() - started)) * 1000 };
      } finally {
        await close();
      }
    },
    idle: async (workload: Workload) => {
      const { boss, close } = await open(url, workload.namespace);
      const probe = new IdleProbe();
      try {
        await startWorkers(boss, tuning, (n) => probe.started(n));
        return await probe.sample(workload.samples, (n) => boss.send(QUEUE, { n }), POLLING_INTERVAL_SECONDS * 1000);
      } finally {
        await close();
      }
    },
  };
}
