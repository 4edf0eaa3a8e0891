// Projection catch-up and lag, on each reachable store (part of `pnpm bench`; alone: `pnpm bench:projections [memory,pglite,postgres,redis]`):
// 1. catch-up: a backlog of BENCH_PROJECTION_EVENTS events (100 000 by default) projected from the
//    start by a no-op projection (the runner's read, upcast, batch and one checkpoint per batch),
//    as events/s and as a ratio to the same backend's raw read of the same rows in the same run
//    (PostgreSQL/PGlite: keyset pages of the events table in feed order; Redis: XRANGE pages of the
//    feed stream plus the events they point to; memory: the feed read itself);
// 2. lag under a steady write load: inputs executed at a fixed rate while a started engine projects,
//    the projection's lag (events, and age of the oldest unprojected event) sampled every 100 ms.
import { accept, defineWorkflow } from '@ironflow/core';
import type { CommitRequest, WorkflowStore } from '@ironflow/core/store';
import { createEngine, defineProjection, silentLogger } from '@ironflow/runtime';
import { median, percentile } from './peers/harness.js';
import { reachableTargets, type ServerUrls, type Target } from './targets.js';

const EVENTS = Number(process.env.BENCH_PROJECTION_EVENTS ?? 100_000);
const EVENTS_PER_INSTANCE = 10;
const LOAD_RATE = Number(process.env.BENCH_PROJECTION_LOAD_RATE ?? 500);
const LOAD_SECONDS = Number(process.env.BENCH_PROJECTION_LOAD_SECONDS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

type Event = { type: 'Added'; n: number };
const counter = defineWorkflow({
  type: 'bench.counter',
  initialState: () => ({ total: 0 }),
  evolve: (s, e: Event) => ({ total: s.total + e.n }),
  decide: (input: { id: string; n: number }) => accept<Event>({ type: 'Added', n: input.n }),
  workflowId: (input) => input.id,
});

/** Writes the backlog straight through the store port: new instances of EVENTS_PER_INSTANCE events, 250 commits per call. */
async function seed(store: WorkflowStore, run: string, events: number): Promise<void> {
  const commits: CommitRequest[] = [];
  const now = Date.now();
  for (let i = 0; i < events / EVENTS_PER_INSTANCE; i++) {
    const ref = { type: counter.type, id: `${run}-${i}` };
    commits.push({
      ref,
      expectedVersion: 0,
      now,
      events: Array.from({ length: EVENTS_PER_INSTANCE }, (_, k) => ({ workflowType: ref.type, workflowId: ref.id, sequence: k + 1, type: 'Added', payload: { type: 'Added', n: k }, metadata: { decidedAt: now }, recordedAt: now })),
      effects: [],
      timers: [],
      cancelTimers: [],
      completed: false,
    });
  }
  for (let i = 0; i < commits.length; i += 250) {
    const results = await store.commitMany(commits.slice(i, i + 250));
    const failed = results.find((r) => !r.ok);
    if (failed && !failed.ok) throw failed.error;
  }
}

/** Reads the whole feed through the store port, as a reader without a runner would; events/s. */
async function feedRead(store: WorkflowStore, total: number): Promise<number> {
  const started = performance.now();
  let after: string | undefined;
  let read = 0;
  for (;;) {
    const page = await store.readFeed({ after, limit: 1000 });
    read += page.events.length;
    if (page.events.length === 0) break;
    after = page.next;
  }
  if (read < total) throw new Error(`the feed returned ${read} of ${total} events`);
  return (read / (performance.now() - started)) * 1000;
}

/** Projects the backlog from the start with a no-op handler; events/s and checkpoints written. */
async function catchUp(store: WorkflowStore, run: string, total: number, batchSize: number): Promise<{ perSecond: number; saves: number }> {
  let saves = 0;
  const counting: WorkflowStore = {
    ...store,
    saveProjection: (lease, save, apply) => {
      saves += 1;
      return store.saveProjection(lease, save, apply);
    },
  };
  let projected = 0;
  const projection = defineProjection({
    name: `${run}.catch-up.${batchSize}`,
    workflows: [counter],
    batchSize,
    handle: (batch) => {
      projected += batch.length;
    },
  });
  const engine = createEngine({ store: counting, logger: silentLogger, workflows: [counter], projections: [projection] });
  const started = performance.now();
  const report = await engine.runUntilIdle();
  const elapsed = performance.now() - started;
  if (projected < total || (report.projected ?? 0) < total) throw new Error(`projected ${projected} of ${total} events`);
  return { perSecond: (projected / elapsed) * 1000, saves };
}

/** Executes inputs at LOAD_RATE/s for LOAD_SECONDS while a started engine projects; samples the lag. */
async function lagUnderLoad(store: WorkflowStore, run: string): Promise<{ ages: number[]; events: number[]; achieved: number }> {
  const projection = defineProjection({ name: `${run}.lag`, workflows: [counter], handle: () => undefined });
  const engine = createEngine({ store, logger: silentLogger, workflows: [counter], projections: [projection], projectionOptions: { pollIntervalMs: 50 } });
  // Start at the head: only the load's events count.
  const head = await store.feedHead();
  if (head !== undefined) await engine.projections.reset(projection.name, { position: head });
  engine.start();
  const ages: number[] = [];
  const events: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const report = await engine.projections.get(projection.name);
      if (report !== undefined) {
        ages.push(report.lag.ageMs ?? 0);
        events.push(report.lag.events);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const total = LOAD_RATE * LOAD_SECONDS;
  const started = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / LOAD_RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(engine.execute(counter, { id: `${run}-load-${i % 1000}`, n: 1 }));
  }
  await Promise.all(pending);
  const achieved = (total / (performance.now() - started)) * 1000;
  sampling = false;
  await sampler;
  await engine.stop();
  return { ages: ages.sort((a, b) => a - b), events: events.sort((a, b) => a - b), achieved };
}

async function measure(target: Target): Promise<string> {
  const raws: number[] = [];
  const feeds: number[] = [];
  const ups: Record<number, number[]> = { 100: [], 1000: [] };
  const savesOf: Record<number, number> = {};
  for (let r = 0; r < RUNS; r++) {
    const run = `${target.name}-${Date.now().toString(36)}-${r}`;
    await seed(target.store, run, EVENTS);
    const raw = await target.rawRead?.(EVENTS);
    if (raw !== undefined) raws.push(raw);
    feeds.push(await feedRead(target.store, EVENTS));
    for (const batchSize of [100, 1000]) {
      const { perSecond, saves } = await catchUp(target.store, run, EVENTS * (r + 1), batchSize);
      ups[batchSize]!.push(perSecond);
      savesOf[batchSize] = saves;
    }
  }
  const raw = raws.length > 0 ? median(raws) : undefined;
  const ratio = (v: number) => (raw === undefined ? 'n/a' : (v / raw).toFixed(2));
  let out = `\n## ${target.name}\n\nBacklog: ${EVENTS} events per run (${EVENTS_PER_INSTANCE} per instance), ${RUNS} runs, medians. Raw read: ${raw === undefined ? 'n/a' : `${raw.toFixed(0)} events/s`} — ${target.rawReadDescription ?? 'none'}.\n\n| workload | events/s | ratio to raw read | note |\n| --- | ---: | ---: | --- |\n`;
  out += `| feed read (readFeed pages of 1000) | ${median(feeds).toFixed(0)} | ${ratio(median(feeds))} | the store port's read, no checkpoint |\n`;
  for (const batchSize of [100, 1000]) {
    const v = median(ups[batchSize]!);
    out += `| projection catch-up, batch ${batchSize} | ${v.toFixed(0)} | ${ratio(v)} | no-op handler; ${savesOf[batchSize]} checkpoint saves in the last run (one per batch) |\n`;
  }
  const lag = await lagUnderLoad(target.store, `${target.name}-${Date.now().toString(36)}-lag`);
  out += `\nLag under a steady load of ${LOAD_RATE} inputs/s for ${LOAD_SECONDS} s (achieved ${lag.achieved.toFixed(0)}/s), sampled every 100 ms: age of the oldest unprojected event p50 ${percentile(lag.ages, 50)} ms, p99 ${percentile(lag.ages, 99)} ms, max ${lag.ages.at(-1) ?? 0} ms; events behind p50 ${percentile(lag.events, 50)}, p99 ${percentile(lag.events, 99)}, max ${lag.events.at(-1) ?? 0}.\n`;
  return out;
}

/** Every reachable store among `wanted`, measured in turn: the report's sections, one per store. */
export async function projectionSections(wanted: readonly string[], urls: ServerUrls): Promise<string> {
  const targets = reachableTargets(wanted, urls);
  let report = `Node ${process.version}. ${EVENTS} events of backlog, ${RUNS} runs. Catch-up ratio = events/s projected ÷ events/s of the backend's raw read of the same rows, in the same run.\n`;
  for (const make of targets) {
    const target = await make();
    try {
      const section = await measure(target);
      console.log(section);
      report += section;
    } finally {
      await target.close();
    }
  }
  return report;
}
