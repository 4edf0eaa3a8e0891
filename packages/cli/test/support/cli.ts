// Runs the built `ironflow` binary as a subprocess. Sibling packages resolve to their TypeScript
// sources (the @ironflow/source condition, loaded through tsx), as in every other test here, so
// the tests never run against a stale build of core or the stores.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Where test/build.setup.ts writes the binary. */
export const BUILT_DIR = fileURLToPath(new URL('../../node_modules/.cache/ironflow-cli-test', import.meta.url));
export const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));

/** What a run printed and how it ended. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of one run. */
export interface CliRun {
  /** Variables to set (a string) or unset (undefined) over this process's environment. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Written to the binary's stdin, which is then closed. */
  readonly input?: string | undefined;
}

/** Runs `ironflow <args>` to its end. */
export function runCli(args: readonly string[], run: CliRun = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, IRONFLOW_URL: undefined, ...run.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = spawn(process.execPath, ['--conditions=@ironflow/source', '--import', 'tsx', `${BUILT_DIR}/cli.js`, ...args], {
    cwd: PACKAGE_DIR,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(run.input ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `ironflow <args> --json`, expects exit 0 and returns the parsed stdout. */
export async function runJson<T = unknown>(args: readonly string[], run: CliRun = {}): Promise<T> {
  const result = await runCli([...args, '--json'], run);
  if (result.code !== 0) throw new Error(`ironflow ${args.join(' ')} --json exited ${result.code}:\n${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** `arg` quoted for a POSIX shell. */
const quote = (arg: string): string => `'${arg.replaceAll("'", "'\\''")}'`;

/**
 * Runs `ironflow <args>` at a terminal: inside a pseudo-terminal made by util-linux `script`, so
 * stdin, stdout and stderr are TTYs; `input` is typed into it. Its output is stdout and stderr
 * together, with the terminal's line endings (\r\n).
 */
export function runCliAtTerminal(args: readonly string[], input: string): Promise<CliResult> {
  const command = [process.execPath, '--conditions=@ironflow/source', '--import', 'tsx', `${BUILT_DIR}/cli.js`, ...args].map(quote).join(' ');
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, IRONFLOW_URL: undefined };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: PACKAGE_DIR, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
