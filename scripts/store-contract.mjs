// Writes docs/reference/store-contract.md from the conformance suite's own test titles, as vitest
// collects them (`vitest list`, nothing runs), so the documented contract is exactly what every
// store is tested against. `--check` fails when the page is stale.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const testing = join(root, 'packages/testing');
const SUITE = 'WorkflowStore conformance (memory)';

/** The suite's test titles as `[family, title]`, in declaration order. */
function collectTitles() {
  const dir = mkdtempSync(join(tmpdir(), 'store-contract-'));
  try {
    const out = join(dir, 'list.json');
    // A vitest run that calls this script must not hand its worker settings to the child.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'TEST'));
    execFileSync(process.execPath, [join(testing, 'node_modules/vitest/vitest.mjs'), 'list', `--json=${out}`, 'test/memory-conformance.test.ts'], { cwd: testing, env, stdio: 'pipe' });
    return JSON.parse(readFileSync(out, 'utf8')).map(({ name }) => {
      const [suite, family, title, ...rest] = name.split(' > ');
      if (suite !== SUITE || title === undefined || rest.length > 0) throw new Error(`unexpected test name "${name}": titles may not contain " > "`);
      return [family, title];
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const families = new Map();
for (const [family, title] of collectTitles()) families.set(family, [...(families.get(family) ?? []), title]);
const total = [...families.values()].reduce((sum, titles) => sum + titles.length, 0);
const heading = (family) => family[0].toUpperCase() + family.slice(1);
const REFUSES = /^(\w+) refuses (.+)$/;

/** Titles `<method> refuses <case>` are listed one method per line; any others one per line. */
function render(titles) {
  const refusals = titles.filter((t) => REFUSES.test(t));
  const others = titles.filter((t) => !REFUSES.test(t)).map((t) => `- ${t}`);
  if (refusals.length === 0) return others.join('\n');
  const byMethod = new Map();
  for (const t of refusals) {
    const [, method, what] = REFUSES.exec(t);
    byMethod.set(method, [...(byMethod.get(method) ?? []), what]);
  }
  const intro = `One test per malformed call (${refusals.length}), titled \`<method> refuses <case>\`. Each call rejects with \`INVALID_ARGUMENT\`, and each call that could write is followed by reading the store back (instances, events, snapshots, idempotency records, effects, timers, observations, dead letters) to show that nothing changed.`;
  const methods = [...byMethod].map(([method, cases]) => `- \`${method}\` (${cases.length}) refuses ${cases.join('; ')}.`);
  return [intro, methods.join('\n'), others.join('\n')].filter(Boolean).join('\n\n');
}

const doc = `# Store contract

Every store runs \`describeStoreConformance\` from \`@ironflow/testing\` against a real backend; these
are its ${total} tests, generated from the suite by \`node scripts/store-contract.mjs\` (a test fails when
this page is stale). The precise semantics behind them are in [store-semantics.md](./store-semantics.md).

<!-- docs-check: prelude store-author -->
\`\`\`ts
import { describeStoreConformance } from '@ironflow/testing';

describeStoreConformance({
  name: 'my-store',
  // Called many times: one namespace is shared data (two processes on one schema or key prefix),
  // two namespaces are two tenants that must never see, claim or delete each other's data.
  async open(namespace) {
    const store = createMyStore({ namespace });
    return { store, close: () => store.close(), destroy: () => store.destroy() };
  },
  // Namespace pairs your naming could confuse, opened side by side as base + a and base + b.
  overlappingNamespaces: [['', '_b'], ['', '_']],
});
\`\`\`

\`base\` in the tenant-isolation titles is a fresh namespace; the pairs are \`overlappingNamespaces\`
(default \`[['', '_b'], ['', '_']]\`), so a store lists its own pairs there. Store-specific tests
go in \`additionalTests(ctx)\`, declared inside the suite with the same context.

| Family | Tests |
| --- | ---: |
${[...families].map(([family, titles]) => `| [${heading(family)}](#${family.toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-')}) | ${titles.length} |`).join('\n')}
| Total | ${total} |
${[...families].map(([family, titles]) => `\n## ${heading(family)}\n\n${render(titles)}\n`).join('')}`;

const target = join(root, 'docs/reference/store-contract.md');
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== doc) {
    console.error('docs/reference/store-contract.md is stale: run node scripts/store-contract.mjs');
    process.exit(1);
  }
} else {
  writeFileSync(target, doc);
  console.log(`wrote ${target} (${total} contract tests in ${families.size} families)`);
}
