/**
 * MILENAGE (3GPP TS 35.206 §4) with the standard constants r1..r5 / c1..c5, plus the USIM side of
 * UMTS AKA the virtual eUICC needs: AUTN check and re-synchronisation (3GPP TS 33.102 §6.3.3, §6.3.5).
 *
 * SQN freshness policy (deliberately simple, TS 33.102 Annex C allows it): the USIM keeps one value
 * SQN_MS, the highest SQN it has accepted, and accepts a challenge only if SQN > SQN_MS. No IND
 * array and no age limit `L`. The caller stores `sqn` from an `ok` result as the new SQN_MS.
 */
import { createCipheriv, timingSafeEqual, type Cipher } from 'node:crypto';
import { CryptoError } from './errors';

const BLOCK = 16;
const SQN_BYTES = 6;
const AMF_BYTES = 2;
const MAC_BYTES = 8;
/** AUTN = SQN⊕AK (6) ‖ AMF (2) ‖ MAC-A (8), TS 33.102 §6.3.2. */
export const AUTN_BYTES = SQN_BYTES + AMF_BYTES + MAC_BYTES;
/** AUTS = SQN_MS⊕AK* (6) ‖ MAC-S (8), TS 33.102 §6.3.3. */
export const AUTS_BYTES = SQN_BYTES + MAC_BYTES;
/** AMF used for MAC-S in a re-synchronisation, TS 33.102 §6.3.3 ("dummy" AMF of all zeros). */
const RESYNC_AMF = Buffer.alloc(AMF_BYTES);
/** Placeholder SQN for computing f5 / f5*, which depend on RAND only. */
const ANY_SQN = Buffer.alloc(SQN_BYTES);

/** Rotations in bytes: r1=64, r2=0, r3=32, r4=64, r5=96 bits (TS 35.206 §4.1). */
const R = { r1: 8, r2: 0, r3: 4, r4: 8, r5: 12 } as const;
/** c1..c5: zero blocks with last byte 00, 01, 02, 04, 08 (TS 35.206 §4.1). */
const C = { c1: 0x00, c2: 0x01, c3: 0x02, c4: 0x04, c5: 0x08 } as const;

export interface MilenageInput {
  /** Subscriber key K, 16 bytes. */
  readonly k: Uint8Array;
  /** OPc = E_K(OP) ⊕ OP, 16 bytes (see {@link computeOpc}). */
  readonly opc: Uint8Array;
  readonly rand: Uint8Array;
  /** 6 bytes. */
  readonly sqn: Uint8Array;
  /** 2 bytes. */
  readonly amf: Uint8Array;
}

export interface MilenageOutput {
  /** f1: network authentication code MAC-A, 8 bytes. */
  readonly macA: Buffer;
  /** f1*: re-synchronisation code MAC-S, 8 bytes. */
  readonly macS: Buffer;
  /** f2: RES / XRES, 8 bytes. */
  readonly res: Buffer;
  /** f3: cipher key CK, 16 bytes. */
  readonly ck: Buffer;
  /** f4: integrity key IK, 16 bytes. */
  readonly ik: Buffer;
  /** f5: anonymity key AK, 6 bytes. */
  readonly ak: Buffer;
  /** f5*: re-synchronisation anonymity key AK*, 6 bytes. */
  readonly akStar: Buffer;
}

function requireLength(value: Uint8Array, length: number, name: string): void {
  if (value.length !== length) {
    const error = name === 'K' ? CryptoError.InvalidKey : CryptoError.InvalidLength;
    throw new error(`MILENAGE ${name} must be ${length} bytes, got ${value.length}`);
  }
}

/** One AES-128-ECB context for all block encryptions of a computation (ECB carries no state). */
function blockCipher(k: Uint8Array): (block: Uint8Array) => Buffer {
  requireLength(k, BLOCK, 'K');
  const cipher: Cipher = createCipheriv('aes-128-ecb', k, null).setAutoPadding(false);
  return (block) => cipher.update(block);
}

function xorInto(target: Buffer, other: Uint8Array): Buffer {
  for (let i = 0; i < BLOCK; i += 1) target[i] = (target[i] as number) ^ (other[i] as number);
  return target;
}

/** rot(x, r) for r a multiple of 8 bits: cyclic left shift by `bytes`. */
function rotate(x: Uint8Array, bytes: number): Buffer {
  const out = Buffer.allocUnsafe(BLOCK);
  for (let i = 0; i < BLOCK; i += 1) out[i] = x[(i + bytes) % BLOCK] as number;
  return out;
}

/** OPc = E_K(OP) ⊕ OP (TS 35.206 §4.1). */
export function computeOpc(k: Uint8Array, op: Uint8Array): Buffer {
  requireLength(op, BLOCK, 'OP');
  return xorInto(blockCipher(k)(op), op);
}

/** OUTn = E_K(rot(TEMP ⊕ OPc, r) ⊕ c) ⊕ OPc for n = 2..5 (TS 35.206 §4.1). */
function outN(encrypt: (b: Uint8Array) => Buffer, tempXorOpc: Buffer, opc: Uint8Array, rotBytes: number, c: number): Buffer {
  const input = rotate(tempXorOpc, rotBytes);
  input[BLOCK - 1] = (input[BLOCK - 1] as number) ^ c;
  return xorInto(encrypt(input), opc);
}

/** All MILENAGE functions f1, f1*, f2, f3, f4, f5, f5* for one (RAND, SQN, AMF). */
export function milenage(input: MilenageInput): MilenageOutput {
  const { k, opc, rand, sqn, amf } = input;
  requireLength(opc, BLOCK, 'OPc');
  requireLength(rand, BLOCK, 'RAND');
  requireLength(sqn, SQN_BYTES, 'SQN');
  requireLength(amf, AMF_BYTES, 'AMF');
  const encrypt = blockCipher(k);
  const temp = encrypt(xorInto(Buffer.from(rand), opc));

  // f1 / f1*: IN1 = SQN ‖ AMF ‖ SQN ‖ AMF; OUT1 = E_K(TEMP ⊕ rot(IN1 ⊕ OPc, r1) ⊕ c1) ⊕ OPc.
  const in1 = Buffer.allocUnsafe(BLOCK);
  in1.set(sqn, 0);
  in1.set(amf, SQN_BYTES);
  in1.set(sqn, 8);
  in1.set(amf, 8 + SQN_BYTES);
  const rotated = rotate(xorInto(in1, opc), R.r1);
  rotated[BLOCK - 1] = (rotated[BLOCK - 1] as number) ^ C.c1;
  const out1 = xorInto(encrypt(xorInto(rotated, temp)), opc);

  const tempXorOpc = xorInto(Buffer.from(temp), opc);
  const out2 = outN(encrypt, tempXorOpc, opc, R.r2, C.c2);
  const out3 = outN(encrypt, tempXorOpc, opc, R.r3, C.c3);
  const out4 = outN(encrypt, tempXorOpc, opc, R.r4, C.c4);
  const out5 = outN(encrypt, tempXorOpc, opc, R.r5, C.c5);
  return {
    macA: out1.subarray(0, 8),
    macS: out1.subarray(8, 16),
    res: out2.subarray(8, 16),
    ak: out2.subarray(0, 6),
    ck: out3,
    ik: out4,
    akStar: out5.subarray(0, 6),
  };
}

function xor6(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(SQN_BYTES);
  for (let i = 0; i < SQN_BYTES; i += 1) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
}

/** Network side: AUTN = (SQN ⊕ AK) ‖ AMF ‖ MAC-A (TS 33.102 §6.3.2). */
export function buildAutn(input: MilenageInput): Buffer {
  const { macA, ak } = milenage(input);
  return Buffer.concat([xor6(input.sqn, ak), input.amf, macA]);
}

export type AutnVerification =
  | { readonly kind: 'ok'; readonly res: Buffer; readonly ck: Buffer; readonly ik: Buffer; readonly sqn: Buffer }
  | { readonly kind: 'mac_failure' }
  | { readonly kind: 'sync_failure'; readonly auts: Buffer };

export interface VerifyAutnInput {
  readonly k: Uint8Array;
  readonly opc: Uint8Array;
  readonly rand: Uint8Array;
  readonly autn: Uint8Array;
  /** SQN_MS: the highest SQN this USIM accepted so far (6 bytes). */
  readonly sqnMs: Uint8Array;
}

/**
 * USIM side of AKA (TS 33.102 §6.3.3): recovers SQN with AK, checks MAC-A (constant time), then
 * freshness (SQN > SQN_MS). A stale SQN yields AUTS = (SQN_MS ⊕ AK*) ‖ MAC-S, MAC-S computed with
 * AMF = 0000 (§6.3.3 / §6.3.5). MAC failure wins over sync failure, as the order in §6.3.3 requires.
 */
export function verifyAutn(input: VerifyAutnInput): AutnVerification {
  const { k, opc, rand, autn, sqnMs } = input;
  requireLength(autn, AUTN_BYTES, 'AUTN');
  requireLength(sqnMs, SQN_BYTES, 'SQN_MS');
  const amf = autn.subarray(SQN_BYTES, SQN_BYTES + AMF_BYTES);
  const mac = autn.subarray(SQN_BYTES + AMF_BYTES);
  // AK depends on RAND only, so any SQN gives the right f5.
  const { ak } = milenage({ k, opc, rand, sqn: ANY_SQN, amf });
  const sqn = xor6(autn.subarray(0, SQN_BYTES), ak);
  const out = milenage({ k, opc, rand, sqn, amf });
  if (!timingSafeEqual(out.macA, mac)) return { kind: 'mac_failure' };
  if (sqnValue(sqn) <= sqnValue(sqnMs)) {
    const resync = milenage({ k, opc, rand, sqn: sqnMs, amf: RESYNC_AMF });
    return { kind: 'sync_failure', auts: Buffer.concat([xor6(sqnMs, resync.akStar), resync.macS]) };
  }
  return { kind: 'ok', res: out.res, ck: out.ck, ik: out.ik, sqn };
}

/**
 * Network side of re-synchronisation (TS 33.102 §6.3.5): recovers SQN_MS from AUTS and checks MAC-S.
 * Throws CryptoError.MacMismatch when MAC-S is wrong.
 */
export function resyncSqnFromAuts(input: { k: Uint8Array; opc: Uint8Array; rand: Uint8Array; auts: Uint8Array }): Buffer {
  const { k, opc, rand, auts } = input;
  requireLength(auts, AUTS_BYTES, 'AUTS');
  const { akStar } = milenage({ k, opc, rand, sqn: ANY_SQN, amf: RESYNC_AMF });
  const sqnMs = xor6(auts.subarray(0, SQN_BYTES), akStar);
  const { macS } = milenage({ k, opc, rand, sqn: sqnMs, amf: RESYNC_AMF });
  if (!timingSafeEqual(macS, auts.subarray(SQN_BYTES))) throw new CryptoError.MacMismatch('AUTS MAC-S does not verify');
  return sqnMs;
}

/** SQN as an integer; 48 bits fit exactly in a double. */
function sqnValue(sqn: Uint8Array): number {
  return Buffer.from(sqn.buffer, sqn.byteOffset, SQN_BYTES).readUIntBE(0, SQN_BYTES);
}
