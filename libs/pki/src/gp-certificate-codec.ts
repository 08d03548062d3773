/**
 * Byte-level codec of the GlobalPlatform Amendment E certificate (tag 7F21) as SGP.02 uses it for
 * CERT.ECASD.ECKA, CERT.DP.ECDSA and CERT.SR.ECDSA. Layout (SGP.02 Table 77 / GP Amd E, read via
 * bagyenda/njiwa `ECKeyAgreementEG.makeCertSigningData` @3c1dc9e; no spec text was readable here):
 *
 *   7F21 L {
 *     93   L  certificate serial number
 *     42   L  CA identifier = authority key identifier (SGP.02 §2.3.2.2)
 *     5F20 L  subject identifier = subject key identifier
 *     95   L  key usage (1 or 2 bytes; we write 2)
 *     5F25 04 effective date, BCD YYYYMMDD
 *     5F24 04 expiration date, BCD YYYYMMDD
 *     73   L  discretionary data { [C8 01 certificate type] [C9 L authority key id] ... }
 *     7F49 L  public key { B0 41 04‖X‖Y, F0 01 key parameter reference }
 *     5F37 40 signature r‖s (ECDSA-SHA256) over every TLV above, without the 7F21 tag and length
 *   }
 *
 * The decoder is strict: exactly these TLVs in this order, nothing else. Every malformed input is a
 * PkiError (TLV and crypto errors are wrapped in PkiError.Malformed with the cause).
 */
import type { KeyObject } from 'node:crypto';
import { GP_CURVE_REFERENCE, FIELD_BYTES, assertPointOnCurve, exportRawPublicKey, importRawPublicKey, type CurveName } from '@rsp/crypto';
import { RspError } from '@rsp/errors';
import { children, decodeSingleTlv, decodeTlvs, encodeTlv, findTlv, type Tlv } from '@rsp/tlv';
import { PkiError } from './errors';
import { GP_DISCRETIONARY_TAG } from './gp-roles';

/** Tags of the GP Amd E certificate. */
export const GP_TAG = {
  certificate: 0x7f21,
  serialNumber: 0x93,
  caId: 0x42,
  subjectId: 0x5f20,
  keyUsage: 0x95,
  effectiveDate: 0x5f25,
  expirationDate: 0x5f24,
  discretionaryData: 0x73,
  publicKey: 0x7f49,
  publicKeyQ: 0xb0,
  keyParameterReference: 0xf0,
  signature: 0x5f37,
} as const;

/** The TLVs inside 7F21 in the only order accepted. */
const BODY_ORDER = [
  GP_TAG.serialNumber,
  GP_TAG.caId,
  GP_TAG.subjectId,
  GP_TAG.keyUsage,
  GP_TAG.effectiveDate,
  GP_TAG.expirationDate,
  GP_TAG.discretionaryData,
  GP_TAG.publicKey,
  GP_TAG.signature,
] as const;

/** Upper bound for identifiers and serial numbers; a SHA-1 key id is 20 bytes, X.509 serials ≤ 20. */
const MAX_ID_BYTES = 64;
const SIGNATURE_BYTES = 2 * FIELD_BYTES;
const POINT_BYTES = 1 + 2 * FIELD_BYTES;

/** The fields of a certificate, without its signature. */
export interface GpCertificateBody {
  /** Tag 93. */
  serialNumber: Buffer;
  /** Tag 42: CA identifier, i.e. the issuer's subject key identifier (SGP.02 §2.3.2.2). */
  caId: Buffer;
  /** Tag 5F20: subject identifier, i.e. this certificate's subject key identifier. */
  subjectId: Buffer;
  /** Tag 95, see GP_KEY_USAGE (0x0080 key agreement for the ECASD, 0x0082 for SM-DP / SM-SR). */
  keyUsage: number;
  /** Tag 5F25; only the UTC calendar date is encoded. */
  effectiveDate: Date;
  /** Tag 5F24; only the UTC calendar date is encoded. The certificate is valid through that whole day. */
  expirationDate: Date;
  /** Contents of tag 73, e.g. from `gpDiscretionaryData(role, aki)`. */
  discretionaryData: Buffer;
  /**
   * Tag 7F49 / B0: a KeyObject, or for issuing also the raw point `04 ‖ X ‖ Y` (a fleet that makes
   * keys with node's ECDH then skips a KeyObject import per certificate, which costs as much as an ECDH).
   */
  publicKey: KeyObject | Uint8Array;
  /** From tag 7F49 / F0 (00 P-256, 03 brainpoolP256r1). */
  curve: CurveName;
}

/** A decoded certificate with the exact received bytes. */
export interface DecodedGpCertificate extends GpCertificateBody {
  /** Tag 7F49 / B0 as received, `04 ‖ X ‖ Y`, checked to be on `curve`. */
  publicPoint: Buffer;
  /**
   * The same key as a KeyObject, imported on first read ({@link withLazyPublicKey}): not enumerable, so
   * spreading a certificate neither copies nor imports it.
   */
  publicKey: KeyObject;
  raw: Buffer;
  signedBytes: Buffer;
  signature: Buffer;
  /** `C8` inside `73`, if present. */
  certificateType: number | undefined;
  /** `C9` inside `73`, if present. */
  authorityKeyId: Buffer | undefined;
}

// ---------------------------------------------------------------------------------------------------
// Dates: 4-byte BCD YYYYMMDD (njiwa writes `yyyyMMdd` as hex digits) [U for the GP Amd E wording].

/** Encodes the UTC calendar date of `date` as BCD YYYYMMDD. */
export function encodeBcdDate(date: Date): Buffer {
  const time = date.getTime();
  if (Number.isNaN(time)) throw new PkiError.Malformed('certificate date is not a valid Date');
  const year = date.getUTCFullYear();
  if (year < 1 || year > 9999) throw new PkiError.Malformed(`certificate year ${year} does not fit BCD YYYY`);
  const digits =
    String(year).padStart(4, '0') +
    String(date.getUTCMonth() + 1).padStart(2, '0') +
    String(date.getUTCDate()).padStart(2, '0');
  return Buffer.from(digits, 'hex');
}

/** Decodes BCD YYYYMMDD to midnight UTC of that day; rejects non-BCD nibbles and impossible dates. */
export function decodeBcdDate(bytes: Uint8Array, what: string): Date {
  const digits = Buffer.from(bytes).toString('hex');
  if (bytes.length !== 4 || !/^\d{8}$/.test(digits)) {
    throw new PkiError.Malformed(`${what} must be 4 BCD bytes YYYYMMDD, got ${digits || 'nothing'}`);
  }
  const year = Number(digits.slice(0, 4));
  const month = Number(digits.slice(4, 6));
  const day = Number(digits.slice(6, 8));
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(0, 0, 0, 0);
  // setUTCFullYear rolls 2024-02-31 over to March: a changed component means the date does not exist.
  if (year < 1 || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new PkiError.Malformed(`${what} ${digits} is not a calendar date`);
  }
  return date;
}

// ---------------------------------------------------------------------------------------------------
// Encoding

/** The TLVs covered by the signature: everything inside 7F21 before 5F37. */
export function encodeGpCertificateBody(body: GpCertificateBody): Buffer {
  checkId(body.serialNumber, 'serial number (93)');
  checkId(body.caId, 'CA identifier (42)');
  checkId(body.subjectId, 'subject identifier (5F20)');
  if (!Number.isInteger(body.keyUsage) || body.keyUsage < 0 || body.keyUsage > 0xffff) {
    throw new PkiError.Malformed(`key usage ${body.keyUsage} does not fit 2 bytes`);
  }
  if (body.expirationDate.getTime() < body.effectiveDate.getTime()) {
    throw new PkiError.Malformed('expiration date is before the effective date');
  }
  decodeDiscretionaryData(body.discretionaryData);
  const point = body.publicKey instanceof Uint8Array ? Buffer.from(body.publicKey) : exportRawPublicKey(body.publicKey);
  if (point.length !== POINT_BYTES || point[0] !== 0x04) {
    throw new PkiError.Malformed(`public key must be an uncompressed ${POINT_BYTES}-byte point`);
  }
  const keyUsage = Buffer.alloc(2);
  keyUsage.writeUInt16BE(body.keyUsage);
  return Buffer.concat([
    encodeTlv(GP_TAG.serialNumber, body.serialNumber),
    encodeTlv(GP_TAG.caId, body.caId),
    encodeTlv(GP_TAG.subjectId, body.subjectId),
    encodeTlv(GP_TAG.keyUsage, keyUsage),
    encodeTlv(GP_TAG.effectiveDate, encodeBcdDate(body.effectiveDate)),
    encodeTlv(GP_TAG.expirationDate, encodeBcdDate(body.expirationDate)),
    encodeTlv(GP_TAG.discretionaryData, body.discretionaryData),
    encodeTlv(
      GP_TAG.publicKey,
      encodeTlv(GP_TAG.publicKeyQ, point),
      encodeTlv(GP_TAG.keyParameterReference, Buffer.of(GP_CURVE_REFERENCE[body.curve])),
    ),
  ]);
}

/** Wraps the signed body and its signature into the 7F21 template. */
export function encodeGpCertificate(signedBody: Uint8Array, signature: Uint8Array): Buffer {
  if (signature.length !== SIGNATURE_BYTES) throw new PkiError.Malformed(`signature must be ${SIGNATURE_BYTES} bytes`);
  return encodeTlv(GP_TAG.certificate, signedBody, encodeTlv(GP_TAG.signature, signature));
}

// ---------------------------------------------------------------------------------------------------
// Decoding

/** Decodes a 7F21 certificate spanning the whole input; throws only PkiError. */
export function decodeGpCertificate(input: Uint8Array): DecodedGpCertificate {
  try {
    return decodeStrict(input);
  } catch (error) {
    if (error instanceof RspError && !error.code.startsWith('ERR_PKI_')) {
      // TlvError (truncation, bad tag/length) or CryptoError (point not on curve): still "malformed".
      throw new PkiError.Malformed(`malformed GP certificate: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function decodeStrict(input: Uint8Array): DecodedGpCertificate {
  // A private copy: later mutation of the caller's buffer must not change a parsed certificate.
  const raw = Buffer.from(input);
  const outer = decodeSingleTlv(raw);
  if (outer.tag !== GP_TAG.certificate) {
    throw new PkiError.Malformed(`expected tag 7F21, got ${outer.tag.toString(16).toUpperCase()}`);
  }
  const items = decodeTlvs(outer.value);
  const tlv = itemsInOrder(items);
  const signatureTlv = tlv(GP_TAG.signature);
  // The signature covers the received TLVs before 5F37, byte for byte (never re-encoded).
  const signedBytes = outer.value.subarray(0, signatureTlv.raw.byteOffset - outer.value.byteOffset);
  const signature = signatureTlv.value;
  if (signature.length !== SIGNATURE_BYTES) {
    throw new PkiError.Malformed(`signature (5F37) must be ${SIGNATURE_BYTES} bytes, got ${signature.length}`);
  }
  const serialNumber = checkId(tlv(GP_TAG.serialNumber).value, 'serial number (93)');
  const caId = checkId(tlv(GP_TAG.caId).value, 'CA identifier (42)');
  const subjectId = checkId(tlv(GP_TAG.subjectId).value, 'subject identifier (5F20)');
  const keyUsage = decodeKeyUsage(tlv(GP_TAG.keyUsage).value);
  const effectiveDate = decodeBcdDate(tlv(GP_TAG.effectiveDate).value, 'effective date (5F25)');
  const expirationDate = decodeBcdDate(tlv(GP_TAG.expirationDate).value, 'expiration date (5F24)');
  if (expirationDate.getTime() < effectiveDate.getTime()) {
    throw new PkiError.Malformed('expiration date (5F24) is before the effective date (5F25)');
  }
  const discretionaryData = tlv(GP_TAG.discretionaryData).value;
  const { certificateType, authorityKeyId } = decodeDiscretionaryData(discretionaryData);
  const { publicPoint, curve } = decodePublicKey(tlv(GP_TAG.publicKey));
  return withLazyPublicKey({
    raw,
    signedBytes,
    signature,
    serialNumber,
    caId,
    subjectId,
    keyUsage,
    effectiveDate,
    expirationDate,
    discretionaryData,
    certificateType,
    authorityKeyId,
    publicPoint,
    curve,
  });
}

/**
 * Adds `publicKey`, the KeyObject of `publicPoint`, imported on its first read and kept. The point is
 * already checked to be on the curve (ec-point.ts); OpenSSL's import costs 110–160 µs, and the commonest
 * certificate of all, CERT.ECASD.ECKA of each card's first provisioning, is only used for an ECDH that
 * takes the raw point (docs/performance.md, round eight). Not enumerable: a spread copy neither holds nor
 * imports it, and must add it again.
 */
export function withLazyPublicKey<T extends { publicPoint: Buffer; curve: CurveName }>(certificate: T): T & { publicKey: KeyObject } {
  let imported: KeyObject | undefined;
  return Object.defineProperty(certificate, 'publicKey', {
    enumerable: false,
    get: () => (imported ??= importRawPublicKey(certificate.curve, certificate.publicPoint)),
  }) as T & { publicKey: KeyObject };
}

/** Checks the body holds exactly the expected tags in order; returns a lookup by tag. */
function itemsInOrder(items: readonly Tlv[]): (tag: number) => Tlv {
  BODY_ORDER.forEach((tag, index) => {
    const item = items[index];
    if (item === undefined) throw new PkiError.Malformed(`tag ${tagName(tag)} missing in 7F21`);
    if (item.tag !== tag) {
      throw new PkiError.Malformed(`7F21 element ${index + 1} is ${tagName(item.tag)}, expected ${tagName(tag)}`);
    }
  });
  if (items.length !== BODY_ORDER.length) {
    throw new PkiError.Malformed(`${items.length - BODY_ORDER.length} unexpected TLV(s) after 5F37 in 7F21`);
  }
  return (tag) => items[BODY_ORDER.indexOf(tag as (typeof BODY_ORDER)[number])] as Tlv;
}

function decodeKeyUsage(value: Buffer): number {
  if (value.length === 1) return value[0] as number;
  if (value.length === 2) return value.readUInt16BE(0);
  throw new PkiError.Malformed(`key usage (95) must be 1 or 2 bytes, got ${value.length}`);
}

/** Parses the `73` contents: a TLV list with at most one `C8` (1 byte) and one non-empty `C9`. */
export function decodeDiscretionaryData(value: Uint8Array): {
  certificateType: number | undefined;
  authorityKeyId: Buffer | undefined;
} {
  let items: Tlv[];
  try {
    items = decodeTlvs(value);
  } catch (cause) {
    throw new PkiError.Malformed('discretionary data (73) is not a TLV list', { cause });
  }
  const type = single(items, GP_DISCRETIONARY_TAG.certificateType);
  const aki = single(items, GP_DISCRETIONARY_TAG.authorityKeyId);
  if (type !== undefined && type.value.length !== 1) {
    throw new PkiError.Malformed('certificate type (C8) must be 1 byte');
  }
  if (aki !== undefined) checkId(aki.value, 'authority key identifier (C9)');
  return { certificateType: type?.value[0], authorityKeyId: aki?.value };
}

function single(items: readonly Tlv[], tag: number): Tlv | undefined {
  if (items.filter((t) => t.tag === tag).length > 1) {
    throw new PkiError.Malformed(`tag ${tagName(tag)} repeated in discretionary data (73)`);
  }
  return findTlv(items, tag);
}

/** 7F49 { B0 04‖X‖Y, F0 01 ref } (GP Amd E; curve refs per GP_CURVE_REFERENCE). */
function decodePublicKey(template: Tlv): { publicPoint: Buffer; curve: CurveName } {
  const [q, ref, ...extra] = children(template);
  if (q?.tag !== GP_TAG.publicKeyQ || ref?.tag !== GP_TAG.keyParameterReference || extra.length > 0) {
    throw new PkiError.Malformed('public key (7F49) must hold exactly B0 then F0');
  }
  if (ref.value.length !== 1) throw new PkiError.Malformed('key parameter reference (F0) must be 1 byte');
  const curve = curveOfReference(ref.value[0] as number);
  if (q.value.length !== POINT_BYTES || q.value[0] !== 0x04) {
    throw new PkiError.Malformed(`public key (B0) must be an uncompressed ${POINT_BYTES}-byte point`);
  }
  assertPointOnCurve(curve, q.value); // CryptoError.InvalidKey, as OpenSSL's import threw it
  return { publicPoint: q.value, curve };
}

function curveOfReference(reference: number): CurveName {
  const entry = Object.entries(GP_CURVE_REFERENCE).find(([, value]) => value === reference);
  if (!entry) throw new PkiError.Unsupported(`key parameter reference ${reference} is not a supported curve`);
  return entry[0] as CurveName;
}

function checkId(value: Buffer, what: string): Buffer {
  if (!Buffer.isBuffer(value) || value.length === 0 || value.length > MAX_ID_BYTES) {
    throw new PkiError.Malformed(`${what} must be 1..${MAX_ID_BYTES} bytes`);
  }
  return value;
}

function tagName(tag: number): string {
  return tag.toString(16).toUpperCase().padStart(2, '0');
}
