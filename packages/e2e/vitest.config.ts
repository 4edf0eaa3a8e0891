import { defineProject, mergeConfig } from 'vitest/config';
import { shared } from '../../vitest.shared.ts';

// The global setup builds the migrated PGlite database each PGlite run's first worker starts from.
export default mergeConfig(shared, defineProject({ test: { name: 'e2e', globalSetup: ['test/pglite-template.setup.ts'] } }));
