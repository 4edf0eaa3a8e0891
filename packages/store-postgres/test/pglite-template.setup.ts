// Vitest global setup: one initdb per test run builds the migrated PGlite template, whose tarball
// every PGlite test copies (pglite-template.ts loads it and types the provided path).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { TestProject } from 'vitest/node';
import { migratePGliteStore } from '../src/index.js';

/** Writes the template to a temporary file, provides its path, and removes it after the run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'ironflow-pglite-template-'));
  const file = join(dir, 'template.tar');
  const db = await PGlite.create();
  try {
    await migratePGliteStore({ pglite: db });
    // Uncompressed: loading a 40 MB tar is faster than gunzipping a 5 MB one for every copy.
    const dump = await db.dumpDataDir('none');
    await writeFile(file, new Uint8Array(await dump.arrayBuffer()));
  } finally {
    await db.close();
  }
  project.provide('pgliteTemplate', file);
  return () => rm(dir, { recursive: true, force: true });
}
