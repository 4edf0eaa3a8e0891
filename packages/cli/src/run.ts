// Runs one command line and turns every failure into one line on stderr (JSON with --json) and an
// exit code from EXIT_CODES; a stack trace only with --debug.
import { CommanderError } from 'commander';
import { isIronflowError } from '@ironflow/core';
import { CliError, EXIT_CODES, type ExitCode } from './exit-codes.js';
import { processIo, safe, type Io } from './output.js';
import { createProgram } from './program.js';

/** The exit code and message of a failure. */
function classify(error: unknown): { exitCode: ExitCode; code: string; message: string } {
  if (error instanceof CliError) return { exitCode: error.exitCode, code: 'CLI', message: error.message };
  if (error instanceof CommanderError) {
    // Help or version printed on request: success. Anything else the parser refused: usage.
    if (error.exitCode === 0) return { exitCode: EXIT_CODES.ok, code: error.code, message: '' };
    const message = error.code === 'commander.help' ? 'a command is needed (run with --help for usage)' : error.message.replace(/^error: /, '');
    return { exitCode: EXIT_CODES.usage, code: error.code, message };
  }
  if (isIronflowError(error)) {
    // Bad values given on the command line reach the store as INVALID_ARGUMENT (a bad cursor, a
    // schema or prefix that is not a valid name): usage errors.
    if (error.code === 'INVALID_ARGUMENT' || error.code === 'VALIDATION_FAILED') return { exitCode: EXIT_CODES.usage, code: error.code, message: error.message };
    if (isIronflowError(error, 'STORE_FAILURE') && error.reason === 'unavailable') return { exitCode: EXIT_CODES.connection, code: error.code, message: error.message };
    return { exitCode: EXIT_CODES.failed, code: error.code, message: error.message };
  }
  return { exitCode: EXIT_CODES.failed, code: 'ERROR', message: error instanceof Error ? error.message : String(error) };
}

/** The error, its stack and its causes, for --debug. */
function trace(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    lines.push(depth === 0 ? '' : 'caused by:', current instanceof Error ? (current.stack ?? current.message) : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.filter((l) => l !== '').join('\n');
}

/**
 * Runs the command line `argv` (without the node and script paths) and resolves with its exit code;
 * never rejects.
 * @example process.exitCode = await run(process.argv.slice(2));
 */
export async function run(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  // Read before parsing, so that a parse error is reported the way the user asked.
  const json = argv.includes('--json');
  const debug = argv.includes('--debug');
  try {
    await createProgram(io, { quietErrors: json }).parseAsync([...argv], { from: 'user' });
    return EXIT_CODES.ok;
  } catch (error) {
    const { exitCode, code, message } = classify(error);
    if (exitCode === EXIT_CODES.ok) return exitCode;
    const oneLine = safe(message.replace(/\s*\n\s*/g, ' ').trim());
    // The parser has already printed its own message (unless quiet).
    const printed = error instanceof CommanderError && !json;
    if (json) io.stderr.write(`${JSON.stringify({ error: { exitCode, code, message: oneLine } })}\n`);
    else if (!printed) io.stderr.write(`ironflow: ${oneLine}\n`);
    if (debug) io.stderr.write(`${trace(error)}\n`);
    return exitCode;
  }
}
