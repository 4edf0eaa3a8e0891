// Ironflow side by side with pg-boss, graphile-worker and BullMQ: the same no-op jobs, servers and
// durability for all, each in its best documented configuration;
// then projection catch-up and lag (issue 12) and cold decisions by history length (issue 13) on every store;
// `pnpm bench [--jobs N] [--runs N] [--samples N] [--out FILE.md] [--no-projections] [--no-cold]`.
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { bullmq } from './bullmq.js';
import { graphileWorker } from './graphile-worker.js';
import type { System } from './harness.js';
import { ironflowPostgres, ironflowRedis, TRACED } from './ironflow.js';
import { coldDecisionSection } from '../cold-decision.js';
import { projectionSections } from '../projection-measure.js';
import { pgBoss } from './pg-boss.js';
import { group, latency, Results, table, type RowKey, type Value } from './report.js';
import { findPostgres, findRedis, type Server } from './servers.js';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes a positive integer`);
  return value;
}

function textFlag(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
}

async function version(pkg: string): Promise<string> {
  const text = await readFile(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

async function attempt(what: string, measure: () => Promise<Value>): Promise<Value> {
  try {
    return await measure();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`${what} failed:`, error);
    return { error: message };
  }
}

async function main(): Promise<void> {
  const jobs = flag('jobs', 20_000);
  const samples = flag('samples', 200);
  const runs = flag('runs', 3);
  const loadAtStart = loadavg();
  const started = new Date();
  const postgres = await findPostgres();
  const redis = await findRedis();
  for (const server of [postgres, redis]) for (const warning of server?.warnings ?? []) console.warn(`warning: ${warning}`);
  if (!postgres) console.warn('warning: no PostgreSQL (set IRONFLOW_BENCH_POSTGRES_URL): its rows are skipped');
  if (!redis) console.warn('warning: no Redis (set IRONFLOW_BENCH_REDIS_URL): its rows are skipped');

  const [pgBossVersion, graphileVersion, bullmqVersion] = await Promise.all([version('pg-boss'), version('graphile-worker'), version('bullmq')]);
  const ironPg = postgres && ironflowPostgres(postgres.url);
  const ironRedis = redis && ironflowRedis(redis.url);
  // The same Ironflow with OpenTelemetry tracing (every span sampled and exported) and metrics on.
  const tracedPg = postgres && ironflowPostgres(postgres.url, undefined, { traced: true });
  const tracedRedis = redis && ironflowRedis(redis.url, undefined, { traced: true });
  const pgPeers = postgres ? [pgBoss(postgres.url, pgBossVersion), graphileWorker(postgres.url, graphileVersion)] : [];
  const redisPeers = redis ? [bullmq(redis.url, bullmqVersion)] : [];
  const pgSystems = [...(ironPg ? [ironPg] : []), ...(tracedPg ? [tracedPg] : []), ...pgPeers];
  const redisSystems = [...(ironRedis ? [ironRedis] : []), ...(tracedRedis ? [tracedRedis] : []), ...redisPeers];
  const columns = ['Ironflow', TRACED, ...pgPeers.map((s) => s.name), ...redisPeers.map((s) => s.name)];
  const results = new Results();
  const tag = `b${Date.now().toString(36)}`;
  let measured = 0;
  const workload = (run: number, kind: string) => ({ jobs, samples, namespace: `${tag}_r${run}_${kind}_${measured++}` });
  const progress = (run: number, what: string, system: System, value: Value) =>
    console.log(`run ${run + 1}/${runs} ${what} ${system.name} (${system.backend}): ${'rate' in value ? `${group(value.rate)}/s` : 'p50' in value ? `p50 ${value.p50.toFixed(1)} ms, p99 ${value.p99.toFixed(1)} ms` : value.error}`);

  // Interleaved: every run measures each workload on every system in turn, so noise hits all alike.
  for (let run = 0; run < runs; run++) {
    for (const [systems, drainRow, enqueueRow, routedRow] of [
      [pgSystems, 'pg-drain', 'pg-enqueue', 'pg-routed'],
      [redisSystems, 'redis-drain', 'redis-enqueue', 'redis-routed'],
    ] as const satisfies readonly (readonly [System[], RowKey, RowKey, RowKey])[]) {
      for (const system of systems) {
        let enqueue: Value = { error: 'drain failed' };
        const drain = await attempt(`${system.name} ${drainRow}`, async () => {
          const result = await system.drain(workload(run, 'drain'));
          enqueue = { rate: result.enqueuePerSecond };
          return { rate: result.drainPerSecond };
        });
        results.record(drainRow, system.name, run, drain);
        results.record(enqueueRow, system.name, run, enqueue);
        progress(run, 'enqueue', system, enqueue);
        progress(run, 'drain', system, drain);
      }
      for (const system of systems) {
        const routed = system.routed;
        if (!routed) continue;
        const value = await attempt(`${system.name} ${routedRow}`, async () => ({ rate: await routed(workload(run, 'routed')) }));
        results.record(routedRow, system.name, run, value);
        progress(run, 'routed', system, value);
      }
      for (const system of systems) {
        const singles = system.singles;
        if (!singles) continue;
        const [executeRow, rawRow] = system.backend === 'postgres' ? (['pg-execute', 'pg-raw'] as const) : (['redis-execute', 'redis-raw'] as const);
        let raw: Value = { error: 'singles failed' };
        const execute = await attempt(`${system.name} ${executeRow}`, async () => {
          const measured = await singles(workload(run, 'singles'));
          raw = { rate: measured.rawPerSecond };
          return { rate: measured.executePerSecond };
        });
        results.record(executeRow, system.name, run, execute);
        results.record(rawRow, system.name, run, raw);
        progress(run, 'single execute', system, execute);
        progress(run, 'raw limit', system, raw);
      }
    }
    for (const system of [...pgSystems, ...redisSystems]) {
      const idle = system.idle;
      if (!idle) continue;
      const value = await attempt(`${system.name} idle`, async () => latency(await idle(workload(run, 'idle'))));
      results.record(system.backend === 'postgres' ? 'pg-idle' : 'redis-idle', system.name, run, value);
      progress(run, 'idle', system, value);
    }
  }

  const loadAtEnd = loadavg();
  // After the peers, so the catch-up runs on servers no peer is using.
  const projections = process.argv.includes('--no-projections')
    ? undefined
    : await projectionSections(['memory', 'pglite', 'postgres', 'redis'], { postgres: postgres?.url, redis: redis?.url });
  const cold = process.argv.includes('--no-cold') ? undefined : await coldDecisionSection(['memory', 'pglite', 'postgres', 'redis'], { postgres: postgres?.url, redis: redis?.url });
  const side = table(results, columns);
  const targets = targetLines(results, pgPeers, redisPeers);
  const servers = (label: string, server: Server | undefined) => `- ${label}: ${server ? `${server.durability} (from ${server.source})` : 'not reachable, skipped'}`;
  const report = [
    `# Ironflow and its peers, ${started.toISOString()}`,
    '',
    `${jobs} no-op jobs per throughput measurement, ${samples} idle samples per latency measurement, ${runs} interleaved runs; each cell is the median of the runs. Ratios are Ironflow ÷ peer within one run, then the median.`,
    '',
    side,
    '## Against the targets of issues 8 and 10',
    '',
    ...targets,
    '',
    '## Servers',
    '',
    servers('PostgreSQL', postgres),
    servers('Redis', redis),
    ...[postgres, redis].flatMap((s) => s?.warnings ?? []).map((w) => `- warning: ${w}`),
    '',
    '## Systems and settings',
    '',
    ...[...pgSystems, ...redisSystems].map((s) => `- ${s.name} on ${s.backend === 'postgres' ? 'PostgreSQL' : 'Redis'}: ${s.settings}`),
    '- Drain: the jobs are enqueued in bulk with the workers stopped (that is the enqueue row), then the workers start and the clock runs until every job is settled on the server. Idle: one job at a time into an idle system, from the enqueue call returning to the handler starting.',
    '',
    '## Machine',
    '',
    `- Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), shared with other work`,
    `- load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadAtEnd.map((l) => l.toFixed(2)).join(' ')}`,
    '',
    ...(projections === undefined ? [] : ['# Projection catch-up and lag (issue 12)', '', projections.replaceAll(/^## /gm, '### ')]),
    ...(cold === undefined ? [] : ['# Cold decisions by history length (issue 13)', '', cold]),
  ].join('\n');
  console.log(`\n${side}\n${targets.join('\n')}\n`);
  await mkdir(new URL('../../results/', import.meta.url), { recursive: true });
  const out = textFlag('out') ?? `${started.toISOString().slice(0, 10)}-peers.md`;
  if (!/^[\w.-]+\.md$/.test(out)) throw new Error('--out takes a file name ending in .md (written to bench/results/)');
  const file = new URL(`../../results/${out}`, import.meta.url);
  await writeFile(file, report);
  console.log(`written to ${file.pathname}`);
}

function targetLines(results: Results, pgPeers: readonly System[], redisPeers: readonly System[]): string[] {
  const lines: string[] = [];
  const named = (prefix: string, peers: readonly System[]) => peers.find((p) => p.name.startsWith(prefix))?.name;
  const check = (label: string, value: number | undefined, target: number, atLeast: boolean, unit = '×') => {
    if (value === undefined) return lines.push(`- ${label}: not measured`);
    const met = atLeast ? value >= target : value <= target;
    return lines.push(`- ${label}: ${value.toFixed(2)}${unit} (target ${atLeast ? '≥' : '≤'} ${target}${unit}) — ${met ? 'met' : 'missed'}`);
  };
  const graphile = named('graphile-worker', pgPeers);
  const boss = named('pg-boss', pgPeers);
  const bull = named('BullMQ', redisPeers);
  if (graphile) check(`PostgreSQL drain, Ironflow ÷ ${graphile}`, results.ratio({ row: 'pg-drain', column: 'Ironflow' }, { row: 'pg-drain', column: graphile }), 1.0, true);
  if (boss) check(`PostgreSQL routed, Ironflow ÷ ${boss} drain`, results.ratio({ row: 'pg-routed', column: 'Ironflow' }, { row: 'pg-drain', column: boss }), 1.0, true);
  for (const peer of [boss, graphile]) if (peer) check(`PostgreSQL bulk enqueue (\`executeMany\`), Ironflow ÷ ${peer} bulk`, results.ratio({ row: 'pg-enqueue', column: 'Ironflow' }, { row: 'pg-enqueue', column: peer }), 0.5, true);
  check('PostgreSQL single `execute` at 16 callers ÷ raw limit of its transaction', results.ratio({ row: 'pg-execute', column: 'Ironflow' }, { row: 'pg-raw', column: 'Ironflow' }), 0.8, true);
  check('Redis single `execute` at 16 callers ÷ raw limit of its script call', results.ratio({ row: 'redis-execute', column: 'Ironflow' }, { row: 'redis-raw', column: 'Ironflow' }), 0.8, true);
  if (bull) {
    check(`Redis bulk enqueue (\`executeMany\`), Ironflow ÷ ${bull} bulk`, results.ratio({ row: 'redis-enqueue', column: 'Ironflow' }, { row: 'redis-enqueue', column: bull }), 0.5, true);
    check(`Redis drain, Ironflow ÷ ${bull}`, results.ratio({ row: 'redis-drain', column: 'Ironflow' }, { row: 'redis-drain', column: bull }), 1.5, true);
    check(`Redis routed, Ironflow ÷ ${bull} drain`, results.ratio({ row: 'redis-routed', column: 'Ironflow' }, { row: 'redis-drain', column: bull }), 1.0, true);
  }
  for (const [label, row] of [['PostgreSQL drain', 'pg-drain'], ['PostgreSQL routed', 'pg-routed'], ['Redis drain', 'redis-drain'], ['Redis routed', 'redis-routed']] as const) {
    check(`${label}, tracing and metrics on ÷ off (issue 10)`, results.ratio({ row, column: TRACED }, { row, column: 'Ironflow' }), 0.9, true);
  }
  check('Idle pickup p50, Ironflow on PostgreSQL', results.idleP50('pg-idle', 'Ironflow'), 5, false, ' ms');
  check('Idle pickup p50, Ironflow on Redis', results.idleP50('redis-idle', 'Ironflow'), 2.5, false, ' ms');
  return lines;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
