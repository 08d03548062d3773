/**
 * Issues X.509 v3 certificates (RFC 5280) for the SGP.02 test PKI. Names and extensions are built with
 * @peculiar/x509 (its typed extension classes: basicConstraints, keyUsage, certificatePolicies with the
 * GSMA role OIDs, key identifiers, EKU, SAN, CRL distribution points); the TBSCertificate is assembled
 * with @peculiar/asn1-x509, the schema layer under it, and signed with node:crypto over exactly the
 * encoded TBS bytes. Why not X509CertificateGenerator: it signs through WebCrypto and is async, while
 * the test PKI is built synchronously (about 60 test, simulator and script files build one at load time), and
 * node:crypto signs brainpoolP256r1 without a WebCrypto provider (docs/architecture.md "Packages").
 *
 * The extension helpers take explicit `critical` flags so tests can build deliberately bad
 * certificates (non-critical basicConstraints, wrong role, missing keyCertSign, ...).
 */
import 'reflect-metadata'; // @peculiar/x509 resolves its extension classes through tsyringe, which needs the Reflect polyfill
import { createHash, sign as nodeSign, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  Certificate,
  DistributionPoint,
  DistributionPointName,
  Extension,
  Extensions,
  GeneralName,
  Name,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { exportRawPublicKey } from '@rsp/crypto';
import { PkiError } from './errors';
import { EXTENSION_OID } from './x509-parse';
import { OID } from './oids';

/** Attribute type OIDs for distinguished names (X.520). */
const NAME_ATTRIBUTE_OID = { C: '2.5.4.6', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3', serialNumber: '2.5.4.5' } as const;
export type NameAttribute = keyof typeof NAME_ATTRIBUTE_OID;

/** A distinguished name as an ordered list of single-valued RDNs, in DER order. */
export type DistinguishedName = ReadonlyArray<readonly [NameAttribute, string]>;

/** One extension to put in a certificate (OID, criticality, DER of the extension value). */
export interface ExtensionSpec {
  oid: string;
  critical: boolean;
  value: Buffer;
}

export interface X509CertificateSpec {
  /** Positive serial number (RFC 5280 §4.1.2.2: at most 20 octets). */
  serialNumber: bigint;
  subject: DistinguishedName;
  /** The issuer's subject DER (from its certificate), or a DN for self-signed certificates. */
  issuer: DistinguishedName | Buffer;
  notBefore: Date;
  notAfter: Date;
  /** The subject's public key. */
  publicKey: KeyObject;
  extensions: readonly ExtensionSpec[];
}

/** Encodes a DN; C and serialNumber are PrintableString (X.520), the rest UTF8String (RFC 5280 §4.1.2.4). */
export function encodeName(dn: DistinguishedName): Buffer {
  const rdns: x509.JsonNameParams = dn.map(([attribute, text]) => ({
    [NAME_ATTRIBUTE_OID[attribute]]: [attribute === 'C' || attribute === 'serialNumber' ? { printableString: text } : { utf8String: text }],
  }));
  return Buffer.from(new x509.Name(rdns).toArrayBuffer());
}

/**
 * SubjectKeyIdentifier by RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING
 * contents (the uncompressed point). The same 20 bytes serve as the GP `42` / `C9` key id.
 */
export function subjectKeyIdOf(publicKey: KeyObject): Buffer {
  return createHash('sha1').update(exportRawPublicKey(publicKey)).digest();
}

/** Issues a certificate signed by `issuerPrivateKey` with ecdsa-with-SHA256 (RFC 5758 §3.2). */
export function issueX509Certificate(spec: X509CertificateSpec, issuerPrivateKey: KeyObject): Buffer {
  if (spec.serialNumber <= 0n) throw new PkiError.Malformed('certificate serial number must be positive');
  const algorithm = new AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha256 });
  const issuer = Buffer.isBuffer(spec.issuer) ? spec.issuer : encodeName(spec.issuer as DistinguishedName);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: integerBytes(spec.serialNumber),
    signature: algorithm,
    issuer: AsnConvert.parse(issuer, Name),
    validity: new Validity({ notBefore: spec.notBefore, notAfter: spec.notAfter }),
    subject: AsnConvert.parse(encodeName(spec.subject), Name),
    subjectPublicKeyInfo: AsnConvert.parse(spec.publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo),
    extensions: new Extensions(
      spec.extensions.map(
        (e) => new Extension({ extnID: e.oid, critical: e.critical, extnValue: new OctetString(e.value) }),
      ),
    ),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  // RFC 5758 §3.2: the ECDSA signature value is the DER ECDSA-Sig-Value (node's default encoding).
  const signature = nodeSign('sha256', tbsDer, issuerPrivateKey);
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm,
    signatureValue: toArrayBuffer(signature),
  });
  return Buffer.from(AsnConvert.serialize(certificate));
}

/** DER INTEGER contents of a positive number (a leading 00 when the top bit is set). */
export function integerBytes(value: bigint): ArrayBuffer {
  let hexText = value.toString(16);
  if (hexText.length % 2) hexText = `0${hexText}`;
  let bytes = Buffer.from(hexText, 'hex');
  if ((bytes[0] as number) & 0x80) bytes = Buffer.concat([Buffer.of(0), bytes]);
  return toArrayBuffer(bytes);
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** An @peculiar/x509 extension as this lib's spec (its extnValue contents). */
function specOf(extension: x509.Extension): ExtensionSpec {
  return { oid: extension.type, critical: extension.critical, value: Buffer.from(extension.value) };
}

/** Extension builders (RFC 5280 §4.2.1; GSMA SGP.22 §4.5.2 for permittedEins). */
export const ext = {
  basicConstraints(cA: boolean, pathLen?: number, critical = true): ExtensionSpec {
    return specOf(new x509.BasicConstraintsExtension(cA, pathLen, critical));
  },
  /** `bits` from KEY_USAGE, e.g. KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign (the x509.KeyUsageFlags values). */
  keyUsage(bits: number, critical = true): ExtensionSpec {
    return specOf(new x509.KeyUsagesExtension(bits as x509.KeyUsageFlags, critical));
  },
  /** GSMA role OIDs as certificate policies (SGP.22 §4.5.2.1; SGP.26 marks them critical). */
  certificatePolicies(oids: readonly string[], critical = true): ExtensionSpec {
    return specOf(new x509.CertificatePolicyExtension([...oids], critical));
  },
  subjectKeyId(keyId: Buffer): ExtensionSpec {
    return specOf(new x509.SubjectKeyIdentifierExtension(keyId.toString('hex'), false));
  },
  authorityKeyId(keyId: Buffer): ExtensionSpec {
    return specOf(new x509.AuthorityKeyIdentifierExtension(keyId.toString('hex'), false));
  },
  /** Extended key usage, e.g. EKU.serverAuth / EKU.clientAuth. */
  extKeyUsage(oids: readonly string[], critical = false): ExtensionSpec {
    return specOf(new x509.ExtendedKeyUsageExtension([...oids], critical));
  },
  subjectAltName(names: { dns?: readonly string[]; ip?: readonly string[] }): ExtensionSpec {
    const general: x509.JsonGeneralNames = [
      ...(names.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(names.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
    ];
    return specOf(new x509.SubjectAlternativeNameExtension(general, false));
  },
  crlDistributionPoints(urls: readonly string[]): ExtensionSpec {
    const points = urls.map(
      (uniformResourceIdentifier) => new DistributionPoint({ distributionPoint: new DistributionPointName({ fullName: [new GeneralName({ uniformResourceIdentifier })] }) }),
    );
    return specOf(new x509.CRLDistributionPointsExtension(points, false));
  },
  /**
   * permittedEins (OID 2.23.146.1.2.2.0): `PermittedEins ::= SEQUENCE OF PrintableString`, each an
   * EID prefix (IIN) the EUM may certify (SGP.22 §4.5.2.1.0.2; structure as pySim parses it). No
   * library knows this GSMA extension: its value is encoded with asn1js.
   */
  permittedEins(prefixes: readonly string[], critical = false): ExtensionSpec {
    for (const prefix of prefixes) {
      if (!/^[0-9]{1,32}$/.test(prefix)) throw new PkiError.InvalidEid(`permittedEins prefix "${prefix}" is not digits`);
    }
    const value = new asn1js.Sequence({ value: prefixes.map((prefix) => new asn1js.PrintableString({ value: prefix })) }).toBER();
    return specOf(new x509.Extension(EXTENSION_OID.permittedEins, critical, value));
  },
};

/** Extended key usage OIDs (RFC 5280 §4.2.1.12). */
export const EKU = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' } as const;
