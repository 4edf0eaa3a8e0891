// docs/cli.md is generated from the command definitions; this fails while the committed page
// differs from what scripts/reference.ts renders now (run `pnpm --filter @ironflow/cli reference`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REFERENCE_PATH, renderReference } from '../scripts/reference.js';
import { EXIT_CODE_TABLE } from '../src/exit-codes.js';
import { createProgram } from '../src/program.js';
import { memoryIo } from './support/io.js';

describe('docs/cli.md', () => {
  const page = readFileSync(REFERENCE_PATH, 'utf8');

  it('is what the command definitions render (regenerate it after changing a command)', () => {
    expect(page).toBe(renderReference(createProgram(memoryIo().io)));
  });

  it('documents every command, the exit codes and the URL forms', () => {
    for (const command of ['instances list', 'instances show', 'events', 'effects list', 'timers list', 'dead-letters redrive-all', 'cancel-where', 'pause', 'resume', 'paused', 'backlog', 'metrics', 'migrate', 'visualize', 'projections list', 'projections show', 'projections dead-letters', 'projections redrive', 'projections skip', 'projections reset', 'replay-check']) {
      expect(page).toContain(`### \`ironflow ${command}\``);
    }
    for (const { code } of EXIT_CODE_TABLE) expect(page).toMatch(new RegExp(`^\\| ${code} \\| `, 'm'));
    expect(page).toContain('## Connecting');
    expect(page).toContain('`redis://host1:7000,redis://host2:7001`');
  });
});
