// The test side of the control worker processes: starts them, keeps what each reported, waits for
// facts (never for a length of time), and ends them.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { LifecycleEvent } from '@ironflow/runtime';
import { LINE, type ControlWorkerConfig } from './fixtures/control-config.js';

const workerPath = fileURLToPath(new URL('./fixtures/control-worker.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * A ceiling for any one wait on a busy machine, not an expectation: every wait ends as soon as its
 * fact holds, and a fact that never holds fails the test here instead of at the test's timeout.
 */
export const WAIT_CEILING_MS = 120_000;

/** One worker process and everything it reported so far. */
export class ControlWorker {
  readonly #child: ChildProcess;
  #stdout = '';
  #stderr = '';
  readonly #exit: Promise<void>;
  ready = false;
  stopped = false;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** The size of each claim, in order. */
  readonly claims: number[] = [];
  /** Workflow ids whose handler was called, in order. */
  readonly started: string[] = [];
  /** `abort` handlers whose signal fired, with the reason's code. */
  readonly aborted: { id: string; code: string }[] = [];
  /** `abort` handlers whose signal never fired. */
  readonly timeouts: string[] = [];
  /** Effect lifecycle events other than `effect.started`, and `lease.lost`. */
  readonly events: LifecycleEvent[] = [];

  constructor(
    readonly name: string,
    config: ControlWorkerConfig,
  ) {
    this.#child = spawn(process.execPath, ['--conditions=@ironflow/source', '--import', 'tsx', workerPath, JSON.stringify(config)], {
      cwd: packageDir,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child.stdout!.on('data', (chunk: Buffer) => this.#read(chunk.toString()));
    this.#child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4_000);
    });
    this.#exit = new Promise((resolve) => {
      this.#child.on('close', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
    });
  }

  /** Output of a worker that ended when it should not have, for the failure message. */
  describeExit(): string {
    return `${this.name} exited with code ${this.exit?.code}, signal ${this.exit?.signal}:\n${this.#stderr}`;
  }

  #read(text: string): void {
    this.#stdout += text;
    let newline = this.#stdout.indexOf('\n');
    while (newline >= 0) {
      const line = this.#stdout.slice(0, newline);
      this.#stdout = this.#stdout.slice(newline + 1);
      this.#line(line);
      newline = this.#stdout.indexOf('\n');
    }
  }

  #line(line: string): void {
    const space = line.indexOf(' ');
    const tag = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1);
    switch (tag) {
      case LINE.ready:
        this.ready = true;
        return;
      case LINE.claim:
        this.claims.push(Number(rest));
        return;
      case LINE.started:
        this.started.push(rest);
        return;
      case LINE.aborted: {
        const [id = '', code = ''] = rest.split(' ');
        this.aborted.push({ id, code });
        return;
      }
      case LINE.timeout:
        this.timeouts.push(rest);
        return;
      case LINE.event:
        this.events.push(JSON.parse(rest) as LifecycleEvent);
        return;
      case LINE.stopped:
        this.stopped = true;
        return;
      default:
        // Anything else (a stray log line) is not part of the protocol; keep it for failure messages.
        this.#stderr = (this.#stderr + `stdout: ${line}\n`).slice(-4_000);
    }
  }

  /** Ends the worker cleanly (its engine drains and stops); fails if it does not exit 0 by the ceiling. */
  async stop(): Promise<void> {
    this.#child.stdin!.end();
    const ended = await Promise.race([this.#exit.then(() => true), sleep(WAIT_CEILING_MS).then(() => false)]);
    if (!ended) {
      await this.kill();
      throw new Error(`${this.name} did not stop within ${WAIT_CEILING_MS} ms`);
    }
    if (this.exit?.code !== 0 || !this.stopped) throw new Error(this.describeExit());
  }

  /** Kills a worker still running (clean-up after a failure); waits for it to exit. */
  async kill(): Promise<void> {
    if (this.exit === undefined) this.#child.kill('SIGKILL');
    await this.#exit;
  }
}

/** Starts `count` workers with one config and waits until each has started its engine. */
export async function startWorkers(count: number, config: ControlWorkerConfig): Promise<ControlWorker[]> {
  const workers = Array.from({ length: count }, (_, i) => new ControlWorker(`worker ${i + 1}`, config));
  try {
    await waitUntil('every worker started its engine', () => workers.every((w) => w.ready), workers);
  } catch (error) {
    await Promise.all(workers.map((w) => w.kill()));
    throw error;
  }
  return workers;
}

/** Stops every worker cleanly; on failure kills those still running and rethrows the first error. */
export async function stopWorkers(workers: readonly ControlWorker[]): Promise<void> {
  const results = await Promise.allSettled(workers.map((w) => w.stop()));
  await Promise.all(workers.map((w) => w.kill()));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Polls `check` until it holds. Fails at once when a worker has exited (none may, until stopped) or
 * `broken` names a fact that rules the wait's success out, and after WAIT_CEILING_MS.
 */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  workers: readonly ControlWorker[],
  broken: () => string | undefined = () => undefined,
): Promise<void> {
  const began = Date.now();
  for (;;) {
    const gone = workers.find((w) => w.exit !== undefined);
    if (gone) throw new Error(`while waiting until ${what}: ${gone.describeExit()}`);
    const wrong = broken();
    if (wrong !== undefined) throw new Error(`while waiting until ${what}: ${wrong}`);
    if (await check()) return;
    if (Date.now() - began > WAIT_CEILING_MS) throw new Error(`gave up after ${WAIT_CEILING_MS} ms waiting until ${what}`);
    await sleep(50);
  }
}
