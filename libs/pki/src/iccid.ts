/**
 * ICCID, the profile's card identifier (ITU-T E.118; ETSI TS 102 221 §13.2 EF.ICCID):
 *  - 19 or 20 decimal digits starting with the major industry identifier `89`;
 *  - the last digit is a Luhn (ISO/IEC 7812-1 Annex B) check digit over the preceding digits;
 *  - stored on 10 bytes as BCD with the two digits of each byte swapped (first digit in the low nibble)
 *    and a 19-digit ICCID padded with `F`, as in EF.ICCID and the SAIP ProfileHeader `iccid`
 *    (SPEC-NOTES; osmocom/pysim `pySim/utils.py` enc_iccid/dec_iccid).
 * Vectors: osmocom/pysim `tests/unittests/test_utils.py` TestLuhn.
 */
import { PkiError } from './errors';

export const ICCID_PREFIX = '89';
export const ICCID_BYTES = 10;

/** Why an ICCID string is refused. */
export type IccidProblem = 'length' | 'non-digit' | 'prefix' | 'check-digit';

/** The first problem with `iccid`, or undefined when it is a valid ICCID. */
export function iccidProblem(iccid: unknown): IccidProblem | undefined {
  if (typeof iccid !== 'string' || (iccid.length !== 19 && iccid.length !== 20)) return 'length';
  if (!/^\d+$/.test(iccid)) return 'non-digit';
  if (!iccid.startsWith(ICCID_PREFIX)) return 'prefix';
  if (computeLuhnDigit(iccid.slice(0, -1)) !== Number(iccid.slice(-1))) return 'check-digit';
  return undefined;
}

/** Throws PkiError.InvalidIccid (message starting with the problem) unless `iccid` is valid. */
export function validateIccid(iccid: string): void {
  const problem = iccidProblem(iccid);
  if (problem !== undefined) {
    throw new PkiError.InvalidIccid(`${problem}: invalid ICCID "${String(iccid).slice(0, 24).replace(/[^\x20-\x7e]/g, '?')}"`);
  }
}

export function isValidIccid(iccid: string): boolean {
  return iccidProblem(iccid) === undefined;
}

/** The Luhn check digit to append to `digits` (doubling every second digit from the right end). */
export function computeLuhnDigit(digits: string): number {
  if (typeof digits !== 'string' || digits.length === 0 || !/^\d+$/.test(digits)) {
    throw new PkiError.InvalidIccid('non-digit: Luhn input must be a non-empty digit string');
  }
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = Number(digits[digits.length - 1 - i]);
    // The rightmost payload digit is doubled, since the check digit will sit to its right.
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return (10 - (sum % 10)) % 10;
}

/**
 * Builds a valid ICCID: issuer prefix (starting 89, e.g. `8988211` + issuer digits) and the serial
 * zero-padded to fill `length − 1` digits, then the Luhn digit.
 */
export function generateIccid(issuerPrefix: string, serial: bigint | number, length: 19 | 20 = 20): string {
  if (length !== 19 && length !== 20) throw new PkiError.InvalidIccid('length: an ICCID has 19 or 20 digits');
  if (typeof issuerPrefix !== 'string' || !/^\d*$/.test(issuerPrefix)) {
    throw new PkiError.InvalidIccid('non-digit: issuer prefix');
  }
  if (issuerPrefix.length >= length - 1) {
    throw new PkiError.InvalidIccid(`length: issuer prefix must be fewer than ${length - 1} digits`);
  }
  const serialValid =
    (typeof serial === 'number' && Number.isSafeInteger(serial) && serial >= 0) ||
    (typeof serial === 'bigint' && serial >= 0n);
  if (!serialValid) throw new PkiError.InvalidIccid('non-digit: serial must be a non-negative integer');
  const width = length - 1 - issuerPrefix.length;
  const serialDigits = serial.toString();
  if (serialDigits.length > width) {
    throw new PkiError.InvalidIccid(`length: serial ${serialDigits} does not fit ${width} digits`);
  }
  const body = issuerPrefix + serialDigits.padStart(width, '0');
  const iccid = body + String(computeLuhnDigit(body));
  validateIccid(iccid);
  return iccid;
}

/** 10-byte nibble-swapped BCD (EF.ICCID / SAIP ProfileHeader), `F`-padded for 19 digits. */
export function iccidToSwappedBcd(iccid: string): Buffer {
  validateIccid(iccid);
  const padded = iccid.padEnd(2 * ICCID_BYTES, 'f');
  return Buffer.from(padded.replace(/(.)(.)/g, '$2$1'), 'hex');
}

/** Decodes the 10-byte swapped BCD form; only a final `F` filler is allowed; the result must validate. */
export function iccidFromSwappedBcd(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array) || bytes.length !== ICCID_BYTES) {
    throw new PkiError.InvalidIccid(`length: ICCID must be ${ICCID_BYTES} bytes`);
  }
  const nibbles = Buffer.from(bytes).toString('hex').replace(/(.)(.)/g, '$2$1');
  const iccid = nibbles.endsWith('f') ? nibbles.slice(0, -1) : nibbles;
  if (!/^\d+$/.test(iccid)) throw new PkiError.InvalidIccid('non-digit: ICCID bytes hold a non-decimal nibble');
  validateIccid(iccid);
  return iccid;
}
