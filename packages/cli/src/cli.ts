#!/usr/bin/env node
// The `ironflow` binary: runs the command line, then exits with its code.
import { run } from './run.js';

const code = await run(process.argv.slice(2));
process.exitCode = code;
// Everything the command opened is closed by now; should a driver still hold the event loop open,
// leave anyway once output has had time to drain.
setTimeout(() => process.exit(code), 2000).unref();
