// One command's session: read the global options, load the workflow module (before connecting,
// so a broken module costs no connection), open the store, build an engine over it that is never
// started, run the command, and close everything whatever happened.
import type { AnyWorkflow, WorkflowRef } from '@ironflow/core';
import type { LoadedInstance, WorkflowStore } from '@ironflow/core/store';
import { createEngine, silentLogger, type Engine } from '@ironflow/runtime';
import type { Command } from 'commander';
import { connect, type Connection } from './connect.js';
import { notFound, usageError } from './exit-codes.js';
import { colorEnabled, Output, type Io } from './output.js';
import { parseTarget } from './target.js';
import { loadWorkflows } from './workflows.js';

/** The options every command takes (see program.ts). */
export interface GlobalOptions {
  url?: string | undefined;
  schema?: string | undefined;
  prefix?: string | undefined;
  partitions?: number | undefined;
  workflows?: string | undefined;
  connectTimeout: number;
  json?: boolean | undefined;
  color?: boolean | undefined;
  debug?: boolean | undefined;
}

/** What a command runs with. */
export interface Session {
  readonly out: Output;
  readonly store: WorkflowStore;
  /** Over the store, with the workflows of `--workflows` (none without it); never started. */
  readonly engine: Engine;
  readonly connection: Connection;
  /** The definitions of `--workflows`, by type. */
  readonly workflows: ReadonlyMap<string, AnyWorkflow>;
  /** True when `--workflows` was given. */
  readonly hasDefinitions: boolean;
  /** Loads an instance, or fails with exit 3 when it does not exist. */
  existing(ref: WorkflowRef): Promise<LoadedInstance>;
  /** The definition of `type`, or a usage error naming the module. */
  definition(type: string): AnyWorkflow;
}

/** The workflows of --workflows alone, for a command that needs no store. */
export interface Definitions {
  readonly out: Output;
  readonly workflows: ReadonlyMap<string, AnyWorkflow>;
  /** The definition of `type`, or exit 3 naming the module. */
  definition(type: string): AnyWorkflow;
}

/** Loads --workflows (required) without connecting to any store. */
export async function loadDefinitions(command: Command, io: Io): Promise<Definitions> {
  const options = command.optsWithGlobals<GlobalOptions>();
  const out = new Output(io, options.json === true, colorEnabled(io, options));
  if (options.workflows === undefined) throw needsWorkflows(command);
  const workflows = new Map((await loadWorkflows(options.workflows, io.cwd)).map((w) => [w.type, w]));
  return { out, workflows, definition: (type) => definitionIn(workflows, options.workflows ?? '', type) };
}

const needsWorkflows = (command: Command) => usageError(`${command.name()} needs --workflows <module>: the module that exports the workflow definitions`);

function definitionIn(workflows: ReadonlyMap<string, AnyWorkflow>, module: string, type: string): AnyWorkflow {
  const workflow = workflows.get(type);
  if (workflow === undefined) throw notFound(`--workflows ${module} defines no workflow type ${type} (it defines ${[...workflows.keys()].join(', ')})`);
  return workflow;
}

/** What a session needs beyond the global options. */
export interface SessionNeeds {
  /** `migrate`: PGlite may create the database. */
  readonly forMigration?: boolean | undefined;
  /** `visualize`: `--workflows` is required. */
  readonly definitions?: boolean | undefined;
}

/** Runs `body` in a session of `command`'s options; the store is closed afterwards. */
export async function withSession(command: Command, io: Io, body: (session: Session) => Promise<void>, needs: SessionNeeds = {}): Promise<void> {
  const options = command.optsWithGlobals<GlobalOptions>();
  const out = new Output(io, options.json === true, colorEnabled(io, options));
  if (needs.definitions === true && options.workflows === undefined) throw needsWorkflows(command);
  const target = parseTarget(options.url ?? io.env.IRONFLOW_URL, io.cwd);
  if (needs.forMigration === true && (target.kind === 'redis' || target.kind === 'redis-cluster')) {
    throw usageError('migrate applies to PostgreSQL and PGlite stores; Redis needs no migration (the store loads its scripts on first use)');
  }
  const list = options.workflows === undefined ? [] : await loadWorkflows(options.workflows, io.cwd);
  const workflows = new Map(list.map((w) => [w.type, w]));
  const connection = await connect(target, {
    schema: options.schema,
    prefix: options.prefix,
    partitions: options.partitions,
    connectTimeoutMs: options.connectTimeout,
    forMigration: needs.forMigration,
  });
  try {
    const store = connection.store;
    const engine = createEngine({ store, workflows: list, logger: silentLogger });
    await body({
      out,
      store,
      engine,
      connection,
      workflows,
      hasDefinitions: options.workflows !== undefined,
      async existing(ref) {
        const loaded = await store.load(ref);
        if (loaded.version === 0) throw notFound(`no instance ${ref.type}/${ref.id} in ${connection.label}`);
        return loaded;
      },
      definition: (type) => definitionIn(workflows, options.workflows ?? '', type),
    });
  } catch (error) {
    // The command's own error is the one to report, not a failure to close after it.
    await connection.close().catch(() => undefined);
    throw error;
  }
  await connection.close();
}
