// Shared vitest settings: sibling packages resolve to their TypeScript source through the
// "@ironflow/source" export condition, so tests never need a prior build.
import { defineProject } from 'vitest/config';

export const shared = defineProject({
  resolve: { conditions: ['@ironflow/source'] },
  // Node's own conditions, not Vite's default `module`: that one picks bundler-only builds (such
  // as OpenTelemetry's build/esm, whose extensionless imports Node cannot load), so tests would
  // load other files than production does.
  ssr: { resolve: { conditions: ['@ironflow/source', 'node', 'development|production'] } },
  // Global setup files run in Vitest's own environment, which takes its conditions from here.
  environments: { __vitest__: { resolve: { conditions: ['@ironflow/source', 'node', 'development|production'] } } },
  test: {
    include: ['test/**/*.test.ts'],
    // The JSON report feeds scripts/test-summary.mjs, which prints the repository-wide count.
    reporters: ['default', ['json', { outputFile: 'node_modules/.cache/vitest-report.json' }]],
    // Generous: CI and development share two busy cores, and no test may depend on machine speed.
    testTimeout: 180_000,
    hookTimeout: 300_000,
    restoreMocks: true,
  },
});
