// Options several commands share: the instance filter (type, parent, updated window), the work
// filter (type, id, tag, created window) and the way a command names one instance or a whole type.
import type { WorkflowRef } from '@ironflow/core';
import type { InstancePageQuery, WorkQuery } from '@ironflow/core/store';
import { Option, type Command } from 'commander';
import { usageError } from '../exit-codes.js';
import { parseLimit, parseTime } from '../parse.js';

/** Values of the instance filter options. */
export interface InstanceFilterOptions {
  type?: string | undefined;
  parentType?: string | undefined;
  parentId?: string | undefined;
  updatedFrom?: number | undefined;
  updatedBefore?: number | undefined;
}

/** Adds --type, --parent-type/--parent-id and the updated window. */
export function instanceFilterOptions(command: Command): Command {
  return command
    .option('--type <type>', 'only instances of this workflow type')
    .option('--parent-type <type>', 'only children of the instance named by --parent-type and --parent-id')
    .option('--parent-id <id>', 'see --parent-type')
    .addOption(new Option('--updated-from <time>', 'only instances last changed at or after this time (ISO 8601 or epoch ms)').argParser(parseTime))
    .addOption(new Option('--updated-before <time>', 'only instances last changed before this time (ISO 8601 or epoch ms)').argParser(parseTime));
}

/** The parent named by --parent-type and --parent-id (both or neither). */
function parentOf(options: InstanceFilterOptions): WorkflowRef | undefined {
  if ((options.parentType === undefined) !== (options.parentId === undefined)) throw usageError('--parent-type and --parent-id go together');
  return options.parentType === undefined || options.parentId === undefined ? undefined : { type: options.parentType, id: options.parentId };
}

/** The filter of an instance page query (the store checks the values). */
export function instanceFilter(options: InstanceFilterOptions): Omit<InstancePageQuery, 'status' | 'after' | 'limit'> {
  const parent = parentOf(options);
  return {
    ...(options.type === undefined ? {} : { workflowType: options.type }),
    ...(parent === undefined ? {} : { parent }),
    ...(options.updatedFrom === undefined ? {} : { updatedFrom: options.updatedFrom }),
    ...(options.updatedBefore === undefined ? {} : { updatedBefore: options.updatedBefore }),
  };
}

/** Values of the work filter options. */
export interface WorkFilterOptions {
  type?: string | undefined;
  id?: string | undefined;
  tag?: string | undefined;
  createdFrom?: number | undefined;
  createdBefore?: number | undefined;
}

/** Adds --type, --id, (effects) --tag and the created window. */
export function workFilterOptions(command: Command, what: string, withTag: boolean): Command {
  command.option('--type <type>', `only ${what} of this workflow type`).option('--id <id>', `only ${what} of this instance (with --type)`);
  if (withTag) command.option('--tag <tag>', `only ${what} with this tag (effects only)`);
  return command
    .addOption(new Option('--created-from <time>', `only ${what} created at or after this time (ISO 8601 or epoch ms)`).argParser(parseTime))
    .addOption(new Option('--created-before <time>', `only ${what} created before this time (ISO 8601 or epoch ms)`).argParser(parseTime));
}

/** The filter of a work page query; --id needs --type, since ids are per type. */
export function workFilter(options: WorkFilterOptions): Omit<WorkQuery, 'kind' | 'status' | 'after' | 'limit'> {
  if (options.id !== undefined && options.type === undefined) throw usageError('--id needs --type: instance ids are per workflow type');
  return {
    ...(options.type === undefined ? {} : { workflowType: options.type }),
    ...(options.id === undefined ? {} : { workflowId: options.id }),
    ...(options.tag === undefined ? {} : { tag: options.tag }),
    ...(options.createdFrom === undefined ? {} : { createdFrom: options.createdFrom }),
    ...(options.createdBefore === undefined ? {} : { createdBefore: options.createdBefore }),
  };
}

/** Adds --after and --limit (cursor pagination). */
export function pageOptions(command: Command, what: string): Command {
  return command
    .option('--after <cursor>', `the cursor printed after the previous page of ${what}`)
    .addOption(new Option('--limit <n>', `${what} per page, 1 to 1000`).argParser(parseLimit).default(100));
}

/** Adds --dry-run, --yes and --limit (rows of the preview). */
export function bulkOptions(command: Command, what: string): Command {
  return command
    .option('--dry-run', `print the ${what} it would change (up to --limit) and their count; change nothing`)
    .option('-y, --yes', 'go ahead without asking (needed when stdin is not a terminal)')
    .addOption(new Option('--limit <n>', `rows of ${what} the preview prints, 1 to 1000`).argParser(parseLimit).default(20));
}

/** The target of pause/resume: `<type> <id>` (an instance) or `--type <type>` (the whole type). */
export function pauseTarget(type: string | undefined, id: string | undefined, options: { type?: string | undefined }): { readonly type: string; readonly id?: string | undefined } {
  if (options.type !== undefined && type === undefined && id === undefined) return { type: options.type };
  if (options.type === undefined && type !== undefined && id !== undefined) return { type, id };
  throw usageError('name an instance as <type> <id>, or a whole workflow type as --type <type>');
}
