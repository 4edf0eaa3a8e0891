// UUID v7 ids (RFC 9562), monotonic within this process: ids made in the same millisecond
// increase (a 12-bit counter in rand_a, "method 1"), so ids sort in creation order in every store.
import { randomFillSync } from 'node:crypto';

let lastMs = -1;
let counter = 0;

// Random bytes are drawn 4 KiB at a time: one call into the CSPRNG per 256 ids, not per id.
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;

/** The next 16 random bytes, copied out of the pool. */
function random16(): Buffer {
  if (poolAt + 16 > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const bytes = Buffer.from(POOL.subarray(poolAt, poolAt + 16));
  poolAt += 16;
  return bytes;
}

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
  const bytes = random16();
  // 48 bits of milliseconds, big-endian; ms < 2^48 so the division is exact in a double.
  const high = Math.floor(ms / 2 ** 16);
  bytes.writeUInt32BE(high >>> 0, 0);
  bytes.writeUInt16BE(ms % 2 ** 16, 4);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
