// Ironflow's throughput on each reachable store, as ratios to the raw write limit of the same
// backend measured in the same run. `pnpm bench:stores [memory,pglite,postgres,redis]`; results are printed
// and written to bench/results/. Bounded: every workload has a fixed operation count.
import { writeFile, mkdir } from 'node:fs/promises';
import { accept, defineWorkflow } from '@ironflow/core';
import { createEngine, register, silentLogger } from '@ironflow/runtime';
import { memoryTarget, pgliteTarget, postgresTarget, rate, redisTarget, type Target } from './targets.js';

const CONCURRENCY = 16;
const DECISIONS = Number(process.env.BENCH_DECISIONS ?? 4000);
const HOT_DECISIONS = Number(process.env.BENCH_HOT_DECISIONS ?? 400);
const PIPELINE_WORKFLOWS = Number(process.env.BENCH_PIPELINE ?? 1000);

type Input = { type: 'Open'; id: string; withEffect?: boolean } | { type: 'Add'; id: string; n: number } | { type: 'Done'; id: string };
const account = defineWorkflow({
  type: 'bench.account',
  initialState: () => ({ total: 0, done: false }),
  evolve: (s, e: { type: 'Opened' } | { type: 'Added'; n: number } | { type: 'Closed' }) =>
    e.type === 'Added' ? { ...s, total: s.total + e.n } : e.type === 'Closed' ? { ...s, done: true } : s,
  decide: (input: Input, _state) => {
    if (input.type === 'Open') return accept({ type: 'Opened' }, { effects: input.withEffect ? [{ id: input.id }] : [] });
    if (input.type === 'Add') return accept({ type: 'Added', n: input.n });
    return accept({ type: 'Closed' });
  },
  workflowId: (input) => input.id,
  isTerminal: (s) => s.done,
});

interface Row {
  workload: string;
  perSecond: number;
  ratio?: number | undefined;
  note: string;
}

async function measure(target: Target): Promise<{ raw: number | undefined; rows: Row[] }> {
  const run = `${target.name}-${Date.now().toString(36)}`;
  const raw = await target.raw(CONCURRENCY, DECISIONS);
  const engine = createEngine({ store: target.store, logger: silentLogger, workflows: [register(account).handle(async (e) => ({ type: 'Done' as const, id: e.id }))], effects: { concurrency: 32, pollIntervalMs: 200 }, timers: { pollIntervalMs: 200 } });
  const rows: Row[] = [];
  const ratio = (v: number) => (raw === undefined ? undefined : v / raw);

  // 1. Decisions on distinct instances: each loop opens instances and adds to them.
  const perInstance = 5;
  const decisions = await rate(CONCURRENCY, DECISIONS, (i) => {
    const id = `${run}-d${Math.floor(i / perInstance)}`;
    return i % perInstance === 0 ? engine.execute(account, { type: 'Open', id }) : engine.execute(account, { type: 'Add', id, n: 1 });
  });
  rows.push({ workload: 'decisions, distinct instances', perSecond: decisions, ratio: ratio(decisions), note: `${CONCURRENCY} concurrent callers; 5 inputs per instance: the first loads, the rest are served by the instance cache` });

  // 2. Decisions all on one instance: optimistic concurrency under contention.
  const hot = `${run}-hot`;
  await engine.execute(account, { type: 'Open', id: hot });
  const contended = await rate(CONCURRENCY, HOT_DECISIONS, () => engine.execute(account, { type: 'Add', id: hot, n: 1 }));
  const { state, version } = await engine.getState(account, hot);
  if (state.total !== HOT_DECISIONS || version !== HOT_DECISIONS + 1) throw new Error(`hot instance lost work: total ${state.total}, version ${version}`);
  rows.push({ workload: 'decisions, one hot instance', perSecond: contended, ratio: ratio(contended), note: `${CONCURRENCY} concurrent callers on one instance, queued per instance in-process; checked gapless` });

  // 3. The effect pipeline end to end: decision → outbox → claim → handler → routed result + ack.
  // Completions are counted from lifecycle events, so measuring does not load the store.
  let completed = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  engine.on('decision.committed', (e) => {
    if (e.completed && e.workflowId.startsWith(`${run}-p`) && ++completed === PIPELINE_WORKFLOWS) allDone();
  });
  engine.start();
  const started = performance.now();
  const ids = Array.from({ length: PIPELINE_WORKFLOWS }, (_, i) => `${run}-p${i}`);
  await rate(CONCURRENCY, ids.length, (i) => engine.execute(account, { type: 'Open', id: ids[i]!, withEffect: true }));
  const timeout = setTimeout(() => allDone(), 120_000);
  await finished;
  clearTimeout(timeout);
  if (completed !== PIPELINE_WORKFLOWS) throw new Error(`pipeline finished only ${completed} of ${PIPELINE_WORKFLOWS} workflows in 120 s`);
  const pipeline = (ids.length / (performance.now() - started)) * 1000;
  await engine.stop();
  const done = await target.store.listInstances({ workflowType: account.type, status: 'completed', limit: 100_000 });
  if (done.filter((d) => d.workflowId.startsWith(`${run}-p`)).length !== ids.length) throw new Error('the store does not show every pipeline workflow completed');
  rows.push({ workload: 'effect pipeline, end to end', perSecond: pipeline, ratio: ratio(pipeline), note: 'workflows/s: 2 decisions + claim + handler + atomic route/ack each' });
  return { raw, rows };
}

async function main(): Promise<void> {
  const wanted = (process.argv[2] ?? 'memory,pglite,postgres,redis').split(',');
  const targets: (() => Promise<Target>)[] = [];
  if (wanted.includes('memory')) targets.push(memoryTarget);
  if (wanted.includes('pglite')) targets.push(pgliteTarget);
  const pgUrl = process.env.IRONFLOW_TEST_POSTGRES_URL;
  if (wanted.includes('postgres')) {
    if (pgUrl) targets.push(() => postgresTarget(pgUrl, CONCURRENCY + 4));
    else console.log('postgres: skipped (set IRONFLOW_TEST_POSTGRES_URL)');
  }
  const redisUrl = process.env.IRONFLOW_TEST_REDIS_URL;
  if (wanted.includes('redis')) {
    if (redisUrl) targets.push(() => redisTarget(redisUrl));
    else console.log('redis: skipped (set IRONFLOW_TEST_REDIS_URL)');
  }
  let report = `# Benchmark ${new Date().toISOString()}\n\nNode ${process.version}, ${CONCURRENCY} concurrent callers, ${DECISIONS} decisions, ${HOT_DECISIONS} hot-instance decisions, ${PIPELINE_WORKFLOWS} pipeline workflows. Ratio = Ironflow operations per second ÷ the backend's raw single-write operations per second, measured in the same run.\n`;
  for (const make of targets) {
    const target = await make();
    try {
      const { raw, rows } = await measure(target);
      report += `\n## ${target.name}\n\nRaw limit: ${raw === undefined ? 'n/a' : `${raw.toFixed(0)} ops/s`} — ${target.rawDescription}\n\n| workload | per second | ratio to raw | note |\n| --- | ---: | ---: | --- |\n`;
      for (const r of rows) report += `| ${r.workload} | ${r.perSecond.toFixed(0)} | ${r.ratio === undefined ? 'n/a' : r.ratio.toFixed(2)} | ${r.note} |\n`;
      console.log(report.slice(report.lastIndexOf(`## ${target.name}`)));
    } finally {
      await target.close();
    }
  }
  await mkdir(new URL('../results/', import.meta.url), { recursive: true });
  const file = new URL(`../results/${new Date().toISOString().slice(0, 10)}.md`, import.meta.url);
  await writeFile(file, report);
  console.log(`written to ${file.pathname}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
