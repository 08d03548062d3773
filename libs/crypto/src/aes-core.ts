/**
 * The AES block cipher (FIPS 197) in table form, for the short inputs SCP03 and CMAC are made of.
 *
 * Why not node:crypto alone: every createCipheriv costs about 2 µs and every `update` about 1.2 µs of
 * fixed overhead, while SCP03 / SCP03t / CMAC work on one to a few 16-byte blocks at a time — hundreds of
 * calls per provisioning on each side. Here a block costs about 0.1 µs and a key expansion about 0.3 µs.
 * Long inputs (profile segments) still go to node:crypto, whose AES-NI wins past a few dozen blocks
 * (aes-block.ts decides).
 *
 * Timing: the round tables (4 × 1 KB per direction) are indexed by secret bytes, the classic cache-timing
 * exposure of table AES. It needs an attacker sharing the CPU cache with the process; this simulator's keys
 * are test keys, and a production HSM would not run either implementation.
 */

/** The S-box and its inverse, computed from GF(2^8) inverses and the affine map (FIPS 197 §5.1.1). */
const SBOX = new Uint8Array(256);
const INV_SBOX = new Uint8Array(256);
/** Encryption round tables: T0[x] = [2·S(x), S(x), S(x), 3·S(x)] as a big-endian word, T1..T3 its rotations. */
const T0 = new Int32Array(256);
const T1 = new Int32Array(256);
const T2 = new Int32Array(256);
const T3 = new Int32Array(256);
/** Decryption round tables from InvMixColumns (FIPS 197 §5.3.3) over the inverse S-box. */
const D0 = new Int32Array(256);
const D1 = new Int32Array(256);
const D2 = new Int32Array(256);
const D3 = new Int32Array(256);

/** xtime: multiplication by x (0x02) in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (FIPS 197 §4.2.1). */
const xtime = (a: number): number => ((a << 1) ^ (a & 0x80 ? 0x1b : 0)) & 0xff;

function multiply(a: number, b: number): number {
  let product = 0;
  for (let x = a, y = b; y > 0; y >>>= 1, x = xtime(x)) if (y & 1) product ^= x;
  return product;
}

(function buildTables(): void {
  // Walk the multiplicative group with generator 3 to get logarithms, hence inverses.
  const exp = new Uint8Array(256);
  const log = new Uint8Array(256);
  for (let i = 0, x = 1; i < 255; i += 1, x = multiply(x, 3)) {
    exp[i] = x;
    log[x] = i;
  }
  for (let x = 0; x < 256; x += 1) {
    const inverse = x === 0 ? 0 : (exp[(255 - (log[x] as number)) % 255] as number);
    // Affine transformation b ^ rotl(b,1..4) ^ 0x63 (FIPS 197 eq. 5.1).
    let s = inverse;
    for (let r = 1; r <= 4; r += 1) s ^= ((inverse << r) | (inverse >>> (8 - r))) & 0xff;
    s ^= 0x63;
    SBOX[x] = s;
    INV_SBOX[s] = x;
  }
  for (let x = 0; x < 256; x += 1) {
    const s = SBOX[x] as number;
    const t = ((xtime(s) << 24) | (s << 16) | (s << 8) | (xtime(s) ^ s));
    T0[x] = t;
    T1[x] = ((t >>> 8) | (t << 24));
    T2[x] = ((t >>> 16) | (t << 16));
    T3[x] = ((t >>> 24) | (t << 8));
    const v = INV_SBOX[x] as number;
    const d = ((multiply(v, 14) << 24) | (multiply(v, 9) << 16) | (multiply(v, 13) << 8) | multiply(v, 11));
    D0[x] = d;
    D1[x] = ((d >>> 8) | (d << 24));
    D2[x] = ((d >>> 16) | (d << 16));
    D3[x] = ((d >>> 24) | (d << 8));
  }
})();

/** An expanded key: the round keys for encryption and, in InvMixColumns form, for decryption. */
export interface AesKeySchedule {
  readonly rounds: number;
  /** Plain arrays: a typed array over 64 bytes is allocated off the V8 heap, which costs ~1 µs per key. */
  readonly encrypt: readonly number[];
  /** Made on first use: most keys (S-MAC, S-RMAC, KDF keys) only ever encrypt (CMAC). */
  decrypt?: readonly number[];
}

const subWord = (w: number): number =>
  (((SBOX[w >>> 24] as number) << 24) | ((SBOX[(w >>> 16) & 0xff] as number) << 16) | ((SBOX[(w >>> 8) & 0xff] as number) << 8) | (SBOX[w & 0xff] as number));

/** KeyExpansion (FIPS 197 §5.2) for a 16-, 24- or 32-byte key. */
export function expandAesKey(key: Uint8Array): AesKeySchedule {
  const nk = key.length / 4;
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new RangeError(`AES key must be 16, 24 or 32 bytes, got ${key.length}`);
  const rounds = nk + 6;
  const words = 4 * (rounds + 1);
  const encrypt = new Array<number>(words).fill(0);
  for (let i = 0; i < nk; i += 1) {
    encrypt[i] = (((key[4 * i] as number) << 24) | ((key[4 * i + 1] as number) << 16) | ((key[4 * i + 2] as number) << 8) | (key[4 * i + 3] as number));
  }
  for (let i = nk, rcon = 1; i < words; i += 1) {
    let temp = encrypt[i - 1] as number;
    if (i % nk === 0) {
      temp = subWord((temp << 8) | (temp >>> 24)) ^ (rcon << 24);
      rcon = xtime(rcon);
    } else if (nk > 6 && i % nk === 4) {
      temp = subWord(temp);
    }
    encrypt[i] = (encrypt[i - nk] as number) ^ temp;
  }
  return { rounds, encrypt };
}

/** The equivalent inverse cipher's round keys (§5.3.5): the encryption keys in reverse order, InvMixColumns applied to the inner ones. */
function decryptionKeys(schedule: AesKeySchedule): readonly number[] {
  if (schedule.decrypt) return schedule.decrypt;
  const { rounds, encrypt } = schedule;
  const decrypt = new Array<number>(encrypt.length).fill(0);
  for (let round = 0; round <= rounds; round += 1) {
    for (let c = 0; c < 4; c += 1) {
      const w = encrypt[4 * (rounds - round) + c] as number;
      decrypt[4 * round + c] =
        round === 0 || round === rounds
          ? w
          : ((D0[SBOX[w >>> 24] as number] as number) ^ (D1[SBOX[(w >>> 16) & 0xff] as number] as number) ^ (D2[SBOX[(w >>> 8) & 0xff] as number] as number) ^ (D3[SBOX[w & 0xff] as number] as number));
    }
  }
  schedule.decrypt = decrypt;
  return decrypt;
}

const readWord = (bytes: Uint8Array, at: number): number =>
  (((bytes[at] as number) << 24) | ((bytes[at + 1] as number) << 16) | ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number));

function writeWord(out: Uint8Array, at: number, word: number): void {
  out[at] = word >>> 24;
  out[at + 1] = (word >>> 16) & 0xff;
  out[at + 2] = (word >>> 8) & 0xff;
  out[at + 3] = word & 0xff;
}

/** SubBytes + ShiftRows of one output column, then AddRoundKey (the last round: no MixColumns). */
const lastRound = (a: number, b: number, c: number, d: number, rk: number): number =>
  (((SBOX[a >>> 24] as number) << 24) | ((SBOX[(b >>> 16) & 0xff] as number) << 16) | ((SBOX[(c >>> 8) & 0xff] as number) << 8) | (SBOX[d & 0xff] as number)) ^ rk;

/** The same with the inverse S-box, the bytes taken in InvShiftRows order by the caller. */
const invLastRound = (a: number, b: number, c: number, d: number, rk: number): number =>
  (((INV_SBOX[a >>> 24] as number) << 24) | ((INV_SBOX[(b >>> 16) & 0xff] as number) << 16) | ((INV_SBOX[(c >>> 8) & 0xff] as number) << 8) | (INV_SBOX[d & 0xff] as number)) ^ rk;

/** Cipher (FIPS 197 §5.1) of the block at `input[inAt..+16]` into `out[outAt..+16]` (they may overlap exactly). */
export function aesEncryptBlockInto(schedule: AesKeySchedule, input: Uint8Array, inAt: number, out: Uint8Array, outAt: number): void {
  const k = schedule.encrypt;
  let s0 = readWord(input, inAt) ^ (k[0] as number);
  let s1 = readWord(input, inAt + 4) ^ (k[1] as number);
  let s2 = readWord(input, inAt + 8) ^ (k[2] as number);
  let s3 = readWord(input, inAt + 12) ^ (k[3] as number);
  let at = 4;
  for (let round = 1; round < schedule.rounds; round += 1, at += 4) {
    // SubBytes, ShiftRows and MixColumns at once through the T tables, then AddRoundKey.
    const t0 = (T0[s0 >>> 24] as number) ^ (T1[(s1 >>> 16) & 0xff] as number) ^ (T2[(s2 >>> 8) & 0xff] as number) ^ (T3[s3 & 0xff] as number) ^ (k[at] as number);
    const t1 = (T0[s1 >>> 24] as number) ^ (T1[(s2 >>> 16) & 0xff] as number) ^ (T2[(s3 >>> 8) & 0xff] as number) ^ (T3[s0 & 0xff] as number) ^ (k[at + 1] as number);
    const t2 = (T0[s2 >>> 24] as number) ^ (T1[(s3 >>> 16) & 0xff] as number) ^ (T2[(s0 >>> 8) & 0xff] as number) ^ (T3[s1 & 0xff] as number) ^ (k[at + 2] as number);
    const t3 = (T0[s3 >>> 24] as number) ^ (T1[(s0 >>> 16) & 0xff] as number) ^ (T2[(s1 >>> 8) & 0xff] as number) ^ (T3[s2 & 0xff] as number) ^ (k[at + 3] as number);
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
  }
  // The last round has no MixColumns.
  writeWord(out, outAt, lastRound(s0, s1, s2, s3, k[at] as number));
  writeWord(out, outAt + 4, lastRound(s1, s2, s3, s0, k[at + 1] as number));
  writeWord(out, outAt + 8, lastRound(s2, s3, s0, s1, k[at + 2] as number));
  writeWord(out, outAt + 12, lastRound(s3, s0, s1, s2, k[at + 3] as number));
}

/** InvCipher in its equivalent form (FIPS 197 §5.3.5) of one block, same conventions as encryption. */
export function aesDecryptBlockInto(schedule: AesKeySchedule, input: Uint8Array, inAt: number, out: Uint8Array, outAt: number): void {
  const k = decryptionKeys(schedule);
  let s0 = readWord(input, inAt) ^ (k[0] as number);
  let s1 = readWord(input, inAt + 4) ^ (k[1] as number);
  let s2 = readWord(input, inAt + 8) ^ (k[2] as number);
  let s3 = readWord(input, inAt + 12) ^ (k[3] as number);
  let at = 4;
  for (let round = 1; round < schedule.rounds; round += 1, at += 4) {
    // InvShiftRows takes the column bytes from the other direction.
    const t0 = (D0[s0 >>> 24] as number) ^ (D1[(s3 >>> 16) & 0xff] as number) ^ (D2[(s2 >>> 8) & 0xff] as number) ^ (D3[s1 & 0xff] as number) ^ (k[at] as number);
    const t1 = (D0[s1 >>> 24] as number) ^ (D1[(s0 >>> 16) & 0xff] as number) ^ (D2[(s3 >>> 8) & 0xff] as number) ^ (D3[s2 & 0xff] as number) ^ (k[at + 1] as number);
    const t2 = (D0[s2 >>> 24] as number) ^ (D1[(s1 >>> 16) & 0xff] as number) ^ (D2[(s0 >>> 8) & 0xff] as number) ^ (D3[s3 & 0xff] as number) ^ (k[at + 2] as number);
    const t3 = (D0[s3 >>> 24] as number) ^ (D1[(s2 >>> 16) & 0xff] as number) ^ (D2[(s1 >>> 8) & 0xff] as number) ^ (D3[s0 & 0xff] as number) ^ (k[at + 3] as number);
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
  }
  writeWord(out, outAt, invLastRound(s0, s3, s2, s1, k[at] as number));
  writeWord(out, outAt + 4, invLastRound(s1, s0, s3, s2, k[at + 1] as number));
  writeWord(out, outAt + 8, invLastRound(s2, s1, s0, s3, k[at + 2] as number));
  writeWord(out, outAt + 12, invLastRound(s3, s2, s1, s0, k[at + 3] as number));
}
