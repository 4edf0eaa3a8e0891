// Shared state and builders for the conformance cases: the suite's store and namespace, more
// stores on demand, and one fresh workflow type per test (claims filter by type, so tests cannot
// see each other's work).
import { expect } from 'vitest';
import { isIronflowError, type IronflowErrorCode, type StoredEvent, type WorkflowRef } from '@ironflow/core';
import type { CommitRequest, NewEffect, NewTimer, WorkflowStore } from '@ironflow/core/store';

/** A store opened by the suite, and what it may do with it. */
export interface OpenedStore {
  readonly store: WorkflowStore;
  /** Closes what `open` opened (the store, its connections); the namespace's data stays. */
  close(): Promise<void>;
  /**
   * Deletes all of the namespace's data and nothing else (drop the schema, delete the key
   * prefix's keys, reset memory). Called on one of two stores opened side by side, so it must
   * provably leave every other namespace alone; `close` is still called afterwards.
   */
  destroy(): Promise<void>;
}

/** Options of `describeStoreConformance`. */
export interface StoreConformanceOptions {
  /** Appears in the suite title: `WorkflowStore conformance (postgres)`. */
  readonly name: string;
  /**
   * Opens a store on `namespace`, a fresh lower-case identifier (`[a-z][a-z0-9_:]*`) chosen by the
   * suite. Stores opened on the same namespace share their data, like two processes on one schema
   * or key prefix; stores on different namespaces never see, claim or delete each other's data.
   * May be called many times; the suite closes (and destroys) everything it opens.
   */
  open(namespace: string): Promise<OpenedStore>;
  /**
   * Pairs of namespace suffixes the tenant-isolation family opens side by side on one backend,
   * as `base + a` and `base + b`; add the overlaps your backend's naming could confuse
   * (e.g. Redis prefixes `X` and `X:p0`).
   * @default [['', '_b'], ['', '_']]
   */
  readonly overlappingNamespaces?: readonly (readonly [string, string])[] | undefined;
  /**
   * How the store orders its event feed: `global` (one order: commits made one after another come
   * in that order, whichever instances they touch) or `per-partition` (each partition ordered on
   * its own, as a partitioned Redis or a Redis Cluster: only events of one instance keep an order).
   * @default 'global'
   */
  readonly feedOrder?: 'global' | 'per-partition' | undefined;
  /** Store-specific tests, declared inside the suite's `describe` with the same context. */
  additionalTests?(ctx: ConformanceContext): void;
}

/** The suite's shared state, filled in `beforeAll`. */
export interface ConformanceContext {
  /** The store every family tests, on namespace `namespace`. */
  store: WorkflowStore;
  /** The namespace of `store`. */
  namespace: string;
  /** Opens another store (same namespace: shared data; another one: isolated); closed and destroyed after the suite. */
  open(namespace: string): Promise<WorkflowStore>;
  /** Destroys a namespace opened through `open` (the data of every store on it). */
  destroy(namespace: string): Promise<void>;
  /** The options the suite was declared with. */
  readonly options: StoreConformanceOptions;
}

/** Base time of every case: the store never reads a clock, so tests pass times in. */
export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

let typeCounter = 0;
/** A workflow type no other test uses. */
export function freshType(label = 'wf'): string {
  typeCounter += 1;
  return `conf.${label}.${typeCounter}.${Math.random().toString(36).slice(2, 8)}`;
}

let idCounter = 0;
/** A fresh, sortable id for effects and timers. */
export function freshId(prefix = 'x'): string {
  idCounter += 1;
  return `${prefix}-${String(idCounter).padStart(8, '0')}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Events for a commit at `from`, with payloads `{ type, n }`. */
export function eventsFor(ref: WorkflowRef, from: number, count: number, now = T0, type = 'Happened'): StoredEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    workflowType: ref.type,
    workflowId: ref.id,
    sequence: from + i + 1,
    type,
    payload: { type, n: from + i + 1 },
    metadata: { decidedAt: now, inputType: 'test' },
    recordedAt: now,
  }));
}

/** A commit request with sensible defaults; fields given override them. */
export function commitOf(
  ref: WorkflowRef,
  expectedVersion: number,
  fields: Partial<Omit<CommitRequest, 'ref' | 'expectedVersion'>> & { eventCount?: number } = {},
): CommitRequest {
  const now = fields.now ?? T0;
  const { eventCount, ...rest } = fields;
  return {
    ref,
    expectedVersion,
    now,
    events: fields.events ?? eventsFor(ref, expectedVersion, eventCount ?? 1, now),
    effects: [],
    cancelTimers: [],
    timers: [],
    completed: false,
    ...rest,
  };
}

/** An effect with a fresh id. */
export function effect(payload: unknown = { type: 'do-it' }): NewEffect {
  return { id: freshId('e'), payload };
}

/** A timer with a fresh id. */
export function timer(fireAt: number, input: unknown = { type: 'tick' }, key?: string): NewTimer {
  return key === undefined ? { id: freshId('t'), fireAt, input } : { id: freshId('t'), fireAt, input, key };
}

/** Claim arguments with defaults (lease 30 s, limit 10). */
export function claimArgs(types: readonly string[], now = T0, fields: { limit?: number; leaseMs?: number; owner?: string } = {}) {
  return { now, types, limit: fields.limit ?? 10, leaseMs: fields.leaseMs ?? 30_000, owner: fields.owner ?? 'conformance' };
}

/** Asserts that `promise` rejects with an IronflowError of `code`. */
export async function expectCode(promise: Promise<unknown>, code: IronflowErrorCode): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a rejection with ${code}`).toBeDefined();
  expect(isIronflowError(caught, code), `expected ${code}, got ${String(caught)}`).toBe(true);
}

/** Runs `fn` `n` times concurrently. */
export function concurrently<T>(n: number, fn: (i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  return Promise.allSettled(Array.from({ length: n }, (_, i) => fn(i)));
}
