import { describe, expect, it } from '@jest/globals';
import { validateEcasdChain, validateEumCertificate, validateSmCertificate } from '../src/chain';
import { PkiError } from '../src/errors';
import { generateTestPki } from '../src/test-pki';

// Parsing and signature results are remembered for byte-identical certificates (parse-cache.ts). A
// certificate verified once must never make a changed one pass, and the time checks must still run.
describe('certificate parse / signature memo', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const pki = generateTestPki({ curve: 'P-256', now, euiccCount: 1 });
  const trust = { ciDer: pki.ci.der, now };
  const codeOf = (fn: () => unknown): string | undefined => {
    try {
      fn();
      return undefined;
    } catch (error) {
      return (error as { code?: string }).code;
    }
  };
  const flip = (bytes: Buffer, index: number) => {
    const copy = Buffer.from(bytes);
    copy[index] = copy[index]! ^ 0x01;
    return copy;
  };

  it('still refuses a tampered certificate after the genuine one was verified (X.509 and GP)', () => {
    expect(validateEumCertificate(pki.eum.der, trust).eum.raw.equals(pki.eum.der)).toBe(true);
    expect(validateEumCertificate(pki.eum.der, trust).eum.raw.equals(pki.eum.der)).toBe(true); // remembered
    // The last byte of the DER is inside the signature value.
    expect(codeOf(() => validateEumCertificate(flip(pki.eum.der, pki.eum.der.length - 1), trust))).toBe(PkiError.SignatureInvalid.code);

    const smDp = { gpCert: pki.smDp.cert, expectedRole: 'sm-dp' as const, ...trust };
    expect(validateSmCertificate(smDp).cert.role).toBe('sm-dp');
    expect(validateSmCertificate(smDp).cert.role).toBe('sm-dp');
    expect(codeOf(() => validateSmCertificate({ ...smDp, gpCert: flip(pki.smDp.cert, pki.smDp.cert.length - 1) }))).toBe(PkiError.SignatureInvalid.code);

    const euicc = pki.euiccs[0]!;
    const ecasd = { ecasdCert: euicc.ecasd.cert, eumDer: pki.eum.der, eid: euicc.eid, ...trust };
    expect(validateEcasdChain(ecasd).ecasd.role).toBe('ecasd');
    expect(codeOf(() => validateEcasdChain({ ...ecasd, ecasdCert: flip(euicc.ecasd.cert, euicc.ecasd.cert.length - 1) }))).toBe(PkiError.SignatureInvalid.code);
  });

  it('re-checks the validity period of a remembered certificate on every call', () => {
    validateEumCertificate(pki.eum.der, trust);
    expect(() => validateEumCertificate(pki.eum.der, { ...trust, now: new Date('2100-01-01T00:00:00Z') })).toThrow();
    expect(() => validateSmCertificate({ gpCert: pki.smSr.cert, expectedRole: 'sm-sr', ciDer: pki.ci.der, now: new Date('2100-01-01T00:00:00Z') })).toThrow();
  });

  it('hands out frozen parse results', () => {
    const { eum } = validateEumCertificate(pki.eum.der, trust);
    expect(Object.isFrozen(eum)).toBe(true);
  });
});
