// @ironflow/cli — the `ironflow` command line. The binary is the product; `run` runs a command
// line in-process (scripts, tests) and `createProgram` exposes the command tree it parses with.
export { run } from './run.js';
export { createProgram, CONNECTING } from './program.js';
export type { ProgramOptions } from './program.js';
export { EXIT_CODES, EXIT_CODE_TABLE, CliError } from './exit-codes.js';
export type { ExitCode } from './exit-codes.js';
export { processIo } from './output.js';
export type { Io } from './output.js';
