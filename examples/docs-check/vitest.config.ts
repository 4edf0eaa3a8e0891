import { defineProject, mergeConfig } from 'vitest/config';
import { shared } from '../../vitest.shared.ts';

// Type-checking every block is one TypeScript program over the workspace sources: on a busy
// machine that takes far longer than the shared hook budget, so it gets its own generous one.
export default mergeConfig(shared, defineProject({ test: { name: 'docs-check', hookTimeout: 600_000 } }));
