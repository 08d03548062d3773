import { describe, expect, it, beforeAll } from '@jest/globals';
import { sign, X509Certificate } from 'node:crypto';
import { generateEcKeyPair, type CurveName } from '@rsp/crypto';
import { issueCrl, parseCrl } from '../src/crl';
import {
  validateCiCertificate,
  validateEcasdChain,
  validateEumCertificate,
  validateSmCertificate,
  validateX509Chain,
} from '../src/chain';
import { generateEid } from '../src/eid';
import { PkiError } from '../src/errors';
import { OID } from '../src/oids';
import { generateTestPki, REVOKED_TEST_SERIAL, type TestPki } from '../src/test-pki';
import { ext } from '../src/x509-builder';
import { KEY_USAGE } from '../src/x509-parse';
import { permittedEinsOf } from '../src/x509-validate';
import {
  DAY_MS,
  eumExtensions,
  expectCode,
  flipByte,
  issueGpUnder,
  issueUnder,
  NOW,
  selfSigned,
} from './x509-support';

const CURVES: CurveName[] = ['P-256', 'brainpoolP256r1'];

describe.each(CURVES)('test PKI and chain validation on %s', (curve) => {
  let pki: TestPki;
  beforeAll(() => {
    pki = generateTestPki({ curve, now: NOW, euiccCount: 2 });
  });
  const trust = (): { ciDer: Buffer; now: Date; crls: Buffer[] } => ({
    ciDer: pki.ci.der,
    now: NOW,
    crls: [pki.crls.ci, pki.crls.eum],
  });

  describe('valid paths', () => {
    it('accepts the CI, the EUM and its permittedEins', () => {
      expect(validateCiCertificate(pki.ci.der, NOW).policies).toEqual([OID.roleCi]);
      const { eum, permittedEins } = validateEumCertificate(pki.eum.der, trust());
      expect(eum.policies).toEqual([OID.roleEum]);
      expect(eum.basicConstraints).toEqual({ cA: true, pathLen: 0, critical: true });
      expect(permittedEins).toEqual(['89049032']);
      expect(permittedEinsOf(pki.eum.der)).toEqual(['89049032']);
    });

    it('first demo eUICC carries the GSMA test EID', () => {
      expect(pki.euiccs[0]?.eid).toBe('89049032123451234512345678901235');
    });

    it('accepts every CERT.ECASD.ECKA up to the CI and returns PK.ECASD.ECKA', () => {
      for (const euicc of pki.euiccs) {
        const result = validateEcasdChain({ ecasdCert: euicc.ecasd.cert, eumDer: pki.eum.der, ...trust(), eid: euicc.eid });
        expect(result.publicKey.equals(euicc.ecasd.publicKey)).toBe(true);
      }
    });

    it('accepts CERT.DP.ECDSA and CERT.SR.ECDSA in their roles', () => {
      expect(validateSmCertificate({ gpCert: pki.smDp.cert, expectedRole: 'sm-dp', ...trust() }).cert.role).toBe('sm-dp');
      expect(validateSmCertificate({ gpCert: pki.smSr.cert, expectedRole: 'sm-sr', ...trust() }).cert.role).toBe('sm-sr');
    });

    it('keeps TLS apart: the Test TLS CA is a root of its own, so no TLS path reaches the CI', () => {
      expect(pki.tls.ca.cert.issuer.equals(pki.tls.ca.cert.subject)).toBe(true);
      expect(pki.tls.broker.cert.extKeyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
      expect(new X509Certificate(pki.tls.broker.der).verify(new X509Certificate(pki.tls.ca.der).publicKey)).toBe(true);
      expect(new X509Certificate(pki.euiccs[0]!.tls.der).checkIssued(new X509Certificate(pki.tls.ca.der))).toBe(true);
      expectCode(() => validateX509Chain([pki.tls.broker.der, pki.tls.ca.der], trust()), PkiError.UntrustedRoot.code);
    });

    it('checks the signature over the TBS bytes as received (non-minimal DER length still verifies)', () => {
      const eum = pki.eum.der;
      // Re-frame the EUM with a non-minimal tbsCertificate length (83 00 LL LL) and re-sign those bytes:
      // a validator that re-encoded the TBS before verifying would compute a different digest.
      const outerHeader = 2 + ((eum[1] as number) & 0x7f);
      const tbsLength = eum.readUInt16BE(outerHeader + 2);
      const tbsValue = eum.subarray(outerHeader + 4, outerHeader + 4 + tbsLength);
      const tbs = Buffer.concat([Buffer.from([0x30, 0x83, 0x00]), Buffer.alloc(2), tbsValue]);
      tbs.writeUInt16BE(tbsLength, 3);
      const rest = eum.subarray(outerHeader + 4 + tbsLength);
      const sig = signWithCi(pki, tbs);
      const algorithmAndSig = Buffer.concat([rest.subarray(0, rest.length - sigLength(rest)), sig]);
      const body = Buffer.concat([tbs, algorithmAndSig]);
      const reframed = Buffer.concat([Buffer.from([0x30, 0x82, body.length >> 8, body.length & 0xff]), body]);
      expect(validateEumCertificate(reframed, trust()).eum.tbsRaw.equals(tbs)).toBe(true);
    });
  });

  describe('refuses (each with its own error)', () => {
    const eumUnderCi = (options: Parameters<typeof issueUnder>[2]): Buffer => issueUnder(pki.ci, curve, options).der;

    it('an expired or not yet valid EUM', () => {
      const expired = eumUnderCi({ notBefore: new Date(NOW.getTime() - 10 * DAY_MS), notAfter: new Date(NOW.getTime() - DAY_MS) });
      expectCode(() => validateEumCertificate(expired, trust()), PkiError.Expired.code);
      const future = eumUnderCi({ notBefore: new Date(NOW.getTime() + DAY_MS) });
      expectCode(() => validateEumCertificate(future, trust()), PkiError.NotYetValid.code);
      expectCode(() => validateEumCertificate(pki.eum.der, { ...trust(), now: new Date(NOW.getTime() + 4000 * DAY_MS) }), PkiError.Expired.code);
    });

    it('a wrong role policy OID on the EUM or on the CI', () => {
      const wrongRole = eumUnderCi({
        extensions: [ext.basicConstraints(true, 0), ext.keyUsage(KEY_USAGE.keyCertSign), ext.certificatePolicies([OID.roleDpAuth])],
      });
      expectCode(() => validateEumCertificate(wrongRole, trust()), PkiError.RoleMismatch.code);
      const ciWithoutRole = selfSigned(curve, [['CN', 'Test CI']], [ext.basicConstraints(true), ext.keyUsage(KEY_USAGE.keyCertSign)]);
      expectCode(() => validateCiCertificate(ciWithoutRole.der, NOW), PkiError.RoleMismatch.code);
    });

    it('an issuer with cA=FALSE, non-critical or missing basicConstraints', () => {
      const policies = [ext.keyUsage(KEY_USAGE.keyCertSign), ext.certificatePolicies([OID.roleEum])];
      for (const bad of [[ext.basicConstraints(false)], [ext.basicConstraints(true, 0, false)], []]) {
        const eum = issueUnder(pki.ci, curve, { extensions: [...bad, ...policies, ext.permittedEins(['89049032'])] });
        expectCode(() => validateEumCertificate(eum.der, trust()), PkiError.BasicConstraints.code);
        const ecasd = issueGpUnder(eum, curve, 'ecasd');
        expectCode(
          () => validateEcasdChain({ ecasdCert: ecasd, eumDer: eum.der, ...trust(), eid: pki.euiccs[0]!.eid }),
          PkiError.BasicConstraints.code,
        );
      }
    });

    it('an issuer without keyCertSign', () => {
      const eum = eumUnderCi({
        extensions: [ext.basicConstraints(true, 0), ext.keyUsage(KEY_USAGE.digitalSignature), ext.certificatePolicies([OID.roleEum])],
      });
      expectCode(() => validateEumCertificate(eum, trust()), PkiError.KeyUsage.code);
    });

    it('a violated pathLenConstraint (CI pathLen 0 above the EUM that signs the ECASD)', () => {
      const ci = selfSigned(curve, [['CN', 'Test CI']], [
        ext.basicConstraints(true, 0),
        ext.certificatePolicies([OID.roleCi]),
        ext.keyUsage(KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign),
      ]);
      const eum = issueUnder(ci, curve);
      const ecasd = issueGpUnder(eum, curve, 'ecasd');
      // The EUM alone is the last certificate of its path, so pathLen 0 allows it…
      validateEumCertificate(eum.der, { ciDer: ci.der, now: NOW });
      // …but below it hangs the ECASD certificate, making the EUM an intermediate.
      expectCode(
        () => validateEcasdChain({ ecasdCert: ecasd, eumDer: eum.der, ciDer: ci.der, now: NOW, eid: pki.euiccs[0]!.eid }),
        PkiError.PathLength.code,
      );
      // Same rule in a plain X.509 path: a CA under the CI with pathLen 0 → sub-CA → leaf.
      const ca = issueUnder(pki.ci, curve, { subject: [['CN', 'Some CA']], extensions: [ext.basicConstraints(true, 0), ext.keyUsage(KEY_USAGE.keyCertSign)] });
      const subCa = issueUnder(ca, curve, { subject: [['CN', 'Sub CA']], extensions: [ext.basicConstraints(true), ext.keyUsage(KEY_USAGE.keyCertSign)] });
      const leaf = issueUnder(subCa, curve, { subject: [['CN', 'leaf']], extensions: [ext.basicConstraints(false)] });
      expectCode(() => validateX509Chain([leaf.der, subCa.der, ca.der], trust()), PkiError.PathLength.code);
    });

    it('an AKI that does not match the CI SKI, or no AKI', () => {
      expectCode(() => validateEumCertificate(eumUnderCi({ authorityKeyId: Buffer.alloc(20, 0xab) }), trust()), PkiError.KeyIdentifierMismatch.code);
      expectCode(() => validateEumCertificate(eumUnderCi({ authorityKeyId: null }), trust()), PkiError.KeyIdentifierMismatch.code);
    });

    it('an EUM from another CI, a chain ending in another root, and a non-CI anchor', () => {
      const otherCi = selfSigned(curve, [['CN', 'Other CI'], ['O', 'ELSEWHERE']]);
      const foreignEum = issueUnder(otherCi, curve);
      expectCode(() => validateEumCertificate(foreignEum.der, trust()), PkiError.UntrustedRoot.code);
      expectCode(() => validateX509Chain([foreignEum.der, otherCi.der], trust()), PkiError.UntrustedRoot.code);
      // A rogue CI that copies the CI name but has its own key: the key ids differ.
      const rogue = selfSigned(curve, [['CN', 'Test CI'], ['OU', 'TESTCERT'], ['O', 'RSPTEST'], ['C', 'IT']]);
      expectCode(() => validateEumCertificate(issueUnder(rogue, curve).der, trust()), PkiError.KeyIdentifierMismatch.code);
      // …and even with the genuine CI's key id copied in, the signature fails.
      const forged = issueUnder(pki.ci, curve, { signingKey: rogue.privateKey });
      expectCode(() => validateEumCertificate(forged.der, trust()), PkiError.SignatureInvalid.code);
      expectCode(() => validateEumCertificate(pki.eum.der, { ...trust(), ciDer: pki.eum.der }), PkiError.UntrustedRoot.code);
    });

    it('a tampered byte in the signature or in the TBS', () => {
      expectCode(() => validateEumCertificate(flipByte(pki.eum.der, -1), trust()), PkiError.SignatureInvalid.code);
      const cn = pki.eum.der.indexOf(Buffer.from('EUM Test'));
      expectCode(() => validateEumCertificate(flipByte(pki.eum.der, cn), trust()), PkiError.SignatureInvalid.code);
      expectCode(() => validateCiCertificate(flipByte(pki.ci.der, -1), NOW), PkiError.SignatureInvalid.code);
      const ecasd = pki.euiccs[0]!;
      expectCode(
        () => validateEcasdChain({ ecasdCert: flipByte(ecasd.ecasd.cert, -1), eumDer: pki.eum.der, ...trust(), eid: ecasd.eid }),
        PkiError.SignatureInvalid.code,
      );
    });

    it('an EID outside permittedEins, an EUM without permittedEins, an invalid EID', () => {
      const ecasd = pki.euiccs[0]!.ecasd.cert;
      const input = { ecasdCert: ecasd, eumDer: pki.eum.der, ...trust() };
      expectCode(() => validateEcasdChain({ ...input, eid: generateEid('89049033', 1) }), PkiError.EidNotPermitted.code);
      const narrow = issueUnder(pki.ci, curve, { extensions: eumExtensions({ permittedEins: ['8904903299'] }) });
      const narrowEcasd = issueGpUnder(narrow, curve, 'ecasd');
      expectCode(
        () => validateEcasdChain({ ...input, ecasdCert: narrowEcasd, eumDer: narrow.der, eid: pki.euiccs[0]!.eid }),
        PkiError.EidNotPermitted.code,
      );
      const none = issueUnder(pki.ci, curve, { extensions: eumExtensions().slice(0, 3) });
      expectCode(
        () => validateEcasdChain({ ...input, ecasdCert: issueGpUnder(none, curve, 'ecasd'), eumDer: none.der, eid: pki.euiccs[0]!.eid }),
        PkiError.EidNotPermitted.code,
      );
      expectCode(() => validateEcasdChain({ ...input, eid: '89049032123451234512345678901234' }), PkiError.InvalidEid.code);
    });

    it('an ECASD certificate not issued by this EUM, or in the wrong role', () => {
      const eid = pki.euiccs[0]!.eid;
      const wrongCaId = issueGpUnder(pki.eum, curve, 'ecasd', { caId: Buffer.alloc(20, 1) });
      expectCode(() => validateEcasdChain({ ecasdCert: wrongCaId, eumDer: pki.eum.der, ...trust(), eid }), PkiError.KeyIdentifierMismatch.code);
      expectCode(() => validateEcasdChain({ ecasdCert: pki.smDp.cert, eumDer: pki.eum.der, ...trust(), eid }), PkiError.SignatureInvalid.code);
      const dpUnderEum = issueGpUnder(pki.eum, curve, 'sm-dp');
      expectCode(() => validateEcasdChain({ ecasdCert: dpUnderEum, eumDer: pki.eum.der, ...trust(), eid }), PkiError.RoleMismatch.code);
      const expired = issueGpUnder(pki.eum, curve, 'ecasd', {
        effectiveDate: new Date(NOW.getTime() - 9 * DAY_MS),
        expirationDate: new Date(NOW.getTime() - 2 * DAY_MS),
      });
      expectCode(() => validateEcasdChain({ ecasdCert: expired, eumDer: pki.eum.der, ...trust(), eid }), PkiError.Expired.code);
    });

    it('an SM certificate in the wrong role or not signed by the CI', () => {
      expectCode(() => validateSmCertificate({ gpCert: pki.smDp.cert, expectedRole: 'sm-sr', ...trust() }), PkiError.RoleMismatch.code);
      const byEum = issueGpUnder(pki.eum, curve, 'sm-dp');
      expectCode(() => validateSmCertificate({ gpCert: byEum, expectedRole: 'sm-dp', ...trust() }), PkiError.SignatureInvalid.code);
      const forgedKeyId = issueGpUnder(pki.ci, curve, 'sm-dp', { signingKey: pki.eum.privateKey });
      expectCode(() => validateSmCertificate({ gpCert: forgedKeyId, expectedRole: 'sm-dp', ...trust() }), PkiError.SignatureInvalid.code);
    });

    it('an unrecognised critical extension', () => {
      const eum = eumUnderCi({ extensions: [...eumExtensions(), { oid: '1.2.3.4', critical: true, value: Buffer.from([0x05, 0x00]) }] });
      expectCode(() => validateEumCertificate(eum, trust()), PkiError.Unsupported.code);
      // nameConstraints is understood by OpenSSL but not evaluated here: critical → refused, not ignored.
      const constrained = eumUnderCi({ extensions: [...eumExtensions(), { oid: '2.5.29.30', critical: true, value: Buffer.from([0x30, 0x00]) }] });
      expectCode(() => validateEumCertificate(constrained, trust()), PkiError.Unsupported.code);
    });

    it('an invalid validation time', () => {
      expectCode(() => validateEumCertificate(pki.eum.der, { ...trust(), now: new Date('not a date') }), PkiError.Malformed.code);
    });

    it('malformed certificates', () => {
      expectCode(() => validateEumCertificate(pki.eum.der.subarray(0, 100), trust()), PkiError.Malformed.code);
      expectCode(() => validateEumCertificate(Buffer.concat([pki.eum.der, Buffer.of(0)]), trust()), PkiError.Malformed.code);
      // issueUnder parses what it issued: the parser refuses a second keyUsage (RFC 5280 §4.2).
      expectCode(() => eumUnderCi({ extensions: [...eumExtensions(), ext.keyUsage(KEY_USAGE.keyCertSign)] }), PkiError.Malformed.code);
    });
  });

  describe('revocation', () => {
    it('refuses an EUM whose serial is on the CI CRL', () => {
      const eum = issueUnder(pki.ci, curve, { serialNumber: BigInt(`0x${REVOKED_TEST_SERIAL.toString('hex')}`) });
      expectCode(() => validateEumCertificate(eum.der, trust()), PkiError.Revoked.code);
      validateEumCertificate(eum.der, { ...trust(), crls: [] }); // no CRL given: not revoked as far as known
    });

    it('refuses ECASD and SM certificates listed on the EUM / CI CRLs', () => {
      const euicc = pki.euiccs[1]!;
      const eumCrl = issueCrl(
        { issuer: pki.eum.cert, crlNumber: 2025n, thisUpdate: new Date(NOW.getTime() - DAY_MS), nextUpdate: new Date(NOW.getTime() + DAY_MS), revoked: [{ serialNumber: euicc.ecasd.parsed.serialNumber, revocationDate: NOW }] },
        pki.eum.privateKey,
      );
      expect(parseCrl(eumCrl).crlNumber).toBe(2025n);
      expectCode(
        () => validateEcasdChain({ ecasdCert: euicc.ecasd.cert, eumDer: pki.eum.der, ...trust(), crls: [pki.crls.ci, eumCrl], eid: euicc.eid }),
        PkiError.Revoked.code,
      );
      const ciCrl = issueCrl(
        { issuer: pki.ci.cert, crlNumber: 2025n, thisUpdate: new Date(NOW.getTime() - DAY_MS), nextUpdate: new Date(NOW.getTime() + DAY_MS), revoked: [{ serialNumber: pki.smSr.parsed.serialNumber, revocationDate: NOW }] },
        pki.ci.privateKey,
      );
      expectCode(() => validateSmCertificate({ gpCert: pki.smSr.cert, expectedRole: 'sm-sr', ...trust(), crls: [ciCrl] }), PkiError.Revoked.code);
    });

    it('refuses a CRL signed by the wrong key, expired, not yet valid, tampered, or from an issuer without cRLSign', () => {
      const dates = { thisUpdate: new Date(NOW.getTime() - DAY_MS), nextUpdate: new Date(NOW.getTime() + DAY_MS) };
      const wrongKey = issueCrl({ issuer: pki.ci.cert, crlNumber: 1n, ...dates }, generateEcKeyPair(curve).privateKey);
      const expired = issueCrl({ issuer: pki.ci.cert, crlNumber: 1n, thisUpdate: new Date(NOW.getTime() - 9 * DAY_MS), nextUpdate: new Date(NOW.getTime() - DAY_MS) }, pki.ci.privateKey);
      const future = issueCrl({ issuer: pki.ci.cert, crlNumber: 1n, thisUpdate: new Date(NOW.getTime() + DAY_MS), nextUpdate: new Date(NOW.getTime() + 9 * DAY_MS) }, pki.ci.privateKey);
      for (const crl of [wrongKey, expired, future, flipByte(pki.crls.ci, -1)]) {
        expectCode(() => validateEumCertificate(pki.eum.der, { ...trust(), crls: [crl] }), PkiError.CrlInvalid.code);
      }
      const noCrlSign = issueUnder(pki.ci, curve, {
        extensions: [ext.basicConstraints(true, 0), ext.keyUsage(KEY_USAGE.keyCertSign), ext.certificatePolicies([OID.roleEum]), ext.permittedEins(['89049032'])],
      });
      const crl = issueCrl({ issuer: noCrlSign.cert, crlNumber: 1n, ...dates }, noCrlSign.privateKey);
      const ecasd = issueGpUnder(noCrlSign, curve, 'ecasd');
      const input = { ecasdCert: ecasd, eumDer: noCrlSign.der, ciDer: pki.ci.der, now: NOW, eid: pki.euiccs[0]!.eid };
      validateEcasdChain(input);
      expectCode(() => validateEcasdChain({ ...input, crls: [crl] }), PkiError.CrlInvalid.code);
    });
  });
});

function signWithCi(pki: TestPki, tbs: Buffer): Buffer {
  const signature = sign('sha256', tbs, pki.ci.privateKey);
  return Buffer.concat([Buffer.from([0x03, signature.length + 1, 0x00]), signature]);
}

/** Length of the trailing signature BIT STRING TLV (short-form length). */
function sigLength(rest: Buffer): number {
  // rest = AlgorithmIdentifier TLV ‖ BIT STRING TLV
  const algorithmLength = 2 + (rest[1] as number);
  return rest.length - algorithmLength;
}
