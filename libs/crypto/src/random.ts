/**
 * Short random values (SCP03 / SCP03t host challenges, card challenges) from a pool refilled in blocks.
 *
 * `randomBytes(8)` costs about 5 µs alone and more under load: each call takes OpenSSL's DRBG lock, which
 * the services, the card thread and the broker's TLS all contend for (bench -- provisioning profile). The
 * pool is drawn from the same CSPRNG, 4 KB at a time; each caller gets its own copy, never a view into it,
 * and drawn bytes are zeroed so the pool never holds a value that was handed out.
 */
import { randomBytes } from 'node:crypto';

const POOL_BYTES = 4096;
/** Longer requests go straight to randomBytes: the pool's saving is per call, not per byte. */
const MAX_POOLED = 64;

let pool = Buffer.alloc(0);
let offset = 0;

/** `length` bytes from the CSPRNG (node:crypto randomBytes), through the pool for short lengths. */
export function randomBytesPooled(length: number): Buffer {
  if (length > MAX_POOLED) return randomBytes(length);
  if (offset + length > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const out = Buffer.allocUnsafe(length);
  pool.copy(out, 0, offset, offset + length);
  pool.fill(0, offset, offset + length);
  offset += length;
  return out;
}
