/**
 * Secrets people type (claim codes, transfer codes, PACs): generated from a CSPRNG, stored only as
 * `salt.hex(sha256(salt ‖ normalised code))` with a per-row random salt, compared in constant time.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/** Crockford base32 without I, L, O, U: nothing to misread. */
const TRANSFER_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

/** Upper case, separators (spaces, dashes) removed. */
export function normaliseCode(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase();
}

export function hashCode(code: string, salt: Buffer = randomBytes(16)): string {
  const digest = createHash('sha256').update(salt).update(normaliseCode(code), 'utf8').digest('hex');
  return `${salt.toString('hex')}.${digest}`;
}

/** Constant-time check of `code` against a stored `salt.hash`. */
export function codeMatches(code: string, stored: string): boolean {
  const [saltHex, digestHex] = stored.split('.');
  if (!saltHex || !digestHex) return false;
  const expected = Buffer.from(digestHex, 'hex');
  const actual = Buffer.from(hashCode(code, Buffer.from(saltHex, 'hex')).split('.')[1] as string, 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** 12 characters (60 bits) shown as `XXXX-XXXX-XXXX`. */
export function generateTransferCode(): string {
  const chars = Array.from({ length: 12 }, () => TRANSFER_ALPHABET[randomInt(TRANSFER_ALPHABET.length)]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4, 8).join('')}-${chars.slice(8).join('')}`;
}

/** PAC style (UK Ofcom): 3 letters + 6 digits, 9 characters [U: the format is national]. */
export function generatePac(): string {
  const letters = Array.from({ length: 3 }, () => LETTERS[randomInt(LETTERS.length)]).join('');
  return `${letters}${String(randomInt(1_000_000)).padStart(6, '0')}`;
}
