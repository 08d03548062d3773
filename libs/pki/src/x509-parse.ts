/**
 * X.509 v3 certificate parsing for the SGP.02 CI / EUM certificates (RFC 5280 §4.1).
 *
 * The outer `Certificate` SEQUENCE is split with the BER-TLV reader, so `tbsRaw` is the exact
 * tbsCertificate bytes as received: signatures are verified over them, never over a re-encoding.
 * The TBSCertificate is decoded with @peculiar/asn1-x509 schemas and the extensions this lib reads with
 * @peculiar/x509's typed extension classes.
 */
import 'reflect-metadata'; // @peculiar/x509 resolves its extension classes through tsyringe, which needs the Reflect polyfill
import { createPublicKey, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TBSCertificate } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { curveOf, type CurveName } from '@rsp/crypto';
import { children, decodeSingleTlv, type Tlv } from '@rsp/tlv';
import { PkiError } from './errors';
import { OID } from './oids';
import { ParseCache } from './parse-cache';

/** RFC 5280 §4.2.1 extension OIDs this lib reads. */
export const EXTENSION_OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: OID.certificatePolicies,
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  crlNumber: '2.5.29.20',
  permittedEins: OID.permittedEins,
} as const;

/** keyUsage bits as numbers (RFC 5280 §4.2.1.3), as @peculiar/asn1-x509 maps them. */
export const KEY_USAGE = {
  digitalSignature: 0x01,
  keyAgreement: 0x10,
  keyCertSign: 0x20,
  cRLSign: 0x40,
} as const;

export interface X509Extension {
  oid: string;
  critical: boolean;
  /** Contents of extnValue (the DER of the extension's own structure). */
  value: Buffer;
  /** The whole Extension SEQUENCE (what @peculiar/x509's extension classes read). */
  der: Buffer;
}

/** A parsed X.509 certificate, keeping the received bytes of every signed part. */
export interface ParsedX509 {
  /** The whole certificate as received. */
  raw: Buffer;
  /** tbsCertificate exactly as received: what the signature covers (RFC 5280 §4.1.1.3). */
  tbsRaw: Buffer;
  /** Certificate.signatureAlgorithm OID. */
  signatureAlgorithm: string;
  /** TBSCertificate.signature OID; must equal signatureAlgorithm (RFC 5280 §4.1.2.3). */
  tbsSignatureAlgorithm: string;
  /** The signature BIT STRING contents (a DER ECDSA-Sig-Value for ECDSA). */
  signature: Buffer;
  /** 3 for v3. */
  version: number;
  /** Serial number content bytes, leading sign zeros stripped (for CRL comparison). */
  serialNumber: Buffer;
  /** DER of the issuer Name, as received (compared byte-wise with the issuer's subject). */
  issuer: Buffer;
  /** DER of the subject Name, as received. */
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** DER of SubjectPublicKeyInfo, as received. */
  spki: Buffer;
  publicKey: KeyObject;
  curve: CurveName;
  /** Extensions by OID (RFC 5280 §4.2: an OID appears at most once). */
  extensions: ReadonlyMap<string, X509Extension>;
  basicConstraints?: { cA: boolean; pathLen?: number; critical: boolean };
  keyUsage?: { bits: number; critical: boolean };
  /** certificatePolicies policy identifiers (the GSMA role OIDs). */
  policies: string[];
  subjectKeyId?: Buffer;
  authorityKeyId?: Buffer;
  extKeyUsage: string[];
}

const parsedX509 = new ParseCache<ParsedX509>();

/**
 * Parses a DER X.509 certificate; any structural problem is a PkiError.Malformed. Byte-identical
 * certificates are parsed once (see ParseCache: the result is shared and read-only; checks still run).
 */
export function parseX509Certificate(der: Uint8Array): ParsedX509 {
  return parsedX509.get(der, () => parseX509Uncached(der));
}

function parseX509Uncached(der: Uint8Array): ParsedX509 {
  const raw = Buffer.from(der);
  const top = splitSigned(raw, 'certificate');
  const tbsParts = guarded('tbsCertificate', () => children(top.tbs));
  const tbs = guarded('tbsCertificate', () => AsnConvert.parse(top.tbs.raw, TBSCertificate));
  const hasVersion = tbsParts[0]?.tag === 0xa0;
  // TBSCertificate ::= SEQUENCE { [0] version, serialNumber, signature, issuer, validity, subject, spki, ... }
  const [, , issuerTlv, , subjectTlv, spkiTlv] = hasVersion ? tbsParts.slice(1) : tbsParts;
  if (!issuerTlv || !subjectTlv || !spkiTlv) throw new PkiError.Malformed('tbsCertificate is incomplete');

  const publicKey = guarded('subjectPublicKeyInfo', () => createPublicKey({ key: spkiTlv.raw, format: 'der', type: 'spki' }));
  let curve: CurveName;
  try {
    curve = curveOf(publicKey);
  } catch (cause) {
    throw new PkiError.Unsupported('certificate key is not on P-256 or brainpoolP256r1', { cause });
  }
  const extensions = readExtensions(tbs);
  return {
    raw,
    tbsRaw: Buffer.from(top.tbs.raw),
    signatureAlgorithm: top.signatureAlgorithm,
    tbsSignatureAlgorithm: tbs.signature.algorithm,
    signature: top.signature,
    version: tbs.version + 1,
    serialNumber: stripSignZeros(Buffer.from(tbs.serialNumber)),
    issuer: Buffer.from(issuerTlv.raw),
    subject: Buffer.from(subjectTlv.raw),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    spki: Buffer.from(spkiTlv.raw),
    publicKey,
    curve,
    extensions,
    ...decodeKnownExtensions(extensions),
  };
}

/** The three parts of a signed X.509 structure (Certificate or CertificateList). */
export interface SignedParts {
  tbs: Tlv;
  signatureAlgorithm: string;
  signature: Buffer;
}

/**
 * Splits `SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING }` (RFC 5280 §4.1 / §5.1) keeping the
 * received tbs bytes. Trailing bytes after the outer SEQUENCE are refused.
 */
export function splitSigned(raw: Buffer, what: string): SignedParts {
  const outer = guarded(what, () => decodeSingleTlv(raw));
  const parts = guarded(what, () => children(outer));
  const [tbs, algorithm, signatureBits] = parts;
  if (outer.tag !== 0x30 || parts.length !== 3 || !tbs || !algorithm || !signatureBits) {
    throw new PkiError.Malformed(`${what} is not SEQUENCE { tbs, signatureAlgorithm, signature }`);
  }
  if (tbs.tag !== 0x30 || algorithm.tag !== 0x30 || signatureBits.tag !== 0x03) {
    throw new PkiError.Malformed(`${what} has unexpected element tags`);
  }
  const oidTlv = guarded(what, () => children(algorithm))[0];
  if (!oidTlv || oidTlv.tag !== 0x06) throw new PkiError.Malformed(`${what} signatureAlgorithm has no OID`);
  // BIT STRING: first content byte is the count of unused bits, 0 for a signature.
  if (signatureBits.value[0] !== 0x00) throw new PkiError.Malformed(`${what} signature BIT STRING has unused bits`);
  return { tbs, signatureAlgorithm: decodeOid(oidTlv.value), signature: Buffer.from(signatureBits.value.subarray(1)) };
}

/** Dotted form of OBJECT IDENTIFIER contents (X.690 §8.19). */
export function decodeOid(value: Buffer): string {
  if (value.length === 0) throw new PkiError.Malformed('empty OBJECT IDENTIFIER');
  const arcs: bigint[] = [];
  let current = 0n;
  for (const byte of value) {
    current = (current << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(current);
      current = 0n;
    }
  }
  if ((value[value.length - 1] as number) & 0x80) throw new PkiError.Malformed('truncated OBJECT IDENTIFIER');
  const first = arcs.shift() as bigint;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...arcs].join('.');
}

/** INTEGER content bytes without the leading 00 sign bytes, so equal numbers compare equal. */
export function stripSignZeros(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0x00) start += 1;
  return bytes.subarray(start);
}

/** Runs a decoding step and turns any failure into PkiError.Malformed. */
export function guarded<T>(what: string, step: () => T): T {
  try {
    return step();
  } catch (cause) {
    if (cause instanceof PkiError.Malformed) throw cause;
    throw new PkiError.Malformed(`malformed ${what}`, { cause });
  }
}

function readExtensions(tbs: TBSCertificate): Map<string, X509Extension> {
  const map = new Map<string, X509Extension>();
  for (const ext of tbs.extensions ?? []) {
    // RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a particular extension."
    if (map.has(ext.extnID)) throw new PkiError.Malformed(`duplicate extension ${ext.extnID}`);
    map.set(ext.extnID, { oid: ext.extnID, critical: ext.critical, value: Buffer.from(ext.extnValue.buffer), der: Buffer.from(AsnConvert.serialize(ext)) });
  }
  return map;
}

type KnownExtensions = Pick<
  ParsedX509,
  'basicConstraints' | 'keyUsage' | 'policies' | 'subjectKeyId' | 'authorityKeyId' | 'extKeyUsage'
>;

function decodeKnownExtensions(extensions: ReadonlyMap<string, X509Extension>): KnownExtensions {
  const result: KnownExtensions = { policies: [], extKeyUsage: [] };
  const bc = extensions.get(EXTENSION_OID.basicConstraints);
  if (bc) {
    const value = guarded('basicConstraints', () => new x509.BasicConstraintsExtension(bc.der));
    result.basicConstraints = { cA: value.ca, critical: bc.critical };
    if (value.pathLength !== undefined) result.basicConstraints.pathLen = value.pathLength;
  }
  const ku = extensions.get(EXTENSION_OID.keyUsage);
  if (ku) result.keyUsage = { bits: guarded('keyUsage', () => new x509.KeyUsagesExtension(ku.der)).usages, critical: ku.critical };
  const policies = extensions.get(EXTENSION_OID.certificatePolicies);
  if (policies) result.policies = [...guarded('certificatePolicies', () => new x509.CertificatePolicyExtension(policies.der)).policies];
  const ski = extensions.get(EXTENSION_OID.subjectKeyIdentifier);
  if (ski) result.subjectKeyId = Buffer.from(guarded('subjectKeyIdentifier', () => new x509.SubjectKeyIdentifierExtension(ski.der)).keyId, 'hex');
  const aki = extensions.get(EXTENSION_OID.authorityKeyIdentifier);
  if (aki) {
    const keyId = guarded('authorityKeyIdentifier', () => new x509.AuthorityKeyIdentifierExtension(aki.der)).keyId;
    if (keyId) result.authorityKeyId = Buffer.from(keyId, 'hex');
  }
  const eku = extensions.get(EXTENSION_OID.extKeyUsage);
  if (eku) result.extKeyUsage = guarded('extKeyUsage', () => new x509.ExtendedKeyUsageExtension(eku.der)).usages.map(String);
  return result;
}
