import { expect, it } from 'vitest';
import { uuidv7 } from '../src/index.js';

it('uuidv7 ids are valid version-7 UUIDs that sort in creation order, within one millisecond too', () => {
  const ids = Array.from({ length: 5000 }, () => uuidv7(1_700_000_000_000));
  for (const id of ids.slice(0, 10)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
  expect(uuidv7(1_600_000_000_000) > ids.at(-1)!).toBe(true);
});
