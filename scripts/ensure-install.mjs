// Installs the workspace's dependencies only when they are missing or stale, so that a repeated
// `pnpm demo` or `pnpm verify` starts at once: the manifests and the lockfile are hashed, and the
// hash of the last successful install is kept in node_modules/.ironflow-install-stamp.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const STAMP = join(root, 'node_modules/.ironflow-install-stamp');

/** The files an install depends on: the lockfile, the workspace file and every package.json. */
function manifests() {
  const files = ['pnpm-lock.yaml', 'pnpm-workspace.yaml', 'package.json', 'bench/package.json'];
  for (const dir of ['packages', 'examples']) {
    if (!existsSync(join(root, dir))) continue;
    for (const name of readdirSync(join(root, dir)).sort()) files.push(`${dir}/${name}/package.json`);
  }
  return files.filter((file) => existsSync(join(root, file)));
}

/** A hash of everything the installed node_modules was made from. */
export function installHash() {
  const hash = createHash('sha256');
  for (const file of manifests()) hash.update(`${file}\0`).update(readFileSync(join(root, file))).update('\0');
  return hash.digest('hex');
}

/** True when node_modules was installed by this script from the manifests as they are now. */
export function isInstalled() {
  return existsSync(join(root, 'node_modules/.modules.yaml')) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === installHash();
}

/** Runs pnpm itself: the one running this script when there is one (`npx pnpm@… demo`), else `pnpm`. */
function pnpm(args) {
  const execPath = process.env.npm_execpath;
  const [command, argv] =
    execPath && /pnpm/.test(execPath) ? (/\.[cm]?js$/.test(execPath) ? [process.execPath, [execPath, ...args]] : [execPath, args]) : ['pnpm', args];
  return spawnSync(command, argv, { cwd: root, stdio: 'inherit' });
}

/** Installs with the frozen lockfile unless node_modules is already up to date; exits on failure. */
export function ensureInstalled() {
  if (isInstalled()) return;
  const result = pnpm(['install', '--frozen-lockfile', '--prefer-offline']);
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
  writeFileSync(STAMP, `${installHash()}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureInstalled();
