// Shared state and builders for the conformance cases: one store per test file, one fresh
// workflow type per test (claims filter by type, so tests cannot see each other's work).
import { expect } from 'vitest';
import { isIronflowError, type IronflowErrorCode, type StoredEvent, type WorkflowRef } from '@ironflow/core';
import type { CommitRequest, NewEffect, NewTimer, WorkflowStore } from '@ironflow/core/store';

/** What a store under test provides. */
export interface StoreUnderTest {
  readonly store: WorkflowStore;
  /** Drops the schema / key prefix / data made for this test file and closes what setup opened. */
  teardown(): Promise<void>;
}

/** Options of `describeStoreConformance`. */
export interface StoreConformanceOptions {
  /** Appears in the suite title: `WorkflowStore conformance (postgres)`. */
  readonly name: string;
  /** Returns a store isolated from every other test file (own schema, key prefix or database). */
  setup(): Promise<StoreUnderTest>;
}

/** Mutable holder filled in `beforeAll`. */
export interface ConformanceContext {
  store: WorkflowStore;
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
