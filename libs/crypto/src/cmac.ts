/**
 * AES-CMAC (RFC 4493 = NIST SP 800-38B with AES) for AES-128/192/256 keys, on aes-block.ts's AES.
 * Used by SCP03 (GP Amd D), the Scenario#3 receipt (GP Amd E) and the SCP03t C-MAC (SGP.02 §2.5).
 */
import { timingSafeEqual } from 'node:crypto';
import { TABLE_AES_MAX_BLOCKS, aesCbc, aesKeySchedule } from './aes-block';
import { aesEncryptBlockInto, type AesKeySchedule } from './aes-core';
import { CryptoError } from './errors';
import { zeros } from './zeros';

const BLOCK = 16;
/** R_b for a 128-bit block cipher (RFC 4493 §2.3, SP 800-38B §5.3). */
const RB = 0x87;
const ZERO_BLOCK = Buffer.alloc(BLOCK);

function checkKey(key: Uint8Array): void {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new CryptoError.InvalidKey(`AES-CMAC key must be 16, 24 or 32 bytes, got ${key.length}`);
  }
}

/** Doubling in GF(2^128): shift left one bit, xor R_b if the top bit fell out (RFC 4493 §2.3). */
function double(block: Buffer): Buffer {
  const out = Buffer.allocUnsafe(BLOCK);
  let carry = 0;
  for (let i = BLOCK - 1; i >= 0; i -= 1) {
    const b = block[i] as number;
    out[i] = ((b << 1) & 0xff) | carry;
    carry = b >>> 7;
  }
  if (carry) out[BLOCK - 1] = (out[BLOCK - 1] as number) ^ RB;
  return out;
}

/** CBC-encrypts whole blocks under a zero IV and returns the last ciphertext block (aes-block.ts picks the AES). */
function cbcLastBlock(key: Uint8Array, data: Buffer): Buffer {
  return aesCbc('encrypt', key, ZERO_BLOCK, data).subarray(data.length - BLOCK);
}

/**
 * K1 and K2 per expanded key: aes-block.ts keeps one schedule per key object and makes a new one when the
 * key's bytes change, so subkeys kept with the schedule follow the key without a copy of their own.
 */
const subkeysBySchedule = new WeakMap<AesKeySchedule, { k1: Buffer; k2: Buffer }>();

function subkeys(key: Uint8Array, schedule: AesKeySchedule): { k1: Buffer; k2: Buffer } {
  let found = subkeysBySchedule.get(schedule);
  if (!found) {
    // Subkeys K1, K2 from L = AES-K(0^128) (RFC 4493 §2.3).
    const k1 = double(cbcLastBlock(key, ZERO_BLOCK));
    found = { k1, k2: double(k1) };
    subkeysBySchedule.set(schedule, found);
  }
  return found;
}

/**
 * AES-CMAC of `message` under `key` (RFC 4493 §2.4), the full 16-byte tag.
 * Callers truncate themselves where a protocol uses the leftmost bytes (e.g. SCP03 C-MAC: 8 bytes).
 *
 * Up to TABLE_AES_MAX_BLOCKS blocks (SCP03 commands, the KDF, receipts: hundreds of calls per
 * provisioning) the CBC chain runs in one 16-byte state on the table AES, with no padded copy of the
 * message; longer messages (SCP03t segments) go through aes-block.ts's node:crypto CBC.
 */
export function aesCmac(key: Uint8Array, message: Uint8Array): Buffer {
  checkKey(key);
  const schedule = aesKeySchedule(key);
  const { k1, k2 } = subkeys(key, schedule);
  const complete = message.length > 0 && message.length % BLOCK === 0;
  const blocks = message.length === 0 ? 1 : Math.ceil(message.length / BLOCK);
  const lastStart = (blocks - 1) * BLOCK;
  // Complete last block: xor K1; otherwise pad 10* and xor K2 (RFC 4493 §2.4 step 4).
  const subkey = complete ? k1 : k2;
  if (blocks > TABLE_AES_MAX_BLOCKS) {
    const padded = zeros(blocks * BLOCK);
    padded.set(message);
    if (!complete) padded[message.length] = 0x80;
    for (let i = 0; i < BLOCK; i += 1) padded[lastStart + i] = (padded[lastStart + i] as number) ^ (subkey[i] as number);
    return Buffer.from(cbcLastBlock(key, padded));
  }
  // C_i = E_K(C_{i-1} xor M_i), C_0 = 0 (RFC 4493 §2.4 step 6), in place in `state`.
  const state = zeros(BLOCK); // pool-backed: callers slice the tag (zeros.ts)
  for (let at = 0; at < lastStart; at += BLOCK) {
    for (let i = 0; i < BLOCK; i += 1) state[i] = (state[i] as number) ^ (message[at + i] as number);
    aesEncryptBlockInto(schedule, state, 0, state, 0);
  }
  for (let i = 0; i < BLOCK; i += 1) {
    const at = lastStart + i;
    const byte = at < message.length ? (message[at] as number) : at === message.length ? 0x80 : 0;
    state[i] = (state[i] as number) ^ byte ^ (subkey[i] as number);
  }
  aesEncryptBlockInto(schedule, state, 0, state, 0);
  return state;
}

/**
 * Checks a (possibly truncated, leftmost `macLength` bytes) AES-CMAC in constant time.
 * Returns false for a MAC of the wrong length; throws CryptoError.InvalidLength for a
 * `macLength` outside 1..16 and CryptoError.InvalidKey for a bad key.
 */
export function aesCmacVerify(key: Uint8Array, message: Uint8Array, mac: Uint8Array, macLength = BLOCK): boolean {
  if (!Number.isInteger(macLength) || macLength < 1 || macLength > BLOCK) {
    throw new CryptoError.InvalidLength(`CMAC length must be 1..16 bytes, got ${macLength}`);
  }
  const expected = aesCmac(key, message).subarray(0, macLength);
  if (mac.length !== macLength) return false;
  return timingSafeEqual(expected, mac);
}
