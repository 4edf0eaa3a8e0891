// UUID v7 ids (RFC 9562), monotonic within this process: ids made in the same millisecond
// increase (a 12-bit counter in rand_a, "method 1"), so ids sort in creation order in every store.
import { randomBytes } from 'node:crypto';

let lastMs = -1;
let counter = 0;

/** Returns a new UUID v7 string, greater than every id this process made before. */
export function uuidv7(now: number = Date.now()): string {
  let ms = Math.max(now, lastMs);
  if (ms === lastMs) {
    counter += 1;
    if (counter > 0xfff) {
      ms += 1; // counter exhausted: borrow the next millisecond, as RFC 9562 allows
      counter = 0;
    }
  } else {
    counter = 0;
  }
  lastMs = ms;
  const bytes = randomBytes(16);
  const time = BigInt(ms);
  for (let i = 0; i < 6; i++) bytes[i] = Number((time >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
