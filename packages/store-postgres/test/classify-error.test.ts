import { StoreError } from '@ironflow/core/store';
import { describe, expect, it } from 'vitest';
import { classifyPostgresError } from '../src/classify-error.js';

/** An error shaped like the ones `pg` and PGlite raise for a server ErrorResponse. */
function serverError(code: string, message = `server error ${code}`, fields: Record<string, string> = {}): Error {
  return Object.assign(new Error(message), { code, severity: 'ERROR', ...fields });
}

/** An error shaped like Node's network errors. */
function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, syscall: 'connect' });
}

describe('classifyPostgresError', () => {
  it.each([
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock'],
    ['55P03', 'lock timeout'],
    ['57014', 'statement timeout'],
  ])('classifies SQLSTATE %s (%s) as transient and retryable', (code) => {
    const error = classifyPostgresError(serverError(code));
    expect(error.reason).toBe('transient');
    expect(error.retryable).toBe(true);
  });

  it.each([
    ['57P01', 'admin shutdown'],
    ['57P02', 'crash shutdown'],
    ['57P03', 'cannot connect now'],
    ['08006', 'connection failure'],
    ['08001', 'unable to establish connection'],
    ['53300', 'too many connections'],
  ])('classifies SQLSTATE %s (%s) as unavailable and retryable', (code) => {
    const error = classifyPostgresError(serverError(code));
    expect(error.reason).toBe('unavailable');
    expect(error.retryable).toBe(true);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'])(
    'classifies the network error %s as unavailable',
    (code) => {
      const error = classifyPostgresError(networkError(code));
      expect(error.reason).toBe('unavailable');
      expect(error.details).toMatchObject({ code });
      expect(error.details).not.toHaveProperty('sqlState');
    },
  );

  it('classifies an AggregateError of refused connections (every address of a host) as unavailable', () => {
    const error = new AggregateError([networkError('ECONNREFUSED'), networkError('ECONNREFUSED')], 'connect failed');
    expect(classifyPostgresError(error).reason).toBe('unavailable');
  });

  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated due to connection timeout',
    'Client has encountered a connection error and is not queryable',
    'timeout exceeded when trying to connect',
    'Cannot use a pool after calling end on the pool',
    'PGlite is closed',
  ])('classifies the client message "%s" as unavailable', (message) => {
    expect(classifyPostgresError(new Error(message)).reason).toBe('unavailable');
  });

  it.each([
    ['23505', 'unique violation'],
    ['23502', 'not-null violation'],
    ['23514', 'check violation'],
    ['22P05', 'untranslatable character'],
    ['22P02', 'invalid text representation'],
  ])('classifies SQLSTATE %s (%s) as integrity, not retryable', (code) => {
    const error = classifyPostgresError(serverError(code, 'bad data', { constraint: 'effects_pkey' }));
    expect(error.reason).toBe('integrity');
    expect(error.retryable).toBe(false);
    expect(error.details).toMatchObject({ sqlState: code, constraint: 'effects_pkey' });
  });

  it.each([
    ['42P01', 'undefined table'],
    ['3F000', 'invalid schema name'],
    ['42883', 'undefined function'],
    ['42703', 'undefined column'],
    ['42501', 'insufficient privilege'],
    ['42601', 'syntax error'],
    ['28P01', 'invalid password'],
    ['3D000', 'database does not exist'],
  ])('classifies SQLSTATE %s (%s) as configuration, not retryable', (code) => {
    const error = classifyPostgresError(serverError(code));
    expect(error.reason).toBe('configuration');
    expect(error.retryable).toBe(false);
  });

  it('points at the migration when a table, schema, function or column is missing', () => {
    expect(classifyPostgresError(serverError('42P01', 'relation "ironflow.events" does not exist')).message).toMatch(
      /migratePostgresStore/,
    );
    expect(classifyPostgresError(serverError('42703', 'column w.trace does not exist')).message).toMatch(/migratePostgresStore/);
    expect(classifyPostgresError(serverError('42501', 'permission denied')).message).not.toMatch(/migratePostgresStore/);
  });

  it.each([
    ['a plain Error', new Error('boom')],
    ['a string', 'boom'],
    ['undefined', undefined],
    ['an unlisted SQLSTATE', serverError('XX000', 'internal error')],
  ])('classifies %s as unknown', (_, thrown) => {
    const error = classifyPostgresError(thrown);
    expect(error.reason).toBe('unknown');
    expect(error.retryable).toBe(false);
  });

  it('keeps the original error in cause and names the operation and SQLSTATE in the message', () => {
    const original = serverError('40P01', 'deadlock detected');
    const error = classifyPostgresError(original, 'commit');
    expect(error).toBeInstanceOf(StoreError);
    expect(error.code).toBe('STORE_FAILURE');
    expect(error.cause).toBe(original);
    expect(error.message).toBe('PostgreSQL store (commit): deadlock detected [SQLSTATE 40P01].');
    expect(error.details).toEqual({ operation: 'commit', sqlState: '40P01' });
  });

  it('returns a StoreError unchanged', () => {
    const existing = new StoreError('transient', 'already classified');
    expect(classifyPostgresError(existing, 'load')).toBe(existing);
  });
});
