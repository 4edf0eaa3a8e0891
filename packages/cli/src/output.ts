// Where every command writes: JSON alone on stdout with --json; otherwise tables and lines, in
// colour only on a terminal that asks for it. Stored data is attacker-controlled, so human output
// escapes control characters: a payload must not be able to drive the operator's terminal.
import Table from 'cli-table3';
import pc from 'picocolors';

/** The streams and environment a run uses (process's by default; tests pass their own). */
export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean | undefined };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean | undefined };
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean | undefined };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** The process's own streams. */
export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** Colours per the NO_COLOR convention: off when NO_COLOR is set and not empty, with --no-color or --json, or off a terminal (FORCE_COLOR overrides that last one). */
export function colorEnabled(io: Io, options: { color?: boolean | undefined; json?: boolean | undefined }): boolean {
  if (options.color === false || options.json === true) return false;
  const { NO_COLOR, FORCE_COLOR } = io.env;
  if (NO_COLOR !== undefined && NO_COLOR !== '') return false;
  if (FORCE_COLOR !== undefined && FORCE_COLOR !== '' && FORCE_COLOR !== '0') return true;
  return io.stdout.isTTY === true && io.env.TERM !== 'dumb';
}

// C0 and C1 control characters (ESC, CSI …) and DEL; tab and newline are escaped too, keeping a cell on one line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** `text` with control characters shown as `\uXXXX` escapes. */
export function safe(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `text` made safe and quoted for a POSIX shell. */
export function shellQuote(text: string): string {
  return `'${safe(text).replaceAll("'", "'\\''")}'`;
}

/** Writes a command's results. */
export class Output {
  readonly c: ReturnType<typeof pc.createColors>;

  constructor(
    readonly io: Io,
    readonly json: boolean,
    color: boolean,
  ) {
    this.c = pc.createColors(color);
  }

  /** The machine-readable result, as the only thing on stdout (C1 controls escaped as JSON allows). */
  data(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`);
  }

  /** A line of human output (already made safe by the caller where it holds stored data). */
  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** A borderless table; every cell's text is made safe here, then coloured. */
  table(head: readonly string[], rows: readonly (readonly Cell[])[]): void {
    const table = new Table({
      head: head.map((h) => this.c.bold(h)),
      chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    });
    for (const row of rows) table.push(row.map((cell) => this.cell(cell)));
    this.line(table.toString().split('\n').map((l) => l.trimEnd()).join('\n'));
  }

  /** A cell's text, made safe and coloured. */
  cell(cell: Cell): string {
    if (typeof cell === 'string') return safe(cell);
    const text = safe(cell.text);
    return cell.style === undefined ? text : this.c[cell.style](text);
  }

  /** Label/value lines, for one record; values are cells. */
  fields(rows: readonly (readonly [label: string, value: Cell])[]): void {
    const width = Math.max(...rows.map(([label]) => label.length));
    for (const [label, value] of rows) this.line(`${this.c.dim(label.padEnd(width))}  ${this.cell(value)}`);
  }

  /** The hint that more pages follow: the cursor, quoted for a POSIX shell, after `command` when given (the command that reads them). */
  more(next: string | undefined, command?: string): void {
    if (next !== undefined) this.line(this.c.dim(`more: ${command === undefined ? '' : `${command} `}--after ${shellQuote(next)}`));
  }

  /** A counter line on stderr that rewrites itself (`label: 200 of 1000`), only on a terminal and never with --json. */
  progress(label: string, total?: number): Progress {
    const enabled = !this.json && this.io.stderr.isTTY === true;
    let shown = false;
    return {
      update: (done: number) => {
        if (!enabled) return;
        shown = true;
        this.io.stderr.write(`\r${label}: ${done}${total === undefined ? '' : ` of ${total}`}`);
      },
      end: () => {
        if (shown) this.io.stderr.write('\n');
      },
    };
  }
}

/** A progress counter. */
export interface Progress {
  update(done: number): void;
  end(): void;
}

/** The styles of picocolors a cell may take. */
export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'blue' | 'cyan' | 'magenta' | 'gray';

/** Text for a table: plain, or with a style; either way control characters in it are escaped. */
export type Cell = string | { readonly text: string; readonly style?: Style | undefined };
