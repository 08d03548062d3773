/**
 * A second reading of the test PKI: libs/pki signs its X.509 certificates and CRLs with node:crypto
 * (OpenSSL); here @peculiar/x509 reads them whole and verifies every signature through another crypto
 * implementation, @peculiar/webcrypto (node's WebCrypto has no brainpoolP256r1). openssl-interop.spec.ts
 * is the reading independent of @peculiar/x509's encoders too. On both curves:
 * the CI is self-signed, the EUM and the TLS leaves verify under their issuers, the GSMA role policy OIDs
 * (SGP.22 §A / SGP.26, libs/pki/src/oids.ts) and the EUM's permittedEins extension are where they belong,
 * and the CI CRL verifies under the CI and lists the revoked test serial.
 */
import 'reflect-metadata'; // @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect polyfill
import { describe, expect, it } from '@jest/globals';
import { Crypto } from '@peculiar/webcrypto';
import * as x509 from '@peculiar/x509';
import { generateTestPki, OID, REVOKED_TEST_SERIAL, type TestPki } from '../src';

const crypto = new Crypto();
x509.cryptoProvider.set(crypto);

const policies = (certificate: x509.X509Certificate): readonly string[] =>
  certificate.getExtension(x509.CertificatePolicyExtension)?.policies ?? [];

describe.each(['P-256', 'brainpoolP256r1'] as const)('the %s test PKI read by @peculiar/x509', (curve) => {
  const pki: TestPki = generateTestPki({ curve, euiccCount: 1 });
  const ci = new x509.X509Certificate(pki.ci.der);
  const eum = new x509.X509Certificate(pki.eum.der);

  it('the CI is self-signed, a CA, with the CI role policy', async () => {
    expect(await ci.isSelfSigned(crypto)).toBe(true);
    expect(await ci.verify({ publicKey: ci.publicKey, signatureOnly: true }, crypto)).toBe(true);
    expect(ci.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);
    expect(policies(ci)).toContain(OID.roleCi);
    expect(ci.subject).toContain('OU=TESTCERT');
  });

  it('the EUM verifies under the CI, carries the EUM role and its permittedEins extension', async () => {
    expect(await eum.verify({ publicKey: ci.publicKey, signatureOnly: true }, crypto)).toBe(true);
    expect(eum.issuer).toBe(ci.subject);
    expect(policies(eum)).toContain(OID.roleEum);
    expect(eum.extensions.map((extension) => extension.type)).toContain(OID.permittedEins);
  });

  it('a certificate re-signed by another key does not verify (the check is real)', async () => {
    const other = generateTestPki({ curve, euiccCount: 0 });
    expect(await eum.verify({ publicKey: new x509.X509Certificate(other.ci.der).publicKey, signatureOnly: true }, crypto)).toBe(false);
  });

  it('the TLS leaves verify under the TLS CA (a root of its own, not the CI)', async () => {
    const tlsCa = new x509.X509Certificate(pki.tls.ca.der);
    expect(await tlsCa.isSelfSigned(crypto)).toBe(true);
    for (const leaf of [pki.tls.broker, pki.tls.smDp, pki.tls.smSr, (pki.euiccs[0] as { tls: { der: Buffer } }).tls]) {
      const certificate = new x509.X509Certificate(leaf.der);
      expect(await certificate.verify({ publicKey: tlsCa.publicKey, signatureOnly: true }, crypto)).toBe(true);
      expect(await certificate.verify({ publicKey: ci.publicKey, signatureOnly: true }, crypto)).toBe(false);
    }
  });

  it('the CI CRL verifies under the CI and lists the revoked test serial', async () => {
    const crl = new x509.X509Crl(pki.crls.ci);
    expect(crl.issuer).toBe(ci.subject);
    expect(await crl.verify({ publicKey: ci.publicKey }, crypto)).toBe(true);
    expect(crl.entries.map((entry) => entry.serialNumber.toLowerCase())).toContain(REVOKED_TEST_SERIAL.toString('hex'));
  });
});
