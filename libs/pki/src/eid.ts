/**
 * EID, the eUICC identifier (SGP.02 §2.2.2 and Annex J; SGP.29 §10 for the structure):
 *  - exactly 32 decimal digits;
 *  - SGP.02 (M2M) EIDs start with `89` (SGP.29 also allows other first digits; opt in with `anyPrefix`);
 *  - the last two digits are check digits, ISO/IEC 7064 MOD 97-10: with the check digits set to `00`,
 *    check = 98 − (number mod 97), written on two digits; a valid EID satisfies number mod 97 = 1.
 * Sources: SGP.02 Annex J as quoted by Infineon's optiga-connect-iot wiki "How to verify an EID";
 * osmocom/pysim `pySim/euicc.py` (compute_eid_checksum / verify_eid_checksum, SGP.29 §10).
 */
import { PkiError } from './errors';

export const EID_DIGITS = 32;
/** Digits before the check digits. */
export const EID_BODY_DIGITS = 30;
/** Major industry identifier 89 (telecommunications) that SGP.02 EIDs start with. */
export const EID_PREFIX = '89';

/** Why an EID string is refused. */
export type EidProblem = 'length' | 'non-digit' | 'prefix' | 'check-digits';

export interface EidOptions {
  /** Accept EIDs that do not start with 89 (SGP.29 EINs); default false, as SGP.02 requires 89. */
  anyPrefix?: boolean;
}

/** The first problem with `eid`, or undefined when it is a valid EID. */
export function eidProblem(eid: unknown, options: EidOptions = {}): EidProblem | undefined {
  if (typeof eid !== 'string' || eid.length !== EID_DIGITS) return 'length';
  if (!/^\d+$/.test(eid)) return 'non-digit';
  if (!options.anyPrefix && !eid.startsWith(EID_PREFIX)) return 'prefix';
  if (mod97(eid) !== 1) return 'check-digits';
  return undefined;
}

/** The decimal digit string modulo 97, digit by digit (ISO/IEC 7064; no BigInt on this hot path). */
function mod97(digits: string): number {
  let remainder = 0;
  for (let i = 0; i < digits.length; i += 1) remainder = (remainder * 10 + digits.charCodeAt(i) - 48) % 97;
  return remainder;
}

/** Throws PkiError.InvalidEid (message starting with the problem) unless `eid` is a valid EID. */
export function validateEid(eid: string, options: EidOptions = {}): void {
  const problem = eidProblem(eid, options);
  if (problem !== undefined) throw new PkiError.InvalidEid(`${problem}: invalid EID "${printable(eid)}"`);
}

export function isValidEid(eid: string, options: EidOptions = {}): boolean {
  return eidProblem(eid, options) === undefined;
}

/** The two ISO/IEC 7064 MOD 97-10 check digits for the first 30 digits of an EID. */
export function computeEidCheckDigits(first30: string): string {
  if (typeof first30 !== 'string' || first30.length !== EID_BODY_DIGITS || !/^\d+$/.test(first30)) {
    throw new PkiError.InvalidEid(`length: EID body must be ${EID_BODY_DIGITS} digits`);
  }
  const check = 98 - mod97(`${first30}00`);
  return check.toString().padStart(2, '0');
}

/**
 * Builds a valid EID from an EIN-style prefix (e.g. `89049032` + platform digits) and a serial,
 * the serial zero-padded to fill the 30 digits after the prefix, then the check digits.
 */
export function generateEid(prefix: string, serial: bigint | number, options: EidOptions = {}): string {
  if (typeof prefix !== 'string' || !/^\d*$/.test(prefix)) throw new PkiError.InvalidEid('non-digit: EID prefix');
  if (prefix.length >= EID_BODY_DIGITS) {
    throw new PkiError.InvalidEid(`length: EID prefix must be fewer than ${EID_BODY_DIGITS} digits`);
  }
  const serialDigits = serialToDigits(serial);
  const width = EID_BODY_DIGITS - prefix.length;
  if (serialDigits.length > width) {
    throw new PkiError.InvalidEid(`length: serial ${serialDigits} does not fit ${width} digits after ${prefix}`);
  }
  const body = prefix + serialDigits.padStart(width, '0');
  const eid = body + computeEidCheckDigits(body);
  validateEid(eid, options);
  return eid;
}

/**
 * True when `eid` starts with one of the EUM certificate's permittedEins (SGP.22 §4.5.2.1.0.2:
 * `PermittedEins ::= SEQUENCE OF PrintableString`, each an EID prefix, the IIN/EIN of the EUM; matched
 * by prefix as osmocom/pysim `pySim/esim/smdpp_common.py` validate_eid_range does). An empty list
 * permits nothing; entries that are not digit strings never match.
 */
export function eidMatchesPermittedEins(eid: string, permitted: readonly string[]): boolean {
  if (eidProblem(eid, { anyPrefix: true }) !== undefined) return false;
  return permitted.some((ein) => typeof ein === 'string' && /^\d+$/.test(ein) && eid.startsWith(ein));
}

/** Nibble order of the 16-byte EID encoding. */
export type EidNibbleOrder = 'plain' | 'swapped';

/**
 * 16-byte BCD form of an EID, as in tag 5A (GET DATA on the ECASD, SGP.02 §2.2.2; SGP.22 §5.7.20).
 * 'plain' (default) puts the first digit in the high nibble (`8904…` → 89 04 …), as SGP.22 GetEID and
 * the hex EIDs GSMA prints; 'swapped' is the ICCID-style order pySim uses for the SGP.02 ECASD 5A [U].
 */
export function eidToBytes(eid: string, nibbleOrder: EidNibbleOrder = 'plain'): Buffer {
  validateEid(eid, { anyPrefix: true });
  return Buffer.from(nibbleOrder === 'plain' ? eid : swapPairs(eid), 'hex');
}

/** Decodes 16 BCD bytes back to the EID string; rejects non-decimal nibbles and invalid EIDs. */
export function eidFromBytes(bytes: Uint8Array, nibbleOrder: EidNibbleOrder = 'plain'): string {
  if (!(bytes instanceof Uint8Array) || bytes.length !== EID_DIGITS / 2) {
    throw new PkiError.InvalidEid(`length: EID must be ${EID_DIGITS / 2} bytes`);
  }
  const nibbles = Buffer.from(bytes).toString('hex');
  const eid = nibbleOrder === 'plain' ? nibbles : swapPairs(nibbles);
  validateEid(eid, { anyPrefix: true });
  return eid;
}

function swapPairs(digits: string): string {
  return digits.replace(/(.)(.)/g, '$2$1');
}

function serialToDigits(serial: bigint | number): string {
  if (typeof serial === 'number' && (!Number.isSafeInteger(serial) || serial < 0)) {
    throw new PkiError.InvalidEid('non-digit: serial must be a non-negative safe integer');
  }
  if (typeof serial === 'bigint' && serial < 0n) throw new PkiError.InvalidEid('non-digit: serial must be ≥ 0');
  if (typeof serial !== 'number' && typeof serial !== 'bigint') {
    throw new PkiError.InvalidEid('non-digit: serial must be a number or bigint');
  }
  return serial.toString();
}

/** A short, safe rendering of untrusted input for error messages. */
function printable(value: unknown): string {
  return String(value).slice(0, 40).replace(/[^\x20-\x7e]/g, '?');
}
