import { randomFillSync } from 'node:crypto';

/** Random bytes drawn in bulk, as randomUUID does: one system call per 256 ids, not one per id. */
const POOL_IDS = 256;
const pool = Buffer.alloc(POOL_IDS * 10);
let poolIndex = POOL_IDS;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids made later sort
 * later, so an index on them grows at its end (one hot page) instead of taking each insert
 * on a random page: what makes the SQLite index on message ids cheap (sqlite-schema.ts v4).
 * About as cheap to make as randomUUID (pooled randomness, table lookups).
 */
export function timeOrderedId(now = Date.now()): string {
  if (poolIndex === POOL_IDS) {
    randomFillSync(pool);
    poolIndex = 0;
  }
  const r = poolIndex++ * 10;
  const hi = Math.floor(now / 0x1000000);
  const lo = now % 0x1000000;
  const h = HEX;
  return (
    h[(hi >>> 16) & 0xff]! + h[(hi >>> 8) & 0xff]! + h[hi & 0xff]! + h[(lo >>> 16) & 0xff]! + '-' +
    h[(lo >>> 8) & 0xff]! + h[lo & 0xff]! + '-' +
    h[0x70 | (pool[r]! & 0x0f)]! + h[pool[r + 1]!]! + '-' +
    h[0x80 | (pool[r + 2]! & 0x3f)]! + h[pool[r + 3]!]! + '-' +
    h[pool[r + 4]!]! + h[pool[r + 5]!]! + h[pool[r + 6]!]! + h[pool[r + 7]!]! + h[pool[r + 8]!]! + h[pool[r + 9]!]!
  );
}
