/**
 * Writes a generated test PKI to a directory with SGP.26-style file names (`CERT_<ROLE>_ECDSA_<CURVE>`,
 * `SK_…` PKCS#8 PEM private key, `PK_…` SPKI PEM public key; curve suffix `NIST` or `BRP`). SGP.26 has
 * no GP-format or TLS-broker names: those follow the same pattern and are listed in certs/README.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { CurveName } from '@rsp/crypto';
import { PkiError } from './errors';
import { parseGpCertificate } from './gp-certificate';
import { tlsTrustPem, type GpCredential, type TestEuicc, type TestPki, type X509Credential } from './test-pki';
import { subjectKeyIdOf } from './x509-builder';
import { parseX509Certificate } from './x509-parse';

/** PEM text of a DER X.509 certificate (RFC 7468 §5). */
export function certificateToPem(der: Uint8Array): string {
  return pemBlock('CERTIFICATE', der);
}

/** PEM text of a DER CRL (RFC 7468 §6). */
export function crlToPem(der: Uint8Array): string {
  return pemBlock('X509 CRL', der);
}

function pemBlock(label: string, der: Uint8Array): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** One file of the written PKI: its name and what it holds (for the manifest). */
export interface WrittenFile {
  name: string;
  description: string;
}

/**
 * Writes every certificate, key and CRL of `pki` into `dir` (created if missing) and a
 * `MANIFEST_<CURVE>.json` listing them with the demo EIDs. Returns the files written.
 * Private keys are written unencrypted with mode 0600: test keys only.
 */
export function writeTestPki(pki: TestPki, dir: string): WrittenFile[] {
  mkdirSync(dir, { recursive: true });
  const s = pki.suffix;
  const files: WrittenFile[] = [];
  const put = (name: string, data: string | Buffer, description: string, secret = false): void => {
    writeFileSync(join(dir, name), data, secret ? { mode: 0o600 } : {});
    files.push({ name, description });
  };
  const x509 = (base: string, cred: X509Credential, what: string): void => {
    put(`CERT_${base}_${s}.der`, cred.der, `${what} certificate (X.509 DER)`);
    put(`CERT_${base}_${s}.pem`, certificateToPem(cred.der), `${what} certificate (X.509 PEM copy)`);
    keys(base, cred.privateKey, cred.publicKey, what);
  };
  const keys = (base: string, privateKey: KeyObject, publicKey: KeyObject, what: string): void => {
    put(`SK_${base}_${s}.pem`, privateKey.export({ type: 'pkcs8', format: 'pem' }), `${what} private key (PKCS#8 PEM)`, true);
    put(`PK_${base}_${s}.pem`, publicKey.export({ type: 'spki', format: 'pem' }), `${what} public key (SPKI PEM)`);
  };
  const gp = (base: string, cred: GpCredential, what: string): void => {
    put(`CERT_${base}_${s}.bin`, cred.cert, `${what} certificate (GlobalPlatform 7F21)`);
    keys(base, cred.privateKey, cred.publicKey, what);
  };

  x509('CI_ECDSA', pki.ci, 'CI root');
  x509('EUM_ECDSA', pki.eum, 'EUM');
  gp('DP_ECDSA', pki.smDp, 'SM-DP (CERT.DP.ECDSA)');
  gp('SR_ECDSA', pki.smSr, 'SM-SR (CERT.SR.ECDSA)');
  for (const euicc of pki.euiccs) gp(`ECASD_ECKA_${euicc.eid}`, euicc.ecasd, `eUICC ${euicc.eid} ECASD (CERT.ECASD.ECKA)`);
  put(`CRL_CI_${s}.der`, pki.crls.ci, 'CRL of the CI (X.509 v2 DER)');
  put(`CRL_CI_${s}.pem`, crlToPem(pki.crls.ci), 'CRL of the CI (PEM copy)');
  put(`CRL_EUM_${s}.der`, pki.crls.eum, 'CRL of the EUM (X.509 v2 DER)');
  put(`CRL_EUM_${s}.pem`, crlToPem(pki.crls.eum), 'CRL of the EUM (PEM copy)');

  x509('TLS_CA_ECDSA', pki.tls.ca, 'Test TLS CA');
  x509('TLS_BROKER', pki.tls.broker, 'MQTT broker TLS server');
  x509('TLS_SMDP', pki.tls.smDp, 'SM-DP TLS client');
  x509('TLS_SMSR', pki.tls.smSr, 'SM-SR TLS client');
  for (const euicc of pki.euiccs) x509(`TLS_DEVICE_${euicc.eid}`, euicc.tls, `device ${euicc.eid} TLS client`);
  // What a TLS peer of the broker trusts: the Test TLS CA, a root of its own (see test-pki.ts).
  put(`TLS_TRUST_${s}.pem`, tlsTrustPem(pki), 'TLS trust bundle: the Test TLS CA (PEM)');

  const manifest = {
    curve: pki.curve,
    issuedAt: pki.issuedAt.toISOString(),
    permittedEins: pki.eum.permittedEins,
    eids: pki.euiccs.map((e) => e.eid),
    files,
  };
  put(`MANIFEST_${s}.json`, `${JSON.stringify(manifest, null, 2)}\n`, 'this list');
  return files;
}

/**
 * Reads back a PKI written by {@link writeTestPki} (what `npm start` generated once), so every
 * service and the simulator share one CI, EUM and SM-DP/SM-SR identity across restarts.
 */
export function readTestPki(dir: string, curve: CurveName): TestPki {
  const s = curve === 'P-256' ? 'NIST' : 'BRP';
  const read = (name: string): Buffer => {
    try {
      return readFileSync(join(dir, name));
    } catch (cause) {
      throw new PkiError.Malformed(`test PKI file ${name} missing in ${dir} (regenerate with npm run certs)`, { cause });
    }
  };
  const manifest = JSON.parse(read(`MANIFEST_${s}.json`).toString('utf8')) as { issuedAt: string; permittedEins: string[]; eids: string[] };
  const privateKey = (base: string): KeyObject => createPrivateKey(read(`SK_${base}_${s}.pem`));
  const x509 = (base: string): X509Credential => {
    const key = privateKey(base);
    const publicKey = createPublicKey(key);
    const der = read(`CERT_${base}_${s}.der`);
    return { privateKey: key, publicKey, der, cert: parseX509Certificate(der), subjectKeyId: subjectKeyIdOf(publicKey) };
  };
  const gp = (base: string): GpCredential => {
    const key = privateKey(base);
    const cert = read(`CERT_${base}_${s}.bin`);
    const parsed = parseGpCertificate(cert);
    return { privateKey: key, publicKey: createPublicKey(key), cert, parsed, subjectKeyId: parsed.subjectId };
  };
  const euiccs = manifest.eids.map((eid): TestEuicc => ({ eid, ecasd: gp(`ECASD_ECKA_${eid}`), tls: x509(`TLS_DEVICE_${eid}`) }));
  return {
    curve,
    suffix: s,
    issuedAt: new Date(manifest.issuedAt),
    ci: x509('CI_ECDSA'),
    eum: { ...x509('EUM_ECDSA'), permittedEins: manifest.permittedEins },
    smDp: gp('DP_ECDSA'),
    smSr: gp('SR_ECDSA'),
    euiccs,
    tls: { ca: x509('TLS_CA_ECDSA'), broker: x509('TLS_BROKER'), smDp: x509('TLS_SMDP'), smSr: x509('TLS_SMSR') },
    crls: { ci: read(`CRL_CI_${s}.der`), eum: read(`CRL_EUM_${s}.der`) },
  };
}
