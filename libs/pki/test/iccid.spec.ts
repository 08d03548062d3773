import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  computeLuhnDigit,
  generateIccid,
  iccidFromSwappedBcd,
  iccidProblem,
  iccidToSwappedBcd,
  isValidIccid,
  validateIccid,
  type IccidProblem,
} from '../src/iccid';

const vectors = JSON.parse(readFileSync(new URL('./vectors/iccid.json', import.meta.url), 'utf8')) as {
  valid: { iccid: string; swappedBcd: string }[];
  luhn: { digits: string; checkDigit: number }[];
  invalid: { iccid: string; problem: IccidProblem }[];
  invalidSwappedBcd: { hex: string; reason: string }[];
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('ICCID (ITU-T E.118, Luhn, EF.ICCID swapped BCD)', () => {
  it.each(vectors.valid.map((v) => [v.iccid, v] as const))('%s is valid and round-trips', (iccid, v) => {
    expect(isValidIccid(iccid)).toBe(true);
    expect(() => validateIccid(iccid)).not.toThrow();
    expect(iccidToSwappedBcd(iccid).toString('hex')).toBe(v.swappedBcd);
    expect(iccidFromSwappedBcd(Buffer.from(v.swappedBcd, 'hex'))).toBe(iccid);
  });

  it.each(vectors.luhn.map((v) => [v.digits, v.checkDigit] as const))('Luhn digit of %s is %i', (digits, cd) => {
    expect(computeLuhnDigit(digits)).toBe(cd);
  });

  it.each(vectors.invalid.map((v) => [v.iccid, v.problem] as const))('refuses "%s" (%s)', (iccid, problem) => {
    expect(isValidIccid(iccid)).toBe(false);
    expect(iccidProblem(iccid)).toBe(problem);
    expect(codeOf(() => validateIccid(iccid))).toBe('ERR_PKI_INVALID_ICCID');
    expect(codeOf(() => iccidToSwappedBcd(iccid))).toBe('ERR_PKI_INVALID_ICCID');
  });

  it.each(vectors.invalidSwappedBcd.map((v) => [v.reason, v.hex] as const))('refuses swapped BCD: %s', (_r, hex) => {
    expect(codeOf(() => iccidFromSwappedBcd(Buffer.from(hex, 'hex')))).toBe('ERR_PKI_INVALID_ICCID');
  });

  it('generates valid 19- and 20-digit ICCIDs', () => {
    expect(generateIccid('89882110000005300', 8, 19)).toBe('8988211000000530082');
    expect(generateIccid('8988211', 53008n, 19)).toBe('8988211000000530082');
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n - 1n }), fc.constantFrom(19 as const, 20 as const), (serial, length) => {
        const iccid = generateIccid('894400', serial, length);
        return iccid.length === length && isValidIccid(iccid) && iccidFromSwappedBcd(iccidToSwappedBcd(iccid)) === iccid;
      }),
    );
    expect(codeOf(() => generateIccid('8944', 10n ** 15n, 19))).toBe('ERR_PKI_INVALID_ICCID');
    expect(codeOf(() => generateIccid('12', 1))).toBe('ERR_PKI_INVALID_ICCID');
    expect(codeOf(() => generateIccid('89', -1))).toBe('ERR_PKI_INVALID_ICCID');
    expect(codeOf(() => computeLuhnDigit(''))).toBe('ERR_PKI_INVALID_ICCID');
  });

  it('Luhn detects every single-digit change', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^89\d{17}$/), fc.nat(18), fc.integer({ min: 1, max: 9 }), (body, pos, delta) => {
        const iccid = body + String(computeLuhnDigit(body));
        const changed = iccid.slice(0, pos) + String((Number(iccid[pos]) + delta) % 10) + iccid.slice(pos + 1);
        return isValidIccid(iccid) && (pos < 2 || !isValidIccid(changed));
      }),
    );
  });
});
