// A cold decision at event 10 and at event 10 000, alone (`pnpm bench:cold [memory,pglite,postgres,redis]`); `pnpm bench` runs the same after the peers.
import { mkdir, writeFile } from 'node:fs/promises';
import { coldDecisionSection } from './cold-decision.js';

async function main(): Promise<void> {
  const wanted = (process.argv[2] ?? 'memory,pglite,postgres,redis').split(',');
  const section = await coldDecisionSection(wanted, {
    postgres: process.env.IRONFLOW_BENCH_POSTGRES_URL ?? process.env.IRONFLOW_TEST_POSTGRES_URL,
    redis: process.env.IRONFLOW_BENCH_REDIS_URL ?? process.env.IRONFLOW_TEST_REDIS_URL,
  });
  const report = `# Cold decisions by history length ${new Date().toISOString()}\n\nNode ${process.version}.\n\n${section}`;
  await mkdir(new URL('../results/', import.meta.url), { recursive: true });
  const file = new URL(`../results/${new Date().toISOString().slice(0, 10)}-cold-decision.md`, import.meta.url);
  await writeFile(file, report);
  console.log(`written to ${file.pathname}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
