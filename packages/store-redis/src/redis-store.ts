// The WorkflowStore port on Redis: every multi-key change is one Lua script in one partition's
// hash tag, values are JSON strings, wake-ups are PUBLISHed by the scripts that make work claimable.
import { randomBytes } from 'node:crypto';
import { isIronflowError, type StoredEvent, type WorkflowRef } from '@ironflow/core';
import { invalidArgument, LeaseLostError, StoreError, UniqueKeyConflictError, VersionConflictError, type Claimed, type ClaimRequest, type CommitRequest, type DeadLetterQuery, type EffectRecord, type IdempotencyRecord, type InstanceQuery, type InstanceSummary, type Lease, type LoadedInstance, type Observation, type PurgeResult, type Snapshot, type TimerRecord, type WakeUpListener, type WorkflowStore, type WorkKind } from '@ironflow/core/store';
import { classifyRedisError } from './classify-error.js';
import { decodeEvent, decodeJson, decodeWorkItem, encodeEvent, encodeJson, fieldsOf, kindLetter } from './codec.js';
import {
  finalizeHandoff,
  handoffRecord,
  prepareHandoff,
  releaseUniqueKey,
  reserveUniqueKey,
  resolveHandoff,
  type PendingHandoff,
  type ProtocolContext,
} from './cross-partition.js';
import {
  compareBytes,
  createKeyLayout,
  deadMember,
  instanceMember,
  leasePartition,
  parseInstanceMember,
  type KindLetter,
  type PartitionKeys,
} from './keys.js';
import type { RedisClientLike, RedisStoreLogger, RedisSubscriberLike } from './redis-client.js';
import { loadScripts, runScript, type LuaScript } from './script-runner.js';
import { CLAIM } from './scripts/claim.js';
import { COMMIT, COMMIT_KEYS } from './scripts/commit.js';
import {
  CLEAR_HANDOFF,
  FINALIZE_HANDOFF,
  PREPARE_HANDOFF,
  PROBE_UNIQUE,
  RELEASE_UNIQUE,
  RESERVE_UNIQUE,
  RESOLVE_HANDOFF,
  TAKE_UNIQUE,
} from './scripts/cross-partition.js';
import { REDRIVE, SETTLE } from './scripts/leases.js';
import { CLAIM_SETTINGS, PURGE } from './scripts/maintenance.js';
import { LOAD, NEXT_TIMER, OWNED_ROWS } from './scripts/reads.js';
import { checkClaim, checkCommit, checkCount, checkKind, checkLease, checkName, checkObservation, checkRef, checkText, checkTime } from './validate.js';

const SCRIPTS: readonly LuaScript[] = [
  LOAD,
  COMMIT,
  CLAIM,
  SETTLE,
  REDRIVE,
  PURGE,
  NEXT_TIMER,
  OWNED_ROWS,
  CLAIM_SETTINGS,
  PREPARE_HANDOFF,
  RESOLVE_HANDOFF,
  FINALIZE_HANDOFF,
  CLEAR_HANDOFF,
  RESERVE_UNIQUE,
  PROBE_UNIQUE,
  TAKE_UNIQUE,
  RELEASE_UNIQUE,
];

/** Rows examined per purge call: keeps each script short, so it never blocks the server for long. */
const PURGE_BATCH = 500;
/** A commit or lease change that meets an unresolved cross-partition handoff resolves it and retries this often. */
const HANDOFF_ROUNDS = 4;

/** Options of `createRedisStore`. */
export interface RedisStoreOptions {
  /** An ioredis `Redis` or `Cluster` you own; the store never closes it. It must not set a client-side `keyPrefix`. */
  readonly client: RedisClientLike;
  /**
   * Prefix of every key and of the wake-up channel; 1 to 64 of `A-Z a-z 0-9 : _ . -`.
   * @default 'ironflow'
   */
  readonly keyPrefix?: string | undefined;
  /**
   * Number of partitions (hash tags) instances are spread over, for Redis Cluster. Fixed for a
   * deployment: changing it strands existing data, so `setup()` refuses a different count.
   * @default 1
   */
  readonly partitions?: number | undefined;
  /**
   * Accept a `maxmemory-policy` other than `noeviction` (Redis could then silently drop workflow
   * data under memory pressure); when true, `setup()` only warns.
   * @default false
   */
  readonly allowEviction?: boolean | undefined;
  /** Receives warnings (unreadable server config, eviction allowed, wake-up connection errors). */
  readonly logger?: RedisStoreLogger | undefined;
}

/** The Redis store: the core port plus setup and closing of the connection it opens for wake-ups. */
export interface RedisStore extends WorkflowStore {
  readonly name: 'redis';
  /** The validated key prefix. */
  readonly keyPrefix: string;
  /** The partition count. */
  readonly partitions: number;
  /** The pub/sub channel wake-ups are published on: `<keyPrefix>:wake`. */
  readonly channel: string;
  /**
   * Loads the Lua scripts, checks `maxmemory-policy` and records the partition count; idempotent.
   * Other calls run it on first use, so calling it at start-up only surfaces problems earlier.
   */
  setup(): Promise<void>;
  /**
   * Calls `listener` on wake-ups, through a duplicate of the client in subscriber mode that the
   * store opens with the first listener and closes with the last; returns an unsubscribe.
   */
  subscribe(listener: WakeUpListener): () => void;
  /** Closes the subscriber connection the store opened (never the client it was given). */
  close(): Promise<void>;
}

type ScriptReply = readonly unknown[];

function randomToken(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * Creates a Redis store over an ioredis client you own.
 * @example
 * const store = createRedisStore({ client: new Redis(process.env.REDIS_URL), keyPrefix: 'orders' });
 * await store.setup();
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  if (typeof options !== 'object' || options === null) throw invalidArgument('createRedisStore needs options with a client');
  const { client, logger } = options;
  if (typeof client !== 'object' || client === null || typeof client.evalsha !== 'function' || typeof client.duplicate !== 'function') {
    throw invalidArgument('options.client must be an ioredis client (Redis or Cluster)');
  }
  const layout = createKeyLayout(options.keyPrefix ?? 'ironflow', options.partitions ?? 1);
  const { prefix, partitions } = layout;
  const clientPrefix = client.options?.keyPrefix;
  if (clientPrefix !== undefined && clientPrefix !== '') {
    throw new StoreError(
      'configuration',
      `The ioredis client sets keyPrefix "${clientPrefix}"; Lua scripts derive keys themselves, so use the store's keyPrefix option instead`,
    );
  }
  const listeners = new Set<WakeUpListener>();
  let subscriber: RedisSubscriberLike | undefined;
  let ready: Promise<void> | undefined;

  async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (isIronflowError(error)) throw error;
      throw classifyRedisError(error, operation);
    }
  }
  const run = (script: LuaScript, keys: readonly string[], args: readonly (string | number)[], operation: string) =>
    call(operation, () => runScript(client, script, keys, args));
  const protocol: ProtocolContext = { layout, run, newToken: randomToken };

  async function checkEvictionPolicy(): Promise<void> {
    let reply: unknown;
    try {
      reply = await client.config('GET', 'maxmemory-policy');
    } catch (error) {
      const classified = classifyRedisError(error, 'setup');
      if (classified.retryable) throw classified;
      logger?.warn({ err: classified }, 'ironflow redis store: cannot read maxmemory-policy (CONFIG is disabled?); make sure it is noeviction');
      return;
    }
    const policy = Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined;
    if (policy === undefined) {
      logger?.warn({ reply }, 'ironflow redis store: CONFIG GET maxmemory-policy returned nothing; make sure it is noeviction');
      return;
    }
    if (policy === 'noeviction') return;
    const message =
      `Redis maxmemory-policy is "${policy}": under memory pressure Redis would silently delete workflow data. ` +
      'Set maxmemory-policy noeviction (or pass allowEviction: true to accept the risk)';
    if (options.allowEviction === true) logger?.warn({ maxmemoryPolicy: policy }, message);
    else throw new StoreError('configuration', message, { details: { maxmemoryPolicy: policy } });
  }

  async function doSetup(): Promise<void> {
    await call('setup', () => loadScripts(client, SCRIPTS));
    await checkEvictionPolicy();
    const recorded = Number(await run(CLAIM_SETTINGS, [layout.meta], [`{${prefix}}`, partitions], 'setup'));
    if (recorded !== partitions) {
      throw new StoreError(
        'configuration',
        `Key prefix "${prefix}" was set up with ${recorded} partitions, but this store is configured with ${partitions}. ` +
          'Changing the partition count strands existing data; use the recorded count or a new prefix',
        { details: { keyPrefix: prefix, recorded, configured: partitions } },
      );
    }
  }

  function ensureReady(): Promise<void> {
    ready ??= doSetup().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  }

  function wakeAll(kinds: readonly WorkKind[]): void {
    for (const kind of kinds) {
      for (const listener of [...listeners]) {
        try {
          listener(kind);
        } catch (error) {
          logger?.warn({ err: error }, 'ironflow redis store: a wake-up listener threw');
        }
      }
    }
  }

  /** A duplicate connection in subscriber mode; after a reconnect everyone is woken once, since messages sent meanwhile are lost. */
  function openSubscriber(): RedisSubscriberLike {
    const connection = client.duplicate();
    let connections = 0;
    connection.on('message', (channel, message) => {
      if (channel === layout.channel && (message === 'effect' || message === 'timer')) wakeAll([message]);
    });
    connection.on('ready', () => {
      connections += 1;
      if (connections > 1) wakeAll(['effect', 'timer']);
    });
    connection.on('error', (error) => logger?.warn({ err: error }, 'ironflow redis store: wake-up connection error (it reconnects)'));
    connection.subscribe(layout.channel).catch((error: unknown) =>
      logger?.warn({ err: error }, 'ironflow redis store: subscribing to wake-ups failed; workers fall back to polling'),
    );
    return connection;
  }

  async function closeSubscriber(): Promise<void> {
    const connection = subscriber;
    subscriber = undefined;
    if (connection === undefined) return;
    try {
      await connection.quit();
    } catch {
      connection.disconnect();
    }
  }

  const home = (ref: WorkflowRef): PartitionKeys => layout.partition(layout.partitionOf(ref.type, ref.id));
  const allPartitions = (): PartitionKeys[] => Array.from({ length: partitions }, (_, p) => layout.partition(p));

  async function resolveAll(found: readonly PendingHandoff[], now: number): Promise<void> {
    const seen = new Set<string>();
    for (const handoff of found) {
      const key = `${handoff.kind}:${handoff.id}:${handoff.token}`;
      if (seen.has(key)) continue;
      seen.add(key);
      await resolveHandoff(protocol, handoff, now);
    }
  }

  /** Reads `{kind, id, token, target}` quadruples from a HANDOFF reply of a script run in `partition`. */
  function handoffsOf(reply: ScriptReply, partition: number, from = 1): PendingHandoff[] {
    const out: PendingHandoff[] = [];
    for (let i = from; i + 3 < reply.length; i += 4) {
      out.push({ kind: String(reply[i]) as KindLetter, id: String(reply[i + 1]), token: String(reply[i + 2]), partition, target: Number(reply[i + 3]) });
    }
    return out;
  }

  async function commit(raw: CommitRequest): Promise<void> {
    const request = checkCommit(raw);
    const { ref, now, expectedVersion } = request;
    const partition = layout.partitionOf(ref.type, ref.id);
    const keys = layout.partition(partition);
    const newVersion = expectedVersion + request.events.length;

    // Encode everything before the first call, so bad values write nothing.
    const events = request.events.map((event, i) => encodeEvent(event, i));
    const effects = request.effects.flatMap((effect, i) => [effect.id, encodeJson(effect.payload, `effects[${i}].payload`)]);
    const timers = request.timers.flatMap((timer, i) => [timer.id, timer.key ?? '', String(timer.fireAt), encodeJson(timer.input, `timers[${i}].input`)]);
    const idempotency =
      request.idempotencyKey === undefined ? '' : encodeJson({ version: newVersion, eventCount: request.events.length, committedAt: now }, 'idempotency record');
    const snapshot = request.snapshot === undefined ? '' : encodeJson(request.snapshot, 'snapshot');
    const observation = request.observation === undefined ? '' : encodeJson(request.observation, 'observation');
    const ack = request.ack;
    const ackError = ack?.outcome === 'dead' && ack.error !== undefined ? encodeJson(ack.error, 'ack.error') : '';

    let ackMode: '' | 'local' | 'remote' = '';
    let ackPartition = partition;
    if (ack !== undefined) {
      const issued = leasePartition(ack.token, partitions);
      if (issued === undefined) throw new LeaseLostError(ack.kind, ack.id);
      ackPartition = issued;
      ackMode = issued === partition ? 'local' : 'remote';
    }

    await ensureReady();
    if (ack !== undefined && ackMode === 'remote') await prepareHandoff(protocol, ack, ackPartition, partition, now);

    let uniqueMode = '';
    let uniqueArg = '';
    let uniqueRecord = keys.instance(ref.type, ref.id);
    if (request.uniqueKey !== undefined) {
      if (partitions === 1) {
        uniqueMode = 'claim';
        uniqueRecord = keys.unique(ref.type, request.uniqueKey);
      } else {
        const plan = await reserveUniqueKey(protocol, ref, request.uniqueKey);
        uniqueMode = plan.mode;
        uniqueArg = plan.mode === 'check' ? plan.token : plan.holder;
        uniqueRecord = keys.uniqueBlocks(ref.type, ref.id);
      }
    }

    const keyOf: Record<(typeof COMMIT_KEYS)[number], string> = {
      instance: keys.instance(ref.type, ref.id),
      events: keys.events(ref.type, ref.id),
      idempotency: keys.idempotency(ref.type, ref.id),
      observations: keys.observations(ref.type, ref.id),
      ownedEffects: keys.owned('e', ref.type, ref.id),
      ownedTimers: keys.owned('t', ref.type, ref.id),
      timerKeys: keys.timerKeys(ref.type, ref.id),
      activeAll: keys.instances('active'),
      activeOfType: keys.instances('active', ref.type),
      completedAll: keys.instances('completed'),
      completedOfType: keys.instances('completed', ref.type),
      pendingEffects: keys.pending('e', ref.type),
      pendingTimers: keys.pending('t', ref.type),
      leasedTimers: keys.leased('t', ref.type),
      finishedTimers: keys.finished('t'),
      unique: uniqueRecord,
      handoffs: ack === undefined ? keys.instance(ref.type, ref.id) : keys.handoffs(kindLetter(ack.kind), ack.id),
    };
    const scriptKeys = COMMIT_KEYS.map((name) => keyOf[name]);
    const args: (string | number)[] = [
      keys.tag,
      ref.type,
      ref.id,
      expectedVersion,
      newVersion,
      now,
      request.completed ? '1' : '0',
      instanceMember(now, ref.type, ref.id),
      layout.channel,
      uniqueMode,
      request.uniqueKey ?? '',
      uniqueArg,
      request.idempotencyKey ?? '',
      idempotency,
      request.snapshot === undefined ? '' : request.snapshot.version,
      snapshot,
      observation,
      ackMode,
      ack === undefined ? '' : kindLetter(ack.kind),
      ack?.id ?? '',
      ack?.token ?? '',
      ack?.outcome ?? '',
      ackError,
      ack === undefined ? '' : deadMember(now, ack.id),
      ack === undefined ? '' : handoffRecord(ack),
      randomToken(),
      request.events.length,
      request.effects.length,
      request.cancelTimers.length,
      request.timers.length,
      ...events,
      ...effects,
      ...request.cancelTimers,
      ...timers,
    ];

    for (let round = 0; round < HANDOFF_ROUNDS; round++) {
      const reply = (await run(COMMIT, scriptKeys, args, 'commit')) as ScriptReply;
      switch (reply[0]) {
        case 'OK': {
          if (ack !== undefined && ackMode === 'remote') {
            await finalizeHandoff(protocol, ack, ackPartition, now).catch((error: unknown) =>
              logger?.warn({ err: error, kind: ack.kind, id: ack.id }, 'ironflow redis store: settling a handed-off acknowledgement failed; the next claim settles it'),
            );
          }
          const released = reply[1];
          if (partitions > 1 && typeof released === 'string') {
            await releaseUniqueKey(protocol, ref.type, released, ref.id).catch((error: unknown) =>
              logger?.warn({ err: error, uniqueKey: released }, 'ironflow redis store: releasing a unique key failed; the next claimant frees it'),
            );
          }
          return;
        }
        case 'LEASE_LOST':
          throw new LeaseLostError(ack?.kind ?? 'effect', ack?.id ?? '');
        case 'VERSION_CONFLICT':
          throw new VersionConflictError(ref.type, ref.id, expectedVersion, { actualVersion: Number(reply[1]) });
        case 'UNIQUE_KEY_CONFLICT': {
          const key = request.uniqueKey ?? '';
          const holder = typeof reply[1] === 'string' ? reply[1] : await currentHolder(ref.type, key);
          throw new UniqueKeyConflictError(ref.type, key, holder);
        }
        case 'DUPLICATE_ID':
          throw invalidArgument(`The ${String(reply[1])} id ${JSON.stringify(reply[2])} already exists`, { kind: reply[1], id: reply[2] });
        case 'HANDOFF':
          await resolveAll(handoffsOf(reply, partition), now);
          break;
        default:
          throw new StoreError('integrity', `Unexpected reply from the commit script: ${JSON.stringify(reply)}`);
      }
    }
    throw new StoreError('transient', `Commit to ${ref.type}:${ref.id} kept meeting unresolved acknowledgements; retry`);
  }

  async function currentHolder(type: string, key: string): Promise<string | undefined> {
    const record = layout.partition(layout.uniquePartitionOf(type, key)).unique(type, key);
    const [holder] = await call('commit', () => client.hmget(record, 'id'));
    return holder ?? undefined;
  }

  function claimedOf<T extends EffectRecord | TimerRecord>(kind: WorkKind, row: unknown): Claimed<T> {
    const fields = fieldsOf(row);
    const record = decodeWorkItem(kind, fields) as T;
    return { ...record, lease: { kind, id: record.id, token: fields.lt ?? '' }, recovered: false };
  }

  const byAvailable = (a: { availableAt: number; id: string }, b: { availableAt: number; id: string }) =>
    a.availableAt - b.availableAt || compareBytes(a.id, b.id);

  async function claim<T extends EffectRecord | TimerRecord>(kind: WorkKind, raw: ClaimRequest): Promise<Claimed<T>[]> {
    const { request, types } = checkClaim(raw);
    if (types.length === 0 || request.limit === 0) return [];
    await ensureReady();
    const k = kindLetter(kind);
    const expires = request.now + request.leaseMs;
    const owner = encodeJson(request.owner, 'claim.owner');

    const claimIn = async (partition: number, limit: number, dry: boolean, found: PendingHandoff[]) => {
      const keys = layout.partition(partition);
      const queues = types.flatMap((type) => [keys.pending(k, type), keys.leased(k, type)]);
      const reply = (await run(
        CLAIM,
        queues,
        [keys.tag, k, request.now, limit, expires, owner, `${partition}.${randomToken()}`, dry ? '1' : '0'],
        'claim',
      )) as [unknown[], unknown[]];
      const handoffs = reply[1];
      for (let i = 0; i + 2 < handoffs.length; i += 3) {
        found.push({ kind: k, id: String(handoffs[i]), token: String(handoffs[i + 1]), partition, target: Number(handoffs[i + 2]) });
      }
      return reply[0];
    };

    const claimUpTo = async (limit: number, found: PendingHandoff[]): Promise<Claimed<T>[]> => {
      let plan: [number, number][] = [[0, limit]];
      if (partitions > 1) {
        // Peek every partition, merge by (availableAt, id), then claim the share each one holds of
        // the globally oldest rows: claims follow the contract's order and no partition starves.
        const peeks = await Promise.all(
          allPartitions().map(async (_, partition) =>
            (await claimIn(partition, limit, true, found)).map((pair) => {
              const [id, availableAt] = pair as [string, string];
              return { partition, id, availableAt: Number(availableAt) };
            }),
          ),
        );
        const share = new Map<number, number>();
        for (const c of peeks.flat().sort(byAvailable).slice(0, limit)) share.set(c.partition, (share.get(c.partition) ?? 0) + 1);
        plan = [...share.entries()];
      }
      // Rows leased in one partition are returned even if another partition's call failed, so
      // their leases are not left to expire unused; only when every call failed does the claim throw.
      const settled = await Promise.allSettled(plan.map(([partition, n]) => claimIn(partition, n, false, found)));
      const failed = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length > 0 && failed.length === settled.length) throw failed[0]?.reason;
      for (const f of failed) logger?.warn({ err: f.reason }, 'ironflow redis store: claiming in one partition failed');
      return settled.flatMap((r) => (r.status === 'fulfilled' ? r.value : [])).map((row) => claimedOf<T>(kind, row));
    };

    const found: PendingHandoff[] = [];
    const claimed = await claimUpTo(request.limit, found);
    if (found.length > 0) {
      // Rows whose lease expired mid-handoff: settle them (acknowledged) or free them (revoked),
      // then claim the freed ones in the same call.
      try {
        await resolveAll(found, request.now);
        if (claimed.length < request.limit) claimed.push(...(await claimUpTo(request.limit - claimed.length, [])));
      } catch (error) {
        logger?.warn({ err: error }, 'ironflow redis store: resolving an interrupted cross-partition acknowledgement failed; the next claim retries');
      }
    }
    return claimed.sort(byAvailable);
  }

  async function settle(raw: Lease, now: number, op: 'renew' | 'complete' | 'retry' | 'dead' | 'release', arg = '', error = ''): Promise<void> {
    const lease = checkLease(raw);
    checkTime(now, 'now');
    const partition = leasePartition(lease.token, partitions);
    if (partition === undefined) throw new LeaseLostError(lease.kind, lease.id);
    await ensureReady();
    const keys = layout.partition(partition);
    const k = kindLetter(lease.kind);
    const operation = op === 'dead' ? 'deadLetter' : op === 'renew' ? 'renewLease' : op;
    for (let round = 0; round < HANDOFF_ROUNDS; round++) {
      const reply = (await run(
        SETTLE,
        [keys.item(k, lease.id)],
        [keys.tag, k, lease.id, lease.token, now, op, arg, error, deadMember(now, lease.id), layout.channel],
        operation,
      )) as ScriptReply;
      if (reply[0] === 'OK') return;
      if (reply[0] === 'LEASE_LOST') throw new LeaseLostError(lease.kind, lease.id);
      await resolveAll(handoffsOf(reply, partition), now);
    }
    throw new StoreError('transient', `The lease on ${lease.kind} ${lease.id} kept meeting unresolved acknowledgements; retry`);
  }

  async function rowsOf(keys: PartitionKeys, kind: WorkKind, ref: WorkflowRef): Promise<(EffectRecord | TimerRecord)[]> {
    const k = kindLetter(kind);
    const rows = (await run(OWNED_ROWS, [keys.owned(k, ref.type, ref.id)], [keys.tag, k], `list ${kind}s`)) as unknown[];
    return rows.map((row) => decodeWorkItem(kind, fieldsOf(row)));
  }

  async function fetchItems(kind: WorkKind, wanted: readonly { partition: number; id: string }[]): Promise<(EffectRecord | TimerRecord)[]> {
    const k = kindLetter(kind);
    const rows = await Promise.all(
      wanted.map(({ partition, id }) => call('list dead letters', () => client.hgetall(layout.partition(partition).item(k, id)))),
    );
    return rows.filter((fields) => fields.st !== undefined).map((fields) => decodeWorkItem(kind, fields));
  }

  const byDeadOrder = (a: EffectRecord | TimerRecord, b: EffectRecord | TimerRecord) =>
    compareBytes(deadMember(a.updatedAt, a.id), deadMember(b.updatedAt, b.id));

  /** Dead letters of one workflow id (and maybe type): read from the instance or the dead indexes, then filtered. */
  async function deadOfInstance(query: Omit<DeadLetterQuery, 'limit' | 'offset'>, workflowId: string): Promise<(EffectRecord | TimerRecord)[]> {
    const k = kindLetter(query.kind);
    let rows: (EffectRecord | TimerRecord)[];
    if (query.workflowType !== undefined) {
      const ref = { type: query.workflowType, id: workflowId };
      rows = await rowsOf(home(ref), query.kind, ref);
    } else {
      const lists = await Promise.all(
        allPartitions().map(async (keys, partition) =>
          (await call('list dead letters', () => client.zrangebylex(keys.dead(k), '-', '+', 'LIMIT', 0, -1))).map((m) => ({ partition, id: m.slice(16) })),
        ),
      );
      rows = await fetchItems(query.kind, lists.flat());
    }
    return rows.filter((row) => row.status === 'dead' && row.workflowId === workflowId).sort(byDeadOrder);
  }

  function checkDeadQuery(query: unknown): Omit<DeadLetterQuery, 'limit' | 'offset'> {
    if (typeof query !== 'object' || query === null) throw invalidArgument('the dead-letter query must be an object');
    const q = query as DeadLetterQuery;
    checkKind(q.kind);
    if (q.workflowType !== undefined) checkName(q.workflowType, 'workflowType');
    if (q.workflowId !== undefined) checkName(q.workflowId, 'workflowId');
    return q;
  }

  const store: RedisStore = {
    name: 'redis',
    keyPrefix: prefix,
    partitions,
    channel: layout.channel,
    setup: ensureReady,

    async load(rawRef, loadOptions = {}): Promise<LoadedInstance> {
      const ref = checkRef(rawRef);
      const key = loadOptions.idempotencyKey === undefined ? undefined : checkName(loadOptions.idempotencyKey, 'idempotencyKey');
      await ensureReady();
      const keys = home(ref);
      const reply = (await run(
        LOAD,
        [keys.instance(ref.type, ref.id), keys.events(ref.type, ref.id), keys.idempotency(ref.type, ref.id)],
        [keys.tag, key ?? ''],
        'load',
      )) as [string, string, string | null, string | null, string | null, string[]];
      const from = reply[2] === null ? 0 : Number(reply[2]);
      const snapshot = reply[3] === null ? undefined : (decodeJson(reply[3], 'snapshot') as Snapshot);
      const idempotent =
        reply[4] === null || key === undefined ? undefined : ({ key, ...(decodeJson(reply[4], 'idempotency record') as object) } as IdempotencyRecord);
      return {
        version: Number(reply[0]),
        completed: reply[1] === '1',
        events: reply[5].map((text, i) => decodeEvent(ref, from + i + 1, text)),
        ...(snapshot === undefined ? {} : { snapshot }),
        ...(idempotent === undefined ? {} : { idempotent }),
      };
    },

    commit,

    async recordObservation(raw: Observation): Promise<void> {
      const observation = checkObservation(raw);
      const text = encodeJson(observation, 'observation');
      await ensureReady();
      const ref = { type: observation.workflowType, id: observation.workflowId };
      await call('recordObservation', () => client.rpush(home(ref).observations(ref.type, ref.id), text));
    },

    claimEffects: (request) => claim<EffectRecord>('effect', request),
    claimTimers: (request) => claim<TimerRecord>('timer', request),

    async nextTimerAt(rawTypes): Promise<number | undefined> {
      if (!Array.isArray(rawTypes)) throw invalidArgument('types must be an array of workflow types');
      const types = [...new Set(rawTypes.map((t, i) => checkName(t, `types[${i}]`)))];
      if (types.length === 0) return undefined;
      await ensureReady();
      const found = await Promise.all(
        allPartitions().map((keys) => run(NEXT_TIMER, types.map((type) => keys.pending('t', type)), [keys.tag], 'nextTimerAt')),
      );
      const times = found.filter((v): v is string => typeof v === 'string').map(Number);
      return times.length === 0 ? undefined : Math.min(...times);
    },

    async renewLease(lease, now, leaseMs) {
      checkTime(now, 'now');
      checkCount(leaseMs, 'leaseMs');
      await settle(lease, now, 'renew', String(checkTime(now + leaseMs, 'now + leaseMs')));
    },
    complete: (lease, now) => settle(lease, now, 'complete'),
    async retry(lease, now, retryAt, error) {
      await settle(lease, now, 'retry', String(checkTime(retryAt, 'retryAt')), encodeJson(checkText(error, 'error'), 'error'));
    },
    async deadLetter(lease, now, error) {
      await settle(lease, now, 'dead', '', encodeJson(checkText(error, 'error'), 'error'));
    },
    release: (lease, now) => settle(lease, now, 'release'),

    async listDeadLetters(query): Promise<(EffectRecord | TimerRecord)[]> {
      const q = checkDeadQuery(query);
      const limit = checkCount(query.limit ?? 100, 'limit');
      const offset = checkCount(query.offset ?? 0, 'offset');
      await ensureReady();
      if (q.workflowId !== undefined) return (await deadOfInstance(q, q.workflowId)).slice(offset, offset + limit);
      if (limit === 0) return [];
      const k = kindLetter(q.kind);
      const lists = await Promise.all(
        allPartitions().map(async (keys, partition) =>
          (await call('listDeadLetters', () => client.zrangebylex(keys.dead(k, q.workflowType), '-', '+', 'LIMIT', 0, offset + limit))).map(
            (member) => ({ partition, member }),
          ),
        ),
      );
      const page = lists
        .flat()
        .sort((a, b) => compareBytes(a.member, b.member))
        .slice(offset, offset + limit);
      return fetchItems(
        q.kind,
        page.map(({ partition, member }) => ({ partition, id: member.slice(16) })),
      );
    },

    async countDeadLetters(query): Promise<number> {
      const q = checkDeadQuery(query);
      await ensureReady();
      if (q.workflowId !== undefined) return (await deadOfInstance(q, q.workflowId)).length;
      const k = kindLetter(q.kind);
      const counts = await Promise.all(allPartitions().map((keys) => call('countDeadLetters', () => client.zcard(keys.dead(k, q.workflowType)))));
      return counts.reduce((sum, n) => sum + n, 0);
    },

    async redrive(kind, rawId, now): Promise<boolean> {
      checkKind(kind);
      const id = checkName(rawId, 'id');
      checkTime(now, 'now');
      await ensureReady();
      const k = kindLetter(kind);
      for (const keys of allPartitions()) {
        const verdict = await run(REDRIVE, [keys.item(k, id)], [keys.tag, k, id, now, layout.channel], 'redrive');
        if (verdict === 'ok') return true;
        if (verdict === 'refused') return false;
      }
      return false;
    },

    async purge(olderThan): Promise<PurgeResult> {
      checkTime(olderThan, 'olderThan');
      await ensureReady();
      let effects = 0;
      let timers = 0;
      for (const keys of allPartitions()) {
        for (;;) {
          const reply = (await run(PURGE, [keys.finished('e'), keys.finished('t')], [keys.tag, olderThan, PURGE_BATCH], 'purge')) as [
            number,
            number,
            number,
            number,
            unknown[],
          ];
          effects += reply[0];
          timers += reply[1];
          const elsewhere = reply[4];
          for (let i = 0; i + 2 < elsewhere.length; i += 3) {
            const k = String(elsewhere[i]) as KindLetter;
            const id = String(elsewhere[i + 1]);
            const targets = String(elsewhere[i + 2]).split(',').filter(Boolean).map(Number);
            for (const target of targets) {
              await call('purge', () => client.del(layout.partition(target).handoffs(k, id)));
            }
          }
          if (reply[2] < PURGE_BATCH && reply[3] < PURGE_BATCH) break;
        }
      }
      return { effects, timers };
    },

    async readEvents(rawRef, readOptions = {}): Promise<StoredEvent[]> {
      const ref = checkRef(rawRef);
      const from = checkCount(readOptions.fromSequence ?? 1, 'fromSequence');
      await ensureReady();
      const start = Math.max(from, 1) - 1;
      const texts = await call('readEvents', () => client.lrange(home(ref).events(ref.type, ref.id), start, -1));
      return texts.map((text, i) => decodeEvent(ref, start + i + 1, text));
    },

    async listInstances(query: InstanceQuery = {}): Promise<InstanceSummary[]> {
      const type = query.workflowType === undefined ? undefined : checkName(query.workflowType, 'workflowType');
      if (query.status !== undefined && query.status !== 'active' && query.status !== 'completed') {
        throw invalidArgument(`status must be 'active' or 'completed', got ${String(query.status)}`);
      }
      const limit = checkCount(query.limit ?? 100, 'limit');
      const offset = checkCount(query.offset ?? 0, 'offset');
      if (limit === 0) return [];
      await ensureReady();
      const statuses = query.status === undefined ? (['active', 'completed'] as const) : [query.status];
      const lists = await Promise.all(
        allPartitions().flatMap((keys) =>
          statuses.map((status) =>
            call('listInstances', () => client.zrangebylex(keys.instances(status, type), '-', '+', 'LIMIT', 0, offset + limit)),
          ),
        ),
      );
      const page = lists.flat().sort(compareBytes).slice(offset, offset + limit);
      const rows = await Promise.all(
        page.map(async (member) => {
          const ref = parseInstanceMember(member);
          const [version, completed, createdAt, updatedAt] = await call('listInstances', () =>
            client.hmget(home(ref).instance(ref.type, ref.id), 'v', 'c', 'ca', 'ua'),
          );
          if (version === null || version === undefined) return undefined;
          const summary: InstanceSummary = {
            workflowType: ref.type,
            workflowId: ref.id,
            version: Number(version),
            status: completed === '1' ? 'completed' : 'active',
            createdAt: Number(createdAt),
            updatedAt: Number(updatedAt),
          };
          return summary;
        }),
      );
      return rows.filter((row): row is InstanceSummary => row !== undefined);
    },

    async listEffects(rawRef): Promise<EffectRecord[]> {
      const ref = checkRef(rawRef);
      await ensureReady();
      return (await rowsOf(home(ref), 'effect', ref)) as EffectRecord[];
    },

    async listTimers(rawRef): Promise<TimerRecord[]> {
      const ref = checkRef(rawRef);
      await ensureReady();
      return (await rowsOf(home(ref), 'timer', ref)) as TimerRecord[];
    },

    async listObservations(rawRef): Promise<Observation[]> {
      const ref = checkRef(rawRef);
      await ensureReady();
      const texts = await call('listObservations', () => client.lrange(home(ref).observations(ref.type, ref.id), 0, -1));
      return texts.map((text) => decodeJson(text, 'observation') as Observation);
    },

    subscribe(listener: WakeUpListener): () => void {
      if (typeof listener !== 'function') throw invalidArgument('subscribe needs a listener function');
      listeners.add(listener);
      subscriber ??= openSubscriber();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) void closeSubscriber();
      };
    },

    async close(): Promise<void> {
      listeners.clear();
      await closeSubscriber();
    },
  };
  return store;
}
