// The checker itself: it reports a type error at the page line it is on, with or without a
// prelude, resolves blocks a page names, and refuses malformed directives.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { applicablePrelude, checkBlocks } from '../src/check.js';
import { scanMarkdown } from '../src/scan.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const check = (markdown: string) => {
  const scan = scanMarkdown('docs/example.md', markdown);
  return { scan, problems: checkBlocks(scan.blocks, { packageDir }).get('docs/example.md') ?? [] };
};

describe('scanMarkdown', () => {
  it('finds ts and typescript blocks, with the line of their first line of code', () => {
    const scan = scanMarkdown('a.md', ['# A', '', '```ts', 'const a = 1;', '```', '```sh', 'ls', '```', '```typescript', '// b.ts', 'const b = 2;', '```'].join('\n'));
    expect(scan.blocks.map((b) => [b.line, b.name, b.code])).toEqual([
      [4, undefined, 'const a = 1;'],
      [10, 'b.ts', '// b.ts\nconst b = 2;'],
    ]);
  });

  it('reads preludes and skips; a skip without a reason, an unknown directive or a stray one is a problem', () => {
    const scan = scanMarkdown(
      'a.md',
      [
        '<!-- docs-check: prelude order shipment -->',
        '```ts',
        'x',
        '```',
        '<!-- docs-check: skip — signatures, not a program -->',
        '```ts',
        'f(a): b',
        '```',
        '<!-- docs-check: skip -->',
        '<!-- docs-check: frobnicate -->',
        '<!-- docs-check: prelude order -->',
        'Some text.',
        '<!-- docs-check: prelude order -->',
        '```sh',
        '```',
      ].join('\n'),
    );
    expect(scan.blocks.map((b) => b.preludes)).toEqual([['order', 'shipment']]);
    expect(scan.skipped).toEqual([{ page: 'a.md', line: 7, reason: 'signatures, not a program' }]);
    expect(scan.problems).toEqual([
      expect.stringMatching(/^a\.md:9: a skip needs a reason/),
      expect.stringMatching(/^a\.md:10: unknown directive "frobnicate"/),
      'a.md:11: docs-check directive not followed by a TypeScript block',
      'a.md:13: docs-check directive before a block that is not ```ts',
    ]);
  });
});

describe('checkBlocks', () => {
  it('reports a type error as page:line', () => {
    const { problems } = check(['# Example', '', '```ts', "const n: number = 'one';", '```'].join('\n'));
    expect(problems).toEqual([expect.stringMatching(/^docs\/example\.md:4: TS2322 Type 'string' is not assignable to type 'number'/)]);
  });

  it('keeps page lines exact behind a prelude, and reports a missing prelude', () => {
    const { problems } = check(
      ['<!-- docs-check: prelude order -->', '```ts', 'engine.start();', "engine.stopp();", '```', '<!-- docs-check: prelude nope -->', '```ts', 'const a = 1;', '```'].join('\n'),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^docs\/example\.md:4: TS2551 Property 'stopp' does not exist/),
      expect.stringMatching(/^docs\/example\.md:8: no prelude "nope"/),
    ]);
  });

  it('checks blocks against the workspace packages and lets a block import another block of the page by name', () => {
    const { problems } = check(
      [
        '```ts',
        '// counter.ts',
        "import { accept, defineWorkflow } from '@ironflow/core';",
        'export const counter = defineWorkflow({',
        "  type: 'counter',",
        '  initialState: () => ({ n: 0 }),',
        "  evolve: (s, e: { type: 'Added' }) => ({ n: s.n + 1 }),",
        "  decide: (input: { id: string }) => accept({ type: 'Added' as const }),",
        '  workflowId: (input) => input.id,',
        '});',
        '```',
        '```ts',
        "import { counter } from './counter.js';",
        "counter.workflowId({ id: 1 });",
        '```',
      ].join('\n'),
    );
    expect(problems).toEqual([expect.stringMatching(/^docs\/example\.md:14: TS2322 Type 'number' is not assignable to type 'string'/)]);
  });

  it('leaves out of a prelude what the block declares itself', () => {
    const prelude = ["import { a, b } from 'x';", "import c from 'y';", 'declare const engine: E;', 'declare const store: S;'].join('\n');
    expect(applicablePrelude(prelude, "import { b } from 'x';\nconst engine = 1;")).toBe(["import { a } from 'x';", "import c from 'y';", 'declare const store: S;'].join('\n'));
  });
});
