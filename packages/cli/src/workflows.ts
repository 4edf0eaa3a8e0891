// Loads `--workflows <module>`: a JavaScript module (or TypeScript, through tsx when it is
// installed) whose exports include workflow definitions, as values, arrays or register() entries.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyWorkflow } from '@ironflow/core';
import { CliError, EXIT_CODES, usageError } from './exit-codes.js';

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);

/** True for what `defineWorkflow` returns (core gives workflows no brand: they are plain objects). */
export function isWorkflow(value: unknown): value is AnyWorkflow {
  if (typeof value !== 'object' || value === null) return false;
  const w = value as Partial<Record<keyof AnyWorkflow, unknown>>;
  return typeof w.type === 'string' && typeof w.decide === 'function' && typeof w.evolve === 'function' && typeof w.initialState === 'function' && typeof w.workflowId === 'function';
}

/** The workflows among a module's exports: definitions, `register()` entries and arrays of them. */
export function workflowsIn(exports: Record<string, unknown>): AnyWorkflow[] {
  const found = new Map<string, AnyWorkflow>();
  const add = (value: unknown, depth: number): void => {
    if (isWorkflow(value)) {
      const known = found.get(value.type);
      if (known !== undefined && known !== value) throw usageError(`--workflows exports two different definitions of workflow type ${value.type}`);
      found.set(value.type, value);
    } else if (Array.isArray(value)) {
      for (const item of value) add(item, depth);
    } else if (typeof value === 'object' && value !== null && isWorkflow((value as { workflow?: unknown }).workflow)) {
      add((value as { workflow: unknown }).workflow, depth);
    } else if (depth === 0 && typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
      // `export default { order, shipment }`: one level of a plain object.
      for (const item of Object.values(value)) add(item, depth + 1);
    }
  };
  for (const value of Object.values(exports)) add(value, 0);
  return [...found.values()];
}

type TsImport = (specifier: string, parent: string) => Promise<Record<string, unknown>>;

/** tsx's import API: this package's optional peer, else the one installed where the CLI runs. */
async function loadTsImport(cwd: string): Promise<TsImport> {
  try {
    return ((await import('tsx/esm/api')) as { tsImport: TsImport }).tsImport;
  } catch {
    // Not next to the CLI (a global install): the project's own tsx, in its CommonJS build.
  }
  try {
    const path = createRequire(join(cwd, 'package.json')).resolve('tsx/esm/api');
    return ((await import(pathToFileURL(path).href)) as { tsImport: TsImport }).tsImport;
  } catch {
    throw usageError('--workflows names a TypeScript module, which needs tsx installed (npm install -D tsx); or pass the built JavaScript module');
  }
}

/**
 * Imports a module named on the command line by `flag` and returns its exports: a missing file is
 * `missing` (a usage error unless the command says otherwise), a module that throws is exit 1.
 */
export async function importModule(specifier: string, cwd: string, flag: string, missing: (message: string) => CliError = usageError): Promise<Record<string, unknown>> {
  const path = resolve(cwd, specifier);
  if (!existsSync(path)) throw missing(`${flag} ${specifier}: no such file`);
  const url = pathToFileURL(path).href;
  try {
    return TYPESCRIPT.has(extname(path)) ? await (await loadTsImport(cwd))(url, import.meta.url) : ((await import(url)) as Record<string, unknown>);
  } catch (error) {
    if (error instanceof CliError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(EXIT_CODES.failed, `${flag} ${specifier} failed to load: ${message.split('\n')[0]}`, { cause: error });
  }
}

/** Imports the module and returns the workflow definitions it exports. */
export async function loadWorkflows(specifier: string, cwd: string): Promise<AnyWorkflow[]> {
  const workflows = workflowsIn(await importModule(specifier, cwd, '--workflows'));
  if (workflows.length === 0) throw usageError(`--workflows ${specifier} exports no workflow definitions (objects made by defineWorkflow, or register() entries)`);
  return workflows;
}
