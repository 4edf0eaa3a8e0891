// classifyRedisError without a server: every family of Redis and ioredis failure gets the
// StoreError reason that tells a caller whether retrying can help, with the original as cause.
import { describe, expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import { StoreError } from '@ironflow/core/store';
import { classifyRedisError } from '../src/classify-error.js';

function reply(message: string): Error {
  return Object.assign(new Error(message), { name: 'ReplyError' });
}
function socket(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code });
}

describe('classifyRedisError', () => {
  it.each([
    ['ECONNREFUSED', socket('ECONNREFUSED')],
    ['ECONNRESET', socket('ECONNRESET')],
    ['ETIMEDOUT', socket('ETIMEDOUT')],
    ['a closed connection', new Error('Connection is closed.')],
    ['an unwritable stream', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['a command timeout', new Error('Command timed out')],
    ['exhausted reconnect retries', Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' })],
    ['LOADING', reply('LOADING Redis is loading the dataset in memory')],
    ['MASTERDOWN', reply('MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no')],
    ['CLUSTERDOWN', reply('CLUSTERDOWN The cluster is down')],
    ['READONLY', reply("READONLY You can't write against a read only replica.")],
    ['max clients', reply('ERR max number of clients reached')],
  ])('%s is unavailable and retryable', (_, error) => {
    const classified = classifyRedisError(error, 'commit');
    expect(classified).toBeInstanceOf(StoreError);
    expect(classified.reason).toBe('unavailable');
    expect(classified.retryable).toBe(true);
    expect(classified.cause).toBe(error);
    expect(classified.code).toBe('STORE_FAILURE');
  });

  it.each([
    ['TRYAGAIN', reply('TRYAGAIN Multiple keys request during rehashing of slot')],
    ['BUSY', reply('BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.')],
    ['NOSCRIPT', reply('NOSCRIPT No matching script. Please use EVAL.')],
    ['MOVED', reply('MOVED 3999 127.0.0.1:6381')],
  ])('%s is transient and retryable', (_, error) => {
    const classified = classifyRedisError(error);
    expect(classified.reason).toBe('transient');
    expect(classified.retryable).toBe(true);
  });

  it('OOM is unavailable with a message that names maxmemory and noeviction', () => {
    const error = reply("OOM command not allowed when used memory > 'maxmemory'.");
    const classified = classifyRedisError(error, 'commit');
    expect(classified.reason).toBe('unavailable');
    expect(classified.message).toMatch(/out of memory/);
    expect(classified.message).toMatch(/noeviction/);
    expect(classified.message).toMatch(/^Redis commit failed/);
    expect(classified.cause).toBe(error);
  });

  it('WRONGTYPE is an integrity failure and not retryable', () => {
    const classified = classifyRedisError(reply('WRONGTYPE Operation against a key holding the wrong kind of value'));
    expect(classified.reason).toBe('integrity');
    expect(classified.retryable).toBe(false);
  });

  it.each([
    ['NOPERM', reply("NOPERM User ironflow has no permissions to run the 'evalsha' command")],
    ['NOAUTH', reply('NOAUTH Authentication required.')],
    ['WRONGPASS', reply('WRONGPASS invalid username-password pair or user is disabled.')],
    ['CROSSSLOT', reply("CROSSSLOT Keys in request don't hash to the same slot")],
    ['an unknown command', reply("ERR unknown command 'evalsha', with args beginning with: ")],
  ])('%s is a configuration failure and not retryable', (_, error) => {
    const classified = classifyRedisError(error);
    expect(classified.reason).toBe('configuration');
    expect(classified.retryable).toBe(false);
  });

  it('anything else is unknown, keeps its message and is a typed Ironflow error', () => {
    const error = reply('ERR user_script:1: Script attempted to access nonexistent global variable');
    const classified = classifyRedisError(error, 'claim');
    expect(classified.reason).toBe('unknown');
    expect(classified.retryable).toBe(false);
    expect(classified.message).toContain('nonexistent global variable');
    expect(isIronflowError(classified, 'STORE_FAILURE')).toBe(true);
    expect(classified.details).toEqual({ operation: 'claim' });
  });

  it('a thrown non-error value is still classified', () => {
    expect(classifyRedisError('boom').reason).toBe('unknown');
    expect(classifyRedisError(undefined).message).toContain('undefined');
  });
});
