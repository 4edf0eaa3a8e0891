// Key layout of the Redis store. Every key of partition n starts with the hash tag
// `{<prefix>:p<n>}`, so a commit, a claim or a lease change touches exactly one cluster slot.
import { invalidArgument } from '@ironflow/core/store';

/** Work item kinds as they appear inside keys: `e` effects, `t` timers. */
export type KindLetter = 'e' | 't';

const PREFIX_PATTERN = /^[A-Za-z0-9:_.-]{1,64}$/;
/** The largest partition count; Redis Cluster has 16384 slots, far more than any deployment needs. */
export const MAX_PARTITIONS = 1024;
/** Inverted times in sort keys are `LEX_TIME_BASE - t`, zero-padded to 16 digits (t ≤ 2^53). */
const LEX_TIME_BASE = 9_999_999_999_999_999n;

/** Checks a key prefix: 1 to 64 of `A-Z a-z 0-9 : _ . -`, so it can never open or close a hash tag. */
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

/** Byte length of a string in UTF-8, which is what Lua's `#` measures. */
export function utf8Length(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/**
 * Encodes a (type, id) pair without ambiguity: `<utf8 length of type>:<type>:<id>`. The id comes
 * last, so any characters in it (`:`, `{`, `}`, `*`, newlines) cannot be confused with structure.
 */
export function refSegment(type: string, id: string): string {
  return `${utf8Length(type)}:${type}:${id}`;
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

/** Escapes a string for a Redis glob pattern (SCAN MATCH), so it only ever matches itself. */
export function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\^]/g, (c) => `\\${c}`);
}

/** Sort key that orders newest first: the inverted time, fixed width. */
export function invertedTime(epochMs: number): string {
  return (LEX_TIME_BASE - BigInt(epochMs)).toString().padStart(16, '0');
}

/** Member of an instance listing index: newest `updatedAt` first, then type, then id (NUL never occurs in either). */
export function instanceMember(updatedAt: number, type: string, id: string): string {
  return `${invertedTime(updatedAt)}${type}\u0000${id}`;
}

/** Reads (type, id) back out of an instance listing member. */
export function parseInstanceMember(member: string): { type: string; id: string } {
  const rest = member.slice(16);
  const nul = rest.indexOf('\u0000');
  return { type: rest.slice(0, nul), id: rest.slice(nul + 1) };
}

/** Member of a dead-letter index: newest `updatedAt` first, then id. */
export function deadMember(updatedAt: number, id: string): string {
  return `${invertedTime(updatedAt)}${id}`;
}

/** Compares two strings in UTF-8 byte order, the order Redis sorts members in. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The partition a lease token was issued in (tokens are `<partition>.<random>.<n>`), or undefined. */
export function leasePartition(token: string, partitions: number): number | undefined {
  const match = /^(\d{1,4})\.[A-Za-z0-9_-]+\.\d+$/.exec(token);
  if (match === null) return undefined;
  const partition = Number(match[1]);
  return partition < partitions ? partition : undefined;
}

/** Key names of one partition; each starts with the partition's hash tag. */
export interface PartitionKeys {
  /** `{<prefix>:p<n>}`: the hash tag every key of the partition starts with. */
  readonly tag: string;
  /** Hash: version, completion, timestamps, unique key, snapshot of an instance. */
  instance(type: string, id: string): string;
  /** List of event JSON, index = sequence - 1. */
  events(type: string, id: string): string;
  /** Hash: idempotency key → record JSON. */
  idempotency(type: string, id: string): string;
  /** List of observation JSON. */
  observations(type: string, id: string): string;
  /** Sorted set of an instance's effect or timer ids by `createdAt`. */
  owned(kind: KindLetter, type: string, id: string): string;
  /** Hash: timer key → id of the pending or leased timer holding it. */
  timerKeys(type: string, id: string): string;
  /** Hash: unique key → reservation token refused for this instance (partitions > 1). */
  uniqueBlocks(type: string, id: string): string;
  /** Hash: who holds a unique key of a workflow type. */
  unique(type: string, key: string): string;
  /** Hash of one effect or timer. */
  item(kind: KindLetter, id: string): string;
  /** Sorted set of claimable ids of one workflow type by `availableAt`. */
  pending(kind: KindLetter, type: string): string;
  /** Sorted set of leased ids of one workflow type by lease expiry. */
  leased(kind: KindLetter, type: string): string;
  /** Lexicographic index of dead letters, all types or one type. */
  dead(kind: KindLetter, type?: string): string;
  /** Sorted set of finished ids (done, fired, cancelled) by `updatedAt`, for `purge`. */
  finished(kind: KindLetter): string;
  /** Lexicographic index of instances by status, all types or one type. */
  instances(status: 'active' | 'completed', type?: string): string;
  /** Hash: lease token → how a cross-partition acknowledgement ended (this partition is its target). */
  handoffs(kind: KindLetter, id: string): string;
}

/** The whole key layout of one store: prefix, partitions and the partition of every instance. */
export interface KeyLayout {
  readonly prefix: string;
  readonly partitions: number;
  /** Pub/sub channel for wake-ups (channels are not keys and need no hash tag). */
  readonly channel: string;
  /** Hash `{<prefix>}:meta`: settings that must not change for a deployment. */
  readonly meta: string;
  /** The partition an instance lives in. */
  partitionOf(type: string, id: string): number;
  /** The partition a unique key's holder record lives in. */
  uniquePartitionOf(type: string, key: string): number;
  partition(index: number): PartitionKeys;
  /** SCAN MATCH patterns that cover every key of this store and nothing else. */
  patterns(): string[];
}

function partitionKeys(tag: string): PartitionKeys {
  const ref = refSegment;
  return {
    tag,
    instance: (type, id) => `${tag}:i:${ref(type, id)}`,
    events: (type, id) => `${tag}:ev:${ref(type, id)}`,
    idempotency: (type, id) => `${tag}:id:${ref(type, id)}`,
    observations: (type, id) => `${tag}:ob:${ref(type, id)}`,
    owned: (kind, type, id) => `${tag}:i${kind}:${ref(type, id)}`,
    timerKeys: (type, id) => `${tag}:tk:${ref(type, id)}`,
    uniqueBlocks: (type, id) => `${tag}:ub:${ref(type, id)}`,
    unique: (type, key) => `${tag}:u:${ref(type, key)}`,
    item: (kind, id) => `${tag}:${kind}:${id}`,
    pending: (kind, type) => `${tag}:q:${kind}:${type}`,
    leased: (kind, type) => `${tag}:l:${kind}:${type}`,
    dead: (kind, type) => (type === undefined ? `${tag}:d:${kind}` : `${tag}:d:${kind}:${type}`),
    finished: (kind) => `${tag}:f:${kind}`,
    instances: (status, type) => {
      const base = `${tag}:x:${status === 'active' ? 'a' : 'c'}`;
      return type === undefined ? base : `${base}:${type}`;
    },
    handoffs: (kind, id) => `${tag}:h:${kind}:${id}`,
  };
}

/**
 * Builds the key layout of a prefix and partition count (both validated).
 * @example createKeyLayout('orders', 1).patterns() // ['{orders:p0}:*', '{orders}:*']
 */
export function createKeyLayout(keyPrefix: string, partitionCount: number): KeyLayout {
  const prefix = validateKeyPrefix(keyPrefix);
  const partitions = validatePartitions(partitionCount);
  const all = Array.from({ length: partitions }, (_, n) => partitionKeys(`{${prefix}:p${n}}`));
  const pick = (hashed: string) => fnv1a(hashed) % partitions;
  return {
    prefix,
    partitions,
    channel: `${prefix}:wake`,
    meta: `{${prefix}}:meta`,
    partitionOf: (type, id) => pick(refSegment(type, id)),
    uniquePartitionOf: (type, key) => pick(`u:${refSegment(type, key)}`),
    partition(index) {
      const keys = all[index];
      if (keys === undefined) throw new RangeError(`partition ${index} is out of range`);
      return keys;
    },
    patterns: () => [...all.map((p) => `${escapeGlob(p.tag)}:*`), `${escapeGlob(`{${prefix}}`)}:*`],
  };
}
