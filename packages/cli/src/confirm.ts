// Consent for bulk and destructive changes: --yes, or a "y" typed at a terminal. Without a terminal
// and without --yes the change is refused (a script must say --yes explicitly), and nothing is written.
import { createInterface } from 'node:readline/promises';
import { CliError, EXIT_CODES, usageError } from './exit-codes.js';
import { safe, type Io } from './output.js';

/** What the question adds. */
export interface ConsentDetails {
  /** Lines printed on stderr before the question, at a terminal only (what the change will do, warnings). */
  readonly notes?: readonly string[] | undefined;
  /** The command has --dry-run: the refusal points at it. @default true */
  readonly preview?: boolean | undefined;
}

/** Resolves when the change may go ahead; throws (writing nothing) when it may not. */
export async function consent(io: Io, options: { readonly yes?: boolean | undefined }, question: string, details: ConsentDetails = {}): Promise<void> {
  if (options.yes === true) return;
  if (io.stdin.isTTY !== true) {
    throw usageError(`refusing to ${question} without --yes: stdin is not a terminal${details.preview === false ? '' : ' (preview with --dry-run)'}`);
  }
  for (const note of details.notes ?? []) io.stderr.write(`${safe(note)}\n`);
  const prompt = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  try {
    const answer = (await prompt.question(`${safe(`${question[0]?.toUpperCase() ?? ''}${question.slice(1)}`)}? [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new CliError(EXIT_CODES.failed, 'not confirmed; nothing was changed');
  } finally {
    prompt.close();
  }
}
