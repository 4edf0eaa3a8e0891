// Writes docs/reference/store-contract.md from the titles of the conformance suite, so the
// documented contract is exactly what every store is tested against. `--check` fails when stale.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const casesDir = join(root, 'packages/testing/src/conformance');
const suite = readFileSync(join(casesDir, 'describe-store-conformance.ts'), 'utf8');
const groups = [...suite.matchAll(/describe\('([^']+)', \(\) => (\w+)\(ctx\)\)/g)].map((m) => ({ title: m[1], fn: m[2] }));

const files = readdirSync(casesDir).filter((f) => f.endsWith('.ts'));
const sources = Object.fromEntries(files.map((f) => [f, readFileSync(join(casesDir, f), 'utf8')]));
const titlesOf = (fn) => {
  const file = Object.entries(sources).find(([, src]) => src.includes(`export function ${fn}(`));
  if (!file) throw new Error(`no case file exports ${fn}`);
  return [...file[1].matchAll(/\bit\(\s*(['`])((?:\\.|(?!\1).)*)\1/g)].map((m) => m[2].replace(/\\'/g, "'"));
};

let count = 0;
let body = '';
for (const group of groups) {
  const titles = titlesOf(group.fn);
  count += titles.length;
  body += `\n## ${group.title[0].toUpperCase()}${group.title.slice(1)}\n\n${titles.map((t) => `- ${t}`).join('\n')}\n`;
}
const doc = `# Store contract

Every store runs \`describeStoreConformance\` from \`@ironflow/testing\` against a real backend; these
are its ${count} tests, generated from the suite by \`node scripts/store-contract.mjs\` (a test fails when
this page is stale). The precise semantics behind them are in [store-semantics.md](./store-semantics.md).

<!-- docs-check: prelude store-author -->
\`\`\`ts
import { describeStoreConformance } from '@ironflow/testing';

describeStoreConformance({
  name: 'my-store',
  // Called with a fresh namespace (a schema, a key prefix…) as often as the suite needs: stores on
  // one namespace share their data, stores on different ones never see each other's.
  open: async (namespace) => {
    const store = createMyStore({ namespace });
    return { store, close: () => store.close(), destroy: () => store.destroy() };
  },
});
\`\`\`
${body}`;

const target = join(root, 'docs/reference/store-contract.md');
if (process.argv.includes('--check')) {
  const current = readFileSync(target, 'utf8');
  if (current !== doc) {
    console.error('docs/reference/store-contract.md is stale: run node scripts/store-contract.mjs');
    process.exit(1);
  }
} else {
  writeFileSync(target, doc);
  console.log(`wrote ${target} (${count} contract tests)`);
}
