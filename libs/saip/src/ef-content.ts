/**
 * Contents of the elementary files a personaliser writes (3GPP TS 31.102, ETSI TS 102 221).
 */
import { SaipError } from './errors';
import { iccidBytes, iccidFromBytes } from './header';

/** EF.IMSI is 9 bytes: length byte + 8 bytes of BCD (TS 31.102 §4.2.2). */
export const EF_IMSI_SIZE = 9;

/** IMSI: 6..15 decimal digits (MCC 3 + MNC 2..3 + MSIN; ITU-T E.212 caps it at 15). */
export function validateImsi(imsi: string): void {
  if (typeof imsi !== 'string' || !/^\d{6,15}$/.test(imsi)) {
    throw new SaipError.BadValue(`IMSI must be 6..15 decimal digits, got "${String(imsi).slice(0, 20)}"`);
  }
}

/**
 * EF.IMSI (TS 31.102 §4.2.2): byte 1 = number of following bytes used, then the digits as BCD with the
 * first nibble holding the parity indicator (b4 = 1 for an odd number of digits, b3..b1 = 001),
 * nibbles swapped within each byte, unused nibbles and bytes `F`.
 * Example: 001010123456789 → 08 09 10 10 10 32 54 76 98.
 */
export function encodeEfImsi(imsi: string): Buffer {
  validateImsi(imsi);
  const parity = imsi.length % 2 === 1 ? '9' : '1';
  const nibbles = (parity + imsi).padEnd(16, 'f');
  const used = Math.ceil((imsi.length + 1) / 2);
  const bcd = Buffer.from(nibbles.replace(/(.)(.)/g, '$2$1'), 'hex');
  return Buffer.concat([Buffer.of(used), bcd]);
}

/** Reverse of {@link encodeEfImsi}; anything inconsistent is SaipError.BadValue. */
export function decodeEfImsi(content: Uint8Array): string {
  const bytes = Buffer.from(content);
  const used = bytes[0];
  if (bytes.length < 2 || used === undefined || used < 1 || used > 8 || used + 1 > bytes.length) {
    throw new SaipError.BadValue('EF.IMSI: bad length byte');
  }
  const nibbles = bytes.subarray(1, 1 + used).toString('hex').replace(/(.)(.)/g, '$2$1');
  const parity = nibbles[0];
  const digits = nibbles.slice(1).replace(/f$/, '');
  if (!/^\d+$/.test(digits) || (parity !== '9' && parity !== '1')) {
    throw new SaipError.BadValue('EF.IMSI: content is not a BCD IMSI');
  }
  if ((parity === '9') !== (digits.length % 2 === 1)) throw new SaipError.BadValue('EF.IMSI: parity nibble mismatch');
  validateImsi(digits);
  return digits;
}

/** EF.ICCID (TS 102 221 §13.2): the 10-byte nibble-swapped BCD ICCID, `F`-padded for 19 digits. */
export function encodeEfIccid(iccid: string): Buffer {
  return iccidBytes(iccid);
}

export function decodeEfIccid(content: Uint8Array): string {
  return iccidFromBytes(content);
}

/**
 * EF.AD (TS 31.102 §4.2.18): byte 1 UE operation mode (00 normal), bytes 2-3 additional information,
 * byte 4 length of the MNC in the IMSI (2 or 3).
 */
export function encodeEfAd(mncLength: 2 | 3, operationMode = 0x00): Buffer {
  if (mncLength !== 2 && mncLength !== 3) throw new SaipError.BadValue('EF.AD: MNC length must be 2 or 3');
  return Buffer.of(operationMode & 0xff, 0x00, 0x00, mncLength);
}

/** MNC length from EF.AD, or undefined when the file is shorter than 4 bytes (TS 31.102 §4.2.18). */
export function decodeEfAdMncLength(content: Uint8Array): number | undefined {
  const v = content[3];
  return v === undefined ? undefined : v & 0x0f;
}

/**
 * EF.ACC (TS 31.102 §4.2.15): 2 bytes, bit n (counting from b1 of byte 2) set for access class n.
 * Classes 0..9 are the ordinary ones (TS 22.011 §4.2); the usual allocation is the IMSI's last digit.
 */
export function encodeEfAcc(accessClass: number): Buffer {
  if (!Number.isInteger(accessClass) || accessClass < 0 || accessClass > 15) {
    throw new SaipError.BadValue(`EF.ACC: access class ${accessClass} is not 0..15`);
  }
  const v = 1 << accessClass;
  return Buffer.of(v >> 8, v & 0xff);
}
