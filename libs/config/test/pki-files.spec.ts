/**
 * Certificates and keys from files: checked at start, so a wrong or swapped file stops the start naming
 * its setting; development defaults to the test PKI, production never does.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTestPki, writeTestPki, type TestPki } from '@rsp/pki';
import { ConfigError, pkiFileReader, readGpCertificateFile, readPrivateKeyFile, readX509CertificateFile, testPkiFile } from '@rsp/config';

let root: string;
let pki: TestPki;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rsp-pki-files-'));
  pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  writeTestPki(pki, join(root, 'pki'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('PKI files', () => {
  it('reads the test PKI in development; X.509 as DER or PEM', () => {
    const read = pkiFileReader({ mode: 'development', dataDir: root }, join(root, 'pki'));
    expect(read('RSP_CI_CERTIFICATE_FILE', undefined, 'ciCertificate', readX509CertificateFile)).toEqual(pki.ci.der);
    const pem = join(root, 'ci.pem');
    writeFileSync(pem, `-----BEGIN CERTIFICATE-----\n${pki.ci.der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`);
    expect(read('RSP_CI_CERTIFICATE_FILE', pem, 'ciCertificate', readX509CertificateFile)).toEqual(pki.ci.der);
  });

  it('a missing test PKI names the setting, the file and how to make one', () => {
    const read = pkiFileReader({ mode: 'development', dataDir: root }, join(root, 'nowhere'));
    expect(() => read('RSP_CI_CERTIFICATE_FILE', undefined, 'ciCertificate', readX509CertificateFile)).toThrow(
      `RSP_CI_CERTIFICATE_FILE: ${testPkiFile(join(root, 'nowhere'), 'ciCertificate')} does not exist`,
    );
  });

  it('production never falls back to the test PKI', () => {
    const read = pkiFileReader({ mode: 'production', dataDir: root }, join(root, 'pki'));
    expect(() => read('RSP_SMDP_PRIVATE_KEY_FILE', undefined, 'smdpPrivateKey', readPrivateKeyFile)).toThrow(ConfigError.MissingSetting);
    expect(() => read('RSP_SMDP_PRIVATE_KEY_FILE', undefined, 'smdpPrivateKey', readPrivateKeyFile)).toThrow(/^RSP_SMDP_PRIVATE_KEY_FILE is required in production/);
  });

  it('attacker: a private key swapped for another is refused against its certificate', () => {
    const dpKey = readPrivateKeyFile('RSP_SMDP_PRIVATE_KEY_FILE', testPkiFile(join(root, 'pki'), 'smdpPrivateKey'));
    const srCertificate = testPkiFile(join(root, 'pki'), 'smsrCertificate');
    expect(() => readGpCertificateFile('RSP_SMSR_CERTIFICATE_FILE', srCertificate, 'sm-sr', { setting: 'RSP_SMSR_PRIVATE_KEY_FILE', key: dpKey })).toThrow(
      `RSP_SMSR_CERTIFICATE_FILE: ${srCertificate} does not certify the key of RSP_SMSR_PRIVATE_KEY_FILE`,
    );
    expect(readGpCertificateFile('RSP_SMSR_CERTIFICATE_FILE', srCertificate, 'sm-sr', { setting: 'RSP_SMSR_PRIVATE_KEY_FILE', key: pki.smSr.privateKey })).toEqual(pki.smSr.cert);
  });

  it('a certificate of the wrong role or kind, or a non-key, is refused naming its setting', () => {
    const dpCertificate = testPkiFile(join(root, 'pki'), 'smdpCertificate');
    expect(() => readGpCertificateFile('RSP_SMSR_CERTIFICATE_FILE', dpCertificate, 'sm-sr')).toThrow(/RSP_SMSR_CERTIFICATE_FILE: .* is not an SM-SR certificate/);
    expect(() => readX509CertificateFile('RSP_EUM_CERTIFICATE_FILE', dpCertificate)).toThrow(/RSP_EUM_CERTIFICATE_FILE: .* is not an X\.509 certificate/);
    expect(() => readGpCertificateFile('RSP_SMDP_CERTIFICATE_FILE', testPkiFile(join(root, 'pki'), 'ciCertificate'), 'sm-dp')).toThrow(/is not a GlobalPlatform \(7F21\) certificate/);
    expect(() => readPrivateKeyFile('RSP_SMDP_PRIVATE_KEY_FILE', dpCertificate)).toThrow(/RSP_SMDP_PRIVATE_KEY_FILE: .* is not a PEM private key/);
  });
});
