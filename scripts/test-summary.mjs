// Adds up the vitest JSON reports of every workspace package and prints one closing line
// ("Tests: N passed, N failed, N skipped"), naming the IRONFLOW_TEST_*_URL variables whose suites
// skipped. Fails when a report is missing, a test failed, or a test was skipped while
// IRONFLOW_TEST_REQUIRE says every integration suite must run.
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
/** Integration suites and the variable that points them at a server. */
const servers = [
  ['PostgreSQL', 'IRONFLOW_TEST_POSTGRES_URL'],
  ['Redis', 'IRONFLOW_TEST_REDIS_URL'],
  ['Redis Cluster', 'IRONFLOW_TEST_REDIS_CLUSTER_URL'],
];
const unset = servers.filter(([, variable]) => !process.env[variable]);
if (skipped > 0 && unset.length > 0) {
  console.log(`skipped: ${unset.map(([name, variable]) => `${name} suites (set ${variable})`).join(', ')}; see .env.example`);
}
for (const p of problems) console.error(`test-summary: ${p}`);
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || problems.length > 0 ? 1 : 0);
