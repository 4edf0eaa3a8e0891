// The registry maps workflow type strings to definitions. Duplicate types fail when the registry
// is built, so a misconfigured deployment stops at start-up rather than misrouting work later.
import { IronflowError } from './errors.js';
import type { AnyWorkflow } from './workflow.js';

/** Workflows by type, built once. */
export interface Registry<W = AnyWorkflow> {
  /** Registered workflow types, in registration order. */
  readonly types: readonly string[];
  /** The workflow registered under `type`, or undefined. */
  find(type: string): W | undefined;
  /** The workflow registered under `type`; UNKNOWN_WORKFLOW_TYPE when there is none. */
  get(type: string): W;
  has(type: string): boolean;
}

/** Builds a registry of workflows, or of entries whose type `typeOf` reads; DUPLICATE_WORKFLOW_TYPE when two share a type. */
export function createRegistry<W extends AnyWorkflow>(entries: readonly W[]): Registry<W>;
export function createRegistry<W>(entries: readonly W[], typeOf: (entry: W) => string): Registry<W>;
export function createRegistry<W>(entries: readonly W[], typeOf: (entry: W) => string = (w) => (w as AnyWorkflow).type): Registry<W> {
  const byType = new Map<string, W>();
  for (const entry of entries) {
    const type = typeOf(entry);
    if (byType.has(type)) {
      throw new IronflowError('DUPLICATE_WORKFLOW_TYPE', `Workflow type "${type}" is registered more than once`, { details: { workflowType: type } });
    }
    byType.set(type, entry);
  }
  const types = Object.freeze([...byType.keys()]);
  return {
    types,
    find: (type) => byType.get(type),
    has: (type) => byType.has(type),
    get(type) {
      const found = byType.get(type);
      if (found === undefined) {
        throw new IronflowError('UNKNOWN_WORKFLOW_TYPE', `No workflow of type "${type}" is registered`, { details: { workflowType: type } });
      }
      return found;
    },
  };
}
