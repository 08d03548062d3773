/**
 * ANSI X9.63 key derivation function with SHA-256, as BSI TR-03111 §4.3.3 and SEC 1 §3.6.1 define it:
 * KeyData = Hash(Z ‖ Counter ‖ SharedInfo) for Counter = 00000001, 00000002, … (32-bit big-endian),
 * concatenated and truncated to the requested length. GP Amd E Scenario#3 uses it to turn the ECKA
 * shared secret ShS into the receipt key and the new key set (SGP.02 §3.1.2).
 */
import { createHash } from 'node:crypto';
import { CryptoError } from './errors';
import { zeros } from './zeros';

const SHA256_BYTES = 32;

/**
 * Largest output this implementation produces. The standard allows up to hashLen·(2³²−1) bytes;
 * every GP / SGP.02 use needs at most 16 + 3·32 bytes, so a small cap keeps a bad length from
 * turning into a huge allocation.
 */
export const X963_MAX_OUTPUT_LENGTH = 64 * 1024;

/**
 * X9.63 KDF (SHA-256). `sharedInfo` may be empty.
 * Throws CryptoError.InvalidLength for an output length outside 1..{@link X963_MAX_OUTPUT_LENGTH}
 * and CryptoError.InvalidKey for an empty shared secret.
 */
export function x963Kdf(sharedSecret: Uint8Array, sharedInfo: Uint8Array, outputLength: number): Buffer {
  if (!Number.isInteger(outputLength) || outputLength < 1 || outputLength > X963_MAX_OUTPUT_LENGTH) {
    throw new CryptoError.InvalidLength(`X9.63 KDF output length must be 1..${X963_MAX_OUTPUT_LENGTH}, got ${outputLength}`);
  }
  if (sharedSecret.length === 0) throw new CryptoError.InvalidKey('X9.63 KDF shared secret is empty');
  const out = Buffer.allocUnsafe(outputLength);
  const counter = zeros(4);
  for (let offset = 0, i = 1; offset < outputLength; offset += SHA256_BYTES, i += 1) {
    counter.writeUInt32BE(i, 0);
    const block = createHash('sha256').update(sharedSecret).update(counter).update(sharedInfo).digest();
    block.copy(out, offset, 0, Math.min(SHA256_BYTES, outputLength - offset));
  }
  return out;
}
