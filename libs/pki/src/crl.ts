/**
 * X.509 v2 CRLs (RFC 5280 §5) for the CI and the EUM: issuing, parsing, and the revocation check
 * used by chain validation. Signatures are checked over the tbsCertList bytes as received. The CRL's
 * extensions are built with @peculiar/x509 (authorityKeyIdentifier) and asn1js (cRLNumber, which
 * @peculiar/x509 has no class for); TBSCertList is assembled with @peculiar/asn1-x509 and signed with
 * node:crypto, like the certificates (x509-builder.ts says why).
 */
import 'reflect-metadata'; // @peculiar/x509 resolves its extension classes through tsyringe, which needs the Reflect polyfill
import { sign as nodeSign, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  CertificateList,
  Extension,
  Name,
  RevokedCertificate,
  TBSCertList,
  Time,
  Version,
} from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { decodeSingleTlv, decodeTlv } from '@rsp/tlv';
import { PkiError } from './errors';
import { OID } from './oids';
import { integerBytes } from './x509-builder';
import { EXTENSION_OID, guarded, KEY_USAGE, splitSigned, stripSignZeros, type ParsedX509 } from './x509-parse';
import { checkInstant, checkKeyUsageBit, checkSignatureAlgorithm, verifyEcdsaDer } from './x509-validate';

export interface CrlSpec {
  /** The CRL issuer's certificate (its subject becomes the CRL issuer, its SKI the CRL's AKI). */
  issuer: ParsedX509;
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  /** Serial numbers (certificate `serialNumber` bytes, or GP tag 93 bytes) to list as revoked. */
  revoked?: ReadonlyArray<{ serialNumber: Buffer; revocationDate: Date }>;
}

/** Issues a v2 CRL with AKI and cRLNumber (RFC 5280 §5.2.1, §5.2.3), signed ecdsa-with-SHA256. */
export function issueCrl(spec: CrlSpec, issuerPrivateKey: KeyObject): Buffer {
  if (!spec.issuer.subjectKeyId) throw new PkiError.Malformed('CRL issuer certificate has no subjectKeyIdentifier');
  const algorithm = new AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha256 });
  const aki = new x509.AuthorityKeyIdentifierExtension(spec.issuer.subjectKeyId.toString('hex'), false);
  // CRLNumber ::= INTEGER (0..MAX) (RFC 5280 §5.2.3)
  const crlNumber = new x509.Extension(EXTENSION_OID.crlNumber, false, new asn1js.Integer({ valueHex: integerBytes(spec.crlNumber) }).toBER());
  const revoked = (spec.revoked ?? []).map((entry) => {
    if (entry.serialNumber.length === 0) throw new PkiError.Malformed('revoked serial number is empty');
    return new RevokedCertificate({
      userCertificate: integerBytes(BigInt(`0x${entry.serialNumber.toString('hex')}`)),
      revocationDate: new Time(entry.revocationDate),
    });
  });
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: algorithm,
    issuer: AsnConvert.parse(spec.issuer.subject, Name),
    thisUpdate: new Time(spec.thisUpdate),
    nextUpdate: new Time(spec.nextUpdate),
    crlExtensions: [aki, crlNumber].map((extension) => AsnConvert.parse(extension.rawData, Extension)),
  });
  // RFC 5280 §5.1.2.6: omit revokedCertificates when the list is empty.
  if (revoked.length) tbs.revokedCertificates = revoked;
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = nodeSign('sha256', tbsDer, issuerPrivateKey);
  const list = new CertificateList({
    tbsCertList: tbs,
    signatureAlgorithm: algorithm,
    signature: signature.buffer.slice(signature.byteOffset, signature.byteOffset + signature.byteLength) as ArrayBuffer,
  });
  return Buffer.from(AsnConvert.serialize(list));
}

/** A parsed CRL keeping the received bytes of its signed part. */
export interface ParsedCrl {
  raw: Buffer;
  tbsRaw: Buffer;
  signatureAlgorithm: string;
  tbsSignatureAlgorithm: string;
  signature: Buffer;
  /** DER of the issuer Name, as received. */
  issuer: Buffer;
  thisUpdate: Date;
  nextUpdate?: Date;
  authorityKeyId?: Buffer;
  crlNumber?: bigint;
  /** Revoked serial numbers as lower-case hex, sign zeros stripped. */
  revokedSerials: ReadonlySet<string>;
}

export function parseCrl(der: Uint8Array): ParsedCrl {
  const raw = Buffer.from(der);
  const top = splitSigned(raw, 'CRL');
  const tbs = guarded('tbsCertList', () => AsnConvert.parse(top.tbs.raw, TBSCertList));
  // The issuer Name is the element after version (optional INTEGER) and signature (SEQUENCE).
  const issuerRaw = guarded('CRL issuer', () => {
    const parts = decodeSingleTlv(top.tbs.raw);
    const items = decodeTlvList(parts.value);
    const issuerIndex = items[0]?.tag === 0x02 ? 2 : 1;
    const issuer = items[issuerIndex];
    if (!issuer || issuer.tag !== 0x30) throw new PkiError.Malformed('CRL issuer Name missing');
    return Buffer.from(issuer.raw);
  });
  const parsed: ParsedCrl = {
    raw,
    tbsRaw: Buffer.from(top.tbs.raw),
    signatureAlgorithm: top.signatureAlgorithm,
    tbsSignatureAlgorithm: tbs.signature.algorithm,
    signature: top.signature,
    issuer: issuerRaw,
    thisUpdate: tbs.thisUpdate.getTime(),
    revokedSerials: new Set(
      (tbs.revokedCertificates ?? []).map((r) => stripSignZeros(Buffer.from(r.userCertificate)).toString('hex')),
    ),
  };
  if (tbs.nextUpdate) parsed.nextUpdate = tbs.nextUpdate.getTime();
  for (const extension of tbs.crlExtensions ?? []) {
    const value = Buffer.from(extension.extnValue.buffer);
    if (extension.extnID === EXTENSION_OID.authorityKeyIdentifier) {
      const keyId = guarded('CRL authorityKeyIdentifier', () => new x509.AuthorityKeyIdentifierExtension(AsnConvert.serialize(extension)).keyId);
      if (keyId) parsed.authorityKeyId = Buffer.from(keyId, 'hex');
    } else if (extension.extnID === EXTENSION_OID.crlNumber) {
      const integer = guarded('cRLNumber', () => decodeSingleTlv(value));
      parsed.crlNumber = BigInt(`0x${integer.value.toString('hex') || '0'}`);
    } else if (extension.critical) {
      // RFC 5280 §5.2: a CRL with an unrecognised critical extension must not be used.
      throw new PkiError.CrlInvalid(`CRL has unrecognised critical extension ${extension.extnID}`);
    }
  }
  return parsed;
}

/** True when the CRL claims to be issued by `issuer` (same Name, and same key id when an AKI is present). */
export function crlIsFrom(crl: ParsedCrl, issuer: ParsedX509): boolean {
  if (!crl.issuer.equals(issuer.subject)) return false;
  return !crl.authorityKeyId || !issuer.subjectKeyId || crl.authorityKeyId.equals(issuer.subjectKeyId);
}

/**
 * Validates a CRL against its issuer (RFC 5280 §6.3.3): issuer name and AKI, cRLSign key usage,
 * signature over the received tbsCertList, thisUpdate ≤ now ≤ nextUpdate. Every failure is
 * PkiError.CrlInvalid.
 */
export function verifyCrl(crl: ParsedCrl, issuer: ParsedX509, now: Date): void {
  if (!crl.issuer.equals(issuer.subject)) throw new PkiError.CrlInvalid('CRL issuer differs from the certificate issuer');
  if (!crl.authorityKeyId || !issuer.subjectKeyId || !crl.authorityKeyId.equals(issuer.subjectKeyId)) {
    throw new PkiError.CrlInvalid('CRL authorityKeyIdentifier does not match the issuer subjectKeyIdentifier');
  }
  asCrlError(() => checkKeyUsageBit(issuer, KEY_USAGE.cRLSign, 'cRLSign'));
  asCrlError(() => checkSignatureAlgorithm(crl.signatureAlgorithm, crl.tbsSignatureAlgorithm));
  asCrlError(() => verifyEcdsaDer(crl.tbsRaw, crl.signature, issuer.publicKey, 'CRL'));
  checkInstant(now);
  if (now.getTime() < crl.thisUpdate.getTime()) throw new PkiError.CrlInvalid('CRL thisUpdate is in the future');
  if (!crl.nextUpdate) throw new PkiError.CrlInvalid('CRL has no nextUpdate'); // RFC 5280 §5.1.2.5: conforming CRLs MUST include it
  if (now.getTime() > crl.nextUpdate.getTime()) throw new PkiError.CrlInvalid('CRL is past its nextUpdate');
}

/**
 * Revocation check of the certificate with serial `serialNumber` issued by `issuer`: every CRL
 * from that issuer must be valid (fail closed) and must not list the serial. CRLs of other issuers
 * are ignored. With no CRL from the issuer, the certificate is taken as not revoked.
 */
export function checkNotRevoked(
  serialNumber: Buffer,
  issuer: ParsedX509,
  crls: readonly ParsedCrl[],
  now: Date,
): void {
  const serial = stripSignZeros(serialNumber).toString('hex');
  for (const crl of crls) {
    if (!crl.issuer.equals(issuer.subject)) continue;
    verifyCrl(crl, issuer, now);
    if (crl.revokedSerials.has(serial)) throw new PkiError.Revoked(`certificate serial ${serial} is revoked`);
  }
}

/** Parses CRLs given as DER (or passes through already parsed ones). */
export function toParsedCrls(crls: ReadonlyArray<Uint8Array | ParsedCrl> | undefined): ParsedCrl[] {
  return (crls ?? []).map((crl) => (crl instanceof Uint8Array ? parseCrl(crl) : crl));
}

function asCrlError(step: () => void): void {
  try {
    step();
  } catch (cause) {
    throw new PkiError.CrlInvalid(`CRL refused: ${(cause as Error).message}`, { cause });
  }
}

function decodeTlvList(value: Buffer): Array<{ tag: number; raw: Buffer }> {
  const list: Array<{ tag: number; raw: Buffer }> = [];
  // Only the first three elements are needed; stop early to avoid walking long revocation lists.
  let offset = 0;
  while (offset < value.length && list.length < 3) {
    const { tlv, next } = decodeTlv(value, offset);
    list.push({ tag: tlv.tag, raw: tlv.raw });
    offset = next;
  }
  return list;
}
