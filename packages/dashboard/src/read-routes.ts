// The pages (GET): each reads what it shows through the engine's public API, then renders it.
import { h } from 'preact';
import { instancePath, toMermaid, type StateMachine } from '@ironflow/core';
import { foldEvents } from '@ironflow/core/engine';
import type { InstanceStatus, InstanceSummary, ProjectionDeadLetterStatus, WorkKind } from '@ironflow/core/store';
import type { JSX } from 'preact';
import type { PageContext } from './context.js';
import { HttpError } from './http.js';
import { layoutMachine, type MachineLayout } from './machine-layout.js';
import { findInstance, searchByPrefix } from './instance-lookup.js';
import { DeadLettersPage } from './pages/dead-letters.js';
import { InstancePage, type InstanceData } from './pages/instance.js';
import { InstancesPage, type InstanceFilters } from './pages/instances.js';
import { decisionsOf, type MachineView } from './pages/machine.js';
import { OverviewPage } from './pages/overview.js';
import { PausedPage } from './pages/paused.js';
import { ProjectionPage } from './pages/projection.js';
import { ConfirmResetPage, ConfirmSkipPage } from './pages/projection-confirm.js';
import { ProjectionsPage } from './pages/projections.js';
import { CONFIRMED } from './actions.js';
import { findProjectionDeadLetter } from './projection-lookup.js';

/** Rows per page of the lists. */
export const PAGE_SIZE = 50;

const STATUSES: readonly InstanceStatus[] = ['active', 'completed', 'cancelled'];

/** A query parameter; an empty value counts as absent. */
function param(ctx: PageContext, name: string): string | undefined {
  const value = ctx.url.searchParams.get(name);
  return value === null || value === '' ? undefined : value;
}

/** Workflow types to offer in filters: the engine's, the given definitions', and `extra`, sorted. */
function knownTypes(ctx: PageContext, extra: Iterable<string | undefined> = []): string[] {
  const types = new Set<string>([...ctx.engine.types, ...ctx.workflows.keys()]);
  for (const type of extra) if (type !== undefined) types.add(type);
  return [...types].sort();
}

async function overview(ctx: PageContext): Promise<JSX.Element> {
  const [backlog, snapshot, paused] = await Promise.all([ctx.engine.backlog(), ctx.engine.metrics(), ctx.engine.listPaused()]);
  const throughput = ctx.throughput.observe(snapshot, ctx.now);
  const types = knownTypes(ctx, [...backlog.map((b) => b.workflowType), ...paused.map((p) => p.type)]);
  return h(OverviewPage, { ctx, data: { backlog, throughput, paused, health: ctx.engine.health().status, types } });
}

async function instances(ctx: PageContext): Promise<JSX.Element> {
  const status = param(ctx, 'status');
  if (status !== undefined && !STATUSES.includes(status as InstanceStatus)) throw new HttpError(400, `status must be one of ${STATUSES.join(', ')}`);
  const parentType = param(ctx, 'parentType');
  const parentId = param(ctx, 'parentId');
  if ((parentType === undefined) !== (parentId === undefined)) throw new HttpError(400, 'a parent filter needs both parentType and parentId');
  const filters: InstanceFilters = {
    type: param(ctx, 'type'),
    prefix: param(ctx, 'id'),
    status: status as InstanceStatus | undefined,
    parent: parentType === undefined || parentId === undefined ? undefined : { type: parentType, id: parentId },
    after: param(ctx, 'after'),
  };
  let items: InstanceSummary[];
  let next: string | undefined;
  if (filters.prefix !== undefined) {
    if (filters.type === undefined) throw new HttpError(400, 'searching by id needs a workflow type: choose one and search again');
    ({ items, next } = await searchByPrefix(ctx.engine, {
      type: filters.type,
      prefix: filters.prefix,
      status: filters.status,
      after: filters.after,
      limit: PAGE_SIZE,
    }));
  } else {
    ({ items, next } = await ctx.engine.pageInstances({
      workflowType: filters.type,
      status: filters.status,
      parent: filters.parent,
      after: filters.after,
      limit: PAGE_SIZE,
    }));
  }
  return h(InstancesPage, { ctx, filters, types: knownTypes(ctx, [filters.type]), items, next });
}

/** The folded state, when the dashboard has the workflow's definition. */
function stateOf(ctx: PageContext, type: string, events: InstanceData['events']): InstanceData['state'] {
  const workflow = ctx.workflows.get(type);
  if (workflow === undefined) return undefined;
  try {
    return { value: foldEvents(workflow, workflow.initialState(), events) };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return { error: `${error instanceof Error ? error.message : String(error)}${cause}` };
  }
}

/** Layouts of the machines drawn so far: a machine is frozen, so its layout never changes. */
const layouts = new WeakMap<StateMachine, MachineLayout>();

/** The path section: the declared machine with the instance's path, or the decisions it went through. */
function machineView(ctx: PageContext, type: string, events: InstanceData['events']): MachineView {
  const steps = decisionsOf(events);
  const workflow = ctx.workflows.get(type);
  if (workflow === undefined) return { kind: 'decisions', steps };
  const declared = workflow.stateMachine;
  if (declared === undefined)
    return { kind: 'decisions', steps, note: `The workflow ${type} declares no stateMachine: these are the decisions it went through.` };
  try {
    const path = instancePath(workflow, events);
    const machine = declared.machine;
    let layout = layouts.get(machine);
    if (layout === undefined) layouts.set(machine, (layout = layoutMachine(machine)));
    return { kind: 'machine', machine, layout, path, mermaid: toMermaid(machine, { path }) };
  } catch (error) {
    return {
      kind: 'decisions',
      steps,
      note: `The path through the state machine could not be drawn: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

async function instance(ctx: PageContext, type: string, id: string): Promise<JSX.Element> {
  const ref = { type, id };
  const summary = await findInstance(ctx.engine, type, id);
  if (summary === undefined) throw new HttpError(404, `There is no instance ${id} of workflow type ${type}.`);
  const [events, effects, timers, observations, paused] = await Promise.all([
    ctx.engine.getEvents(ref),
    ctx.engine.listEffects(ref),
    ctx.engine.listTimers(ref),
    ctx.engine.listObservations(ref),
    ctx.engine.listPaused(),
  ]);
  const refresh = param(ctx, 'refresh');
  const refreshSeconds = refresh !== undefined && /^\d{1,4}$/.test(refresh) && Number(refresh) > 0 ? Number(refresh) : undefined;
  const machine = machineView(ctx, type, events);
  const data: InstanceData = {
    summary,
    events,
    effects,
    timers,
    observations,
    state: stateOf(ctx, type, events),
    paused: { instance: paused.some((p) => p.type === type && p.id === id), type: paused.some((p) => p.type === type && p.id === undefined) },
    machine,
    refreshSeconds,
  };
  return h(InstancePage, { ctx, data });
}

async function deadLetters(ctx: PageContext): Promise<JSX.Element> {
  const kind = param(ctx, 'kind') ?? 'effect';
  if (kind !== 'effect' && kind !== 'timer') throw new HttpError(400, 'kind must be effect or timer');
  const filters = { kind: kind as WorkKind, type: param(ctx, 'type'), after: param(ctx, 'after') };
  const [page, total] = await Promise.all([
    ctx.engine.listWork({ kind: filters.kind, status: 'dead', workflowType: filters.type, after: filters.after, limit: PAGE_SIZE }),
    ctx.engine.deadLetters.count({ kind: filters.kind, workflowType: filters.type }),
  ]);
  return h(DeadLettersPage, { ctx, filters, types: knownTypes(ctx, [filters.type]), items: page.items, next: page.next, total });
}

async function paused(ctx: PageContext): Promise<JSX.Element> {
  const entries = await ctx.engine.listPaused();
  return h(PausedPage, {
    ctx,
    paused: entries,
    types: knownTypes(
      ctx,
      entries.map((e) => e.type),
    ),
  });
}

async function projections(ctx: PageContext): Promise<JSX.Element> {
  return h(ProjectionsPage, { ctx, projections: await ctx.engine.projections.list() });
}

/** A projection the store knows, or a 404 page. */
async function existingProjection(ctx: PageContext, name: string) {
  const report = await ctx.engine.projections.get(name);
  if (report === undefined) throw new HttpError(404, `There is no projection ${name}.`);
  return report;
}

const LETTER_STATUSES: readonly ProjectionDeadLetterStatus[] = ['parked', 'redriven'];

async function projection(ctx: PageContext, name: string): Promise<JSX.Element> {
  const status = param(ctx, 'status');
  if (status !== undefined && !LETTER_STATUSES.includes(status as ProjectionDeadLetterStatus)) throw new HttpError(400, `status must be one of ${LETTER_STATUSES.join(', ')}`);
  const filters = { status: status as ProjectionDeadLetterStatus | undefined, after: param(ctx, 'after') };
  const report = await existingProjection(ctx, name);
  const page = await ctx.engine.projections.deadLetters.list(name, { ...filters, limit: PAGE_SIZE });
  return h(ProjectionPage, { ctx, projection: report, filters, items: page.items, next: page.next });
}

async function confirmReset(ctx: PageContext, name: string): Promise<JSX.Element> {
  const report = await existingProjection(ctx, name);
  const position = param(ctx, 'position')?.trim() || undefined;
  // Reading one event after the position has the store decode it: text it did not write is a 400
  // page here, before the operator is asked anything.
  if (position !== undefined) await ctx.engine.readFeed({ after: position, limit: 1 });
  return h(ConfirmResetPage, { ctx, projection: report, position, keepDeadLetters: param(ctx, 'keep') === CONFIRMED });
}

async function confirmSkip(ctx: PageContext, name: string, id: string): Promise<JSX.Element> {
  await existingProjection(ctx, name);
  const letter = await findProjectionDeadLetter(ctx.engine, name, id);
  if (letter === undefined) throw new HttpError(404, `There is no dead letter ${id} of projection ${name}.`);
  return h(ConfirmSkipPage, { ctx, projection: name, letter });
}

/** The page a GET names, by its path segments under the base path (decoded). */
export function readRoute(ctx: PageContext, segments: readonly string[]): Promise<JSX.Element> {
  const [first, second, third, ...rest] = segments;
  if (first === 'projections') {
    if (second === undefined) return projections(ctx);
    if (third === undefined) return projection(ctx, second);
    if (third === 'reset' && rest.length === 0) return confirmReset(ctx, second);
    if (third === 'dead-letters' && rest.length === 2 && rest[0] !== undefined && rest[1] === 'skip') return confirmSkip(ctx, second, rest[0]);
  }
  if (first === undefined) return overview(ctx);
  if (first === 'instances' && second === undefined) return instances(ctx);
  if (first === 'instances' && second !== undefined && third !== undefined && rest.length === 0) return instance(ctx, second, third);
  if (first === 'dead-letters' && second === undefined) return deadLetters(ctx);
  if (first === 'paused' && second === undefined) return paused(ctx);
  throw new HttpError(404, 'There is no such page in the dashboard.');
}
