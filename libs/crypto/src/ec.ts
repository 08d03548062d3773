/**
 * Elliptic-curve primitives on node:crypto for the two curves SGP.02 uses (NIST P-256 and
 * brainpoolP256r1): key generation, raw public-key points, ECDSA with plain r‖s signatures as
 * GlobalPlatform certificates carry them (GP Amd E, tag 5F37), and ECDH (ECKA, BSI TR-03111).
 */
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
  type ECDH,
  type KeyObject,
} from 'node:crypto';
import * as asn1js from 'asn1js';
import { decodeSingleTlv, decodeTlvs, encodeTlv, type Tlv } from '@rsp/tlv';
import { CryptoError } from './errors';

/** The curves of SGP.02 §2.3 / SGP.26 test certificates. */
export type CurveName = 'P-256' | 'brainpoolP256r1';

/** node:crypto / OpenSSL names of the curves. */
const NODE_CURVE: Record<CurveName, string> = { 'P-256': 'prime256v1', brainpoolP256r1: 'brainpoolP256r1' };

/** DER of the namedCurve OIDs (RFC 5480 secp256r1; RFC 5639 brainpoolP256r1). */
const CURVE_OID_DER: Record<CurveName, Buffer> = {
  'P-256': Buffer.from('06082a8648ce3d030107', 'hex'),
  brainpoolP256r1: Buffer.from('06092b2403030208010107', 'hex'),
};
/** The namedCurve OIDs, dotted. */
const CURVE_OID: Record<CurveName, string> = { 'P-256': '1.2.840.10045.3.1.7', brainpoolP256r1: '1.3.36.3.3.2.8.1.1.7' };
/** DER of AlgorithmIdentifier id-ecPublicKey (1.2.840.10045.2.1). */
const EC_PUBLIC_KEY_OID_DER = Buffer.from('06072a8648ce3d0201', 'hex');

/** GP Amd E key parameter reference (tag F0 inside 7F49): 00 = P-256, 03 = brainpoolP256r1. */
export const GP_CURVE_REFERENCE: Record<CurveName, number> = { 'P-256': 0x00, brainpoolP256r1: 0x03 };

/** Size in bytes of one coordinate / scalar for both supported curves. */
export const FIELD_BYTES = 32;

export interface EcKeyPair {
  curve: CurveName;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** The curve a KeyObject is on, or a CryptoError for anything else. */
export function curveOf(key: KeyObject): CurveName {
  const known = curveByKey.get(key);
  if (known) return known;
  // asymmetricKeyDetails asks OpenSSL each time; a KeyObject never changes, so the answer is kept.
  const named = key.asymmetricKeyDetails?.namedCurve;
  const curve: CurveName | undefined = named === 'prime256v1' || named === 'P-256' ? 'P-256' : named === 'brainpoolP256r1' ? 'brainpoolP256r1' : undefined;
  if (!curve) throw new CryptoError.UnsupportedCurve(`unsupported key curve: ${named ?? key.asymmetricKeyType ?? 'unknown'}`);
  curveByKey.set(key, curve);
  return curve;
}

const curveByKey = new WeakMap<KeyObject, CurveName>();

export function generateEcKeyPair(curve: CurveName): EcKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: NODE_CURVE[curve] });
  return { curve, privateKey, publicKey };
}

/** Uncompressed point `04 ‖ X ‖ Y` (65 bytes), the form GP puts in tag B0 of 7F49. */
export function exportRawPublicKey(key: KeyObject): Buffer {
  const cached = rawPointCache.get(key);
  if (cached) return Buffer.from(cached);
  curveOf(key);
  // SubjectPublicKeyInfo ends with the BIT STRING holding the uncompressed point (RFC 5480 §2.2).
  const spki = key.export({ type: 'spki', format: 'der' });
  const point = spki.subarray(spki.length - (1 + 2 * FIELD_BYTES));
  if (point[0] !== 0x04) throw new CryptoError.InvalidKey('public key is not an uncompressed point');
  rawPointCache.set(key, Buffer.from(point));
  return Buffer.from(point);
}

// KeyObject ↔ DER conversions cost about as much as an ECDH in OpenSSL 3, so what a long-lived key
// (an ECASD or SM-DP key) needs more than once is computed once per KeyObject.
const rawPointCache = new WeakMap<KeyObject, Buffer>();
const eckaKeyPairCache = new WeakMap<KeyObject, EckaKeyPair>();

/** Throws CryptoError.InvalidKey unless `point` has the shape `04 ‖ X ‖ Y` (whether it is on a curve aside). */
export function assertUncompressedPoint(point: Uint8Array): void {
  if (point.length !== 1 + 2 * FIELD_BYTES || point[0] !== 0x04) {
    throw new CryptoError.InvalidKey(`public key must be an uncompressed ${1 + 2 * FIELD_BYTES}-byte point`);
  }
}

/** Imports an uncompressed point; rejects points of the wrong size or not on the curve. */
export function importRawPublicKey(curve: CurveName, point: Uint8Array): KeyObject {
  assertUncompressedPoint(point);
  // SubjectPublicKeyInfo (RFC 5480 §2) by hand, not with asn1js: this runs several times per
  // provisioning, and asn1js would add about 60% to the import (`npm run bench -- crypto`, "DER assembly").
  const algorithm = encodeTlv(0x30, EC_PUBLIC_KEY_OID_DER, CURVE_OID_DER[curve]);
  const spki = encodeTlv(0x30, algorithm, encodeTlv(0x03, Buffer.of(0x00), point));
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (cause) {
    throw new CryptoError.InvalidKey('public key point is not on the curve', { cause });
  }
  // The point is known: exporting it again (the ECASD key of every Scenario#3, read from its 7F21
  // certificate) would cost an SPKI export, ~0.25 ms per provisioning in the bench's profile.
  rawPointCache.set(key, Buffer.from(point));
  // And its curve is known: asking OpenSSL (asymmetricKeyDetails) was ~0.05 ms per provisioning.
  curveByKey.set(key, curve);
  return key;
}

/** Imports a raw private scalar d (32 bytes), e.g. from a test vector. */
export function importRawPrivateKey(curve: CurveName, d: Uint8Array): KeyObject {
  if (d.length !== FIELD_BYTES) throw new CryptoError.InvalidKey(`private scalar must be ${FIELD_BYTES} bytes`);
  try {
    const ecdh = createECDH(NODE_CURVE[curve]);
    ecdh.setPrivateKey(d);
    const point = ecdh.getPublicKey();
    // ECPrivateKey ::= SEQUENCE { version INTEGER (1), privateKey OCTET STRING,
    //   parameters [0] ECParameters OPTIONAL, publicKey [1] BIT STRING OPTIONAL }   (RFC 5915 §3)
    const sec1 = new asn1js.Sequence({
      value: [
        new asn1js.Integer({ value: 1 }),
        new asn1js.OctetString({ valueHex: d }),
        new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.ObjectIdentifier({ value: CURVE_OID[curve] })] }),
        new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: [new asn1js.BitString({ valueHex: point })] }),
      ],
    }).toBER();
    return createPrivateKey({ key: Buffer.from(sec1), format: 'der', type: 'sec1' });
  } catch (cause) {
    throw new CryptoError.InvalidKey('invalid private key', { cause });
  }
}

/** ECDSA-SHA256 signature as plain `r ‖ s` (64 bytes), the GP / TR-03111 form. */
export function ecdsaSignPlain(privateKey: KeyObject, data: Uint8Array): Buffer {
  return nodeSign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
}

/** Verifies a plain `r ‖ s` ECDSA-SHA256 signature; false on any mismatch or malformed input. */
export function ecdsaVerifyPlain(publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 2 * FIELD_BYTES) return false;
  try {
    return nodeVerify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/**
 * ECKA (BSI TR-03111 §4.3.1): the shared secret ShS is the x-coordinate of d·Q.
 * With one static and one ephemeral key this is ECKA-EG (GP Amd E / SGP.02 §3.1.2 Scenario#3).
 * The peer key may be a KeyObject or a raw uncompressed point as received (e.g. ePK.DP.ECKA in 7F49);
 * a raw point is agreed on directly, without a KeyObject import.
 */
export function ecka(privateKey: KeyObject, peerPublicKey: KeyObject | Uint8Array): Buffer {
  if (peerPublicKey instanceof Uint8Array) return eckaKeyPairOf(privateKey).agree(peerPublicKey);
  if (curveOf(privateKey) !== curveOf(peerPublicKey)) {
    throw new CryptoError.InvalidKey('ECKA keys are on different curves');
  }
  return diffieHellman({ privateKey, publicKey: peerPublicKey });
}

/**
 * A key pair used only for ECKA, held in node's ECDH: raw points in and out. Ephemeral keys
 * (ePK/eSK.DP.ECKA) are made this way because they are never signed with or stored.
 */
export interface EckaKeyPair {
  readonly curve: CurveName;
  /** `04 ‖ X ‖ Y`. */
  readonly publicPoint: Buffer;
  /** ShS with the peer's uncompressed point; a point off the curve is a CryptoError.InvalidKey. */
  agree(peerPoint: Uint8Array): Buffer;
}

export function generateEckaKeyPair(curve: CurveName): EckaKeyPair {
  const ecdh = createECDH(NODE_CURVE[curve]);
  return eckaKeyPairFromEcdh(curve, ecdh, ecdh.generateKeys()); // its point: no second getPublicKey
}

/** The ECKA view of a private KeyObject (cached per key: the card's SK.ECASD.ECKA serves every establishment). */
export function eckaKeyPairOf(privateKey: KeyObject): EckaKeyPair {
  const cached = eckaKeyPairCache.get(privateKey);
  if (cached) return cached;
  const curve = curveOf(privateKey);
  // ECPrivateKey (RFC 5915 §3): 30 L 02 01 01 04 20 <d> …
  const sec1 = privateKey.export({ type: 'sec1', format: 'der' });
  const lengthBytes = (sec1[1] as number) & 0x80 ? ((sec1[1] as number) & 0x7f) + 1 : 1;
  const dOffset = 1 + lengthBytes + 3 + 2;
  if (sec1[dOffset - 2] !== 0x04 || sec1[dOffset - 1] !== FIELD_BYTES) {
    throw new CryptoError.InvalidKey('unexpected private key encoding');
  }
  const ecdh = createECDH(NODE_CURVE[curve]);
  ecdh.setPrivateKey(sec1.subarray(dOffset, dOffset + FIELD_BYTES));
  const pair = eckaKeyPairFromEcdh(curve, ecdh);
  eckaKeyPairCache.set(privateKey, pair);
  return pair;
}

function eckaKeyPairFromEcdh(curve: CurveName, ecdh: ECDH, publicPoint: Buffer = ecdh.getPublicKey()): EckaKeyPair {
  return {
    curve,
    publicPoint,
    agree(peerPoint: Uint8Array): Buffer {
      assertUncompressedPoint(peerPoint);
      try {
        // OpenSSL's point decoding refuses points that are not on the curve (invalid-curve attacks).
        return ecdh.computeSecret(peerPoint);
      } catch (cause) {
        throw new CryptoError.InvalidKey('public key point is not on the curve', { cause });
      }
    },
  };
}

/**
 * An EC private key as PKCS#8, the form a card stores SK.ECASD.ECKA in, built by hand from the scalar
 * (no KeyObject: importing and exporting one costs more than an ECDH in OpenSSL 3):
 *
 * ```asn1
 * PrivateKeyInfo ::= SEQUENCE {                         -- RFC 5208 §5
 *   version             INTEGER (0),
 *   privateKeyAlgorithm AlgorithmIdentifier,            -- id-ecPublicKey, namedCurve (RFC 5480 §2.1.1)
 *   privateKey          OCTET STRING }                  -- DER of ECPrivateKey
 * ECPrivateKey ::= SEQUENCE {                           -- RFC 5915 §3
 *   version    INTEGER (1),
 *   privateKey OCTET STRING,                            -- d, 32 bytes
 *   publicKey  [1] BIT STRING OPTIONAL }                -- parameters [0] left out: they are in the algorithm
 * ```
 * The bytes are those OpenSSL exports for the same key (a test compares them).
 */
export function encodeEcPrivateKeyPkcs8(curve: CurveName, d: Uint8Array): Buffer {
  if (d.length !== FIELD_BYTES) throw new CryptoError.InvalidKey(`private scalar must be ${FIELD_BYTES} bytes`);
  const ecdh = createECDH(NODE_CURVE[curve]);
  try {
    ecdh.setPrivateKey(d);
  } catch (cause) {
    throw new CryptoError.InvalidKey('invalid private key', { cause });
  }
  const ecPrivateKey = encodeTlv(0x30, Buffer.of(0x02, 0x01, 0x01), encodeTlv(0x04, d), encodeTlv(0xa1, encodeTlv(0x03, Buffer.of(0x00), ecdh.getPublicKey())));
  return encodeTlv(0x30, Buffer.of(0x02, 0x01, 0x00), encodeTlv(0x30, EC_PUBLIC_KEY_OID_DER, CURVE_OID_DER[curve]), encodeTlv(0x04, ecPrivateKey));
}

/**
 * The ECKA key pair of a PKCS#8 EC private key (the structure above, as OpenSSL or
 * {@link encodeEcPrivateKeyPkcs8} writes it), read straight into node's ECDH. A card agrees keys with
 * its stored SK.ECASD.ECKA this way, without a KeyObject import per boot.
 */
export function eckaKeyPairFromPkcs8(pkcs8: Uint8Array): EckaKeyPair {
  const [version, algorithm, privateKey] = sequenceOf(pkcs8);
  if (version?.tag !== 0x02 || algorithm?.tag !== 0x30 || privateKey?.tag !== 0x04) throw new CryptoError.InvalidKey('not a PKCS#8 PrivateKeyInfo');
  const [oid, curveOid] = sequenceOf(algorithm.raw);
  const curve = (Object.keys(CURVE_OID_DER) as CurveName[]).find((name) => curveOid !== undefined && CURVE_OID_DER[name].equals(curveOid.raw));
  if (!oid?.raw.equals(EC_PUBLIC_KEY_OID_DER) || curve === undefined) throw new CryptoError.UnsupportedCurve('PKCS#8 key is not on P-256 or brainpoolP256r1');
  const [ecVersion, scalar] = sequenceOf(privateKey.value);
  if (ecVersion?.tag !== 0x02 || scalar?.tag !== 0x04 || scalar.value.length !== FIELD_BYTES) throw new CryptoError.InvalidKey('not an RFC 5915 ECPrivateKey');
  const ecdh = createECDH(NODE_CURVE[curve]);
  try {
    ecdh.setPrivateKey(scalar.value);
  } catch (cause) {
    throw new CryptoError.InvalidKey('invalid private key', { cause });
  }
  return eckaKeyPairFromEcdh(curve, ecdh);
}

/** The elements of the single DER SEQUENCE `bytes` must be; anything else is a CryptoError.InvalidKey. */
function sequenceOf(bytes: Uint8Array): Tlv[] {
  let children: Tlv[] | undefined;
  try {
    const outer = decodeSingleTlv(bytes);
    if (outer.tag === 0x30) children = decodeTlvs(outer.value);
  } catch (cause) {
    throw new CryptoError.InvalidKey('malformed DER key structure', { cause });
  }
  if (!children) throw new CryptoError.InvalidKey('malformed DER key structure: not a SEQUENCE');
  return children;
}
