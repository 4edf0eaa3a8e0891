// Stored forms without a server: an event's schema version is a fifth element only when it is not
// 1 (version-1 events keep the four-element form they always had), work rows carry their code
// version and release count only when they differ from the defaults, and a timer keeps its fireAt
// once its availableAt moved.
import { describe, expect, it } from 'vitest';
import { isIronflowError } from '@ironflow/core';
import type { CheckedEvent } from '@ironflow/core/store';
import { decodeEffect, decodeEvent, decodeTimer, storedEvent } from '../src/codec.js';
import { Fields } from '../src/reply.js';

const ref = { type: 'order', id: 'o1' };
const event = (schemaVersion: number): CheckedEvent => ({ sequence: 1, type: 'Placed', payload: '{"n":1}', metadata: '{"decidedAt":5}', recordedAt: 7, schemaVersion });

function integrity(run: () => unknown): boolean {
  try {
    run();
  } catch (error) {
    return isIronflowError(error, 'STORE_FAILURE') && (error as { reason?: unknown }).reason === 'integrity';
  }
  return false;
}

describe('stored events', () => {
  it('keep the four-element form for schema version 1 and add the version as a fifth element otherwise', () => {
    expect(storedEvent(event(1))).toBe('["Placed",7,{"decidedAt":5},{"n":1}]');
    expect(storedEvent(event(3))).toBe('["Placed",7,{"decidedAt":5},{"n":1},3]');
  });

  it('read back with the schema version only when it is not 1', () => {
    const v1 = decodeEvent(ref, 1, storedEvent(event(1)));
    expect(v1).toEqual({ workflowType: 'order', workflowId: 'o1', sequence: 1, type: 'Placed', payload: { n: 1 }, metadata: { decidedAt: 5 }, recordedAt: 7 });
    expect(v1).not.toHaveProperty('schemaVersion');
    expect(decodeEvent(ref, 2, storedEvent(event(3)))).toMatchObject({ sequence: 2, schemaVersion: 3 });
    expect(decodeEvent(ref, 1, '["Placed",7,{"decidedAt":5},{"n":1},1]')).not.toHaveProperty('schemaVersion');
  });

  it.each(['["Placed",7,{"decidedAt":5},{"n":1},0]', '["Placed",7,{"decidedAt":5},{"n":1},"2"]', '["Placed",7,{"decidedAt":5},{"n":1},2,9]', '["Placed",7,{"decidedAt":5}]'])(
    'refuse %s as an integrity failure',
    (stored) => expect(integrity(() => decodeEvent(ref, 1, stored))).toBe(true),
  );
});

describe('stored work rows', () => {
  const base = { id: 'x', wt: 'order', wid: 'o1', st: 'pending', at: '0', ca: '1', ua: '1', aa: '10' };

  it('read back a code version and a release count only when the row stores them', () => {
    const plain = decodeEffect(new Fields({ ...base, p: '{}' }, 'effect x'));
    expect(plain).not.toHaveProperty('version');
    expect(plain).not.toHaveProperty('releases');
    expect(decodeEffect(new Fields({ ...base, p: '{}', v: '4', rl: '2' }, 'effect x'))).toMatchObject({ version: 4, releases: 2 });
    expect(integrity(() => decodeEffect(new Fields({ ...base, p: '{}', v: 'four' }, 'effect x')))).toBe(true);
  });

  it('give a timer its fireAt from `fa` once availableAt moved, else availableAt', () => {
    expect(decodeTimer(new Fields({ ...base, in: '{}' }, 'timer x'))).toMatchObject({ fireAt: 10, availableAt: 10 });
    expect(decodeTimer(new Fields({ ...base, in: '{}', aa: '500', fa: '10', v: '2' }, 'timer x'))).toMatchObject({ fireAt: 10, availableAt: 500, version: 2 });
  });
});
