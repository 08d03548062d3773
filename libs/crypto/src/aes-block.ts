/**
 * AES-ECB and AES-CBC without padding for SCP03, SCP03t, CMAC and the KDF, choosing per call between the
 * table AES of aes-core.ts (short inputs: no per-call set-up) and node:crypto (long inputs: AES-NI).
 *
 * SCP03 and CMAC call AES for one or a few 16-byte blocks at a time, hundreds of times per provisioning on
 * each side; createCipheriv plus `update` costs about 3 µs of fixed overhead each time (bench -- provisioning
 * profile), more than a table AES takes for the whole input. Expanded keys are kept per key object: the
 * entry holds a copy of the key and is used only while the key bytes are unchanged; the WeakMap lets it go
 * with the key object.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { aesDecryptBlockInto, aesEncryptBlockInto, expandAesKey, type AesKeySchedule } from './aes-core';

const BLOCK = 16;
/** Up to this many blocks the table AES is faster than a node:crypto cipher object (measured: ~3 µs set-up, ~0.1 µs a block). */
export const TABLE_AES_MAX_BLOCKS = 24;

const schedules = new WeakMap<Uint8Array, { key: Buffer; schedule: AesKeySchedule }>();

/** The expanded key for `key`, computed once per key object (and again only if its bytes change). */
export function aesKeySchedule(key: Uint8Array): AesKeySchedule {
  const entry = schedules.get(key);
  if (entry && sameBytes(entry.key, key)) return entry.schedule;
  const schedule = expandAesKey(key);
  schedules.set(key, { key: Buffer.from(key), schedule });
  return schedule;
}

/** Byte equality of two keys in JavaScript: for 16–32 bytes about half the cost of Buffer#equals's native call. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

function assertWholeBlocks(data: Uint8Array): void {
  if (data.length % BLOCK !== 0) throw new RangeError(`AES input must be whole 16-byte blocks, got ${data.length} bytes`);
}

/** AES-ECB encryption of whole 16-byte blocks under `key` (16, 24 or 32 bytes). */
export function aesEcbEncrypt(key: Uint8Array, blocks: Uint8Array): Buffer {
  assertWholeBlocks(blocks);
  const schedule = aesKeySchedule(key);
  const out = Buffer.allocUnsafe(blocks.length);
  for (let at = 0; at < blocks.length; at += BLOCK) aesEncryptBlockInto(schedule, blocks, at, out, at);
  return out;
}

/**
 * AES-CBC without padding (SP 800-38A §6.2) of whole blocks under `key` and a 16-byte `iv`:
 * C_i = E_K(C_{i-1} xor P_i), C_0 = IV; decryption P_i = D_K(C_i) xor C_{i-1}.
 */
export function aesCbc(direction: 'encrypt' | 'decrypt', key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  assertWholeBlocks(data);
  if (iv.length !== BLOCK) throw new RangeError(`AES-CBC IV must be 16 bytes, got ${iv.length}`);
  if (data.length / BLOCK > TABLE_AES_MAX_BLOCKS) {
    const algorithm = `aes-${key.length * 8}-cbc`;
    const cipher = direction === 'encrypt' ? createCipheriv(algorithm, key, iv) : createDecipheriv(algorithm, key, iv);
    cipher.setAutoPadding(false);
    const head = cipher.update(data);
    const tail = cipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  }
  const schedule = aesKeySchedule(key);
  const out = Buffer.allocUnsafe(data.length);
  if (direction === 'encrypt') {
    let previous: Uint8Array = iv;
    let previousAt = 0;
    for (let at = 0; at < data.length; at += BLOCK) {
      for (let i = 0; i < BLOCK; i += 1) out[at + i] = (data[at + i] as number) ^ (previous[previousAt + i] as number);
      aesEncryptBlockInto(schedule, out, at, out, at);
      previous = out;
      previousAt = at;
    }
    return out;
  }
  for (let at = 0; at < data.length; at += BLOCK) {
    aesDecryptBlockInto(schedule, data, at, out, at);
    const previous = at === 0 ? iv : data;
    const previousAt = at === 0 ? 0 : at - BLOCK;
    for (let i = 0; i < BLOCK; i += 1) out[at + i] = (out[at + i] as number) ^ (previous[previousAt + i] as number);
  }
  return out;
}
