// `pnpm demo`: installs the workspace if needed (scripts/ensure-install.mjs), then runs the
// order-fulfilment demo with its arguments (`--fresh`, `--memory`). A Ctrl-C reaches the demo,
// which stops gracefully and exits 130; this wrapper then exits 0, and since the package.json
// script `exec`s it (no shell in between to die of the signal), pnpm adds no ELIFECYCLE banner.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureInstalled } from './ensure-install.mjs';

ensureInstalled();
const example = fileURLToPath(new URL('../examples/order-fulfilment/', import.meta.url));
const args = process.argv.slice(2).filter((arg) => arg !== '--');
const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@ironflow/source', 'src/demo.ts', ...args], { cwd: example, stdio: 'inherit' });

// The terminal sends Ctrl-C to the whole process group: the demo handles it; this process waits.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => {});
child.on('exit', (code, signal) => {
  if (code === 130 || signal === 'SIGINT') process.exit(0);
  process.exit(code ?? 1);
});
