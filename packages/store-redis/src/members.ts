// Members of the lexicographic indexes (instances, dead letters), pause fields and lease tokens:
// fixed-width inverted times make Redis' byte order the listing order, and tokens carry their partition.
import { randomBytes } from 'node:crypto';

/** Inverted times in sort keys are `LEX_TIME_BASE - t`, zero-padded to 16 digits (t ≤ 2^53). */
const LEX_TIME_BASE = 9_999_999_999_999_999n;
/** Width of the inverted time that starts every member. */
const TIME_WIDTH = 16;

/** Sort key that orders newest first: the inverted time, fixed width. */
export function invertedTime(epochMs: number): string {
  return (LEX_TIME_BASE - BigInt(epochMs)).toString().padStart(TIME_WIDTH, '0');
}

/** Member of an instance listing index: newest `updatedAt` first, then type, then id (NUL never occurs in either). */
export function instanceMember(updatedAt: number, type: string, id: string): string {
  return `${invertedTime(updatedAt)}${type}\u0000${id}`;
}

/** Reads (type, id) back out of an instance listing member. */
export function parseInstanceMember(member: string): { type: string; id: string } {
  const rest = member.slice(TIME_WIDTH);
  const nul = rest.indexOf('\u0000');
  return { type: rest.slice(0, nul), id: rest.slice(nul + 1) };
}

/** Member of a dead-letter index: newest `updatedAt` first, then id. */
export function deadMember(updatedAt: number, id: string): string {
  return `${invertedTime(updatedAt)}${id}`;
}

/** Reads the id back out of a dead-letter member. */
export function deadMemberId(member: string): string {
  return member.slice(TIME_WIDTH);
}

/** 96 random bits, URL-safe: lease tokens and unique-key reservations. */
export function randomToken(): string {
  return randomBytes(12).toString('base64url');
}

// Commit nonces only need to be unique, not unpredictable: 96 random bits drawn once per process,
// then a counter, instead of asking the random source on every commit of a batch.
const NONCE_BASE = randomToken();
let nonces = 0;

/** A value no other commit call carries: the process's random base and a counter. */
export function commitNonce(): string {
  nonces += 1;
  return `${NONCE_BASE}.${nonces.toString(36)}`;
}

/** The start of the lease tokens one claim in `partition` issues: `<partition>.<random>` (the script appends `.<n>`). */
export function leaseTokenBase(partition: number): string {
  return `${partition}.${randomToken()}`;
}

/** The partition a lease token was issued in (tokens are `<partition>.<random>.<n>`), or undefined. */
export function leasePartition(token: string, partitions: number): number | undefined {
  const match = /^(\d{1,4})\.[A-Za-z0-9_-]+\.\d+$/.exec(token);
  if (match === null) return undefined;
  const partition = Number(match[1]);
  return partition < partitions ? partition : undefined;
}

/** Field of a pause in a partition's pause hash: `<type>\0` for a whole type, `<type>\0<id>` for an instance (ids are never empty, NUL never occurs in either). */
export function pauseMember(type: string, id: string | undefined): string {
  return `${type}\u0000${id ?? ''}`;
}

/** Reads the target back out of a pause field. */
export function parsePauseMember(member: string): { type: string; id?: string } {
  const nul = member.indexOf('\u0000');
  const type = member.slice(0, nul);
  const id = member.slice(nul + 1);
  return id === '' ? { type } : { type, id };
}
