import { expect, it } from 'vitest';
import { uuidv7 } from '../src/index.js';

it('uuidv7 ids are valid version-7 UUIDs that sort in creation order, within one millisecond too', () => {
  const ids = Array.from({ length: 5000 }, () => uuidv7(1_700_000_000_000));
  for (const id of ids.slice(0, 10)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
  expect(uuidv7(1_600_000_000_000) > ids.at(-1)!).toBe(true);
});

it('uuidv7 carries its millisecond in the first 48 bits, and ids drawn across the random pool stay unique', () => {
  const at = Date.UTC(2030, 5, 1, 12, 0, 0, 123);
  const id = uuidv7(at + 10_000_000);
  expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBeGreaterThanOrEqual(at + 10_000_000);
  const later = uuidv7(at + 20_000_000);
  expect(Number.parseInt(later.replace(/-/g, '').slice(0, 12), 16)).toBe(at + 20_000_000);
  // 600 ids use the 4 KiB pool more than twice over.
  const many = Array.from({ length: 600 }, () => uuidv7(at + 20_000_001).slice(19));
  expect(new Set(many).size).toBe(many.length);
});
