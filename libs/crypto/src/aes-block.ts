/**
 * One AES key schedule per key object for single-block encryptions (CMAC, SCP03 ICVs, KDF blocks).
 *
 * createCipheriv costs about as much as encrypting a kilobyte, and SCP03 / CMAC call it for one or a few
 * 16-byte blocks each time (bench -- provisioning profile). An ECB cipher without padding that is never
 * finalised encrypts each `update` of whole blocks independently, so one per key serves every call.
 * The entry keeps a copy of the key and is used only while the key bytes are unchanged; the WeakMap
 * lets it go with the key object.
 */
import { createCipheriv } from 'node:crypto';

const ECB_BY_KEY_LENGTH: Readonly<Record<number, string>> = { 16: 'aes-128-ecb', 24: 'aes-192-ecb', 32: 'aes-256-ecb' };
const encryptors = new WeakMap<Uint8Array, { key: Buffer; cipher: ReturnType<typeof createCipheriv> }>();

/** AES-ECB encryption of whole 16-byte blocks under `key` (16, 24 or 32 bytes; callers check). */
export function aesEcbEncrypt(key: Uint8Array, blocks: Uint8Array): Buffer {
  let entry = encryptors.get(key);
  if (!entry || !entry.key.equals(key)) {
    const algorithm = ECB_BY_KEY_LENGTH[key.length];
    if (algorithm === undefined) throw new RangeError(`AES key must be 16, 24 or 32 bytes, got ${key.length}`);
    entry = { key: Buffer.from(key), cipher: createCipheriv(algorithm, key, null).setAutoPadding(false) };
    encryptors.set(key, entry);
  }
  return entry.cipher.update(blocks);
}
