import { defineProject, mergeConfig } from 'vitest/config';
import { shared } from '../../vitest.shared.ts';

// The global setup builds the one PGlite template every PGlite test copies.
export default mergeConfig(shared, defineProject({ test: { name: 'store-postgres', globalSetup: ['test/pglite-template.setup.ts'] } }));
