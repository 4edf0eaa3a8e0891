// The exit codes of every command, and the error that carries one. Codes are part of the CLI's
// contract with scripts: docs/cli.md lists this table, generated from EXIT_CODES.

/** What each exit code means. */
export const EXIT_CODES = {
  /** The command did what it was asked. */
  ok: 0,
  /** The operation failed: a store error, a refused change, a workflow module that threw, a replay check that found problems. */
  failed: 1,
  /** Bad usage: an unknown command or flag, a malformed value, a URL that names no store. */
  usage: 2,
  /** The instance, effect, timer, dead letter or workflow type named does not exist, or replay-check's module. */
  notFound: 3,
  /** The store could not be reached: connection refused, timed out, authentication failed. */
  connection: 4,
} as const;

/** One of the exit codes. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** One line per code, for `--help` and the generated reference. */
export const EXIT_CODE_TABLE: readonly { readonly code: ExitCode; readonly meaning: string }[] = [
  { code: EXIT_CODES.ok, meaning: 'success' },
  { code: EXIT_CODES.failed, meaning: 'the operation failed (a store error, a refused change, a confirmation declined, a workflow module that threw, a replay check that found instances the code cannot replay)' },
  { code: EXIT_CODES.usage, meaning: 'usage error: unknown command or flag, malformed value or URL, a bulk change refused without --yes on a non-terminal' },
  { code: EXIT_CODES.notFound, meaning: 'not found: the instance, dead letter or workflow type named does not exist, or the module given to replay-check' },
  { code: EXIT_CODES.connection, meaning: 'connection failure: the server is unreachable, refused the login, or the PGlite directory cannot be opened' },
];

/** An error the CLI reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A usage error (exit 2). */
export const usageError = (message: string): CliError => new CliError(EXIT_CODES.usage, message);

/** A not-found error (exit 3). */
export const notFound = (message: string): CliError => new CliError(EXIT_CODES.notFound, message);
