// Deterministic simulation: several engines ("processes") on one memory store under one manual
// clock, driven by a seeded scheduler that interleaves executes, work rounds, store calls, handler
// outcomes, clock ticks and jumps, and injects faults (crashes at any store call, handlers that
// throw or hang, store calls that fail, crashes right after a write). The invariants are checked
// after every step; a failing run is shrunk and reported with its seed and trace, and rerunning the
// seed reproduces it exactly.
import { createManualClock, isIronflowError, type AnyWorkflow, type ManualClock, type RetryPolicy } from '@ironflow/core';
import { foldEvents } from '@ironflow/core/engine';
import { StoreError, type StoredEvent, type WorkflowStore } from '@ironflow/core/store';
import { createEngine, silentLogger, type Engine, type Registration } from '@ironflow/runtime';
import { createMemoryStore } from '@ironflow/store-memory';
import { Choices } from './choices.js';
import { gateStore, type PendingOperation, type SimProcess } from './gate.js';
import { checkSafety, checkSettled, Ledger, nextStoredDue, observeStore, type InvariantContext } from './invariants.js';
import { VirtualTimeouts } from './virtual-time.js';

/** Fault rates, each a probability: per step (crash, clockJump) or per delivered call (the rest). */
export interface SimulationFaults {
  /** A process crashes between steps: its in-flight store and handler calls are lost, its leases left to expire; it restarts. */
  readonly crash: number;
  /** A store call reaches the store and its process crashes before hearing back. */
  readonly crashAfterWrite: number;
  /** A store call fails with a retryable StoreError before reaching the store. */
  readonly storeFailure: number;
  /** A handler throws (a retryable error). */
  readonly handlerThrow: number;
  /** A handler never returns (its timeout, or its process's crash, ends the attempt). */
  readonly handlerHang: number;
  /** The clock jumps past every lease. */
  readonly clockJump: number;
}

/** The faults a simulation injects unless told otherwise. */
export const DEFAULT_FAULTS: SimulationFaults = Object.freeze({ crash: 0.02, crashAfterWrite: 0.01, storeFailure: 0.03, handlerThrow: 0.1, handlerHang: 0.03, clockJump: 0.03 });

/** Choices a simulation's input generator may make; they come from the run's seed. */
export interface SimulationRandom {
  /** A whole number from 0 to `n - 1`. */
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

/** One input for the simulation to execute on some process. */
export interface SimulationInput {
  readonly workflow: AnyWorkflow;
  readonly input: unknown;
}

/** An instance as an invariant sees it: its events folded by its workflow. */
export interface SimulatedInstance {
  readonly workflowType: string;
  readonly workflowId: string;
  readonly version: number;
  readonly status: 'active' | 'completed' | 'cancelled';
  readonly state: unknown;
  readonly events: readonly StoredEvent[];
}

/** What an invariant reads. */
export interface SimulationView {
  /** Every instance (of one workflow type), folded. */
  instances(workflowType?: string): Promise<SimulatedInstance[]>;
  /** The store itself, for reads (effects, timers, dead letters). */
  readonly store: WorkflowStore;
  /** True once the faults have stopped and time has run on: liveness may be asserted. */
  readonly settled: boolean;
}

/** A business rule over the instances; return false or a message to report a violation. */
export interface SimulationInvariant {
  readonly name: string;
  check(view: SimulationView): boolean | string | void | Promise<boolean | string | void>;
}

/** What `simulate` takes. */
export interface SimulationOptions {
  /**
   * The workflows, with their handlers (`register(workflow).handle(...)`), as `createEngine` takes
   * them; or a function making them, called once per run, when handlers keep state of their own
   * (a simulated inventory) that every run, and every replay while shrinking, must start afresh.
   */
  readonly workflows: readonly (Registration | AnyWorkflow)[] | (() => readonly (Registration | AnyWorkflow)[]);
  readonly seed: number;
  /** Scheduler steps before the faults stop. @default 200 */
  readonly steps?: number | undefined;
  /** Processes running at once. @default 2 */
  readonly processes?: number | undefined;
  /** The next input to execute, or undefined for none at this step. */
  inputs(random: SimulationRandom, step: number): SimulationInput | undefined;
  /** Fault rates over DEFAULT_FAULTS; `false` for none. */
  readonly faults?: Partial<SimulationFaults> | false | undefined;
  /** Business invariants, checked after every step and once everything settled. */
  readonly invariants?: readonly SimulationInvariant[] | undefined;
  /** The engines' retry policy. @default { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 10000 } */
  readonly retry?: Partial<RetryPolicy> | undefined;
  /** Lease of effects and timers, ms. @default 30000 */
  readonly leaseMs?: number | undefined;
  /** Replays tried when shrinking a failure; 0 reports the failing run as it is. @default 200 */
  readonly shrinkBudget?: number | undefined;
  /** The store the processes share (fresh per run). @default a memory store */
  readonly store?: (() => WorkflowStore) | undefined;
}

/** What a passing simulation did. */
export interface SimulationReport {
  readonly seed: number;
  readonly steps: number;
  readonly inputs: { readonly accepted: number; readonly rejected: number; readonly failed: number };
  readonly faults: { readonly crashes: number; readonly storeFailures: number; readonly handlerFailures: number; readonly hangs: number; readonly clockJumps: number };
  /** Work dead at the end, and instances that ended. */
  readonly deadLetters: number;
  readonly completed: number;
  /** Every step taken, as the failure report would show it. */
  readonly trace: readonly string[];
}

/** A violated invariant, with the seed that reproduces it and the shrunk trace of the steps to it. */
export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    readonly invariant: string,
    readonly violation: string,
    readonly trace: readonly string[],
    readonly shrunkFrom: number,
  ) {
    super(
      [
        `simulation seed ${seed} violated "${invariant}": ${violation}`,
        `rerun: simulate({ ...options, seed: ${seed} })`,
        `trace (${trace.length} steps, shrunk from ${shrunkFrom}):`,
        ...trace.map((line) => `  ${line}`),
      ].join('\n'),
    );
    this.name = 'SimulationFailure';
  }
}

interface Proc extends SimProcess {
  engine: Engine;
  readonly timeouts: VirtualTimeouts;
  working: boolean;
}

interface Violation {
  readonly invariant: string;
  readonly message: string;
}

interface RunResult {
  readonly violation?: Violation | undefined;
  readonly trace: string[];
  readonly tape: readonly number[];
  readonly report: SimulationReport;
}

const HEAL_ROUNDS = 2_000;

/** Lets every microtask chain the last delivery started run to its next wait. */
const quiesce = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

const describe = (error: unknown): string => (isIronflowError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** One run of one tape. */
async function run(options: SimulationOptions, choices: Choices): Promise<RunResult> {
  const faults: SimulationFaults = options.faults === false ? { crash: 0, crashAfterWrite: 0, storeFailure: 0, handlerThrow: 0, handlerHang: 0, clockJump: 0 } : { ...DEFAULT_FAULTS, ...options.faults };
  const steps = options.steps ?? 200;
  const leaseMs = options.leaseMs ?? 30_000;
  const retry: Partial<RetryPolicy> = { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 10_000, ...options.retry };
  const clock: ManualClock = createManualClock(Date.UTC(2026, 0, 1));
  const ledger = new Ledger();
  const raw = (options.store ?? createMemoryStore)();
  const shared = observeStore(raw, ledger);
  const registrations = (typeof options.workflows === 'function' ? options.workflows() : options.workflows).map((w): Registration => ('workflow' in w && typeof w.workflow === 'object' ? (w as Registration) : { workflow: w as AnyWorkflow }));
  const workflows = new Map(registrations.map((r) => [r.workflow.type, r.workflow]));
  const trace: string[] = [];
  const pending: PendingOperation[] = [];
  const processes: Proc[] = [];
  let ids = 0;
  let settled = false;
  const stats = { accepted: 0, rejected: 0, failed: 0, crashes: 0, storeFailures: 0, handlerFailures: 0, hangs: 0, clockJumps: 0 };
  let unexpected: Violation | undefined;
  const log = (line: string) => trace.push(`${String(trace.length + 1).padStart(3)}. t+${clock.now() - Date.UTC(2026, 0, 1)}ms ${line}`);

  const enqueue = (operation: PendingOperation): void => {
    if (!operation.process.alive) return; // a dead process's calls go nowhere
    pending.push(operation);
  };

  function start(name: string): Proc {
    const proc = { name, alive: true, working: false, timeouts: new VirtualTimeouts(clock) } as Proc;
    const wrapped = registrations.map((r): Registration => {
      const handler = r.handler;
      if (handler === undefined) return r;
      return {
        workflow: r.workflow,
        handler: (payload, context) => {
          ledger.ran(context.effectId);
          // A result committed with its acknowledgement settles the effect: it never runs again.
          if (ledger.routed.has(Ledger.key('effect', context.effectId))) {
            unexpected ??= { invariant: 'engine safety', message: `the handler of effect ${context.effectId} ran again after its result was committed (its lease was not fenced)` };
          }
          return new Promise((resolve, reject) =>
            enqueue({
              process: proc,
              kind: 'handler',
              label: `handler of ${context.workflow.type}:${context.workflow.id} effect ${context.effectId} (attempt ${context.attempt})`,
              writes: false,
              run: async () => handler(payload, context),
              resolve,
              reject,
            }),
          );
        },
      };
    });
    proc.engine = createEngine({
      store: gateStore(shared, proc, enqueue),
      clock,
      logger: silentLogger,
      workerId: name,
      workflows: wrapped,
      retry,
      effects: { leaseMs, timeoutMs: leaseMs * 2, batchSize: 4 },
      timers: { leaseMs, batchSize: 4 },
      environment: {
        newId: () => `${String(++ids).padStart(10, '0')}-sim`,
        random: () => choices.random(),
        setTimeout: proc.timeouts.setTimeout,
        clearTimeout: proc.timeouts.clearTimeout,
      },
    });
    return proc;
  }

  const live = () => processes.filter((p) => p.alive);

  function crash(proc: Proc, why: string): void {
    proc.alive = false;
    proc.timeouts.clear();
    for (let i = pending.length - 1; i >= 0; i--) if (pending[i]!.process === proc) pending.splice(i, 1);
    stats.crashes += 1;
    const index = processes.indexOf(proc);
    const restarted = start(`${proc.name.split('#')[0]}#${(Number(proc.name.split('#')[1] ?? 1) || 1) + 1}`);
    processes[index] = restarted;
    log(`${proc.name} crashes (${why}); restarts as ${restarted.name}`);
  }

  /** Runs `task` as a process's background activity; an unexpected error is a violation. */
  function activity(proc: Proc, what: string, task: Promise<unknown>, done?: () => void): void {
    task.then(
      () => done?.(),
      (error: unknown) => {
        done?.();
        if (!proc.alive) return;
        // Typed errors are outcomes a caller handles (a failed store call, a conflict); anything else is a bug.
        if (!isIronflowError(error)) unexpected ??= { invariant: 'no unexpected errors', message: `${proc.name} ${what} threw ${describe(error)}` };
      },
    );
  }

  function work(proc: Proc): void {
    proc.working = true;
    activity(proc, 'runUntilIdle', proc.engine.runUntilIdle({ maxRounds: 20 }), () => {
      proc.working = false;
    });
  }

  function execute(proc: Proc, next: SimulationInput, label: string): void {
    log(`${proc.name} executes ${label}`);
    activity(
      proc,
      `execute ${label}`,
      // By type: the workflows of a run may be fresh objects (a factory), equal to the one named only by type.
      proc.engine.executeDynamic(next.workflow.type, next.input).then(
        (result) => {
          if (result.status === 'accepted') stats.accepted += 1;
          else stats.rejected += 1;
        },
        (error: unknown) => {
          stats.failed += 1;
          if (proc.alive) log(`${proc.name} execute ${label} failed: ${describe(error)}`);
          throw error;
        },
      ),
    );
  }

  async function deliver(operation: PendingOperation, mode: 'ok' | 'fail' | 'crash-after' | 'throw' | 'hang'): Promise<void> {
    pending.splice(pending.indexOf(operation), 1);
    const who = operation.process as Proc;
    log(`${who.name} ${operation.label} → ${mode}`);
    switch (mode) {
      case 'fail':
        stats.storeFailures += 1;
        return operation.reject(new StoreError('transient', `simulated: ${operation.label} failed before reaching the store`));
      case 'throw':
        stats.handlerFailures += 1;
        return operation.reject(new Error('simulated handler failure'));
      case 'hang':
        stats.hangs += 1;
        return; // never told: the attempt ends by its timeout or its process's crash
      case 'crash-after':
        await operation.run().catch(() => undefined);
        return crash(who, `after ${operation.label} reached the store`);
      case 'ok':
        return operation.run().then(operation.resolve, operation.reject);
    }
  }

  function advance(ms: number): void {
    clock.advance(ms);
    for (const proc of live()) proc.timeouts.fireDue();
  }

  const view = (): SimulationView => ({
    store: raw,
    settled,
    async instances(workflowType) {
      const found: SimulatedInstance[] = [];
      let after: string | undefined;
      do {
        const page = await raw.pageInstances({ workflowType, after, limit: 1000 });
        for (const summary of page.items) {
          const workflow = workflows.get(summary.workflowType);
          if (workflow === undefined) continue;
          const events = await raw.readEvents({ type: summary.workflowType, id: summary.workflowId });
          found.push({ workflowType: summary.workflowType, workflowId: summary.workflowId, version: summary.version, status: summary.status, state: foldEvents(workflow, workflow.initialState(), events), events });
        }
        after = page.next;
      } while (after !== undefined);
      return found;
    },
  });

  const invariantContext: InvariantContext = { store: raw, ledger, workflows, retry };
  async function check(): Promise<Violation | undefined> {
    if (unexpected) return unexpected;
    const safety = await checkSafety(invariantContext);
    if (safety !== undefined) return { invariant: 'engine safety', message: safety };
    for (const invariant of options.invariants ?? []) {
      const verdict = await invariant.check(view());
      if (verdict === false) return { invariant: invariant.name, message: 'returned false' };
      if (typeof verdict === 'string') return { invariant: invariant.name, message: verdict };
    }
    return undefined;
  }

  const report = (): SimulationReport => ({
    seed: options.seed,
    steps,
    inputs: { accepted: stats.accepted, rejected: stats.rejected, failed: stats.failed },
    faults: { crashes: stats.crashes, storeFailures: stats.storeFailures, handlerFailures: stats.handlerFailures, hangs: stats.hangs, clockJumps: stats.clockJumps },
    deadLetters: 0,
    completed: 0,
    trace,
  });
  const done = (violation: Violation | undefined): RunResult => ({ violation, trace, tape: [...choices.tape], report: report() });

  for (let i = 0; i < (options.processes ?? 2); i++) processes.push(start(`p${i}`));

  for (let step = 1; step <= steps; step++) {
    await quiesce();
    // Faults first, each by its own chance; then one ordinary action.
    if (choices.chance(faults.crash)) crash(choices.pick(live()), 'injected');
    else if (choices.chance(faults.clockJump)) {
      stats.clockJumps += 1;
      log(`the clock jumps ${leaseMs + 1} ms: every lease runs out`);
      advance(leaseMs + 1);
    } else {
      const action = choices.int(10);
      if (action < 5 && pending.length > 0) {
        // Deliver one waiting call: the oldest is choice 0.
        const operation = pending[choices.int(pending.length)]!;
        const mode =
          operation.kind === 'handler'
            ? choices.chance(faults.handlerThrow) ? 'throw' : choices.chance(faults.handlerHang) ? 'hang' : 'ok'
            : choices.chance(faults.storeFailure) ? 'fail' : operation.writes && choices.chance(faults.crashAfterWrite) ? 'crash-after' : 'ok';
        await deliver(operation, mode);
      } else if (action < 7) {
        const next = options.inputs(choices, step);
        if (next !== undefined) execute(choices.pick(live()), next, `${next.workflow.type} ${JSON.stringify(next.input)}`);
      } else if (action < 9) {
        const idle = live().filter((p) => !p.working);
        if (idle.length > 0) {
          const proc = choices.pick(idle);
          log(`${proc.name} runs a work round`);
          work(proc);
        }
      } else {
        const ms = 1 + choices.int(2_000);
        log(`the clock ticks ${ms} ms`);
        advance(ms);
      }
    }
    await quiesce();
    const violation = await check();
    if (violation) return done(violation);
  }

  // The faults stop; time runs on until nothing is waiting: every call is delivered, every process works.
  log('faults stop; everything runs to the end');
  for (let round = 0; round < HEAL_ROUNDS; round++) {
    await quiesce();
    if (unexpected) return done(unexpected);
    const operation = pending.shift();
    if (operation !== undefined) {
      await operation.run().then(operation.resolve, operation.reject);
      continue;
    }
    const waits = live().map((p) => p.timeouts.nextAt()).filter((t): t is number => t !== undefined);
    if (live().some((p) => p.working)) {
      // A round waits on a timer (a hung handler's timeout, a backoff): let time pass to it.
      advance(waits.length === 0 ? 1 : Math.max(1, Math.min(...waits) - clock.now()));
      continue;
    }
    // Everyone idle: go to the next due work (or lease running out), and run a round everywhere.
    const stored = await nextStoredDue(raw);
    const dues = stored === undefined ? waits : [stored, ...waits];
    if (dues.length === 0) break;
    // Moving to it fires what waits on it (a timer due now fires too).
    advance(Math.max(0, Math.min(...dues) - clock.now()));
    for (const proc of live()) work(proc);
  }
  settled = true;
  const violation = await check();
  if (violation) return done(violation);
  const stranded = await checkSettled(raw);
  if (stranded !== undefined) return done({ invariant: 'nothing stranded once faults stop', message: stranded });
  const dead = (await raw.countDeadLetters({ kind: 'effect' })) + (await raw.countDeadLetters({ kind: 'timer' }));
  const completed = (await view().instances()).filter((i) => i.status === 'completed').length;
  return { violation: undefined, trace, tape: [...choices.tape], report: { ...report(), deadLetters: dead, completed } };
}

/** Cuts and lowers a failing tape while it still fails the same invariant; the smallest failing run. */
async function shrink(options: SimulationOptions, failing: RunResult, budget: number): Promise<RunResult> {
  let best = failing;
  let tries = 0;
  const stillFails = async (tape: number[]): Promise<RunResult | undefined> => {
    tries += 1;
    const result = await run(options, Choices.replay(tape));
    // Smaller means fewer steps to read, not only a shorter tape.
    return result.violation?.invariant === failing.violation!.invariant && result.trace.length <= best.trace.length ? result : undefined;
  };
  // Delete chunks, halving their size: fewer choices, fewer steps.
  for (let size = Math.max(1, Math.floor(best.tape.length / 2)); size >= 1 && tries < budget; size = Math.floor(size / 2)) {
    for (let at = 0; at + size <= best.tape.length && tries < budget; ) {
      const candidate = [...best.tape.slice(0, at), ...best.tape.slice(at + size)];
      const result = await stillFails(candidate);
      if (result) best = { ...result, tape: result.tape.length < candidate.length ? result.tape : candidate };
      else at += size;
    }
    if (size === 1) break;
  }
  // Lower each remaining choice to 0 (the first option: deliver the oldest call, no fault).
  for (let at = 0; at < best.tape.length && tries < budget; at++) {
    if (best.tape[at] === 0) continue;
    const candidate = [...best.tape];
    candidate[at] = 0;
    const result = await stillFails(candidate);
    if (result) best = result;
  }
  return best;
}

/**
 * Runs `options.workflows` under the seeded scheduler and faults; resolves with a report when every
 * invariant held, throws a `SimulationFailure` (seed, invariant, shrunk trace) when one did not.
 * @example await simulate({ workflows: [register(order).handle(charge)], seed: 7, inputs: (r) => ({ workflow: order, input: { type: 'Place', id: `o-${r.int(5)}` } }) });
 */
export async function simulate(options: SimulationOptions): Promise<SimulationReport> {
  const first = await run(options, Choices.seeded(options.seed));
  if (first.violation === undefined) return first.report;
  const shrunk = (options.shrinkBudget ?? 200) > 0 ? await shrink(options, first, options.shrinkBudget ?? 200) : first;
  throw new SimulationFailure(options.seed, shrunk.violation!.invariant, shrunk.violation!.message, shrunk.trace, first.trace.length);
}



