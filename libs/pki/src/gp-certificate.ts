/**
 * GlobalPlatform Amendment E certificates (tag 7F21) of SGP.02 §2.3 / §4.1.3: CERT.ECASD.ECKA
 * (issued by the EUM) and CERT.DP.ECDSA / CERT.SR.ECDSA (issued by the CI). Issue, parse and verify.
 * The byte layout and its sources are in `gp-certificate-codec.ts`; roles in `gp-roles.ts`.
 */
import type { KeyObject } from 'node:crypto';
import { curveOf, ecdsaSignPlain, ecdsaVerifyPlain } from '@rsp/crypto';
import { encodeTlv } from '@rsp/tlv';
import { PkiError } from './errors';
import { ParseCache, verifiedOnce } from './parse-cache';
import {
  decodeDiscretionaryData,
  decodeGpCertificate,
  withLazyPublicKey,
  encodeGpCertificate,
  encodeGpCertificateBody,
  type GpCertificateBody,
} from './gp-certificate-codec';
import { GP_DISCRETIONARY_TAG, GP_ROLE, roleOfGpCertificate, type GpRole } from './gp-roles';

/** The fields an issuer chooses: the certificate body, plus an optional C9 for the discretionary data. */
export interface GpCertificateFields extends GpCertificateBody {
  /** Tag C9 inside 73. Appended to the discretionary data when it holds no C9 yet; must match otherwise. */
  authorityKeyId?: Buffer;
}

/** A parsed certificate. Buffers are views on `raw`, a private copy of the received bytes. */
export interface GpCertificate extends GpCertificateFields {
  /** Tag 7F49 / B0 as received, `04 ‖ X ‖ Y`, checked to be on `curve`. */
  publicPoint: Buffer;
  /** The same key as a KeyObject, imported on first read (not enumerable: see withLazyPublicKey). */
  publicKey: KeyObject;
  /** Every byte received (the whole 7F21 TLV). */
  raw: Buffer;
  /** The exact received bytes the signature covers: the TLVs inside 7F21 before 5F37. */
  signedBytes: Buffer;
  /** Tag 5F37: r‖s, 64 bytes. */
  signature: Buffer;
  /** Tag C8 inside 73, if present. */
  certificateType: number | undefined;
  /** The role the certificate claims (see roleOfGpCertificate), undefined if none is recognised. */
  role: GpRole | undefined;
}

/** The issuer as the verifier knows it (public key and subject key identifier of its certificate). */
export interface GpIssuer {
  publicKey: KeyObject;
  subjectKeyId: Buffer;
}

export interface GpVerifyOptions {
  /** Validity is checked at this instant (injected: no hidden clock). */
  now: Date;
  /** The role this certificate must have here, e.g. 'sm-dp' when an ISD-P receives 3A01. */
  expectedRole?: GpRole;
  /** Required key usage; defaults to the key usage of `expectedRole` when that is given. */
  expectedKeyUsage?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Builds and signs (ECDSA-SHA256, r‖s) a 7F21 certificate. */
export function issueGpCertificate(fields: GpCertificateFields, issuerPrivateKey: KeyObject): Buffer {
  // A raw point is the issuer's own fresh key (shape checked when encoding); a KeyObject names its curve.
  if (!(fields.publicKey instanceof Uint8Array) && curveOf(fields.publicKey) !== fields.curve) {
    throw new PkiError.Malformed(`public key is not on the declared curve ${fields.curve}`);
  }
  const body = encodeGpCertificateBody({
    ...fields,
    discretionaryData: withAuthorityKeyId(fields.discretionaryData, fields.authorityKeyId),
  });
  return encodeGpCertificate(body, ecdsaSignPlain(issuerPrivateKey, body));
}

const parsedGp = new ParseCache<GpCertificate>(1024);

/**
 * Parses a 7F21 certificate; any malformed input throws PkiError (Malformed, or Unsupported curve).
 * Byte-identical certificates are parsed once (ParseCache: shared, read-only; verification still runs).
 */
export function parseGpCertificate(bytes: Uint8Array): GpCertificate {
  return parsedGp.get(bytes, () => parseGpUncached(bytes));
}

function parseGpUncached(bytes: Uint8Array): GpCertificate {
  const decoded = decodeGpCertificate(bytes);
  const { authorityKeyId, ...rest } = decoded; // publicKey is not enumerable: not copied, not imported
  return withLazyPublicKey({
    ...rest,
    ...(authorityKeyId !== undefined ? { authorityKeyId } : {}),
    role: roleOfGpCertificate(decoded),
  });
}

/**
 * Verifies a parsed certificate against its issuer. Checks, in this order, each with its own error:
 * signature over the received signed bytes (SignatureInvalid); 42 and C9 equal the issuer's subject key
 * id (KeyIdentifierMismatch); validity dates (NotYetValid / Expired); role (RoleMismatch); key usage (KeyUsage).
 */
export function verifyGpCertificate(cert: GpCertificate, issuer: GpIssuer, options: GpVerifyOptions): void {
  // verifiedOnce: CERT.DP / CERT.SR (and each ECASD certificate) arrive again and again; the signature
  // over these exact bytes with this issuer key is computed once, every other check below runs each time.
  if (!verifiedOnce(issuer.publicKey, cert.signedBytes, cert.signature, () => ecdsaVerifyPlain(issuer.publicKey, cert.signedBytes, cert.signature))) {
    throw new PkiError.SignatureInvalid('GP certificate signature does not verify with the issuer key');
  }
  checkAuthorityKeyId(cert, issuer.subjectKeyId);
  checkValidity(cert, options.now);
  if (options.expectedRole !== undefined && cert.role !== options.expectedRole) {
    throw new PkiError.RoleMismatch(`GP certificate has role ${cert.role ?? 'none'}, expected ${options.expectedRole}`);
  }
  const expectedKeyUsage =
    options.expectedKeyUsage ?? (options.expectedRole !== undefined ? GP_ROLE[options.expectedRole].keyUsage : undefined);
  if (expectedKeyUsage !== undefined && cert.keyUsage !== expectedKeyUsage) {
    throw new PkiError.KeyUsage(`GP certificate key usage ${hex4(cert.keyUsage)}, expected ${hex4(expectedKeyUsage)}`);
  }
}

function checkAuthorityKeyId(cert: GpCertificate, issuerKeyId: Buffer): void {
  if (!cert.caId.equals(issuerKeyId)) {
    throw new PkiError.KeyIdentifierMismatch('CA identifier (42) is not the issuer subject key identifier');
  }
  if (cert.authorityKeyId !== undefined && !cert.authorityKeyId.equals(issuerKeyId)) {
    throw new PkiError.KeyIdentifierMismatch('authority key identifier (C9) is not the issuer subject key identifier');
  }
}

/** Effective from 00:00 UTC of 5F25 through 23:59:59.999 UTC of 5F24 (dates carry no time) [U]. */
function checkValidity(cert: GpCertificate, now: Date): void {
  const at = now.getTime();
  if (Number.isNaN(at)) throw new PkiError.Malformed('verification time is not a valid Date');
  if (at < cert.effectiveDate.getTime()) {
    throw new PkiError.NotYetValid(`GP certificate is valid from ${cert.effectiveDate.toISOString().slice(0, 10)}`);
  }
  if (at >= cert.expirationDate.getTime() + DAY_MS) {
    throw new PkiError.Expired(`GP certificate expired on ${cert.expirationDate.toISOString().slice(0, 10)}`);
  }
}

/** Adds `C9 L aki` to the discretionary data unless it already carries C9 (which must then agree). */
function withAuthorityKeyId(discretionaryData: Buffer, authorityKeyId: Buffer | undefined): Buffer {
  if (authorityKeyId === undefined) return discretionaryData;
  const present = decodeDiscretionaryData(discretionaryData).authorityKeyId;
  if (present === undefined) {
    return Buffer.concat([discretionaryData, encodeTlv(GP_DISCRETIONARY_TAG.authorityKeyId, authorityKeyId)]);
  }
  if (!present.equals(authorityKeyId)) {
    throw new PkiError.Malformed('authorityKeyId differs from the C9 already in the discretionary data');
  }
  return discretionaryData;
}

function hex4(value: number): string {
  return value.toString(16).toUpperCase().padStart(4, '0');
}
