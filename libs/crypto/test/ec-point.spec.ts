/**
 * assertPointOnCurve (ec-point.ts) decides as OpenSSL's import does: every generated point passes, and of
 * points with a byte changed, exactly those OpenSSL refuses are refused, on both curves.
 */
import { randomInt } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { assertPointOnCurve, CryptoError, exportRawPublicKey, generateEcKeyPair, importRawPublicKey, type CurveName } from '../src/index';

const CURVES: CurveName[] = ['P-256', 'brainpoolP256r1'];
const P256_P = Buffer.from('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff', 'hex');

const openSslAccepts = (curve: CurveName, point: Uint8Array): boolean => {
  try {
    importRawPublicKey(curve, point);
    return true;
  } catch {
    return false;
  }
};
const weAccept = (curve: CurveName, point: Uint8Array): boolean => {
  try {
    assertPointOnCurve(curve, point);
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError.InvalidKey);
    return false;
  }
};

describe.each(CURVES)('assertPointOnCurve on %s', (curve) => {
  const points = Array.from({ length: 40 }, () => exportRawPublicKey(generateEcKeyPair(curve).publicKey));

  it('accepts every generated point', () => {
    for (const point of points) expect(weAccept(curve, point)).toBe(true);
  });

  it('agrees with OpenSSL on 400 points with one byte changed (all refused but the rare lucky one)', () => {
    for (let i = 0; i < 400; i += 1) {
      const point = Buffer.from(points[i % points.length] as Buffer);
      const at = randomInt(1, point.length);
      point[at] = ((point[at] as number) + randomInt(1, 256)) & 0xff;
      expect(weAccept(curve, point)).toBe(openSslAccepts(curve, point));
    }
  });

  it('refuses a point of the other curve, a compressed or short encoding, and the point at infinity', () => {
    const other = exportRawPublicKey(generateEcKeyPair(curve === 'P-256' ? 'brainpoolP256r1' : 'P-256').publicKey);
    expect(weAccept(curve, other)).toBe(openSslAccepts(curve, other));
    expect(weAccept(curve, other)).toBe(false);
    const point = points[0] as Buffer;
    expect(weAccept(curve, Buffer.concat([Buffer.of(0x02), point.subarray(1, 33)]))).toBe(false);
    expect(weAccept(curve, point.subarray(0, 64))).toBe(false);
    expect(weAccept(curve, Buffer.concat([Buffer.of(0x04), Buffer.alloc(64)]))).toBe(false);
  });
});

it('refuses a P-256 coordinate of p or more (an x that reduces to a point on the curve is still refused)', () => {
  // x = p + x0 for a valid x0 would satisfy the equation mod p: the range check refuses it, as OpenSSL does.
  const point = Buffer.from(exportRawPublicKey(generateEcKeyPair('P-256').publicKey));
  P256_P.copy(point, 1); // x = p exactly: the equation's x ≡ 0
  expect(weAccept('P-256', point)).toBe(false);
  expect(openSslAccepts('P-256', point)).toBe(false);
});
