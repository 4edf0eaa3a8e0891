import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('docs/reference/store-contract.md lists exactly the conformance suite titles', () => {
  const script = fileURLToPath(new URL('../../../scripts/store-contract.mjs', import.meta.url));
  expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
});
