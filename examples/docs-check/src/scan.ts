// Finds the TypeScript blocks of a markdown page and the `<!-- docs-check: … -->` directives that
// precede them. Pure text work, no TypeScript: see check.ts for the type-checking.

/** A ```ts or ```typescript block to type-check. */
export interface Block {
  /** The page, relative to the repository root, with `/` separators. */
  readonly page: string;
  /** 1-based line, in the page, of the block's first line of code. */
  readonly line: number;
  readonly code: string;
  /** The file name given by a first line such as `// order.ts`: other blocks of the page can import it. */
  readonly name: string | undefined;
  /** Prelude files (examples/docs-check/preludes/NAME.ts) to put in front of the block. */
  readonly preludes: readonly string[];
}

/** A block a `skip` directive exempts, with the reason it gives. */
export interface SkippedBlock {
  readonly page: string;
  readonly line: number;
  readonly reason: string;
}

/** What a page holds: blocks to check, blocks skipped, and malformed directives (as `page:line: text`). */
export interface PageScan {
  readonly page: string;
  readonly blocks: readonly Block[];
  readonly skipped: readonly SkippedBlock[];
  readonly problems: readonly string[];
}

const DIRECTIVE = /^\s*<!--\s*docs-check:\s*(.*?)\s*-->\s*$/;
const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)/;
const TYPESCRIPT = new Set(['ts', 'typescript']);
const FILE_NAME = /^\s*\/\/\s*([\w.-]+\.ts)\s*$/;

type Directive = { kind: 'prelude'; names: string[] } | { kind: 'skip'; reason: string };

function parseDirective(text: string): Directive | string {
  const prelude = /^prelude\s+(.+)$/.exec(text);
  if (prelude?.[1]) return { kind: 'prelude', names: prelude[1].split(/[\s,]+/).filter(Boolean) };
  const skip = /^skip\b\s*(?:[—–:-]\s*)?(.*)$/.exec(text);
  if (skip) return skip[1] ? { kind: 'skip', reason: skip[1] } : 'a skip needs a reason: <!-- docs-check: skip — why this block is not TypeScript to check -->';
  return `unknown directive "${text}": expected "prelude NAME" or "skip — reason"`;
}

/** Scans one page; `page` is its path relative to the repository root. */
export function scanMarkdown(page: string, text: string): PageScan {
  const lines = text.split(/\r?\n/);
  const blocks: Block[] = [];
  const skipped: SkippedBlock[] = [];
  const problems: string[] = [];
  let pending: { directive: Directive; line: number } | undefined;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const directive = DIRECTIVE.exec(line);
    if (directive) {
      if (pending) problems.push(`${page}:${pending.line}: docs-check directive not followed by a TypeScript block`);
      const parsed = parseDirective(directive[1] ?? '');
      if (typeof parsed === 'string') problems.push(`${page}:${i + 1}: ${parsed}`);
      else pending = { directive: parsed, line: i + 1 };
      continue;
    }
    const fence = FENCE.exec(line);
    if (!fence) {
      if (pending && line.trim() !== '') {
        problems.push(`${page}:${pending.line}: docs-check directive not followed by a TypeScript block`);
        pending = undefined;
      }
      continue;
    }
    const [, indent = '', marker = '', info = ''] = fence;
    const start = i + 1;
    const body: string[] = [];
    for (i += 1; i < lines.length; i++) {
      const inner = lines[i] ?? '';
      const close = FENCE.exec(inner);
      if (close && close[2]?.[0] === marker[0] && (close[2]?.length ?? 0) >= marker.length && inner.trim() === close[2]) break;
      body.push(inner.startsWith(indent) ? inner.slice(indent.length) : inner.trimStart());
    }
    const isTypeScript = TYPESCRIPT.has(info.toLowerCase());
    const directiveHere = pending;
    pending = undefined;
    if (!isTypeScript) {
      if (directiveHere) problems.push(`${page}:${directiveHere.line}: docs-check directive before a block that is not \`\`\`ts`);
      continue;
    }
    if (directiveHere?.directive.kind === 'skip') {
      skipped.push({ page, line: start + 1, reason: directiveHere.directive.reason });
      continue;
    }
    blocks.push({
      page,
      line: start + 1,
      code: body.join('\n'),
      name: FILE_NAME.exec(body[0] ?? '')?.[1],
      preludes: directiveHere?.directive.kind === 'prelude' ? directiveHere.directive.names : [],
    });
  }
  if (pending) problems.push(`${page}:${pending.line}: docs-check directive not followed by a TypeScript block`);
  return { page, blocks, skipped, problems };
}
