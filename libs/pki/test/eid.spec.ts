import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  computeEidCheckDigits,
  eidFromBytes,
  eidMatchesPermittedEins,
  eidProblem,
  eidToBytes,
  generateEid,
  isValidEid,
  validateEid,
  type EidProblem,
} from '../src/eid';

const vectors = JSON.parse(readFileSync(new URL('./vectors/eid.json', import.meta.url), 'utf8')) as {
  valid: { eid: string; bytes: string }[];
  checkDigits: { first30: string; checkDigits: string }[];
  invalid: { eid: string; problem: EidProblem; validWithAnyPrefix?: boolean }[];
  permittedEins: { eid: string; permitted: string[]; matches: boolean }[];
};

function errorOf(fn: () => unknown): { code?: string; message?: string } | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error as { code?: string; message?: string };
  }
}

describe('EID (SGP.02 §2.2.2 / Annex J, SGP.29 §10)', () => {
  it.each(vectors.valid.map((v) => [v.eid, v] as const))('%s is valid and round-trips through 16 BCD bytes', (eid, v) => {
    expect(isValidEid(eid)).toBe(true);
    expect(() => validateEid(eid)).not.toThrow();
    const bytes = eidToBytes(eid);
    expect(bytes.toString('hex')).toBe(v.bytes);
    expect(eidFromBytes(bytes)).toBe(eid);
    expect(eidFromBytes(eidToBytes(eid, 'swapped'), 'swapped')).toBe(eid);
  });

  it.each(vectors.checkDigits.map((v) => [v.first30, v.checkDigits] as const))('check digits of %s are %s', (first30, cd) => {
    expect(computeEidCheckDigits(first30)).toBe(cd);
  });

  it.each(vectors.invalid.map((v) => [v.eid, v] as const))('refuses "%s"', (eid, v) => {
    expect(isValidEid(eid)).toBe(false);
    const error = errorOf(() => validateEid(eid));
    expect(error?.code).toBe('ERR_PKI_INVALID_EID');
    expect(error?.message?.startsWith(`${v.problem}:`)).toBe(true);
    expect(eidProblem(eid)).toBe(v.problem);
    expect(isValidEid(eid, { anyPrefix: true })).toBe(v.validWithAnyPrefix === true);
  });

  it.each(vectors.permittedEins.map((v, i) => [i, v] as const))('permittedEins case %i', (_i, v) => {
    expect(eidMatchesPermittedEins(v.eid, v.permitted)).toBe(v.matches);
  });

  it('generates valid EIDs from a prefix and a serial', () => {
    expect(generateEid('89049032123451234512345678901', 2)).toBe('89049032123451234512345678901235');
    expect(generateEid('8904903212345123451234', 56789012n)).toBe('89049032123451234512345678901235');
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 22n - 1n }), (serial) => {
        const eid = generateEid('89049032', serial);
        return isValidEid(eid) && BigInt(eid.slice(8, 30)) === serial && eidMatchesPermittedEins(eid, ['89049032']);
      }),
    );
  });

  it('refuses bad generator input and bad byte forms with typed errors', () => {
    expect(errorOf(() => generateEid('89049032', 10n ** 22n))?.code).toBe('ERR_PKI_INVALID_EID');
    expect(errorOf(() => generateEid('8904x', 1))?.code).toBe('ERR_PKI_INVALID_EID');
    expect(errorOf(() => generateEid('89', -1))?.code).toBe('ERR_PKI_INVALID_EID');
    expect(errorOf(() => generateEid('89', 1.5))?.code).toBe('ERR_PKI_INVALID_EID');
    expect(errorOf(() => generateEid('12', 1))?.code).toBe('ERR_PKI_INVALID_EID');
    expect(generateEid('12', 1, { anyPrefix: true })).toHaveLength(32);
    expect(errorOf(() => computeEidCheckDigits('8904'))?.code).toBe('ERR_PKI_INVALID_EID');
    expect(errorOf(() => eidFromBytes(Buffer.alloc(15)))?.code).toBe('ERR_PKI_INVALID_EID');
    expect(errorOf(() => eidFromBytes(Buffer.from('89049032123451234512345678901a35', 'hex')))?.code).toBe(
      'ERR_PKI_INVALID_EID',
    );
    expect(errorOf(() => eidFromBytes(Buffer.from('89049032123451234512345678901234', 'hex')))?.code).toBe(
      'ERR_PKI_INVALID_EID',
    );
  });

  it('any 32-digit string is valid exactly when it is 89… and ≡ 1 mod 97', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{32}$/), (eid) => isValidEid(eid) === (eid.startsWith('89') && BigInt(eid) % 97n === 1n)),
    );
  });
});
