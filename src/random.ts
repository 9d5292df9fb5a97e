/**
 * Cryptographically random bytes drawn from a pool refilled 4 KiB at a time: a
 * registration id or a token costs a copy, not a call into OpenSSL (3 % of the
 * server's time under a registration storm, measured with bench register).
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

export function randomBytesPooled(size: number): Buffer {
  if (size > POOL_BYTES) throw new RangeError(`at most ${POOL_BYTES} random bytes at a time`);
  if (offset + size > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  // A copy: the pool is overwritten when it refills.
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  offset += size;
  return bytes;
}
