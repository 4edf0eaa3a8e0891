// Adds up the vitest JSON reports of every workspace package and prints one closing line
// ("Tests: N passed, N failed, N skipped"). Fails when a report is missing, a test failed, or a
// test was skipped while IRONFLOW_TEST_REQUIRE says every integration suite must run.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dirs = ['packages', 'examples']
  .filter((d) => existsSync(join(root, d)))
  .flatMap((d) => readdirSync(join(root, d)).map((name) => join(root, d, name)))
  .filter((dir) => existsSync(join(dir, 'package.json')) && JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts?.test);

let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];
for (const dir of dirs) {
  const report = join(dir, 'node_modules/.cache/vitest-report.json');
  const name = dir.slice(root.length);
  if (!existsSync(report)) {
    problems.push(`${name}: no test report (did its tests run?)`);
    continue;
  }
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  const s = r.numPendingTests + r.numTodoTests;
  skipped += s;
  console.log(`${name.padEnd(36)} ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${s} skipped`);
  if (r.numTotalTests === 0) problems.push(`${name}: ran no test`);
  if (s > 0 && process.env.IRONFLOW_TEST_REQUIRE) problems.push(`${name}: ${s} skipped although IRONFLOW_TEST_REQUIRE=${process.env.IRONFLOW_TEST_REQUIRE}`);
}
for (const p of problems) console.error(`test-summary: ${p}`);
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || problems.length > 0 ? 1 : 0);
