/**
 * Certificates and private keys from files named by settings (or, in development, the test PKI's files:
 * see {@link testPkiFile}). Each file is parsed at start, so a wrong file stops the start naming its
 * setting instead of failing at the first card.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseGpCertificate, parseX509Certificate, type GpRole } from '@rsp/pki';
import { ConfigError } from './errors';
import { readFileSetting, type SecretSource } from './secrets';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/;

/** SGP.26-style file names of the test PKI (`npm run certs`, certs/README.md), NIST P-256 variant. */
export const TEST_PKI_FILES = {
  ciCertificate: 'CERT_CI_ECDSA_NIST.der',
  eumCertificate: 'CERT_EUM_ECDSA_NIST.der',
  smdpCertificate: 'CERT_DP_ECDSA_NIST.bin',
  smdpPrivateKey: 'SK_DP_ECDSA_NIST.pem',
  smsrCertificate: 'CERT_SR_ECDSA_NIST.bin',
  smsrPrivateKey: 'SK_SR_ECDSA_NIST.pem',
} as const;

/** The path of one test PKI file in `pkiDir`. */
export const testPkiFile = (pkiDir: string, name: keyof typeof TEST_PKI_FILES): string => join(pkiDir, TEST_PKI_FILES[name]);

/** Reads one PKI file: the one its setting names, else in development the test PKI's, else (production) an error. */
export type PkiFileReader = <T>(setting: string, configured: string | undefined, name: keyof typeof TEST_PKI_FILES, read: (setting: string, file: string) => T) => T;

/**
 * A {@link PkiFileReader} defaulting to the test PKI in `pkiDir`. Production never falls back to the test
 * PKI: its certificates and keys are public knowledge.
 */
export function pkiFileReader(source: SecretSource, pkiDir: string): PkiFileReader {
  return (setting, configured, name, read) => {
    if (configured !== undefined) return read(setting, configured);
    if (source.mode === 'production') throw new ConfigError.MissingSetting(setting, 'a file path (production never uses the test PKI)');
    const file = testPkiFile(pkiDir, name);
    if (!existsSync(file)) {
      throw new ConfigError.KeyFile(setting, file, 'does not exist: no test PKI in RSP_PKI_DIR (npm start makes one; or npm run certs -- --out DIR --curve nist, then RSP_PKI_DIR=DIR)');
    }
    return read(setting, file);
  };
}

/** A PEM (PKCS#8 or SEC1) private key; `curve` (node's name, e.g. prime256v1) when one is required. @secret */
export function readPrivateKeyFile(setting: string, file: string, options: { curve?: string } = {}): KeyObject {
  const bytes = readFileSetting(setting, file);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: bytes, format: 'pem' });
  } catch {
    throw new ConfigError.KeyFile(setting, file, 'is not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'ec') throw new ConfigError.KeyFile(setting, file, 'is not an EC private key');
  if (options.curve && key.asymmetricKeyDetails?.namedCurve !== options.curve) {
    throw new ConfigError.KeyFile(setting, file, `is not a key on ${options.curve === 'prime256v1' ? 'P-256' : options.curve}`);
  }
  return key;
}

/** An X.509 certificate (DER, or PEM converted to DER), parsed to be sure. */
export function readX509CertificateFile(setting: string, file: string): Buffer {
  const bytes = readFileSetting(setting, file);
  const pem = PEM_CERTIFICATE.exec(bytes.toString('latin1'));
  const der = pem?.[1] ? Buffer.from(pem[1].replace(/\s+/g, ''), 'base64') : bytes;
  try {
    parseX509Certificate(der);
  } catch {
    throw new ConfigError.KeyFile(setting, file, 'is not an X.509 certificate (DER or PEM)');
  }
  return der;
}

/** A GlobalPlatform certificate (7F21, SGP.02 §2.3.2.2) of `role`, whose public key is the one of `privateKey` when given. */
export function readGpCertificateFile(setting: string, file: string, role: GpRole, privateKey?: { setting: string; key: KeyObject }): Buffer {
  const bytes = readFileSetting(setting, file);
  let certificate: ReturnType<typeof parseGpCertificate>;
  try {
    certificate = parseGpCertificate(bytes);
  } catch {
    throw new ConfigError.KeyFile(setting, file, 'is not a GlobalPlatform (7F21) certificate');
  }
  if (certificate.role !== role) throw new ConfigError.KeyFile(setting, file, `is not an ${role.toUpperCase()} certificate (discretionary data C8)`);
  if (privateKey && !samePublicKey(certificate.publicKey, createPublicKey(privateKey.key))) {
    throw new ConfigError.KeyFile(setting, file, `does not certify the key of ${privateKey.setting}`);
  }
  return bytes;
}

function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  const der = (key: KeyObject) => key.export({ format: 'der', type: 'spki' });
  return der(a).equals(der(b));
}
