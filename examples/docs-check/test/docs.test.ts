// Every ```ts block of the README, docs/ and the package READMEs type-checks against the
// workspace as it is: one test per page, failures listed as page:line with the compiler's message.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkBlocks, type CheckResult } from '../src/check.js';
import { documentationPages } from '../src/pages.js';
import { scanMarkdown } from '../src/scan.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const root = fileURLToPath(new URL('../../..', import.meta.url));
const scans = documentationPages(root).map((page) => scanMarkdown(page, readFileSync(`${root}/${page}`, 'utf8')));
const withBlocks = scans.filter((scan) => scan.blocks.length > 0 || scan.skipped.length > 0 || scan.problems.length > 0);

describe('documentation blocks type-check', () => {
  let result: CheckResult;
  beforeAll(() => {
    result = checkBlocks(
      scans.flatMap((scan) => scan.blocks),
      { packageDir },
    );
  });

  it('finds the pages and their blocks', () => {
    expect(scans.map((scan) => scan.page)).toEqual(expect.arrayContaining(['README.md', 'docs/getting-started.md', 'packages/core/README.md']));
    expect(scans.some((scan) => scan.page.startsWith('docs/decisions/'))).toBe(false);
    // A guard against an extraction that silently finds nothing.
    expect(scans.reduce((n, scan) => n + scan.blocks.length, 0)).toBeGreaterThan(30);
  });

  it.each(withBlocks.map((scan) => [scan.page, scan] as const))('%s', (page, scan) => {
    expect([...scan.problems, ...(result.get(page) ?? [])]).toEqual([]);
  });
});
