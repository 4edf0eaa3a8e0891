// Shared vitest settings: sibling packages resolve to their TypeScript source through the
// "@ironflow/source" export condition, so tests never need a prior build.
import { defineProject } from 'vitest/config';

export const shared = defineProject({
  resolve: { conditions: ['@ironflow/source'] },
  ssr: { resolve: { conditions: ['@ironflow/source', 'module', 'node', 'development|production'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    restoreMocks: true,
  },
});
