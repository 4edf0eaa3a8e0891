// Ironflow on PostgreSQL and on Redis as a job queue: a workflow whose decision emits one effect.
// Fire-and-forget: the handler returns nothing. Routed: its result is decided and completes the workflow.
import { accept, defineWorkflow } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, register, silentLogger, type Engine, type Registration } from '@ironflow/runtime';
import { createPostgresStore, migratePostgresStore } from '@ironflow/store-postgres';
import { createRedisStore } from '@ironflow/store-redis';
import { Redis } from 'ioredis';
import pg from 'pg';
import { countdown, IdleProbe, type DrainResult, type System, type Workload } from './harness.js';
import { rate } from '../targets.js';

/** Callers of `execute` at once, as in the measurement. */
const CALLERS = 16;
/**
 * Effects run at once; a claim never takes more than the free slots, so this is also the batch.
 * Best of 16, 32, 64 and 128 in a sweep at 10 000 jobs, on PostgreSQL and on Redis.
 */
const EFFECT_CONCURRENCY = 64;

type JobInput = { type: 'Start'; id: string; n: number } | { type: 'Done'; id: string };
const job = defineWorkflow({
  type: 'bench.job',
  initialState: () => ({ done: false }),
  evolve: (state, event: { type: 'Started' } | { type: 'Finished' }) => (event.type === 'Finished' ? { done: true } : state),
  decide: (input: JobInput) => {
    if (input.type === 'Start') return accept({ type: 'Started' as const }, { effects: [{ id: input.id, n: input.n }] });
    return accept({ type: 'Finished' as const });
  },
  workflowId: (input) => input.id,
  isTerminal: (state) => state.done,
});

interface Opened {
  readonly store: WorkflowStore;
  close(): Promise<void>;
}

function ironflow(name: string, backend: System['backend'], settings: string, concurrency: number, open: (namespace: string, owner: boolean) => Promise<Opened>): System {
  const engineOn = (store: WorkflowStore, registration: Registration): Engine =>
    createEngine({ store, logger: silentLogger, workflows: [registration], effects: { concurrency } });
  // Enqueue (16 callers of `execute`) with the workers stopped, then start them and time the drain.
  const throughput = async (workload: Workload, routed: boolean): Promise<DrainResult> => {
    const { store, close } = await open(workload.namespace, true);
    const completions = countdown(workload.jobs);
    const registration = routed ? register(job).handle((effect) => ({ type: 'Done' as const, id: effect.id })) : register(job).handle(() => undefined);
    const engine = engineOn(store, registration);
    if (routed) engine.on('decision.committed', (e) => e.completed && completions.tick());
    else engine.on('effect.succeeded', () => completions.tick());
    try {
      const enqueuePerSecond = await rate(CALLERS, workload.jobs, (n) => engine.execute(job, { type: 'Start', id: `j${n}`, n }));
      const started = performance.now();
      engine.start();
      await completions.done;
      const drainPerSecond = (workload.jobs / (performance.now() - started)) * 1000;
      return { enqueuePerSecond, drainPerSecond };
    } finally {
      await engine.stop();
      await close();
    }
  };
  return {
    name,
    backend,
    settings,
    drain: (workload) => throughput(workload, false),
    routed: async (workload) => (await throughput(workload, true)).drainPerSecond,
    // The enqueuer is a second store on the same namespace, as an API process apart from the
    // workers would be: the wake-up travels through the server, not the in-process wake hub.
    idle: async (workload) => {
      const workers = await open(workload.namespace, true);
      const enqueuer = await open(workload.namespace, false);
      const probe = new IdleProbe();
      const engine = engineOn(workers.store, register(job).handle((effect) => probe.started(effect.n)));
      const client = engineOn(enqueuer.store, register(job).handle(() => undefined));
      engine.start();
      try {
        return await probe.sample(workload.samples, (n) => client.execute(job, { type: 'Start', id: `i${n}`, n }));
      } finally {
        await engine.stop();
        await enqueuer.close();
        await workers.close();
      }
    },
  };
}

/** Ironflow on PostgreSQL, one schema per measurement, dropped afterwards. */
export function ironflowPostgres(url: string, concurrency = EFFECT_CONCURRENCY): System {
  const poolMax = CALLERS + concurrency;
  return ironflow('Ironflow', 'postgres', `pg.Pool max ${poolMax}; effects.concurrency ${concurrency} (claims up to the free slots); ${CALLERS} concurrent \`execute\` callers; wake-ups by LISTEN/NOTIFY`, concurrency, async (namespace, owner) => {
    const pool = new pg.Pool({ connectionString: url, max: poolMax });
    const schema = `ironflow_${namespace}`;
    if (owner) await migratePostgresStore({ pool, schema });
    const store = createPostgresStore({ pool, schema });
    return {
      store,
      close: async () => {
        await store.close();
        if (owner) await pool.query(`DROP SCHEMA ${schema} CASCADE`);
        await pool.end();
      },
    };
  });
}

/** Ironflow on Redis, one key prefix per measurement, destroyed afterwards. */
export function ironflowRedis(url: string, concurrency = EFFECT_CONCURRENCY): System {
  return ironflow('Ironflow', 'redis', `one ioredis client; effects.concurrency ${concurrency}; ${CALLERS} concurrent \`execute\` callers; wake-ups by pub/sub`, concurrency, async (namespace, owner) => {
    const client = new Redis(url, { maxRetriesPerRequest: 3 });
    const store = createRedisStore({ client, keyPrefix: `ironflow-${namespace}` });
    if (owner) await store.setup();
    return {
      store,
      close: async () => {
        if (owner) await store.destroy();
        await store.close();
        client.disconnect();
      },
    };
  });
}
