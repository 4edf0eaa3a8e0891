// defineProjection and createEngine refuse a projection they could not run, with INVALID_ARGUMENT at
// start-up: a read model must not find out at its first batch that it was misconfigured.
import { describe, expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine, defineProjection, PROJECTION_RETRY, type EngineOptions, type Projection } from '../src/index.js';
import { counterWorkflow, tallyWorkflow } from './projection-fixtures.js';

const counter = counterWorkflow();
const tally = tallyWorkflow();
const handle = () => undefined;

function refused(run: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(isIronflowError(caught, 'INVALID_ARGUMENT'), String(caught)).toBe(true);
  expect((caught as Error).message).toMatch(message);
}

const engineWith = (options: Partial<EngineOptions>) => () => createEngine({ store: createMemoryStore(), workflows: [counter], ...options });

describe('defineProjection', () => {
  it('fills in the defaults: batches of 100, five tries from 100 ms doubling, not transactional', () => {
    const projection = defineProjection({ name: 'p', handle });
    expect(projection).toMatchObject({ name: 'p', batchSize: 100, retry: PROJECTION_RETRY, transactional: false });
    expect(PROJECTION_RETRY).toEqual({ maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 10_000, jitter: 'full' });
    expect(defineProjection({ name: 'p', handle, retry: { maxAttempts: 2 } }).retry).toEqual({ ...PROJECTION_RETRY, maxAttempts: 2 });
    expect(Object.isFrozen(projection)).toBe(true);
  });

  it.each([
    ['no name', { handle }, /name must be a non-empty string/],
    ['an empty name', { name: '', handle }, /name must be a non-empty string/],
    ['no handle', { name: 'p' }, /handle must be a function/],
    ['an empty workflow list', { name: 'p', handle, workflows: [] }, /workflows must be a non-empty array/],
    ['a workflow that is not one', { name: 'p', handle, workflows: [{ type: 'x' }] }, /workflows\[0\] is not a workflow/],
    ['a workflow twice', { name: 'p', handle, workflows: [counter, counter] }, /names the type "counter" twice/],
    ['an empty event-type list', { name: 'p', handle, eventTypes: [] }, /eventTypes must be a non-empty array/],
    ['an event type that is not a string', { name: 'p', handle, eventTypes: [1] }, /eventTypes\[0\]/],
    ['a batch of 0', { name: 'p', handle, batchSize: 0 }, /batchSize must be a whole number from 1 to 1000, got 0/],
    ['a batch over 1000', { name: 'p', handle, batchSize: 1001 }, /batchSize must be a whole number from 1 to 1000/],
    ['a fractional batch', { name: 'p', handle, batchSize: 1.5 }, /batchSize/],
    ['no tries', { name: 'p', handle, retry: { maxAttempts: 0 } }, /retry.maxAttempts must be a whole number >= 1/],
    ['a retry that is not an object', { name: 'p', handle, retry: 3 }, /retry must be a partial retry policy/],
    ['transactional as text', { name: 'p', handle, transactional: 'yes' }, /transactional must be a boolean/],
  ])('refuses %s', (_, definition, message) => {
    refused(() => defineProjection(definition as never), message);
  });
});

describe('createEngine with projections', () => {
  it('runs the projections it is given and reports them in health', () => {
    const engine = createEngine({ store: createMemoryStore(), workflows: [counter, tally], projections: [defineProjection({ name: 'a', handle }), defineProjection({ name: 'b', workflows: [tally], handle })] });
    expect(Object.keys(engine.health().projections)).toEqual(['a', 'b']);
  });

  it('refuses two projections of one name', () => {
    refused(engineWith({ projections: [defineProjection({ name: 'p', handle }), defineProjection({ name: 'p', handle })] }), /projections\[1\] \("p"\): another projection of this engine has the same name/);
  });

  it('refuses a projection of a workflow the engine does not register', () => {
    refused(engineWith({ projections: [defineProjection({ name: 'p', workflows: [tally], handle })] }), /reads workflow "tally", which is not registered in this engine/);
  });

  it('refuses a transactional projection on a store that cannot run a handler in its checkpoint transaction', () => {
    refused(engineWith({ projections: [defineProjection({ name: 'p', handle, transactional: true })] }), /is transactional, but the memory store cannot/);
  });

  it('refuses what is not a projection, or not a list of them', () => {
    refused(engineWith({ projections: {} as unknown as Projection[] }), /projections must be an array/);
    refused(engineWith({ projections: [null as unknown as Projection] }), /projections\[0\] needs a projection/);
    refused(engineWith({ projections: [{ name: 'p', handle, batchSize: 0 } as unknown as Projection] }), /projections\[0\] \(projection "p"\): batchSize/);
  });

  it.each([
    ['leaseMs', 0],
    ['leaseMs', 86_400_001],
    ['claimIntervalMs', -1],
    ['pollIntervalMs', 0.5],
    ['lagIntervalMs', '5000'],
  ])('refuses projectionOptions.%s = %j', (field, value) => {
    refused(engineWith({ projectionOptions: { [field]: value } as never }), new RegExp(`projectionOptions.${field} must be a whole number of ms`));
  });

  it('refuses projectionOptions that are not an object', () => {
    refused(engineWith({ projectionOptions: 5 as never }), /projectionOptions must be an object/);
  });
});
