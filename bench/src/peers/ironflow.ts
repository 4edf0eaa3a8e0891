// Ironflow on PostgreSQL and on Redis as a job queue: a workflow whose decision emits one effect.
// Fire-and-forget: the handler returns nothing. Routed: its result is decided and completes the workflow.
import { accept, defineWorkflow } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, register, silentLogger, type Engine, type Instrumentation, type Registration } from '@ironflow/runtime';
import { createPostgresStore, migratePostgresStore } from '@ironflow/store-postgres';
import { createRedisStore } from '@ironflow/store-redis';
import { Redis } from 'ioredis';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { BULK_CHUNK, countdown, IdleProbe, inChunks, type DrainResult, type System, type Workload } from './harness.js';
import { benchTelemetry, TELEMETRY_SETTINGS } from './telemetry.js';
import { deleteKeys, rate } from '../targets.js';

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
  /**
   * The backend's raw write of one enqueue's transaction shape (instance, event and effect rows,
   * one wake-up), without Ironflow; `prepare` creates what it writes to.
   */
  readonly raw: { prepare(): Promise<void>; write(n: number): Promise<unknown> };
  close(): Promise<void>;
}

/** Column of Ironflow with OpenTelemetry tracing and metrics on. */
export const TRACED = 'Ironflow + OTel';

/** Options of the Ironflow systems. */
export interface IronflowVariant {
  /** Tracing (every span sampled and exported) and metrics on, through `@ironflow/otel`; only drain and routed are measured. */
  readonly traced?: boolean | undefined;
}

function ironflow(name: string, backend: System['backend'], settings: string, concurrency: number, open: (namespace: string, owner: boolean) => Promise<Opened>, variant: IronflowVariant = {}): System {
  // cacheSize: the whole backlog, so a routed result finds its instance's state in memory, as it
  // would in a worker that keeps its instances warm (the default, 10 000, is smaller than a run).
  const engineOn = (store: WorkflowStore, registration: Registration, jobs = 0, instrumentation?: Instrumentation): Engine =>
    createEngine({ store, logger: silentLogger, workflows: [registration], effects: { concurrency }, cacheSize: Math.max(10_000, jobs), instrumentation });
  // Enqueue (16 callers of `execute`) with the workers stopped, then start them and time the drain.
  const throughput = async (workload: Workload, routed: boolean): Promise<DrainResult> => {
    const { store, close } = await open(workload.namespace, true);
    const completions = countdown(workload.jobs);
    const registration = routed ? register(job).handle((effect) => ({ type: 'Done' as const, id: effect.id })) : register(job).handle(() => undefined);
    const telemetry = variant.traced ? benchTelemetry() : undefined;
    const engine = engineOn(store, registration, workload.jobs, telemetry?.instrumentation);
    if (routed) engine.on('decision.committed', (e) => e.completed && completions.tick());
    else engine.on('effect.succeeded', () => completions.tick());
    try {
      // Bulk, as the peers enqueue: `executeMany` of BULK_CHUNK inputs at a time.
      const enqueuePerSecond = await inChunks(workload.jobs, BULK_CHUNK, async (from, to) => {
        const results = await engine.executeMany(job, Array.from({ length: to - from }, (_, i) => ({ type: 'Start' as const, id: `j${from + i}`, n: from + i })));
        const failed = results.find((r) => r.status !== 'accepted');
        if (failed) throw new Error(`executeMany: ${JSON.stringify(failed)}`);
      });
      const started = performance.now();
      engine.start();
      await completions.done;
      const drainPerSecond = (workload.jobs / (performance.now() - started)) * 1000;
      // Stopped first: the span of the last effect ends just after the completion it reports.
      await engine.stop();
      if (telemetry) await telemetry.check(workload.jobs);
      return { enqueuePerSecond, drainPerSecond };
    } finally {
      await engine.stop();
      await telemetry?.shutdown();
      await close();
    }
  };
  const measured = {
    name,
    backend,
    settings: variant.traced ? `${settings}; ${TELEMETRY_SETTINGS}` : settings,
    drain: (workload: Workload) => throughput(workload, false),
    routed: async (workload: Workload) => (await throughput(workload, true)).drainPerSecond,
  };
  if (variant.traced) return measured;
  return {
    ...measured,
    // CALLERS concurrent `execute` calls, each creating an instance with one effect; then the raw
    // write of the same rows from as many callers, on the same server.
    singles: async (workload) => {
      const { store, raw, close } = await open(workload.namespace, true);
      const engine = engineOn(store, register(job).handle(() => undefined));
      try {
        const executePerSecond = await rate(CALLERS, workload.jobs, (n) => engine.execute(job, { type: 'Start', id: `s${n}`, n }));
        await raw.prepare();
        const rawPerSecond = await rate(CALLERS, workload.jobs, (n) => raw.write(n));
        return { executePerSecond, rawPerSecond };
      } finally {
        await close();
      }
    },
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
export function ironflowPostgres(url: string, concurrency = EFFECT_CONCURRENCY, variant: IronflowVariant = {}): System {
  const poolMax = CALLERS + concurrency;
  return ironflow(variant.traced ? TRACED : 'Ironflow', 'postgres', `pg.Pool max ${poolMax}; effects.concurrency ${concurrency}, prefetch ${concurrency} (the default); group commit on (the default: batches of 250, 4 in flight); cacheSize = jobs; bulk enqueue by \`executeMany\` of 1000 inputs; single enqueue by ${CALLERS} concurrent \`execute\` callers; wake-ups by LISTEN/NOTIFY`, concurrency, async (namespace, owner) => {
    const pool = new pg.Pool({ connectionString: url, max: poolMax });
    const schema = `ironflow_${namespace}`;
    if (owner) await migratePostgresStore({ pool, schema });
    const store = createPostgresStore({ pool, schema });
    return {
      store,
      raw: {
        prepare: async () => {
          await pool.query(`
CREATE TABLE ${schema}.raw_instances (workflow_type text COLLATE "C", workflow_id text COLLATE "C", version integer NOT NULL, created_at bigint NOT NULL, PRIMARY KEY (workflow_type, workflow_id));
CREATE TABLE ${schema}.raw_events (workflow_type text COLLATE "C", workflow_id text COLLATE "C", sequence integer, payload json NOT NULL, PRIMARY KEY (workflow_type, workflow_id, sequence));
CREATE TABLE ${schema}.raw_effects (id text COLLATE "C" PRIMARY KEY, workflow_type text COLLATE "C" NOT NULL, workflow_id text COLLATE "C" NOT NULL, payload json NOT NULL, status text NOT NULL, available_at bigint NOT NULL);
CREATE INDEX ON ${schema}.raw_effects (workflow_type, available_at, id) WHERE status IN ('pending', 'leased');`);
        },
        // One statement, one transaction: the three rows and one NOTIFY, as a lone commit writes.
        write: (n) =>
          pool.query(
            `WITH i AS (INSERT INTO ${schema}.raw_instances VALUES ('bench.job', $1, 1, $2)),
                  e AS (INSERT INTO ${schema}.raw_events VALUES ('bench.job', $1, 1, $3::json)),
                  f AS (INSERT INTO ${schema}.raw_effects VALUES ($4, 'bench.job', $1, $3::json, 'pending', $2) RETURNING 1)
             SELECT pg_notify('${schema}_raw', 'effect') FROM f`,
            [`r${n}`, Date.now(), `{"type":"Started","n":${n}}`, `e${n}-${randomUUID()}`],
          ),
      },
      close: async () => {
        await store.close();
        if (owner) await pool.query(`DROP SCHEMA ${schema} CASCADE`);
        await pool.end();
      },
    };
  }, variant);
}

/** Ironflow on Redis, one key prefix per measurement, destroyed afterwards. */
export function ironflowRedis(url: string, concurrency = EFFECT_CONCURRENCY, variant: IronflowVariant = {}): System {
  return ironflow(variant.traced ? TRACED : 'Ironflow', 'redis', `one ioredis client; effects.concurrency ${concurrency}, prefetch ${concurrency} (the default); group commit on (the default); cacheSize = jobs; bulk enqueue by \`executeMany\` of 1000 inputs; single enqueue by ${CALLERS} concurrent \`execute\` callers; wake-ups by pub/sub`, concurrency, async (namespace, owner) => {
    const client = new Redis(url, { maxRetriesPerRequest: 3 });
    const keyPrefix = `ironflow-${namespace}`;
    const store = createRedisStore({ client, keyPrefix });
    if (owner) await store.setup();
    let sha = '';
    return {
      store,
      raw: {
        prepare: async () => {
          sha = (await client.script('LOAD', RAW_SCRIPT)) as string;
        },
        write: (n) => {
          const tag = `{${keyPrefix}:raw}`;
          return client.evalsha(sha, 4, `${tag}:i:${n}`, `${tag}:ev:${n}`, `${tag}:e:${n}`, `${tag}:pending`, Date.now(), `{"type":"Started","n":${n}}`, `${keyPrefix}:raw`);
        },
      },
      close: async () => {
        if (owner) await deleteKeys(client, `{${keyPrefix}:raw}`);
        if (owner) await store.destroy();
        await store.close();
        client.disconnect();
      },
    };
  }, variant);
}

/**
 * One enqueue's writes on Redis without Ironflow: the instance hash, its event list, the effect
 * hash, the pending set and one PUBLISH, in one script call.
 */
const RAW_SCRIPT = `
redis.call('HSET', KEYS[1], 'version', 1, 'createdAt', ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[3], 'payload', ARGV[2], 'status', 'pending', 'availableAt', ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[1], KEYS[3])
redis.call('PUBLISH', ARGV[3], 'effect')
return 1`;
