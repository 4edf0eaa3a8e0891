// Projection catch-up and lag alone (`pnpm bench:projections [memory,pglite,postgres,redis]`); `pnpm bench` runs the same after the peers.
import { mkdir, writeFile } from 'node:fs/promises';
import { projectionSections } from './projection-measure.js';

async function main(): Promise<void> {
  const wanted = (process.argv[2] ?? 'memory,pglite,postgres,redis').split(',');
  const sections = await projectionSections(wanted, {
    postgres: process.env.IRONFLOW_BENCH_POSTGRES_URL ?? process.env.IRONFLOW_TEST_POSTGRES_URL,
    redis: process.env.IRONFLOW_BENCH_REDIS_URL ?? process.env.IRONFLOW_TEST_REDIS_URL,
  });
  const report = `# Projection catch-up and lag ${new Date().toISOString()}\n\n${sections}`;
  await mkdir(new URL('../results/', import.meta.url), { recursive: true });
  const file = new URL(`../results/${new Date().toISOString().slice(0, 10)}-projections.md`, import.meta.url);
  await writeFile(file, report);
  console.log(`written to ${file.pathname}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
