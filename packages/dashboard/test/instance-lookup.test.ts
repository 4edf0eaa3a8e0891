// Exact and prefix lookups through engine.pageInstances, on the memory store, PostgreSQL and Redis: the
// cursor that starts right before an id finds it however it is spelled (ids that are prefixes of
// others, the least key, characters beyond U+FFFF and next to the surrogate range).
import { MAX_KEY_LENGTH, compareIds } from '@ironflow/core/store';
import { createEngine, silentLogger, type Engine } from '@ironflow/runtime';
import { createMemoryStore } from '@ironflow/store-memory';
import { createRedisStore } from '@ironflow/store-redis';
import { testServerUrl, uniqueName } from '@ironflow/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInstance, keyBefore, searchByPrefix } from '../src/instance-lookup.js';
import { payment, paymentRegistration } from './support/payment.js';
import { openPostgres, postgresUrl, type PostgresTestStore } from './support/postgres.js';

describe('keyBefore', () => {
  it('is the greatest key below, of at most MAX_KEY_LENGTH units', () => {
    const before = keyBefore('b')!;
    expect(before.startsWith('a\u{10FFFF}')).toBe(true);
    expect(before.length).toBe(MAX_KEY_LENGTH);
    expect(compareIds(before, 'b')).toBeLessThan(0);
    expect(compareIds(before, 'a\u{10FFFF}'.repeat(1000))).toBeGreaterThan(0);
  });

  it('steps over the surrogate range and ends odd lengths with U+FFFF', () => {
    expect(keyBefore('\uE000')!.startsWith('\uD7FF\u{10FFFF}')).toBe(true);
    // 'a' and 255 pairs leave one unit, filled with the greatest unpaired character.
    expect(keyBefore('b')!.endsWith('\u{10FFFF}\uFFFF')).toBe(true);
    expect(keyBefore('ab')!.endsWith('\u{10FFFF}\u{10FFFF}')).toBe(true);
    expect(keyBefore('ab')!.length).toBe(MAX_KEY_LENGTH);
  });

  it('below a key ending in U+0001 is its head, and nothing is below the least key', () => {
    expect(keyBefore('a\u0001')).toBe('a');
    expect(keyBefore('\u0001')).toBeUndefined();
    expect(keyBefore('')).toBeUndefined();
  });
});

/** Ids that sort next to each other in awkward ways. */
const IDS = ['\u0001', 'a', 'a\u0001', 'ab', 'abc', 'abd', 'b', '\uD7FF', '\uE000', '\uFFFF', '\u{10000}', '\u{10FFFF}'];

function describeLookups(name: string, open: (() => Promise<{ engine: Engine; close: () => Promise<void> }>) | undefined) {
  describe.skipIf(open === undefined)(`instance lookups on ${name}`, () => {
    let engine: Engine;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ engine, close } = await open!());
      for (const paymentId of IDS) await engine.execute(payment, { type: 'Charge', paymentId, amount: 1, note: '' });
    });
    afterAll(async () => close?.());

    it('findInstance finds every id, and nothing for ids between them', async () => {
      for (const id of IDS) expect((await findInstance(engine, 'payment', id))?.workflowId).toBe(id);
      for (const id of ['aa', 'a\u0002', '\u{10FFFE}', 'c']) expect(await findInstance(engine, 'payment', id)).toBeUndefined();
      expect(await findInstance(engine, 'other', 'a')).toBeUndefined();
    });

    it('searchByPrefix returns exactly the ids with the prefix, a page at a time', async () => {
      const all = async (prefix: string, limit: number) => {
        const found: string[] = [];
        let after: string | undefined;
        do {
          const page = await searchByPrefix(engine, { type: 'payment', prefix, after, limit });
          found.push(...page.items.map((i) => i.workflowId));
          after = page.next;
        } while (after !== undefined);
        return found;
      };
      expect(await all('a', 2)).toEqual(['a', 'a\u0001', 'ab', 'abc', 'abd']);
      expect(await all('ab', 10)).toEqual(['ab', 'abc', 'abd']);
      expect(await all('\u{10FFFF}', 1)).toEqual(['\u{10FFFF}']);
      expect(await all('z', 10)).toEqual([]);
      expect((await searchByPrefix(engine, { type: 'payment', prefix: 'a', status: 'completed', limit: 10 })).items).toEqual([]);
    });
  });
}

describeLookups('memory', async () => {
  const engine = createEngine({ store: createMemoryStore(), workflows: [paymentRegistration({ failing: new Map() })], logger: silentLogger });
  return { engine, close: async () => {} };
});

describeLookups(
  'PostgreSQL',
  postgresUrl === undefined
    ? undefined
    : async () => {
        const pg: PostgresTestStore = await openPostgres(postgresUrl!);
        const engine = createEngine({ store: pg.store, workflows: [paymentRegistration({ failing: new Map() })], logger: silentLogger });
        return { engine, close: () => pg.close() };
      },
);

const redisUrl = testServerUrl('redis');
describeLookups(
  'Redis',
  redisUrl === undefined
    ? undefined
    : async () => {
        const client = new Redis(redisUrl);
        const store = createRedisStore({ client, keyPrefix: uniqueName('ironflow_dash') });
        await store.setup();
        const engine = createEngine({ store, workflows: [paymentRegistration({ failing: new Map() })], logger: silentLogger });
        return {
          engine,
          close: async () => {
            await store.destroy();
            await store.close();
            client.disconnect();
          },
        };
      },
);
