// BullMQ as a peer: `addBulk`, one Worker with high `concurrency` (its docs' advice for fast async
// jobs), completed jobs removed as its production guide recommends.
import { Queue, Worker } from 'bullmq';
import { BULK_CHUNK, countdown, IdleProbe, inChunks, settled, type System, type Workload } from './harness.js';

/** Best of 50, 100, 200 and 500 in a sweep at 20 000 jobs. */
const CONCURRENCY = 200;
const QUEUE = 'bench';

function connection(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 6379) };
}

function open(url: string, namespace: string): { queue: Queue; close(worker?: Worker): Promise<void> } {
  const prefix = `bullmq-${namespace}`;
  const queue = new Queue(QUEUE, { connection: connection(url), prefix, defaultJobOptions: { removeOnComplete: true } });
  return {
    queue,
    close: async (worker) => {
      await worker?.close();
      await queue.obliterate({ force: true });
      await queue.close();
    },
  };
}

function startWorker(url: string, namespace: string, concurrency: number, handle: (n: number) => void): Worker {
  const worker = new Worker<{ n: number }>(QUEUE, async (job) => handle(job.data.n), { connection: connection(url), prefix: `bullmq-${namespace}`, concurrency });
  worker.on('error', (error) => console.error('bullmq:', error));
  return worker;
}

/** BullMQ on Redis, one key prefix per measurement, obliterated afterwards. */
export function bullmq(url: string, version: string, concurrency = CONCURRENCY): System {
  return {
    name: `BullMQ ${version}`,
    backend: 'redis',
    settings: `one Worker, concurrency ${concurrency}, \`addBulk\` of ${BULK_CHUNK} jobs, removeOnComplete true`,
    drain: async (workload: Workload) => {
      const { queue, close } = open(url, workload.namespace);
      let worker: Worker | undefined;
      try {
        const enqueuePerSecond = await inChunks(workload.jobs, BULK_CHUNK, (from, to) =>
          queue.addBulk(Array.from({ length: to - from }, (_, i) => ({ name: 'noop', data: { n: from + i } }))),
        );
        const completions = countdown(workload.jobs);
        const started = performance.now();
        worker = startWorker(url, workload.namespace, concurrency, () => completions.tick());
        await completions.done;
        await settled(async () => {
          const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
          return Object.values(counts).reduce((a, b) => a + b, 0);
        });
        return { enqueuePerSecond, drainPerSecond: (workload.jobs / (performance.now() - started)) * 1000 };
      } finally {
        await close(worker);
      }
    },
    idle: async (workload: Workload) => {
      const { queue, close } = open(url, workload.namespace);
      const probe = new IdleProbe();
      const worker = startWorker(url, workload.namespace, concurrency, (n) => probe.started(n));
      try {
        await worker.waitUntilReady();
        return await probe.sample(workload.samples, (n) => queue.add('noop', { n }));
      } finally {
        await close(worker);
      }
    },
  };
}
