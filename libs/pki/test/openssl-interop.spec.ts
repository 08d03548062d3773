/**
 * Interoperability: the generated X.509 certificates and CRLs must be readable and verifiable by
 * OpenSSL (an independent implementation), for both curves. Also exercises the `certs` CLI.
 */
import { describe, expect, it, beforeAll, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateEcasdChain, validateEumCertificate, validateSmCertificate } from '../src/chain';
import { buildCertsCommand } from '../src/cli';
import { generateTestPki, type TestPki } from '../src/test-pki';
import { writeTestPki } from '../src/test-pki-files';

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe.each([
  ['P-256', 'NIST'],
  ['brainpoolP256r1', 'BRP'],
] as const)('OpenSSL reads and verifies the %s PKI', (curve, s) => {
  let dir: string;
  let pki: TestPki;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pki-'));
    pki = generateTestPki({ curve });
    writeTestPki(pki, dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const f = (name: string): string => join(dir, name);

  it('parses every X.509 DER file and shows the GSMA policy OIDs and permittedEins', () => {
    const ci = openssl('x509', '-inform', 'der', '-in', f(`CERT_CI_ECDSA_${s}.der`), '-noout', '-text');
    expect(ci).toContain('Subject: CN = Test CI, OU = TESTCERT, O = RSPTEST, C = IT');
    expect(ci).toContain('Policy: 2.23.146.1.2.1.0');
    expect(ci).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(ci).toContain(curve === 'P-256' ? 'prime256v1' : 'brainpoolP256r1');
    const eum = openssl('x509', '-inform', 'der', '-in', f(`CERT_EUM_ECDSA_${s}.der`), '-noout', '-text');
    expect(eum).toContain('Policy: 2.23.146.1.2.1.2');
    expect(eum).toContain('CA:TRUE, pathlen:0');
    expect(eum).toContain('2.23.146.1.2.2.0');
    expect(eum).toContain('89049032');
    for (const base of ['TLS_CA_ECDSA', 'TLS_BROKER', 'TLS_SMDP', 'TLS_SMSR', `TLS_DEVICE_${pki.euiccs[0]!.eid}`]) {
      expect(openssl('x509', '-inform', 'der', '-in', f(`CERT_${base}_${s}.der`), '-noout', '-subject')).toContain('subject=');
    }
    const broker = openssl('x509', '-in', f(`CERT_TLS_BROKER_${s}.pem`), '-noout', '-ext', 'subjectAltName,extendedKeyUsage');
    expect(broker).toContain('DNS:localhost');
    expect(broker).toContain('IP Address:127.0.0.1');
    expect(broker).toContain('TLS Web Server Authentication');
  });

  it('verifies EUM → CI, with and without CRL checking', () => {
    expect(openssl('verify', '-CAfile', f(`CERT_CI_ECDSA_${s}.pem`), f(`CERT_EUM_ECDSA_${s}.pem`)).trim()).toMatch(/: OK$/);
    const withCrl = openssl(
      'verify', '-crl_check', '-CAfile', f(`CERT_CI_ECDSA_${s}.pem`), '-CRLfile', f(`CRL_CI_${s}.pem`), f(`CERT_EUM_ECDSA_${s}.pem`),
    );
    expect(withCrl.trim()).toMatch(/: OK$/);
  });

  it('verifies the TLS leaves against the trust bundle (the Test TLS CA alone), and not against the CI', () => {
    for (const leaf of ['TLS_BROKER', 'TLS_SMDP', 'TLS_SMSR', `TLS_DEVICE_${pki.euiccs[1]!.eid}`]) {
      const out = openssl('verify', '-CAfile', f(`TLS_TRUST_${s}.pem`), f(`CERT_${leaf}_${s}.pem`));
      expect(out.trim()).toMatch(/: OK$/);
    }
    // TLS trust is apart from the GSMA roles: the CI does not vouch for a broker identity.
    expect(() => openssl('verify', '-CAfile', f(`CERT_CI_ECDSA_${s}.pem`), f(`CERT_TLS_SMSR_${s}.pem`))).toThrow();
  });

  it('reads both CRLs and checks their signatures with the issuers’ keys', () => {
    const ci = openssl('crl', '-inform', 'der', '-in', f(`CRL_CI_${s}.der`), '-noout', '-text');
    expect(ci).toContain('Version 2');
    expect(ci).toContain('X509v3 CRL Number');
    expect(ci).toContain('Serial Number: 0BADC0DE');
    const eum = openssl('crl', '-inform', 'der', '-in', f(`CRL_EUM_${s}.der`), '-noout', '-text');
    expect(eum).toContain('No Revoked Certificates');
    const verified = execFileSync(
      'openssl',
      ['crl', '-inform', 'der', '-in', f(`CRL_EUM_${s}.der`), '-noout', '-CAfile', f(`CERT_EUM_ECDSA_${s}.pem`)],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(verified).toBe('');
  });

  it('OpenSSL-written PEM keys match, and the written files validate with this lib', () => {
    const key = openssl('pkey', '-in', f(`SK_EUM_ECDSA_${s}.pem`), '-pubout');
    expect(key).toBe(readFileSync(f(`PK_EUM_ECDSA_${s}.pem`), 'utf8'));
    const read = (name: string): Buffer => readFileSync(f(name));
    const trust = { ciDer: read(`CERT_CI_ECDSA_${s}.der`), crls: [read(`CRL_CI_${s}.der`), read(`CRL_EUM_${s}.der`)], now: new Date() };
    validateEumCertificate(read(`CERT_EUM_ECDSA_${s}.der`), trust);
    validateSmCertificate({ gpCert: read(`CERT_DP_ECDSA_${s}.bin`), expectedRole: 'sm-dp', ...trust });
    validateSmCertificate({ gpCert: read(`CERT_SR_ECDSA_${s}.bin`), expectedRole: 'sm-sr', ...trust });
    for (const { eid } of pki.euiccs) {
      validateEcasdChain({ ecasdCert: read(`CERT_ECASD_ECKA_${eid}_${s}.bin`), eumDer: read(`CERT_EUM_ECDSA_${s}.der`), ...trust, eid });
    }
  });
});

describe('certs CLI', () => {
  it('writes both curves with SGP.26-style names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pki-cli-'));
    try {
      const lines: string[] = [];
      await buildCertsCommand((line) => lines.push(line)).parseAsync(['--out', dir, '--curve', 'both', '--euiccs', '1'], { from: 'user' });
      for (const name of ['CERT_CI_ECDSA_NIST.der', 'SK_CI_ECDSA_BRP.pem', 'CERT_DP_ECDSA_BRP.bin', 'CRL_EUM_NIST.der', 'MANIFEST_BRP.json']) {
        expect(existsSync(join(dir, name))).toBe(true);
      }
      expect(lines).toHaveLength(2);
      const manifest = JSON.parse(readFileSync(join(dir, 'MANIFEST_NIST.json'), 'utf8')) as { eids: string[] };
      expect(manifest.eids).toEqual(['89049032123451234512345678901235']);
      expect(existsSync(join(dir, `CERT_ECASD_ECKA_${manifest.eids[0]}_NIST.bin`))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown curve', async () => {
    const command = buildCertsCommand().exitOverride().configureOutput({ writeErr: () => undefined });
    await expect(command.parseAsync(['--curve', 'secp384r1'], { from: 'user' })).rejects.toThrow(/Allowed choices/);
  });
});
