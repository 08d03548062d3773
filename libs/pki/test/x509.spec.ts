import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { exportRawPublicKey } from '@rsp/crypto';
import { PkiError } from '../src/errors';
import { OID } from '../src/oids';
import { generateTestPki } from '../src/test-pki';
import { ext, encodeName } from '../src/x509-builder';
import { decodeOid, parseX509Certificate } from '../src/x509-parse';
import { permittedEinsOf } from '../src/x509-validate';
import { expectCode, NOW } from './x509-support';

describe('X.509 building blocks', () => {
  it('encodes permittedEins as SEQUENCE OF PrintableString (SGP.22 §4.5.2.1.0.2)', () => {
    const extension = ext.permittedEins(['89049032', '8904903312']);
    expect(extension.oid).toBe(OID.permittedEins);
    expect(extension.value.toString('hex')).toBe('3016' + '1308' + '3839303439303332' + '130a' + '38393034393033333132');
    expectCode(() => ext.permittedEins(['8904-9032']), PkiError.InvalidEid.code);
  });

  it('decodes OIDs, including the GSMA arcs', () => {
    expect(decodeOid(Buffer.from('678112010201', 'hex'))).toBe('2.23.146.1.2.1');
    expect(decodeOid(Buffer.from('2a8648ce3d040302', 'hex'))).toBe(OID.ecdsaWithSha256);
    expectCode(() => decodeOid(Buffer.from('2a86', 'hex')), PkiError.Malformed.code);
  });

  it('puts the SGP.26 CI name in DER order CN, OU, O, C', () => {
    const name = encodeName([['CN', 'Test CI'], ['C', 'IT']]);
    // RDN CN (UTF8String) then RDN C (PrintableString), X.520 / RFC 5280 §4.1.2.4.
    expect(name.toString('hex')).toBe('301f' + '3110300e0603550403' + '0c0754657374204349' + '310b3009060355040613024954');
  });

  it('derives SKI as SHA-1 of the public key point (RFC 5280 §4.2.1.2 method 1) and reads the profile back', () => {
    const pki = generateTestPki({ curve: 'P-256', now: NOW, euiccCount: 0 });
    const ci = parseX509Certificate(pki.ci.der);
    expect(ci.subjectKeyId).toEqual(createHash('sha1').update(exportRawPublicKey(pki.ci.publicKey)).digest());
    expect(ci.version).toBe(3);
    expect(ci.basicConstraints).toEqual({ cA: true, critical: true });
    expect(ci.keyUsage).toEqual({ bits: 0x60, critical: true });
    expect(ci.extensions.get(OID.certificatePolicies)?.critical).toBe(true);
    expect(permittedEinsOf(pki.tls.ca.cert)).toEqual([]);
    expect(parseX509Certificate(pki.eum.der).authorityKeyId).toEqual(ci.subjectKeyId);
  });
});
