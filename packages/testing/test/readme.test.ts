import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { readmeExample } from './fixtures/readme-example.js';

it("the README's example is the type-checked fixture, and it runs", async () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const block = readme.split('## A workflow in 20 lines')[1]!.split('```ts\n')[1]!.split('```')[0];
  const fixture = readFileSync(new URL('./fixtures/readme-example.ts', import.meta.url), 'utf8');
  const marked = fixture.split('// README:start\n')[1]!.split('// README:end')[0];
  expect(block).toBe(marked);
  const { engine, order } = await readmeExample();
  await engine.stop();
  expect((await engine.getState(order, 'o-1')).version).toBeGreaterThanOrEqual(1);
});
