// graphile-worker as a peer: bulk `addJobs`, a worker pool with `concurrency` jobs at once, a local
// queue fetching batches, batched completion, and LISTEN/NOTIFY wake-ups (all from its docs).
import { Logger, makeWorkerUtils, run, type WorkerUtils } from 'graphile-worker';
import { BULK_CHUNK, countdown, IdleProbe, inChunks, settled, type System, type Workload } from './harness.js';

const CONCURRENCY = 24;
const LOCAL_QUEUE_SIZE = 500;
/** "Even setting this to 0 can be impactful" (docs, performance#batching). */
const COMPLETE_JOB_BATCH_DELAY_MS = 0;
/** "10 or concurrentJobs + 2, whichever is larger" (docs). */
const MAX_POOL_SIZE = CONCURRENCY + 2;
const TASK = 'noop';
const silent = new Logger(() => () => {});

async function startRunner(url: string, schema: string, handle: (n: number) => void) {
  return run({
    connectionString: url,
    schema,
    concurrency: CONCURRENCY,
    maxPoolSize: MAX_POOL_SIZE,
    noHandleSignals: true,
    logger: silent,
    taskList: {
      [TASK]: async (payload) => {
        handle((payload as { n: number }).n);
      },
    },
    preset: { worker: { localQueue: { size: LOCAL_QUEUE_SIZE }, completeJobBatchDelay: COMPLETE_JOB_BATCH_DELAY_MS } },
  });
}

async function open(url: string, namespace: string): Promise<{ schema: string; utils: WorkerUtils; close(): Promise<void> }> {
  const schema = `graphile_${namespace}`;
  const utils = await makeWorkerUtils({ connectionString: url, schema, logger: silent });
  await utils.migrate();
  return {
    schema,
    utils,
    close: async () => {
      await utils.withPgClient((client) => client.query(`DROP SCHEMA ${schema} CASCADE`));
      await utils.release();
    },
  };
}

/** graphile-worker on PostgreSQL, one schema per measurement, dropped afterwards. */
export function graphileWorker(url: string, version: string): System {
  return {
    name: `graphile-worker ${version}`,
    backend: 'postgres',
    settings: `concurrency ${CONCURRENCY}, localQueue.size ${LOCAL_QUEUE_SIZE}, completeJobBatchDelay ${COMPLETE_JOB_BATCH_DELAY_MS}, maxPoolSize ${MAX_POOL_SIZE}, \`addJobs\` of ${BULK_CHUNK} jobs; wake-ups by LISTEN/NOTIFY`,
    drain: async (workload: Workload) => {
      const { schema, utils, close } = await open(url, workload.namespace);
      try {
        const enqueuePerSecond = await inChunks(workload.jobs, BULK_CHUNK, (from, to) =>
          utils.addJobs(Array.from({ length: to - from }, (_, i) => ({ identifier: TASK, payload: { n: from + i } }))),
        );
        const completions = countdown(workload.jobs);
        const started = performance.now();
        const runner = await startRunner(url, schema, () => completions.tick());
        try {
          await completions.done;
          // A completed job is deleted; batched completion deletes a little after the handler returns.
          await settled(async () => {
            const { rows } = await utils.withPgClient((client) => client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}._private_jobs`));
            return rows[0]?.n ?? 0;
          });
          return { enqueuePerSecond, drainPerSecond: (workload.jobs / (performance.now() - started)) * 1000 };
        } finally {
          await runner.stop();
        }
      } finally {
        await close();
      }
    },
    idle: async (workload: Workload) => {
      const { schema, utils, close } = await open(url, workload.namespace);
      const probe = new IdleProbe();
      try {
        const runner = await startRunner(url, schema, (n) => probe.started(n));
        try {
          return await probe.sample(workload.samples, (n) => utils.addJob(TASK, { n }));
        } finally {
          await runner.stop();
        }
      } finally {
        await close();
      }
    },
  };
}
