/**
 * Generates the simulator's whole test PKI in memory, for NIST P-256 or brainpoolP256r1, in the
 * style of GSMA SGP.26 (test certificates) adapted to SGP.02:
 *
 *   CI  "CN=Test CI, OU=TESTCERT, O=RSPTEST, C=IT"    X.509, self-signed, role 2.23.146.1.2.1.0
 *   ├── EUM "CN=EUM Test, O=RSP Test EUM, C=ES"       X.509, role 2.23.146.1.2.1.2, pathLen 0, permittedEins
 *   │   └── CERT.ECASD.ECKA per eUICC                  GP 7F21, key usage 0080
 *   ├── CERT.DP.ECDSA                                  GP 7F21, C8 01 01
 *   ├── CERT.SR.ECDSA                                  GP 7F21, C8 01 02
 *   CRLs: CI (lists one never-issued test serial, REVOKED_TEST_SERIAL) and EUM (empty).
 *
 *   Test TLS CA "CN=Test TLS CA, OU=TESTCERT, O=RSPTEST, C=IT"  X.509, self-signed, pathLen 0: a root of its own
 *   ├── broker server (CN=localhost, SAN DNS:localhost, IP:127.0.0.1, serverAuth)
 *   └── clients sm-dp, sm-sr, one device per eUICC (CN=EID) (clientAuth); more with issueTlsClientCertificate
 *
 * The TLS CA is its own root, not under the CI: the broker trusts exactly it (its `cafile` / `ca`), so an
 * X.509 leaf the EUM (or any other CA under the CI) signs can never become a broker identity.
 *
 * TLS keys are always P-256: Node 20's OpenSSL 3.0 has no brainpool TLS 1.3 signature schemes.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { generateEcKeyPair, type CurveName } from '@rsp/crypto';
import { issueCrl } from './crl';
import { generateEid } from './eid';
import { issueGpCertificate, parseGpCertificate, type GpCertificate } from './gp-certificate';
import { GP_ROLE, gpDiscretionaryData, type GpRole } from './gp-roles';
import { OID } from './oids';
import { EKU, ext, issueX509Certificate, subjectKeyIdOf, type DistinguishedName, type ExtensionSpec } from './x509-builder';
import { KEY_USAGE, parseX509Certificate, type ParsedX509 } from './x509-parse';
import { certificateToPem } from './test-pki-files';

export interface TestPkiOptions {
  curve: CurveName;
  /** Issuing time; certificates are valid from one day before it. Default: the current time. */
  now?: Date;
  /** Validity of every certificate from `now`, in days. Default 3650. */
  validityDays?: number;
  /** Number of demo eUICCs (ECASD certificate + TLS device certificate each). Default 2. */
  euiccCount?: number;
  /** EID prefix in the EUM's permittedEins. Default `89049032` (the SGP.26 test EUM's). */
  permittedEin?: string;
}

/** An X.509 certificate with its key pair. */
export interface X509Credential {
  privateKey: KeyObject;
  publicKey: KeyObject;
  der: Buffer;
  cert: ParsedX509;
  subjectKeyId: Buffer;
}

/** A GP-format (7F21) certificate with its key pair. */
export interface GpCredential {
  privateKey: KeyObject;
  publicKey: KeyObject;
  cert: Buffer;
  parsed: GpCertificate;
  subjectKeyId: Buffer;
}

export interface TestEuicc {
  eid: string;
  /** SK.ECASD.ECKA / CERT.ECASD.ECKA. */
  ecasd: GpCredential;
  /** TLS client certificate of the device hosting this eUICC (CN = EID). */
  tls: X509Credential;
}

export interface TestPki {
  curve: CurveName;
  /** SGP.26 file-name suffix: NIST or BRP. */
  suffix: 'NIST' | 'BRP';
  issuedAt: Date;
  ci: X509Credential;
  eum: X509Credential & { permittedEins: string[] };
  smDp: GpCredential;
  smSr: GpCredential;
  euiccs: TestEuicc[];
  tls: { ca: X509Credential; broker: X509Credential; smDp: X509Credential; smSr: X509Credential };
  crls: { ci: Buffer; eum: Buffer };
}

/** Serial listed on the CI CRL and never issued: lets demos and tests exercise revocation. */
export const REVOKED_TEST_SERIAL = Buffer.from('0badc0de', 'hex');

/** With this prefix, eUICC serial 3456789012 yields the GSMA test EID 89049032123451234512345678901235. */
export const DEMO_EID_PREFIX = '89049032123451234512';
export const DEMO_EID_FIRST_SERIAL = 3456789012;

export const CI_NAME: DistinguishedName = [
  ['CN', 'Test CI'],
  ['OU', 'TESTCERT'],
  ['O', 'RSPTEST'],
  ['C', 'IT'],
];
export const EUM_NAME: DistinguishedName = [
  ['C', 'ES'],
  ['O', 'RSP Test EUM'],
  ['CN', 'EUM Test'],
];
export const TLS_CA_NAME: DistinguishedName = [
  ['CN', 'Test TLS CA'],
  ['OU', 'TESTCERT'],
  ['O', 'RSPTEST'],
  ['C', 'IT'],
];

const DAY_MS = 24 * 60 * 60 * 1000;
const TLS_CURVE: CurveName = 'P-256';

/** Builds the whole PKI in memory (synchronous: node:crypto only). */
export function generateTestPki(options: TestPkiOptions): TestPki {
  const issuedAt = options.now ?? new Date();
  const validity = {
    notBefore: new Date(issuedAt.getTime() - DAY_MS),
    notAfter: new Date(issuedAt.getTime() + (options.validityDays ?? 3650) * DAY_MS),
  };
  const curve = options.curve;
  const permittedEin = options.permittedEin ?? '89049032';

  const ci = selfSignedCi(curve, validity);
  const eum = issueX509(ci, curve, EUM_NAME, validity, [
    ext.basicConstraints(true, 0),
    ext.keyUsage(KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign),
    ext.certificatePolicies([OID.roleEum]),
    ext.permittedEins([permittedEin]),
  ]);
  const smDp = issueGp(ci, curve, 'sm-dp', validity);
  const smSr = issueGp(ci, curve, 'sm-sr', validity);

  const tlsCa = selfSignedTlsCa(validity);
  const tlsLeaf = (cn: string, eku: string, san?: { dns: string[]; ip: string[] }): X509Credential => issueTlsLeaf(tlsCa, cn, eku, validity, san);

  const eidPrefix = permittedEin === '89049032' ? DEMO_EID_PREFIX : permittedEin;
  const firstSerial = permittedEin === '89049032' ? DEMO_EID_FIRST_SERIAL : 1;
  const euiccs = Array.from({ length: options.euiccCount ?? 2 }, (_, index): TestEuicc => {
    const eid = generateEid(eidPrefix, firstSerial + index);
    return { eid, ecasd: issueGp(eum, curve, 'ecasd', validity), tls: tlsLeaf(eid, EKU.clientAuth) };
  });

  const crlDates = { thisUpdate: validity.notBefore, nextUpdate: validity.notAfter };
  return {
    curve,
    suffix: curve === 'P-256' ? 'NIST' : 'BRP',
    issuedAt,
    ci,
    eum: { ...eum, permittedEins: [permittedEin] },
    smDp,
    smSr,
    euiccs,
    tls: {
      ca: tlsCa,
      broker: tlsLeaf('localhost', EKU.serverAuth, { dns: ['localhost'], ip: ['127.0.0.1'] }),
      smDp: tlsLeaf('sm-dp', EKU.clientAuth),
      smSr: tlsLeaf('sm-sr', EKU.clientAuth),
    },
    crls: {
      ci: issueCrl(
        {
          issuer: ci.cert,
          crlNumber: 2024n, // SGP.26 numbers its test CRLs from 2024
          ...crlDates,
          revoked: [{ serialNumber: REVOKED_TEST_SERIAL, revocationDate: validity.notBefore }],
        },
        ci.privateKey,
      ),
      eum: issueCrl({ issuer: eum.cert, crlNumber: 2024n, ...crlDates }, eum.privateKey),
    },
  };
}

interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/** A random positive 8-byte serial (RFC 5280 §4.1.2.2: unique per issuer, ≤ 20 octets). */
export function randomSerial(): bigint {
  const bytes = randomBytes(8);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01;
  return BigInt(`0x${bytes.toString('hex')}`);
}

/**
 * CI root as SGP.26 defines it: critical basicConstraints cA=TRUE without pathLenConstraint,
 * critical keyUsage keyCertSign + cRLSign, critical certificatePolicies id-rspRole-ci, SKI.
 */
function selfSignedCi(curve: CurveName, validity: Validity): X509Credential {
  const { privateKey, publicKey } = generateEcKeyPair(curve);
  const subjectKeyId = subjectKeyIdOf(publicKey);
  const der = issueX509Certificate(
    {
      serialNumber: randomSerial(),
      subject: CI_NAME,
      issuer: CI_NAME,
      ...validity,
      publicKey,
      extensions: [
        ext.subjectKeyId(subjectKeyId),
        ext.basicConstraints(true),
        ext.certificatePolicies([OID.roleCi]),
        ext.keyUsage(KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign),
      ],
    },
    privateKey,
  );
  return { privateKey, publicKey, der, cert: parseX509Certificate(der), subjectKeyId };
}

/** The Test TLS CA: a self-signed root of its own (pathLen 0), so the broker trusts nothing else. */
function selfSignedTlsCa(validity: Validity): X509Credential {
  const { privateKey, publicKey } = generateEcKeyPair(TLS_CURVE);
  const subjectKeyId = subjectKeyIdOf(publicKey);
  const der = issueX509Certificate(
    {
      serialNumber: randomSerial(),
      subject: TLS_CA_NAME,
      issuer: TLS_CA_NAME,
      ...validity,
      publicKey,
      extensions: [ext.subjectKeyId(subjectKeyId), ext.basicConstraints(true, 0), ext.keyUsage(KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign)],
    },
    privateKey,
  );
  return { privateKey, publicKey, der, cert: parseX509Certificate(der), subjectKeyId };
}

function issueTlsLeaf(tlsCa: X509Credential, cn: string, eku: string, validity: Validity, san?: { dns: string[]; ip: string[] }): X509Credential {
  return issueX509(tlsCa, TLS_CURVE, [['CN', cn], ['O', 'RSPTEST']], validity, [
    ext.basicConstraints(false),
    ext.keyUsage(KEY_USAGE.digitalSignature),
    ext.extKeyUsage([eku]),
    ...(san ? [ext.subjectAltName(san)] : []),
  ]);
}

/**
 * A TLS client certificate (clientAuth, P-256) under the Test TLS CA for the broker identity `cn`: a
 * service, MNO tool, fleet gateway or card (CN = EID). Valid as long as the CA, from one day back.
 */
export function issueTlsClientCertificate(tlsCa: X509Credential, cn: string): X509Credential {
  const validity = { notBefore: new Date(Date.now() - DAY_MS), notAfter: tlsCa.cert.notAfter };
  return issueTlsLeaf(tlsCa, cn, EKU.clientAuth, validity);
}

/**
 * The certificates a TLS peer of the broker trusts, as PEM: the Test TLS CA, plus its issuer when a PKI
 * generated before the TLS CA became a root is read back (Node and OpenSSL need a self-signed anchor).
 */
export function tlsTrustPem(pki: Pick<TestPki, 'tls' | 'ci'>): string {
  const ca = pki.tls.ca;
  const selfIssued = ca.cert.issuer.equals(ca.cert.subject);
  return certificateToPem(ca.der) + (selfIssued ? '' : certificateToPem(pki.ci.der));
}

/** Issues an X.509 certificate under `issuer`, adding AKI and SKI to `extensions`. */
function issueX509(
  issuer: X509Credential,
  curve: CurveName,
  subject: DistinguishedName,
  validity: Validity,
  extensions: ExtensionSpec[],
): X509Credential {
  const { privateKey, publicKey } = generateEcKeyPair(curve);
  const subjectKeyId = subjectKeyIdOf(publicKey);
  const der = issueX509Certificate(
    {
      serialNumber: randomSerial(),
      subject,
      issuer: issuer.cert.subject,
      ...validity,
      publicKey,
      extensions: [ext.authorityKeyId(issuer.subjectKeyId), ext.subjectKeyId(subjectKeyId), ...extensions],
    },
    issuer.privateKey,
  );
  return { privateKey, publicKey, der, cert: parseX509Certificate(der), subjectKeyId };
}

/** Issues a GP-format certificate (SGP.02 §2.3): 42 and C9 = issuer SKI, 5F20 = subject SKI. */
function issueGp(issuer: X509Credential, curve: CurveName, role: GpRole, validity: Validity): GpCredential {
  const { privateKey, publicKey } = generateEcKeyPair(curve);
  const subjectKeyId = subjectKeyIdOf(publicKey);
  const cert = issueGpCertificate(
    {
      serialNumber: Buffer.from(randomSerial().toString(16).padStart(16, '0'), 'hex'),
      caId: issuer.subjectKeyId,
      subjectId: subjectKeyId,
      keyUsage: GP_ROLE[role].keyUsage,
      effectiveDate: validity.notBefore,
      expirationDate: validity.notAfter,
      discretionaryData: gpDiscretionaryData(role),
      authorityKeyId: issuer.subjectKeyId,
      publicKey,
      curve,
    },
    issuer.privateKey,
  );
  return { privateKey, publicKey, cert, parsed: parseGpCertificate(cert), subjectKeyId };
}
