// The migrated PGlite template comes from store-postgres's own vitest global setup (one initdb per
// run); this re-export runs it for e2e and types the path it provides to the tests.
export { default } from '../../store-postgres/test/pglite-template.setup.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the migrated PGlite tarball written by the global setup. */
    pgliteTemplate: string;
  }
}
