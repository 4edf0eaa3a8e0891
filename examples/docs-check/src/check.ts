// Type-checks documentation blocks with the TypeScript compiler API: each block becomes an
// in-memory module next to this package (so `@ironflow/*` and drivers resolve from its
// node_modules, workspace packages to their source) and one program checks them all.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import ts from 'typescript';
import type { Block } from './scan.js';

/** Where the checker finds its configuration, preludes and stand-in modules. */
export interface CheckOptions {
  /** examples/docs-check. */
  readonly packageDir: string;
}

/** Type errors per page, as `page:line: TSnnnn message`; pages without errors map to `[]`. */
export type CheckResult = Map<string, string[]>;

interface VirtualFile {
  readonly block: Block;
  readonly text: string;
  /** Lines of prelude put in front of the block's code. */
  readonly preludeLines: number;
}

/** Compiler options of tsconfig.blocks.json. */
function blockOptions(packageDir: string): ts.CompilerOptions {
  const path = join(packageDir, 'tsconfig.blocks.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(path, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error(`cannot read ${path}`);
  // An empty `files` list is intended: the blocks are the program's only roots.
  const errors = parsed.errors.filter((d) => d.code !== 18002 && d.code !== 18003);
  if (errors.length > 0) throw new Error(errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'));
  return parsed.options;
}

/** Names a module declares at its top level: imports, variables, functions, classes, types. */
function declaredNames(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const addBinding = (name: ts.BindingName) => {
    if (ts.isIdentifier(name)) names.add(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) addBinding(element.name);
  };
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (clause?.name) names.add(clause.name.text);
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
      if (bindings && ts.isNamedImports(bindings)) for (const element of bindings.elements) names.add(element.name.text);
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) addBinding(declaration.name);
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement)) &&
      statement.name
    ) {
      names.add(statement.name.text);
    }
  }
  return names;
}

/**
 * The prelude as it applies to one block: every import and declaration of a name the block
 * declares itself is left out, so one prelude serves blocks that import some of its names.
 */
export function applicablePrelude(prelude: string, block: string): string {
  const taken = declaredNames(ts.createSourceFile('block.ts', block, ts.ScriptTarget.Latest));
  const source = ts.createSourceFile('prelude.ts', prelude, ts.ScriptTarget.Latest);
  const kept: string[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      const from = statement.moduleSpecifier.getText(source);
      const bindings = clause?.namedBindings;
      if (!clause || clause.name || (bindings && ts.isNamespaceImport(bindings))) {
        if (![...declaredNames(ts.createSourceFile('s.ts', statement.getText(source), ts.ScriptTarget.Latest))].some((n) => taken.has(n))) kept.push(statement.getText(source));
        continue;
      }
      const elements = bindings && ts.isNamedImports(bindings) ? bindings.elements.filter((e) => !taken.has(e.name.text)) : [];
      if (elements.length > 0) kept.push(`import ${clause.isTypeOnly ? 'type ' : ''}{ ${elements.map((e) => e.getText(source)).join(', ')} } from ${from};`);
      continue;
    }
    const own = declaredNames(ts.createSourceFile('s.ts', statement.getText(source), ts.ScriptTarget.Latest));
    if (![...own].some((n) => taken.has(n))) kept.push(statement.getFullText(source).replace(/^\s*\n/, ''));
  }
  return kept.join('\n');
}

const lineCount = (text: string) => (text === '' ? 0 : text.split('\n').length);

/** Type-checks the blocks; every block's page appears in the result. */
export function checkBlocks(blocks: readonly Block[], options: CheckOptions): CheckResult {
  const { packageDir } = options;
  const compilerOptions = blockOptions(packageDir);
  const result: CheckResult = new Map();
  const problem = (page: string, text: string) => result.get(page)?.push(text);
  const files = new Map<string, VirtualFile>();
  const virtualDirs = new Set<string>();

  for (const block of blocks) {
    if (!result.has(block.page)) result.set(block.page, []);
    const dir = join(packageDir, '.blocks', block.page);
    const fileName = join(dir, block.name ?? `line-${block.line}.ts`);
    if (files.has(fileName)) {
      problem(block.page, `${block.page}:${block.line}: a second block named ${basename(fileName)} on this page`);
      continue;
    }
    let prelude = '';
    for (const name of block.preludes) {
      const path = join(packageDir, 'preludes', `${name}.ts`);
      if (!existsSync(path)) {
        problem(block.page, `${block.page}:${block.line}: no prelude "${name}" (expected ${relative(packageDir, path)})`);
        continue;
      }
      prelude += `${applicablePrelude(readFileSync(path, 'utf8').trimEnd(), block.code)}\n`;
    }
    const text = prelude === '' ? block.code : `${prelude}${block.code}`;
    files.set(fileName, { block, text, preludeLines: lineCount(prelude) - (prelude === '' ? 0 : 1) });
    for (let d = dir; d.startsWith(packageDir) && d !== packageDir; d = dirname(d)) virtualDirs.add(d);
  }

  const host = ts.createCompilerHost(compilerOptions, true);
  const { fileExists, readFile, getSourceFile, directoryExists } = host;
  host.getCurrentDirectory = () => packageDir;
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  host.readFile = (name) => files.get(name)?.text ?? readFile.call(host, name);
  host.directoryExists = (name) => virtualDirs.has(name) || (directoryExists?.call(host, name) ?? ts.sys.directoryExists(name));
  host.getSourceFile = (name, languageVersion, onError, shouldCreate) => {
    const file = files.get(name);
    return file ? ts.createSourceFile(name, file.text, languageVersion, true) : getSourceFile.call(host, name, languageVersion, onError, shouldCreate);
  };
  // A relative import no block of the page provides (`./payments.js`, "your payment client")
  // resolves to the stand-in of that name in modules/, so the page keeps its natural import;
  // preludes import the same stand-ins as `../modules/NAME.js`.
  const cache = ts.createModuleResolutionCache(packageDir, (s) => s, compilerOptions);
  host.resolveModuleNameLiterals = (literals, containingFile, redirected, opts, containingSource) =>
    literals.map((literal) => {
      const mode = ts.getModeForUsageLocation(containingSource, literal, opts);
      const resolved = ts.resolveModuleName(literal.text, containingFile, opts, host, cache, redirected, mode);
      if (resolved.resolvedModule || !files.has(containingFile) || !literal.text.startsWith('.')) return resolved;
      const standIn = join(packageDir, 'modules', basename(literal.text).replace(/\.js$/, '.ts'));
      if (!existsSync(standIn)) return resolved;
      return { resolvedModule: { resolvedFileName: standIn, extension: ts.Extension.Ts, isExternalLibraryImport: false } };
    });

  const program = ts.createProgram({ rootNames: [...files.keys()], options: compilerOptions, host });
  for (const d of program.getOptionsDiagnostics()) throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  for (const [fileName, { block, preludeLines }] of files) {
    const source = program.getSourceFile(fileName);
    if (!source) throw new Error(`${fileName} is not in the program`);
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
      const message = `TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n  ')}`;
      if (line < preludeLines) problem(block.page, `${block.page}:${block.line}: in its prelude (${block.preludes.join(', ')}), line ${line + 1}: ${message}`);
      else problem(block.page, `${block.page}:${block.line + line - preludeLines}: ${message}`);
    }
  }
  const lineOf = (text: string) => Number(/^[^:]*:(\d+)/.exec(text)?.[1] ?? 0);
  for (const problems of result.values()) problems.sort((a, b) => lineOf(a) - lineOf(b));
  return result;
}
