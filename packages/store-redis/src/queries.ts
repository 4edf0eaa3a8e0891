// Reads of one instance (load, events, rows, observations), store-wide listings merged across
// partitions in their one order, the next timer, and observations kept outside a commit.
import {
  compareIds,
  stripUndefined,
  type CheckedInstanceQuery,
  type CheckedObservation,
  type EffectRecord,
  type InstanceSummary,
  type LoadedInstance,
  type Observation,
  type StoredEvent,
  type TimerRecord,
  type WorkflowRef,
  type WorkKind,
  type WorkRecord,
} from '@ironflow/core/store';
import { decodeEffect, decodeEvent, decodeIdempotency, decodeObservation, decodeSnapshot, decodeTimer, decodeWorkItem, kindLetter, storedObservation } from './codec.js';
import type { RedisContext } from './context.js';
import { parseInstanceMember } from './members.js';
import { Reply, type Fields } from './reply.js';
import { LOAD, NEXT_TIMER, OWNED_ROWS, STATUS_OF_LETTER } from './scripts/reads.js';

/** The instance's snapshot, the events after it, version, status and the idempotency record asked for. */
export async function load(ctx: RedisContext, ref: WorkflowRef, idempotencyKey: string | undefined): Promise<LoadedInstance> {
  await ctx.ready();
  const keys = ctx.home(ref);
  const reply = await ctx.callScript(
    LOAD,
    keys.tag,
    { instance: keys.instance(ref.type, ref.id), events: keys.events(ref.type, ref.id), idempotency: keys.idempotency(ref.type, ref.id) },
    { idempotencyKey: idempotencyKey ?? '' },
  );
  const from = reply.snapshotVersion ?? 0;
  const loaded: LoadedInstance = {
    version: reply.version,
    completed: reply.status !== 'active',
    status: reply.status,
    events: reply.events.map((text, i) => decodeEvent(ref, from + i + 1, text)),
  };
  return {
    ...loaded,
    ...(reply.parent === undefined ? {} : { parent: reply.parent }),
    ...(reply.snapshot === undefined ? {} : { snapshot: decodeSnapshot(reply.snapshot) }),
    ...(reply.idempotencyRecord === undefined || idempotencyKey === undefined ? {} : { idempotent: decodeIdempotency(idempotencyKey, reply.idempotencyRecord) }),
  };
}

/** Events from `fromSequence` on. */
export async function readEvents(ctx: RedisContext, ref: WorkflowRef, fromSequence: number): Promise<StoredEvent[]> {
  await ctx.ready();
  const start = fromSequence - 1;
  const texts = await ctx.client.lrange(ctx.home(ref).events(ref.type, ref.id), start, -1);
  return texts.map((text, i) => decodeEvent(ref, start + i + 1, text));
}

/** The stored effect or timer hashes of an instance, in creation order. */
async function ownedRows(ctx: RedisContext, kind: WorkKind, ref: WorkflowRef): Promise<Fields[]> {
  await ctx.ready();
  const keys = ctx.home(ref);
  const k = kindLetter(kind);
  return ctx.callScript(OWNED_ROWS, keys.tag, { owned: keys.owned(k, ref.type, ref.id) }, { kind: k });
}

/** The effect rows of an instance, in creation order. */
export async function listEffects(ctx: RedisContext, ref: WorkflowRef): Promise<EffectRecord[]> {
  return (await ownedRows(ctx, 'effect', ref)).map(decodeEffect);
}

/** The timer rows of an instance, in creation order. */
export async function listTimers(ctx: RedisContext, ref: WorkflowRef): Promise<TimerRecord[]> {
  return (await ownedRows(ctx, 'timer', ref)).map(decodeTimer);
}

/** The effect or timer rows of an instance, in creation order. */
export async function listRows(ctx: RedisContext, kind: WorkKind, ref: WorkflowRef): Promise<WorkRecord[]> {
  return (await ownedRows(ctx, kind, ref)).map((fields) => decodeWorkItem(kind, fields));
}

/** Keeps an observation that no commit carries. */
export async function recordObservation(ctx: RedisContext, observation: CheckedObservation): Promise<void> {
  await ctx.ready();
  const ref = { type: observation.workflowType, id: observation.workflowId };
  await ctx.client.rpush(ctx.home(ref).observations(ref.type, ref.id), storedObservation(observation));
}

/** An instance's observations, in recording order. */
export async function listObservations(ctx: RedisContext, ref: WorkflowRef): Promise<Observation[]> {
  await ctx.ready();
  const texts = await ctx.client.lrange(ctx.home(ref).observations(ref.type, ref.id), 0, -1);
  return texts.map(decodeObservation);
}

/** The instance hash fields a summary is made of, in the order `decodeSummary` reads them. */
export const SUMMARY_FIELDS = ['v', 's', 'cr', 'ca', 'ua', 'pt', 'pi'] as const;

/** An instance summary from its hash fields (SUMMARY_FIELDS, in order). */
export function decodeSummary(ref: WorkflowRef, values: readonly (string | null | undefined)[]): InstanceSummary {
  const field = (i: number) => new Reply(values[i], `instance ${ref.type}:${ref.id} field ${SUMMARY_FIELDS[i]}`);
  const letter = field(1).oneOf(['a', 'c', 'x']);
  const parentType = field(5).optionalText();
  return stripUndefined<InstanceSummary>({
    workflowType: ref.type,
    workflowId: ref.id,
    version: field(0).integer(),
    status: STATUS_OF_LETTER[letter],
    cancelReason: letter === 'x' ? field(2).text() : undefined,
    parent: parentType === undefined ? undefined : { type: parentType, id: field(6).text() },
    createdAt: field(3).integer(),
    updatedAt: field(4).integer(),
  });
}

/** Instances newest `updatedAt` first (then type, then id), merged from every partition's index. */
export async function listInstances(ctx: RedisContext, query: CheckedInstanceQuery): Promise<InstanceSummary[]> {
  await ctx.ready();
  const { offset, limit } = query;
  const statuses = query.status === undefined ? (['active', 'completed', 'cancelled'] as const) : [query.status];
  const lists = await Promise.all(
    ctx
      .allPartitions()
      .flatMap((keys) => statuses.map((status) => ctx.client.zrangebylex(keys.instances(status, query.workflowType), '-', '+', 'LIMIT', 0, offset + limit))),
  );
  // Members are ASCII times, then type and id: code-point order is Redis' byte order.
  const page = lists.flat().sort(compareIds).slice(offset, offset + limit);
  const rows = await Promise.all(
    page.map(async (member): Promise<InstanceSummary | undefined> => {
      const ref = parseInstanceMember(member);
      const fields = await ctx.client.hmget(ctx.home(ref).instance(ref.type, ref.id), ...SUMMARY_FIELDS);
      // Deleted between the index read and this one (only by hand): skip it.
      if (fields[0] === null || fields[0] === undefined) return undefined;
      return decodeSummary(ref, fields);
    }),
  );
  return rows.filter((row): row is InstanceSummary => row !== undefined);
}

/** Earliest fire time of a pending, unpaused timer of these types, over every partition. */
export async function nextTimerAt(ctx: RedisContext, types: readonly string[]): Promise<number | undefined> {
  await ctx.ready();
  const found = await Promise.all(ctx.allPartitions().map((keys) => ctx.callScript(NEXT_TIMER, keys.tag, { pauses: keys.pauses() }, {}, types)));
  const times = found.filter((t): t is number => t !== undefined);
  return times.length === 0 ? undefined : Math.min(...times);
}
