// Group commit: a batch's commits planned into tasks (one batched COMMIT call per partition for
// commits that need nothing from another partition, the single commit path for the others), each
// run once the earlier tasks it shares an instance, a lease or a new id with are done.
import type { CheckedCommit, CommitOutcome } from '@ironflow/core/store';
import { commit, commitItem, outcomeOf, type CommitModes } from './commit.js';
import type { RedisContext } from './context.js';
import type { KeyLayout } from './keys.js';
import { leasePartition } from './members.js';
import { COMMIT_BATCH } from './scripts/batches.js';

/** A commit of the batch, with its place in the caller's array. */
interface Entry {
  readonly index: number;
  readonly request: CheckedCommit;
}

/** One unit of work: a batch call for a partition, or one commit through the single path. */
export type Task = { readonly seq: number; readonly deps: Set<Task> } & (
  | { readonly run: 'batch'; readonly partition: number; readonly entries: (Entry & { readonly modes: CommitModes })[] }
  | { readonly run: 'single'; readonly entry: Entry }
);

/**
 * How a commit of a batch goes: into its partition's batch call (no step in another partition
 * first: no acknowledgement or one of its own partition, and no unique key or a single
 * partition), through `commit` (a remote acknowledgement or a unique-key reservation), or
 * nowhere (a lease token no partition issued).
 */
function routeOf(layout: KeyLayout, request: CheckedCommit): { partition: number; modes: CommitModes } | 'single' | 'lease-lost' {
  const partition = layout.partitionOf(request.ref.type, request.ref.id);
  let ackMode: CommitModes['ackMode'] = '';
  if (request.ack !== undefined) {
    const issued = leasePartition(request.ack.token, layout.partitions);
    if (issued === undefined) return 'lease-lost';
    if (issued !== partition) return 'single';
    ackMode = 'local';
  }
  if (request.uniqueKey !== undefined && layout.partitions > 1) return 'single';
  return { partition, modes: { ackMode, uniqueMode: request.uniqueKey === undefined ? '' : 'claim', uniqueArg: '' } };
}

/**
 * What a commit reads or writes that another commit of the batch may too: its instance, the
 * acknowledged row, and the rows it creates (a reused id is refused only to the later commit).
 */
function resourcesOf(request: CheckedCommit): string[] {
  const { ref, ack } = request;
  return [
    `i:${ref.type.length}:${ref.type}:${ref.id}`,
    ...(ack === undefined ? [] : [`${ack.kind === 'effect' ? 'e' : 't'}:${ack.id}`]),
    ...request.effects.map((effect) => `e:${effect.id}`),
    ...request.timers.map((timer) => `t:${timer.id}`),
  ];
}

/**
 * Plans a batch (commits answered without a call, a lease token no partition issued, go straight
 * into `outcomes`). Tasks only ever depend on earlier tasks, so the plan runs without cycles, and
 * two commits that share a resource run in array order. A commit joins its partition's open batch
 * unless it must wait for a task created after that batch; a partition's batches run in order. A
 * unique key with several partitions is a barrier: its reservation reads and frees holders
 * anywhere (a completed holder's key is taken over), so it waits for all before it, and all after
 * it wait for it. So is a timer acknowledged from another partition, and an effect acknowledged
 * from another partition in a batch where some commit cancels effects (by key or `cancelWork`).
 */
export function planGroupCommit(layout: KeyLayout, requests: readonly CheckedCommit[], outcomes: CommitOutcome[]): Task[] {
  // A commit that cancels effects by key or all live work names no id the plan could see either.
  const cancelsEffects = requests.some((request) => request.cancelEffects.length > 0 || request.cancelWork);
  const tasks: Task[] = [];
  const last = new Map<string, Task>();
  const open = new Map<number, Extract<Task, { run: 'batch' }>>();
  const previous = new Map<number, Task>();
  let barrier: Task | undefined;
  for (const [index, request] of requests.entries()) {
    const route = routeOf(layout, request);
    if (route === 'lease-lost') {
      outcomes[index] = { outcome: 'lease-lost' };
      continue;
    }
    const resources = resourcesOf(request);
    const deps = new Set<Task>();
    for (const resource of resources) {
      const task = last.get(resource);
      if (task !== undefined) deps.add(task);
    }
    if (barrier !== undefined) deps.add(barrier);
    let task: Task;
    if (route === 'single') {
      // A timer acknowledged from another partition is conservative too: a commit of the timer's
      // own instance may cancel or move it by key, which names no id the plan could see. So is an
      // effect, when the batch has a commit that cancels effects.
      const isBarrier = request.uniqueKey !== undefined || request.ack?.kind === 'timer' || (request.ack !== undefined && cancelsEffects);
      task = { seq: tasks.length, deps: isBarrier ? new Set(tasks) : deps, run: 'single', entry: { index, request } };
      tasks.push(task);
      if (isBarrier) {
        barrier = task;
        open.clear();
      }
    } else {
      const current = open.get(route.partition);
      let batch: Extract<Task, { run: 'batch' }>;
      // Joining the open batch makes it wait for this commit's dependencies too: only those
      // created before it, which cannot depend on it.
      if (current !== undefined && [...deps].every((d) => d === current || d.seq < current.seq)) {
        batch = current;
        for (const d of deps) if (d !== batch) batch.deps.add(d);
      } else {
        const before = previous.get(route.partition);
        if (before !== undefined) deps.add(before);
        batch = { seq: tasks.length, deps, run: 'batch', partition: route.partition, entries: [] };
        tasks.push(batch);
        open.set(route.partition, batch);
        previous.set(route.partition, batch);
      }
      batch.entries.push({ index, request, modes: route.modes });
      task = batch;
    }
    for (const resource of resources) last.set(resource, task);
  }
  return tasks;
}

/** Commits of one partition in one batch call each round, in order; a HANDOFF item goes through `commit`, then the rest go on. */
async function commitRun(ctx: RedisContext, partition: number, run: readonly { request: CheckedCommit; modes: CommitModes }[]): Promise<CommitOutcome[]> {
  const { tag } = ctx.layout.partition(partition);
  const outcomes: CommitOutcome[] = [];
  let rest = run;
  while (rest.length > 0) {
    const replies = await ctx.callBatch(
      COMMIT_BATCH,
      tag,
      rest.map(({ request, modes }) => commitItem(ctx, request, modes)),
    );
    const settled = await Promise.all(replies.map((reply, i) => (reply.kind === 'handoff' ? undefined : outcomeOf(ctx, rest[i]!.request, reply, undefined))));
    for (const [i, outcome] of settled.entries()) outcomes.push(outcome ?? (await commit(ctx, rest[i]!.request)));
    rest = rest.slice(replies.length);
  }
  return outcomes;
}

/**
 * Group commit, with the outcome of each commit as if the commits ran one at a time in array
 * order: commits that share an instance, an acknowledged lease, a new id or (partitions > 1) a
 * unique key run in that order, and the others, which commute, run concurrently. When a call
 * fails (a network error, or a Lua runtime error, which ends a batch script with the items before
 * it applied: Redis does not roll a script back), the tasks that depend on it do not run, the
 * others finish, and the whole call throws; as after a single commit's network error, any of the
 * batch's commits may then have landed.
 */
export async function commitMany(ctx: RedisContext, requests: readonly CheckedCommit[]): Promise<CommitOutcome[]> {
  await ctx.ready();
  const outcomes: CommitOutcome[] = [];
  const done = new Map<Task, Promise<void>>();
  const run = async (task: Task): Promise<void> => {
    await Promise.all([...task.deps].map((d) => done.get(d)));
    if (task.run === 'single') {
      outcomes[task.entry.index] = await commit(ctx, task.entry.request);
      return;
    }
    const results = await commitRun(ctx, task.partition, task.entries);
    results.forEach((outcome, i) => (outcomes[task.entries[i]!.index] = outcome));
  };
  // In plan order, so every task's dependencies have started before it.
  for (const task of planGroupCommit(ctx.layout, requests, outcomes)) done.set(task, run(task));
  const settled = await Promise.allSettled(done.values());
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return outcomes;
}
