// Key layout of the Redis store: which hash tag a key lives under, which partition an instance
// lives in, and the SCAN pattern that covers exactly one prefix's keys. No two prefixes share a key.
//
// Why no two prefixes can share a key or a pattern match. A prefix P is 1-64 of
// `A-Z a-z 0-9 : _ . -`: no `{`, `}`, `#`, and no glob character (`* ? [ ] \ ^`). Every key of P
// starts with `{P}:` (the settings key) or `{P#n}:` (partition n). Redis Cluster's hash tag is
// the text between the first `{` and the first `}`: `P` or `P#n`, and since P has no `}` or `#`,
// P is that text up to its first `#`. So a key names its prefix: keys of different prefixes
// differ. The pattern `{P[#}]*` matches exactly the keys that start with `{P#` or `{P}`; such a
// key's tag starts with P followed by `#` or `}`, so its prefix is P and no other (`X` never
// matches `X:p0`'s keys, nor `X:p0` any of `X`'s). test/keys.test.ts checks hostile pairs.
import { invalidArgument, type InstanceStatus, type ProjectionDeadLetterStatus } from '@ironflow/core/store';
import { fillKey, refSegment } from './key-templates.js';

/** Work item kinds as they appear inside keys and Lua: `e` effects, `t` timers. */
export type KindLetter = 'e' | 't';

const PREFIX_PATTERN = /^[A-Za-z0-9:_.-]{1,64}$/;
/** The largest partition count; Redis Cluster has 16384 slots, far more than any deployment needs. */
export const MAX_PARTITIONS = 1024;

/** Checks a key prefix: 1 to 64 of `A-Z a-z 0-9 : _ . -`, so it can never open or close a hash tag, contain `#` or act as a pattern. */
export function validateKeyPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw invalidArgument(`keyPrefix must be 1 to 64 of A-Z a-z 0-9 : _ . -, got ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

/** Checks a partition count: a whole number from 1 to 1024. */
export function validatePartitions(partitions: unknown): number {
  if (typeof partitions !== 'number' || !Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw invalidArgument(`partitions must be a whole number from 1 to ${MAX_PARTITIONS}, got ${String(partitions)}`);
  }
  return partitions;
}

/** 32-bit FNV-1a over UTF-8 bytes: stable across processes, platforms and versions. */
export function fnv1a(value: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(value, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The hash tag of a key as Redis Cluster computes it (text between the first `{` and the next `}`), or undefined. */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close <= open + 1 ? undefined : key.slice(open + 1, close);
}

/** Key names of one partition; each starts with the partition's hash tag `{<prefix>#<n>}`. */
export interface PartitionKeys {
  /** `{<prefix>#<n>}`: the hash tag every key of the partition starts with. */
  readonly tag: string;
  instance(type: string, id: string): string;
  events(type: string, id: string): string;
  /** The feed stream ids of an instance's events. */
  feedEntries(type: string, id: string): string;
  idempotency(type: string, id: string): string;
  /** Idempotency records by commit time. */
  idempotencyTimes(): string;
  observations(type: string, id: string): string;
  owned(kind: KindLetter, type: string, id: string): string;
  timerKeys(type: string, id: string): string;
  effectKeys(type: string, id: string): string;
  uniqueBlocks(type: string, id: string): string;
  unique(type: string, key: string): string;
  item(kind: KindLetter, id: string): string;
  /** Every effect or timer id, lexicographic. */
  work(kind: KindLetter): string;
  /** The claim queue of timers, or of effects of priority 0, of a type. */
  pending(kind: KindLetter, type: string): string;
  /** The claim queue of effects of a type and a priority other than 0. */
  ranked(priority: number, type: string): string;
  /** The claim queue of effects of a type, priority and tag. */
  tagged(priority: number, type: string, tag: string): string;
  /** The priorities other than 0 in use by effects of a type. */
  priorities(type: string): string;
  /** The pauses the partition's claims obey. */
  pauses(): string;
  leased(kind: KindLetter, type: string): string;
  /** Dead letters of a kind, all types or one type. */
  dead(kind: KindLetter, type?: string): string;
  finished(kind: KindLetter): string;
  /** Instances of a status, all types or one type. */
  instances(status: InstanceStatus, type?: string): string;
  /** Instances of a status by (type, id). */
  names(status: InstanceStatus): string;
  /** Children of an instance (those in this partition). */
  children(type: string, id: string): string;
  handoffs(kind: KindLetter, id: string): string;
  /** The partition's stream of committed events (the global feed). */
  feed(): string;
  /** The names of the projections that live in this partition. */
  projections(): string;
  /** A projection's checkpoint and lease. */
  projection(name: string): string;
  /** One dead letter of a projection. */
  projectionLetter(name: string, id: string): string;
  /** Every dead letter id of a projection, lexicographic, or those of one status. */
  projectionLetters(name: string, status?: ProjectionDeadLetterStatus): string;
}

/** A projection dead letter's status as the letter its index key uses. */
export const LETTER_STATUS: Readonly<Record<ProjectionDeadLetterStatus, 'p' | 'r'>> = { parked: 'p', redriven: 'r' };

/** The whole key layout of one store: prefix, partitions and the partition of every instance. */
export interface KeyLayout {
  readonly prefix: string;
  readonly partitions: number;
  /** Pub/sub channel for wake-ups, `<prefix>:wake` (channels are not keys and need no hash tag). */
  readonly channel: string;
  /** `{<prefix>}`: the hash tag of the settings key. */
  readonly settingsTag: string;
  /** Hash `{<prefix>}:meta`: settings that must not change for a deployment. */
  readonly meta: string;
  /** The partition an instance lives in. */
  partitionOf(type: string, id: string): number;
  /** The partition a unique key's holder record lives in. */
  uniquePartitionOf(type: string, key: string): number;
  /** The partition a projection's checkpoint and dead letters live in: all its keys share that one hash tag. */
  projectionPartitionOf(name: string): number;
  partition(index: number): PartitionKeys;
  /** SCAN MATCH patterns that cover every key of this prefix and no key of another prefix. */
  patterns(): string[];
}

/** An instance status as the letter the instance hash (`s`) and the listing indexes use. */
export const STATUS_LETTERS: Readonly<Record<InstanceStatus, 'a' | 'c' | 'x'>> = { active: 'a', completed: 'c', cancelled: 'x' };

function partitionKeys(tag: string): PartitionKeys {
  return {
    tag,
    instance: (t, id) => fillKey(tag, 'instance', { t, id }),
    events: (t, id) => fillKey(tag, 'events', { t, id }),
    feedEntries: (t, id) => fillKey(tag, 'feedEntries', { t, id }),
    idempotency: (t, id) => fillKey(tag, 'idempotency', { t, id }),
    idempotencyTimes: () => fillKey(tag, 'idempotencyTimes', {}),
    observations: (t, id) => fillKey(tag, 'observations', { t, id }),
    owned: (k, t, id) => fillKey(tag, 'owned', { k, t, id }),
    timerKeys: (t, id) => fillKey(tag, 'timerKeys', { t, id }),
    effectKeys: (t, id) => fillKey(tag, 'effectKeys', { t, id }),
    uniqueBlocks: (t, id) => fillKey(tag, 'uniqueBlocks', { t, id }),
    unique: (t, key) => fillKey(tag, 'unique', { t, key }),
    item: (k, id) => fillKey(tag, 'item', { k, id }),
    work: (k) => fillKey(tag, 'work', { k }),
    pending: (k, t) => fillKey(tag, 'pending', { k, t }),
    ranked: (p, t) => fillKey(tag, 'ranked', { p: String(p), t }),
    tagged: (p, t, g) => fillKey(tag, 'tagged', { p: String(p), t, g }),
    priorities: (t) => fillKey(tag, 'priorities', { t }),
    pauses: () => fillKey(tag, 'pauses', {}),
    leased: (k, t) => fillKey(tag, 'leased', { k, t }),
    dead: (k, t) => (t === undefined ? fillKey(tag, 'deadAll', { k }) : fillKey(tag, 'deadOfType', { k, t })),
    finished: (k) => fillKey(tag, 'finished', { k }),
    instances: (status, t) => {
      const s = STATUS_LETTERS[status];
      return t === undefined ? fillKey(tag, 'instancesAll', { s }) : fillKey(tag, 'instancesOfType', { s, t });
    },
    names: (status) => fillKey(tag, 'names', { s: STATUS_LETTERS[status] }),
    children: (t, id) => fillKey(tag, 'children', { t, id }),
    handoffs: (k, id) => fillKey(tag, 'handoffs', { k, id }),
    feed: () => fillKey(tag, 'feed', {}),
    projections: () => fillKey(tag, 'projections', {}),
    projection: (n) => fillKey(tag, 'projection', { n }),
    projectionLetter: (n, id) => fillKey(tag, 'projectionLetter', { n, id }),
    projectionLetters: (n, status) =>
      status === undefined ? fillKey(tag, 'projectionLetters', { n }) : fillKey(tag, 'projectionLettersOf', { s: LETTER_STATUS[status], n }),
  };
}

/**
 * Builds the key layout of a prefix and partition count (both validated).
 * @example createKeyLayout('orders', 2).partition(1).tag // '{orders#1}'
 */
export function createKeyLayout(keyPrefix: string, partitionCount: number): KeyLayout {
  const prefix = validateKeyPrefix(keyPrefix);
  const partitions = validatePartitions(partitionCount);
  const all = Array.from({ length: partitions }, (_, n) => partitionKeys(`{${prefix}#${n}}`));
  const pick = (hashed: string) => fnv1a(hashed) % partitions;
  return {
    prefix,
    partitions,
    channel: `${prefix}:wake`,
    settingsTag: `{${prefix}}`,
    meta: `{${prefix}}:meta`,
    partitionOf: (type, id) => pick(refSegment(type, id)),
    uniquePartitionOf: (type, key) => pick(`u:${refSegment(type, key)}`),
    projectionPartitionOf: (name) => pick(`p:${name}`),
    partition(index) {
      const keys = all[index];
      if (keys === undefined) throw new RangeError(`partition ${index} is out of range`);
      return keys;
    },
    // One pattern for the settings key and every partition, whatever their count: one SCAN pass.
    // The prefix holds no glob character, so it needs no escaping.
    patterns: () => [`{${prefix}[#}]*`],
  };
}
