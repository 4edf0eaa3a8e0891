// Copies of the test run's one migrated PGlite database. An initdb costs seconds (6–20 s on a busy
// machine); loading the template's tarball costs a fraction of that, so no test runs initdb itself.
import { readFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the template tarball written by test/pglite-template.setup.ts. */
    pgliteTemplate: string;
  }
}

let template: Promise<Blob> | undefined;

/** The template tarball (schema `ironflow` migrated), read once per test file. */
function tarball(): Promise<Blob> {
  template ??= readFile(inject('pgliteTemplate')).then((bytes) => new Blob([bytes]));
  return template;
}

/** A fresh in-memory PGlite database with the default schema migrated; the caller closes it. */
export async function openPGliteCopy(): Promise<PGlite> {
  return PGlite.create({ loadDataDir: await tarball() });
}

/** Fills the empty directory `dataDir` with a copy of the template, so a file-backed store opens without initdb. */
export async function seedDataDir(dataDir: string): Promise<void> {
  const db = await PGlite.create(dataDir, { loadDataDir: await tarball() });
  await db.close();
}
