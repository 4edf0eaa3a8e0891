// The supervisor of the poison-isolation test: runs one worker process at a time, starts a new one
// each time a worker is SIGKILLed, and returns when a worker reports completion and exits 0.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LINE, type CompletionReport, type WorkerConfig } from './fixtures/worker-config.js';

const workerPath = fileURLToPath(new URL('./fixtures/poison-worker.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** What a supervised run saw. */
export interface SupervisedRun {
  /** Workers that died by SIGKILL (the poison's handler). */
  readonly crashes: number;
  /** The longest event-loop stall any worker reported while it held leases, in ms. */
  readonly maxLagMs: number;
  /** The slowest lease renewal any worker reported, in ms. */
  readonly maxRenewalMs: number;
  /** The completion report of the last worker. */
  readonly report: CompletionReport;
}

interface WorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly report: CompletionReport | undefined;
  readonly maxLagMs: number;
  readonly maxRenewalMs: number;
  readonly stderr: string;
}

/** Runs one worker process to its end. */
function runWorker(config: WorkerConfig): Promise<WorkerExit> {
  const child = spawn(process.execPath, ['--conditions=@ironflow/source', '--import', 'tsx', workerPath, JSON.stringify(config)], {
    cwd: packageDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let maxLagMs = 0;
  let maxRenewalMs = 0;
  let report: CompletionReport | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    let newline = stdout.indexOf('\n');
    while (newline >= 0) {
      const line = stdout.slice(0, newline);
      stdout = stdout.slice(newline + 1);
      if (line.startsWith(LINE.lag)) {
        const [lagMs = 0, renewalMs = 0] = line.slice(LINE.lag.length).split(' ').map(Number);
        maxLagMs = Math.max(maxLagMs, lagMs);
        maxRenewalMs = Math.max(maxRenewalMs, renewalMs);
      }
      if (line.startsWith(LINE.complete)) report = JSON.parse(line.slice(LINE.complete.length)) as CompletionReport;
      newline = stdout.indexOf('\n');
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, report, maxLagMs, maxRenewalMs, stderr }));
  });
}

/**
 * Starts workers one after another until one completes; each SIGKILL is a crash to restart from.
 * Fails on any other exit, and after `maxCrashes` crashes (the poison would be looping).
 */
export async function superviseUntilComplete(config: WorkerConfig, maxCrashes: number): Promise<SupervisedRun> {
  let crashes = 0;
  let maxLagMs = 0;
  let maxRenewalMs = 0;
  for (;;) {
    const exit = await runWorker(config);
    maxLagMs = Math.max(maxLagMs, exit.maxLagMs);
    maxRenewalMs = Math.max(maxRenewalMs, exit.maxRenewalMs);
    if (exit.code === 0 && exit.report !== undefined) return { crashes, maxLagMs, maxRenewalMs, report: exit.report };
    if (exit.signal !== 'SIGKILL') {
      throw new Error(`a worker exited with code ${exit.code}, signal ${exit.signal} and no completion report:\n${exit.stderr}`);
    }
    crashes += 1;
    if (crashes > maxCrashes) throw new Error(`workers crashed ${crashes} times; the poison should have been dead after ${maxCrashes}`);
  }
}
