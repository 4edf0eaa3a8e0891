import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', store: 'src/store/index.ts', engine: 'src/engine/index.ts' },
  format: ['esm'],
  target: 'node20',
  dts: true,
  sourcemap: true,
  clean: true,
  tsconfig: 'tsconfig.build.json',
});
