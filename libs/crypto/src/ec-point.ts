/**
 * Is an uncompressed point `04 ‖ X ‖ Y` on the curve? The check OpenSSL makes when it imports a public
 * key, done in JavaScript: importing costs OpenSSL's SPKI decoder 110–160 µs on this stack's host, and a
 * certificate parser that only needs to know the point is valid (the ECASD key of every first
 * provisioning, whose ECDH takes the raw point) can check it for a few µs and import later, if ever.
 *
 * Both curves are short Weierstrass curves y² = x³ + a·x + b over GF(p) with cofactor 1 (SEC 2 §2.4.2
 * secp256r1; RFC 5639 §3.4 brainpoolP256r1), so a point with coordinates in [0, p) that satisfies the
 * equation is in the prime-order group: the invalid-curve attack on ECDH (a point of a weak curve) is
 * refused here, as by OpenSSL. The uncompressed form cannot encode the point at infinity.
 */
import { assertUncompressedPoint, FIELD_BYTES, type CurveName } from './ec';
import { CryptoError } from './errors';

interface CurveEquation {
  p: bigint;
  a: bigint;
  b: bigint;
}

/** SEC 2 §2.4.2 (secp256r1 = NIST P-256) and RFC 5639 §3.4 (brainpoolP256r1). */
const CURVES: Record<CurveName, CurveEquation> = {
  'P-256': {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    a: 0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  brainpoolP256r1: {
    p: 0xa9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377n,
    a: 0x7d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9n,
    b: 0x26dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b6n,
  },
};

/** A public key as its curve and uncompressed point, for callers that never need a KeyObject (ECDH). */
export interface EcPublicPoint {
  curve: CurveName;
  /** `04 ‖ X ‖ Y`, already checked to be on `curve` ({@link assertPointOnCurve}). */
  point: Uint8Array;
}

/** Throws CryptoError.InvalidKey unless `point` is an uncompressed point of `curve`. */
export function assertPointOnCurve(curve: CurveName, point: Uint8Array): void {
  assertUncompressedPoint(point);
  const { p, a, b } = CURVES[curve];
  const x = coordinate(point, 1);
  const y = coordinate(point, 1 + FIELD_BYTES);
  if (x >= p || y >= p || (y * y - ((x * x + a) * x + b)) % p !== 0n) {
    throw new CryptoError.InvalidKey('public key point is not on the curve');
  }
}

function coordinate(point: Uint8Array, at: number): bigint {
  return BigInt(`0x${Buffer.from(point.buffer, point.byteOffset + at, FIELD_BYTES).toString('hex')}`);
}
