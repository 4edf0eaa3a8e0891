// Builds the `ironflow` binary with tsup, as `pnpm build` does, into a directory of the tests' own:
// turbo may run this package's build (which empties dist/) while these tests run.
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { BUILT_DIR } from './support/cli.js';

export default async function setup(): Promise<void> {
  await rm(BUILT_DIR, { recursive: true, force: true });
  await build({
    config: false,
    entry: ['src/cli.ts'],
    format: ['esm'],
    target: 'node20',
    outDir: BUILT_DIR,
    tsconfig: fileURLToPath(new URL('../tsconfig.build.json', import.meta.url)),
    silent: true,
  });
}
