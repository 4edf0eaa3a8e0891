// Vitest global setup: one initdb per test run builds a migrated PGlite database, whose tarball the
// first worker of each PGlite run starts its data directory from (seconds of initdb saved per run).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { TestProject } from 'vitest/node';
// A vitest global setup resolves packages without the `@ironflow/source` condition (it would need a
// build of store-postgres first), so it imports the store's source directly, as the store's own setup does.
import { migratePGliteStore } from '../../store-postgres/src/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the migrated PGlite tarball written by this setup. */
    pgliteTemplate: string;
  }
}

/** Writes the template to a temporary file, provides its path, and removes it after the run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'ironflow-e2e-template-'));
  const file = join(dir, 'template.tar');
  const db = await PGlite.create();
  try {
    await migratePGliteStore({ pglite: db });
    const dump = await db.dumpDataDir('none');
    await writeFile(file, new Uint8Array(await dump.arrayBuffer()));
  } finally {
    await db.close();
  }
  project.provide('pgliteTemplate', file);
  return () => rm(dir, { recursive: true, force: true });
}
