import { describe, expect, expectTypeOf, it } from 'vitest';
import { IronflowError, isIronflowError, NonRetryableError, type IronflowErrorCode } from '../src/index.js';
import { LeaseLostError, StoreError, UniqueKeyConflictError, VersionConflictError } from '../src/store/index.js';

describe('errors', () => {
  it('carry a code, details and the original cause', () => {
    const cause = new Error('socket closed');
    const error = new StoreError('unavailable', 'database unreachable', { cause });
    expect(error).toBeInstanceOf(IronflowError);
    expect(error).toMatchObject({ code: 'STORE_FAILURE', reason: 'unavailable', retryable: true, name: 'StoreError' });
    expect(error.cause).toBe(cause);
    expect(new StoreError('integrity', 'x').retryable).toBe(false);
    expect(new StoreError('transient', 'x').retryable).toBe(true);
    expect(new VersionConflictError('order', 'o-1', 3, { actualVersion: 4 })).toMatchObject({ code: 'VERSION_CONFLICT', details: { expectedVersion: 3, actualVersion: 4 } });
    expect(new UniqueKeyConflictError('order', 'k', 'o-1').code).toBe('UNIQUE_KEY_CONFLICT');
    expect(new LeaseLostError('timer', 't-1').message).toContain('timer t-1');
    expect(new NonRetryableError('no').code).toBe('NON_RETRYABLE');
  });

  it('are recognised by isIronflowError, by code, even from another copy of core', () => {
    const error = new VersionConflictError('a', 'b', 1);
    expect(isIronflowError(error)).toBe(true);
    expect(isIronflowError(error, 'VERSION_CONFLICT')).toBe(true);
    expect(isIronflowError(error, 'LEASE_LOST')).toBe(false);
    // A second installed copy has its own classes but the same global brand symbol.
    const foreign = Object.assign(new Error('from another copy'), { code: 'LEASE_LOST', [Symbol.for('ironflow.error')]: true });
    expect(isIronflowError(foreign, 'LEASE_LOST')).toBe(true);
    expect(isIronflowError(new Error('plain'))).toBe(false);
    expect(isIronflowError(null)).toBe(false);
    expect(isIronflowError({ code: 'LEASE_LOST' })).toBe(false);
  });
});

describe('retryable', () => {
  it('every error says whether the same call can succeed again, by its code (a StoreError by its reason)', () => {
    const retryable = (code: IronflowErrorCode) => new IronflowError(code, 'x').retryable;
    for (const code of ['VERSION_CONFLICT', 'CONFLICT_RETRIES_EXHAUSTED', 'EFFECT_TIMEOUT', 'SHUTTING_DOWN'] as const) expect(retryable(code), code).toBe(true);
    for (const code of ['UNIQUE_KEY_CONFLICT', 'LEASE_LOST', 'INVALID_DECISION', 'NON_RETRYABLE', 'EFFECT_KEY_CONFLICT', 'EFFECT_DEADLINE_EXCEEDED', 'CANCELLED'] as const) expect(retryable(code), code).toBe(false);
    expect(new VersionConflictError('o', '1', 2).retryable).toBe(true);
    expect(new LeaseLostError('effect', 'e', { cancelled: true }).retryable).toBe(false);
    expect(new NonRetryableError('no').retryable).toBe(false);
    expect(new StoreError('unavailable', 'x').retryable).toBe(true);
    expect(new StoreError('configuration', 'x').retryable).toBe(false);
  });
});

describe('narrowing', () => {
  it('narrows to the subclass of the code', () => {
    const error: unknown = new StoreError('transient', 'deadlock');
    if (isIronflowError(error, 'STORE_FAILURE')) {
      expectTypeOf(error.retryable).toEqualTypeOf<boolean>();
      expect(error.retryable).toBe(true);
    } else {
      expect.unreachable();
    }
    const conflict: unknown = new UniqueKeyConflictError('order', 'k', 'o-1');
    expect(isIronflowError(conflict, 'UNIQUE_KEY_CONFLICT') && conflict.holderId).toBe('o-1');
  });
});
