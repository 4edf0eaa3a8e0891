// What the Redis-only families share: stores on fresh prefixes with their own clients, torn down
// (destroyed and closed) after the family, and small builders for commits and claims.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll } from 'vitest';
import { isIronflowError, type IronflowErrorCode } from '@ironflow/core';
import type { CommitRequest, StoredEvent, WorkflowRef } from '@ironflow/core/store';
import type { KeyLayout } from '../../src/index.js';
import { openStore, type TestStore } from '../helpers.js';

/** Base time of every case: the store never reads a clock. */
export const T0 = Date.UTC(2026, 0, 1, 12);

/** The server the families run against, and a way to open stores that are torn down afterwards. */
export interface RedisFixture {
  readonly url: string;
  open(options?: Parameters<typeof openStore>[1]): Promise<TestStore>;
}

/** Registers the teardown of every store opened through the fixture; call inside a `describe`. */
export function redisFixture(url: string): RedisFixture {
  const opened: TestStore[] = [];
  afterAll(async () => {
    for (const store of opened) await store.teardown();
  });
  return {
    url,
    async open(options = {}) {
      const store = await openStore(url, options);
      opened.push(store);
      return store;
    },
  };
}

/** `count` events of `ref` after version `from`. */
export function events(ref: WorkflowRef, from: number, count = 1, now = T0): StoredEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    workflowType: ref.type,
    workflowId: ref.id,
    sequence: from + i + 1,
    type: 'Happened',
    payload: { n: from + i + 1 },
    metadata: { decidedAt: now },
    recordedAt: now,
  }));
}

/** A commit of one event with defaults; fields given override them. */
export function commitOf(ref: WorkflowRef, expectedVersion: number, fields: Partial<Omit<CommitRequest, 'ref' | 'expectedVersion'>> = {}): CommitRequest {
  const now = fields.now ?? T0;
  return { ref, expectedVersion, now, events: events(ref, expectedVersion, 1, now), effects: [], cancelTimers: [], timers: [], completed: false, ...fields };
}

/** Claim arguments (lease 30 s, limit 10 unless given). */
export function claimArgs(types: string[], now = T0, leaseMs = 30_000, limit = 10) {
  return { now, types, limit, leaseMs, owner: 'test' };
}

/** The error code a promise rejects with, 'resolved', or 'other' for a non-Ironflow error. */
export async function codeOf(promise: Promise<unknown>): Promise<IronflowErrorCode | 'resolved' | 'other'> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return isIronflowError(error) ? error.code : 'other';
  }
}

/** An id of `type` that lands in `partition`. */
export function idIn(layout: KeyLayout, type: string, partition: number, base: string): string {
  for (let i = 0; ; i++) {
    const id = `${base}-${i}`;
    if (layout.partitionOf(type, id) === partition) return id;
  }
}

/** Polls until something asynchronous happened (a wake-up, a re-subscription); the bound is generous, it only ends a hang. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(10);
  }
}
