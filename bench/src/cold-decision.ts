// A decision on a cold instance (a fresh engine: nothing cached) at event 10 and at event 10 000 of
// one instance, on each reachable store, with the engine's default settings — which since issue 13
// take a snapshot every 50 events — and, for comparison, with snapshots turned off. Part of
// `pnpm bench`; alone: `pnpm bench:cold [memory,pglite,postgres,redis]`.
import { accept, defineWorkflow, reject } from '@ironflow/core';
import { DEFAULT_SNAPSHOT_EVERY } from '@ironflow/core/engine';
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, silentLogger } from '@ironflow/runtime';
import { median } from './peers/harness.js';
import { reachableTargets, type ServerUrls } from './targets.js';

const LONG = Number(process.env.BENCH_COLD_EVENTS ?? 10_000);
const SHORT = 10;
const SAMPLES = Number(process.env.BENCH_COLD_SAMPLES ?? 30);
/** The most events a cold load folds past the last snapshot under the default policy. */
const WORST = DEFAULT_SNAPSHOT_EVERY - 1;
/** Events each input of the history appends, so a long history is written in LONG / 10 decisions. */
const EVENTS_PER_INPUT = 10;

type Event = { type: 'Stepped'; n: number };
type State = { steps: number; total: number; last: number };
type Input = { id: string; n: number; events: number };

function ledger(snapshots: boolean) {
  return defineWorkflow({
    type: snapshots ? 'bench.cold.default' : 'bench.cold.nosnap',
    initialState: (): State => ({ steps: 0, total: 0, last: 0 }),
    evolve: (s: State, e: Event): State => ({ steps: s.steps + 1, total: s.total + e.n, last: e.n }),
    decide: (input: Input) => {
      // An input of no events is refused: the decision loads and folds the instance but writes nothing.
      if (input.events === 0) return reject('nothing to record');
      const events = Array.from({ length: input.events }, (_, i): Event => ({ type: 'Stepped', n: input.n + i }));
      return accept<Event>(events as [Event, ...Event[]]);
    },
    workflowId: (input) => input.id,
    // The default policy is what is measured; `false` is the comparison without snapshots.
    ...(snapshots ? {} : { snapshot: false as const }),
  });
}

/** Writes `events` events to instance `id` through a warm engine, `EVENTS_PER_INPUT` per decision. */
async function history(store: WorkflowStore, workflow: ReturnType<typeof ledger>, id: string, events: number): Promise<void> {
  const engine = createEngine({ store, logger: silentLogger, workflows: [workflow] });
  for (let written = 0; written < events; written += EVENTS_PER_INPUT) {
    await engine.execute(workflow, { id, n: written, events: Math.min(EVENTS_PER_INPUT, events - written) });
  }
}

/** One decision of one event through a fresh engine (empty instance cache): milliseconds. */
async function coldDecision(store: WorkflowStore, workflow: ReturnType<typeof ledger>, id: string, n: number, events = 1): Promise<number> {
  const engine = createEngine({ store, logger: silentLogger, workflows: [workflow], cacheSize: 0 });
  const started = performance.now();
  await engine.execute(workflow, { id, n, events });
  return performance.now() - started;
}

interface ColdResult {
  readonly short: number;
  readonly long: number;
  /** Refused decisions (load and fold, no write) at SHORT and at LONG + WORST, the most events past a snapshot. */
  readonly shortRefused: number;
  readonly worstRefused: number;
}

/** Median cold decision at SHORT and at LONG events, interleaved so noise hits both alike. */
async function measure(store: WorkflowStore, snapshots: boolean, run: string): Promise<ColdResult> {
  const workflow = ledger(snapshots);
  const longId = `${run}-long`;
  await history(store, workflow, longId, LONG);
  const shortIds = Array.from({ length: SAMPLES }, (_, i) => `${run}-short-${i}`);
  for (const id of shortIds) await history(store, workflow, id, SHORT);
  const worstId = `${run}-worst`;
  await history(store, workflow, worstId, LONG + WORST);
  const shorts: number[] = [];
  const longs: number[] = [];
  const shortRefused: number[] = [];
  const worstRefused: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    shortRefused.push(await coldDecision(store, workflow, shortIds[i]!, i, 0));
    worstRefused.push(await coldDecision(store, workflow, worstId, i, 0));
    shorts.push(await coldDecision(store, workflow, shortIds[i]!, i));
    longs.push(await coldDecision(store, workflow, longId, i));
  }
  return { short: median(shorts), long: median(longs), shortRefused: median(shortRefused), worstRefused: median(worstRefused) };
}

/** Every reachable store among `wanted`: a report section with one row per store. */
export async function coldDecisionSection(wanted: readonly string[], urls: ServerUrls): Promise<string> {
  const targets = reachableTargets(wanted, urls);
  const rows: string[] = [];
  for (const make of targets) {
    const target = await make();
    try {
      const run = `cold-${Date.now().toString(36)}`;
      const defaults = await measure(target.store, true, `${run}-d`);
      const off = await measure(target.store, false, `${run}-n`);
      const ms = (v: number) => v.toFixed(2);
      const row = `| ${target.name} | ${ms(defaults.short)} | ${ms(defaults.long)} | **${(defaults.long / defaults.short).toFixed(2)}** | ${(defaults.worstRefused / defaults.shortRefused).toFixed(2)} | ${ms(off.short)} | ${ms(off.long)} | ${(off.long / off.short).toFixed(2)} |`;
      console.log(row);
      rows.push(row);
    } finally {
      await target.close();
    }
  }
  return [
    `A decision of one input on a cold instance (a fresh engine, \`cacheSize: 0\`), at event ${SHORT} and at event ${LONG} of one instance; medians of ${SAMPLES} decisions, interleaved. Default settings (a snapshot every ${DEFAULT_SNAPSHOT_EVERY} events) against \`snapshot: false\`. Issue 13's target: a ratio of at most 1.5 with default settings.`,
    '',
    `The worst case of the default policy is ${WORST} events past the last snapshot: "worst ratio" compares refused decisions (the instance loaded and folded, nothing written) at event ${LONG + WORST} and at event ${SHORT}.`,
    '',
    `| store | default: ms at ${SHORT} | default: ms at ${LONG} | default: ratio | default: worst ratio | no snapshots: ms at ${SHORT} | no snapshots: ms at ${LONG} | no snapshots: ratio |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ].join('\n');
}
