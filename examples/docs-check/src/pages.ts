// The pages whose TypeScript blocks are checked: the root README, docs/ without the design
// decisions (records of their time), every package README and every example README.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

function markdownUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return markdownUnder(path);
      return name.endsWith('.md') ? [path] : [];
    });
}

/** Pages to check, relative to `root` with `/` separators, in a stable order. */
export function documentationPages(root: string): string[] {
  const readmes = (parent: string) =>
    existsSync(join(root, parent))
      ? readdirSync(join(root, parent))
          .sort()
          .map((name) => join(root, parent, name, 'README.md'))
          .filter((path) => existsSync(path))
      : [];
  const docs = markdownUnder(join(root, 'docs')).filter((path) => !relative(join(root, 'docs'), path).startsWith(`decisions${sep}`));
  return [join(root, 'README.md'), ...docs, ...readmes('packages'), ...readmes('examples')].map((path) => relative(root, path).split(sep).join('/'));
}
