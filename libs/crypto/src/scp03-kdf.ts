/**
 * SCP03 key derivation and authentication cryptograms (GlobalPlatform Card Spec v2.3 Amendment D,
 * "Secure Channel Protocol '03'", v1.1.x / v1.2):
 *  - §4.1.5 data derivation scheme: NIST SP 800-108 KDF in counter mode with AES-CMAC as PRF;
 *  - §6.2.1 session keys S-ENC / S-MAC / S-RMAC;
 *  - §6.2.2.1 pseudo-random card challenge; §6.2.2.2 card cryptogram; §6.2.2.3 host cryptogram.
 */
import { aesEcbEncrypt } from './aes-block';
import { aesCmac } from './cmac';
import { CryptoError } from './errors';
import { zeros } from './zeros';

/** Derivation constants, Amd D Table 4-1. */
export const Scp03DerivationConstant = {
  CARD_CRYPTOGRAM: 0x00,
  HOST_CRYPTOGRAM: 0x01,
  CARD_CHALLENGE: 0x02,
  S_ENC: 0x04,
  S_MAC: 0x06,
  S_RMAC: 0x07,
} as const;

/** The three static keys of an SCP03 key set (all AES-128, -192 or -256, of one length). */
export interface Scp03StaticKeys {
  /** Key-ENC: derives S-ENC and the pseudo-random card challenge. */
  readonly enc: Uint8Array;
  /** Key-MAC: derives S-MAC and S-RMAC. */
  readonly mac: Uint8Array;
  /** Key-DEK: encrypts sensitive data (PUT KEY, STORE DATA); not used by the channel itself. */
  readonly dek: Uint8Array;
}

/** Session keys of one secure channel session (Amd D §6.2.1). */
export interface Scp03SessionKeys {
  readonly sEnc: Buffer;
  readonly sMac: Buffer;
  readonly sRmac: Buffer;
}

/** Length in bytes of host/card challenges and cryptograms in S8 mode (Amd D §6.2.2, i bit b1 = 0). */
export const SCP03_CHALLENGE_LENGTH = 8;

const AES_KEY_LENGTHS = new Set([16, 24, 32]);

/** Throws CryptoError.InvalidKey unless `key` is an AES-128/192/256 key. */
export function checkAesKey(key: Uint8Array, name: string): void {
  if (!AES_KEY_LENGTHS.has(key.length)) {
    throw new CryptoError.InvalidKey(`${name} must be 16, 24 or 32 bytes, got ${key.length}`);
  }
}

/** Throws unless the key set has three AES keys of the same length (Amd D §4.1.4). */
export function checkStaticKeys(keys: Scp03StaticKeys): void {
  checkAesKey(keys.enc, 'Key-ENC');
  checkAesKey(keys.mac, 'Key-MAC');
  checkAesKey(keys.dek, 'Key-DEK');
  if (keys.enc.length !== keys.mac.length || keys.enc.length !== keys.dek.length) {
    throw new CryptoError.InvalidKey('Key-ENC, Key-MAC and Key-DEK must have the same length');
  }
}

/**
 * Amd D §4.1.5 data derivation: NIST SP 800-108 counter-mode KDF, PRF = AES-CMAC(key).
 * Each PRF input block is: label (11 × 00 ‖ derivation constant) ‖ separation indicator 00 ‖
 * L (2 bytes, output length in bits) ‖ i (1 byte, block counter from 01) ‖ context.
 */
export function scp03Kdf(key: Uint8Array, derivationConstant: number, context: Uint8Array, lengthBits: number): Buffer {
  checkAesKey(key, 'KDF key');
  if (!Number.isInteger(derivationConstant) || derivationConstant < 0 || derivationConstant > 0xff) {
    throw new CryptoError.InvalidParameter(`derivation constant ${derivationConstant} is not a byte`);
  }
  if (!Number.isInteger(lengthBits) || lengthBits <= 0 || lengthBits % 8 !== 0 || lengthBits > 0xffff) {
    throw new CryptoError.InvalidParameter(`KDF output length ${lengthBits} bits is not a positive multiple of 8`);
  }
  const blocks = Math.ceil(lengthBits / 128);
  if (blocks > 0xff) throw new CryptoError.InvalidParameter('KDF output too long for a 1-byte counter');
  // Input: label (11 zero bytes ‖ derivation constant) ‖ separator 00 ‖ L (2 bytes) ‖ counter i ‖ context,
  // built once; only the counter byte changes between blocks.
  const input = zeros(16 + context.length);
  input[11] = derivationConstant;
  input[13] = lengthBits >> 8;
  input[14] = lengthBits & 0xff;
  input.set(context, 16);
  const out = Buffer.allocUnsafe(blocks * 16);
  for (let i = 1; i <= blocks; i += 1) {
    input[15] = i;
    out.set(aesCmac(key, input), (i - 1) * 16);
  }
  return out.subarray(0, lengthBits / 8);
}

/** Context of the session key and cryptogram derivations: host challenge ‖ card challenge (Amd D §6.2.1). */
export function scp03Context(hostChallenge: Uint8Array, cardChallenge: Uint8Array): Buffer {
  checkChallenge(hostChallenge, 'host challenge');
  checkChallenge(cardChallenge, 'card challenge');
  return Buffer.concat([hostChallenge, cardChallenge]);
}

/**
 * The last session keys derived per static key set. A handshake derives them twice on each side: the card
 * for its cryptogram at INITIALIZE UPDATE and again to check EXTERNAL AUTHENTICATE, the host to build
 * EXTERNAL AUTHENTICATE and again to check the card cryptogram. Kept with the key bytes and the context
 * they came from, so a key changed in place or another session derives afresh.
 */
const lastDerived = new WeakMap<Scp03StaticKeys, { enc: Buffer; mac: Buffer; context: Buffer; sessionKeys: Scp03SessionKeys }>();

/** S-ENC from Key-ENC, S-MAC and S-RMAC from Key-MAC, each as long as its static key (Amd D §6.2.1). */
export function deriveScp03SessionKeys(keys: Scp03StaticKeys, context: Uint8Array): Scp03SessionKeys {
  checkStaticKeys(keys);
  const last = lastDerived.get(keys);
  if (last && last.context.equals(context) && last.enc.equals(keys.enc) && last.mac.equals(keys.mac)) return last.sessionKeys;
  const bits = keys.enc.length * 8;
  const sessionKeys = Object.freeze({
    sEnc: scp03Kdf(keys.enc, Scp03DerivationConstant.S_ENC, context, bits),
    sMac: scp03Kdf(keys.mac, Scp03DerivationConstant.S_MAC, context, bits),
    sRmac: scp03Kdf(keys.mac, Scp03DerivationConstant.S_RMAC, context, bits),
  });
  lastDerived.set(keys, { enc: Buffer.from(keys.enc), mac: Buffer.from(keys.mac), context: Buffer.from(context), sessionKeys });
  return sessionKeys;
}

/** Card cryptogram: KDF(S-MAC, 00, L = 64, context), Amd D §6.2.2.2. */
export function scp03CardCryptogram(sMac: Uint8Array, context: Uint8Array): Buffer {
  return scp03Kdf(sMac, Scp03DerivationConstant.CARD_CRYPTOGRAM, context, SCP03_CHALLENGE_LENGTH * 8);
}

/** Host cryptogram: KDF(S-MAC, 01, L = 64, context), Amd D §6.2.2.3. */
export function scp03HostCryptogram(sMac: Uint8Array, context: Uint8Array): Buffer {
  return scp03Kdf(sMac, Scp03DerivationConstant.HOST_CRYPTOGRAM, context, SCP03_CHALLENGE_LENGTH * 8);
}

/**
 * Pseudo-random card challenge (i parameter b5 = 1): KDF(Key-ENC, 02, L = 64,
 * context = sequence counter (3 bytes) ‖ AID of the security domain), Amd D §6.2.2.1.
 */
export function scp03PseudoRandomCardChallenge(keyEnc: Uint8Array, sequenceCounter: number, sdAid: Uint8Array): Buffer {
  if (!Number.isInteger(sequenceCounter) || sequenceCounter < 0 || sequenceCounter > 0xffffff) {
    throw new CryptoError.InvalidParameter(`sequence counter ${sequenceCounter} does not fit 3 bytes`);
  }
  if (sdAid.length < 5 || sdAid.length > 16) {
    throw new CryptoError.InvalidParameter(`AID of ${sdAid.length} bytes is not 5..16 bytes`);
  }
  const counter = Buffer.of(sequenceCounter >> 16, (sequenceCounter >> 8) & 0xff, sequenceCounter & 0xff);
  return scp03Kdf(keyEnc, Scp03DerivationConstant.CARD_CHALLENGE, Buffer.concat([counter, sdAid]), 64);
}

/** AES-ECB encryption of one 16-byte block (ICV computation, Amd D §6.2.6 / §6.2.7). */
export function aesEncryptBlock(key: Uint8Array, block: Uint8Array): Buffer {
  checkAesKey(key, 'AES key');
  if (block.length !== 16) throw new CryptoError.InvalidLength(`AES block must be 16 bytes, got ${block.length}`);
  return aesEcbEncrypt(key, block); // the key's reused schedule (aes-block.ts)
}

function checkChallenge(challenge: Uint8Array, name: string): void {
  if (challenge.length !== SCP03_CHALLENGE_LENGTH) {
    throw new CryptoError.InvalidLength(`${name} must be ${SCP03_CHALLENGE_LENGTH} bytes, got ${challenge.length}`);
  }
}
