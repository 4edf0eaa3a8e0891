import { defineProject, mergeConfig } from 'vitest/config';
import { shared } from '../../vitest.shared.ts';

// The global setup builds the binary the tests run as a subprocess.
export default mergeConfig(shared, defineProject({ test: { name: 'cli', globalSetup: ['test/build.setup.ts'] } }));
