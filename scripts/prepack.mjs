// `prepack` of every published package: builds it unless dist/ is newer than everything it is
// built from. A fresh clone's `pnpm pack` therefore ships a built package, while the packs that
// publint and attw make right after `turbo run build` do not rebuild (and so never empty the
// dist/ of a package that another task is reading at that moment).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.cwd();

/** Newest modification time under `path` (a file or a directory), or 0 when it does not exist. */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** Oldest modification time of the files under `path`, or 0 when there are none. */
function oldest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  const times = readdirSync(path).map((name) => oldest(join(path, name))).filter((t) => t > 0);
  return times.length === 0 ? 0 : Math.min(...times);
}

const built = oldest(join(dir, 'dist'));
const sources = Math.max(...['src', 'package.json', 'tsup.config.ts', 'tsconfig.json', 'tsconfig.build.json'].map((p) => newest(join(dir, p))));
if (built > 0 && built >= sources) process.exit(0);

const execPath = process.env.npm_execpath;
const [command, args] = execPath && /pnpm/.test(execPath) && /\.[cm]?js$/.test(execPath) ? [process.execPath, [execPath, 'run', 'build']] : ['pnpm', ['run', 'build']];
const result = spawnSync(command, args, { cwd: dir, stdio: 'inherit' });
process.exit(result.status ?? 1);
