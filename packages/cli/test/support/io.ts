// An in-memory Io for running commands and output helpers in this process.
import { PassThrough } from 'node:stream';
import type { Io } from '../../src/output.js';

/** A writable stream that keeps what is written; `isTTY` as given. */
export function sink(isTTY = false): PassThrough & { isTTY: boolean; text(): string } {
  const stream = new PassThrough() as PassThrough & { isTTY: boolean; text(): string };
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  stream.isTTY = isTTY;
  stream.text = () => text;
  return stream;
}

/** An Io of sinks, with stdin fed `input` and the given terminal flags and environment. */
export function memoryIo(options: { input?: string; stdinTTY?: boolean; stdoutTTY?: boolean; stderrTTY?: boolean; env?: Record<string, string> } = {}) {
  const stdin = new PassThrough() as PassThrough & { isTTY: boolean };
  stdin.isTTY = options.stdinTTY ?? false;
  if (options.input !== undefined) stdin.end(options.input);
  const stdout = sink(options.stdoutTTY);
  const stderr = sink(options.stderrTTY);
  const io: Io = { stdin, stdout, stderr, env: options.env ?? {}, cwd: process.cwd() };
  return { io, stdout, stderr, stdin };
}
