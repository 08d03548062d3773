/**
 * The secure messaging core of an open SCP03 session (GP Card Spec v2.3 Amendment D §6.2.3–§6.2.7),
 * shared by APDU SCP03 (`scp03.ts`) and TLV SCP03t (`scp03t.ts`). The caller supplies the bytes
 * that precede the data in the MAC input (APDU header ‖ Lc, or tag ‖ BER length), so both framings
 * use the same chaining, counter and padding rules.
 *
 * Replay and reordering: the counter is never transmitted; a replayed, dropped or reordered command
 * is detected because its C-MAC was computed over a different MAC chaining value, so it fails as
 * CryptoError.MacMismatch. After any verification failure the session is closed (Amd D §6.2.4:
 * the card terminates the secure channel), and later use throws CryptoError.SecureChannelState.
 */
import { timingSafeEqual } from 'node:crypto';
import { aesCbc } from './aes-block';
import { aesCmac } from './cmac';
import { CryptoError } from './errors';
import { aesEncryptBlock, type Scp03SessionKeys } from './scp03-kdf';
import { zeros } from './zeros';

/** Security level bits (P1 of EXTERNAL AUTHENTICATE), Amd D §5.1 / Table 5-1. */
export const Scp03SecurityLevel = {
  NONE: 0x00,
  C_MAC: 0x01,
  C_DECRYPTION: 0x02,
  R_MAC: 0x10,
  R_ENCRYPTION: 0x20,
} as const;

/** The combinations Amd D §5.1 allows: C-DEC needs C-MAC, R-ENC needs R-MAC and C-DEC. */
const VALID_SECURITY_LEVELS = new Set([0x00, 0x01, 0x03, 0x11, 0x13, 0x33]);

/** Length of the truncated C-MAC / R-MAC carried on the wire (S8 mode). */
export const SCP03_MAC_LENGTH = 8;
const BLOCK = 16;

/** Throws CryptoError.InvalidParameter unless `level` is an Amd D §5.1 security level. */
export function checkSecurityLevel(level: number): void {
  if (!VALID_SECURITY_LEVELS.has(level)) {
    throw new CryptoError.InvalidParameter(`security level 0x${level.toString(16)} is not allowed by GP Amd D §5.1`);
  }
}

/** ISO/IEC 9797-1 padding method 2 to a multiple of 16 (GP CS v2.3 §B.2.3): 80 then 00s, always ≥ 1 byte. */
export function pad80(data: Uint8Array): Buffer {
  const padLength = BLOCK - (data.length % BLOCK);
  const padding = zeros(padLength);
  padding[0] = 0x80;
  return Buffer.concat([data, padding]);
}

/** Removes ISO/IEC 9797-1 method 2 padding; anything else is CryptoError.Padding. */
export function unpad80(padded: Uint8Array): Buffer {
  if (padded.length === 0 || padded.length % BLOCK !== 0) {
    throw new CryptoError.Padding(`padded data of ${padded.length} bytes is not a positive multiple of 16`);
  }
  let i = padded.length - 1;
  // Only the last block may hold padding.
  while (i >= padded.length - BLOCK && padded[i] === 0x00) i -= 1;
  if (i < padded.length - BLOCK || padded[i] !== 0x80) throw new CryptoError.Padding('missing 80 padding marker');
  return Buffer.from(padded.subarray(0, i));
}

/** True for SWs that get R-MAC / R-ENC: 9000, 62xx, 63xx (Amd D §6.2.5, §6.2.7). */
export function swIsProtected(sw: number): boolean {
  const sw1 = sw >> 8;
  return sw === 0x9000 || sw1 === 0x62 || sw1 === 0x63;
}

/** Mutable state of one open session: keys, level, MAC chaining value and encryption counter. */
export class Scp03Session {
  /** MAC chaining value: 16 × 00 before EXTERNAL AUTHENTICATE (Amd D §6.2.3). */
  private mcv: Buffer = Buffer.alloc(BLOCK);
  /** Encryption counter of the last command (0 = none yet; the first wrapped command uses 1). */
  private counter = 0n;
  private closed = false;

  constructor(
    private readonly keys: Scp03SessionKeys,
    readonly securityLevel: number,
  ) {
    checkSecurityLevel(securityLevel);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Current MAC chaining value (a copy). */
  get macChainingValue(): Buffer {
    return Buffer.from(this.mcv);
  }

  /** Counter value of the most recent command. */
  get encryptionCounter(): bigint {
    return this.counter;
  }

  hasLevel(bit: number): boolean {
    return (this.securityLevel & bit) === bit;
  }

  /** Marks the session unusable (after any verification failure). */
  close(): void {
    this.closed = true;
  }

  /**
   * Off-card side: C-MAC over MCV ‖ macPrefix ‖ data (Amd D §6.2.4), updating the MCV with the full
   * 16-byte CMAC; returns the 8-byte C-MAC to append. EXTERNAL AUTHENTICATE goes through here too.
   */
  generateCmac(macPrefix: Uint8Array, data: Uint8Array): Buffer {
    this.assertOpen();
    const full = aesCmac(this.keys.sMac, Buffer.concat([this.mcv, macPrefix, data]));
    this.mcv = full;
    return Buffer.from(full.subarray(0, SCP03_MAC_LENGTH));
  }

  /**
   * Card side: verifies the received C-MAC in constant time, then advances the MCV. On mismatch the
   * session is closed and CryptoError.MacMismatch thrown (this is also how replays are caught).
   */
  verifyCmac(macPrefix: Uint8Array, data: Uint8Array, receivedMac: Uint8Array): void {
    this.assertOpen();
    const full = aesCmac(this.keys.sMac, Buffer.concat([this.mcv, macPrefix, data]));
    const expected = full.subarray(0, SCP03_MAC_LENGTH);
    if (receivedMac.length !== SCP03_MAC_LENGTH || !timingSafeEqual(expected, receivedMac)) {
      this.close();
      throw new CryptoError.MacMismatch('C-MAC verification failed');
    }
    this.mcv = full;
  }

  /** Both sides call this once per command after EXTERNAL AUTHENTICATE (Amd D §6.2.6: even without data). */
  nextCommandCounter(): bigint {
    this.assertOpen();
    if (this.counter >= (1n << 128n) - 1n) throw new CryptoError.CounterReplay('encryption counter exhausted');
    this.counter += 1n;
    return this.counter;
  }

  /** C-DECRYPTION, off-card side: AES-CBC(S-ENC, ICV = AES(S-ENC, counter), pad80(data)) (Amd D §6.2.6). */
  encryptCommandData(plain: Uint8Array, counter: bigint): Buffer {
    this.assertOpen();
    return cbc(true, this.keys.sEnc, this.commandIcv(counter), pad80(plain));
  }

  /** C-DECRYPTION, card side. Only call after verifyCmac succeeded, so padding errors leak nothing. */
  decryptCommandData(cipherText: Uint8Array, counter: bigint): Buffer {
    this.assertOpen();
    if (cipherText.length === 0 || cipherText.length % BLOCK !== 0) {
      this.close();
      throw new CryptoError.Padding(`encrypted data of ${cipherText.length} bytes is not a multiple of 16`);
    }
    try {
      return unpad80(cbc(false, this.keys.sEnc, this.commandIcv(counter), cipherText));
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** R-ENCRYPTION, card side: ICV = AES(S-ENC, 80 ‖ counter[1..15]) (Amd D §6.2.7). */
  encryptResponseData(plain: Uint8Array, counter: bigint): Buffer {
    this.assertOpen();
    return cbc(true, this.keys.sEnc, this.responseIcv(counter), pad80(plain));
  }

  /** R-ENCRYPTION, off-card side; call after verifyRmac. */
  decryptResponseData(cipherText: Uint8Array, counter: bigint): Buffer {
    this.assertOpen();
    if (cipherText.length === 0 || cipherText.length % BLOCK !== 0) {
      this.close();
      throw new CryptoError.Padding(`encrypted response of ${cipherText.length} bytes is not a multiple of 16`);
    }
    try {
      return unpad80(cbc(false, this.keys.sEnc, this.responseIcv(counter), cipherText));
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /**
   * R-MAC = first 8 bytes of CMAC(S-RMAC, mcv ‖ input) where mcv is the full C-MAC of the command
   * being answered (Amd D §6.2.5). R-MACs do not feed the C-MAC chain.
   */
  computeRmac(commandMcv: Uint8Array, input: Uint8Array): Buffer {
    this.assertOpen();
    return aesCmac(this.keys.sRmac, Buffer.concat([commandMcv, input])).subarray(0, SCP03_MAC_LENGTH);
  }

  /** Off-card side R-MAC check; closes the session on mismatch. */
  verifyRmac(commandMcv: Uint8Array, input: Uint8Array, receivedMac: Uint8Array): void {
    const expected = this.computeRmac(commandMcv, input);
    if (receivedMac.length !== SCP03_MAC_LENGTH || !timingSafeEqual(expected, receivedMac)) {
      this.close();
      throw new CryptoError.MacMismatch('R-MAC verification failed');
    }
  }

  private commandIcv(counter: bigint): Buffer {
    return aesEncryptBlock(this.keys.sEnc, counterBlock(counter));
  }

  private responseIcv(counter: bigint): Buffer {
    const block = counterBlock(counter);
    block[0] = 0x80;
    return aesEncryptBlock(this.keys.sEnc, block);
  }

  private assertOpen(): void {
    if (this.closed) throw new CryptoError.SecureChannelState('secure channel session is closed');
  }
}

/** The 16-byte big-endian encoding of the encryption counter. */
function counterBlock(counter: bigint): Buffer {
  const block = zeros(BLOCK);
  block.writeBigUInt64BE(counter >> 64n, 0);
  block.writeBigUInt64BE(counter & 0xffffffffffffffffn, 8);
  return block;
}

function cbc(encrypt: boolean, key: Buffer, iv: Buffer, data: Uint8Array): Buffer {
  return aesCbc(encrypt ? 'encrypt' : 'decrypt', key, iv, data); // table AES for short APDUs, AES-NI for long (aes-block.ts)
}
