import { describe, expect, it } from '@jest/globals';
import { createPublicKey } from 'node:crypto';
import { ecka, exportRawPublicKey, generateEckaKeyPair, importRawPrivateKey, importRawPublicKey, type CurveName } from '../src/ec';
import { errorCode, h, loadVectors } from './kat-support';

interface EcdhCase { name: string; curve: CurveName; i: string; gi: string; r: string; gr: string; gir: string }
interface EcdhNegative { name: string; curve: CurveName; point: string; expect: string }
const vectors = loadVectors<{ valid: EcdhCase[]; negative: EcdhNegative[] }>('ecdh-rfc5903.json');

describe('ECKA / ECDH known answers (RFC 5903 §8.1, RFC 7027 A.1)', () => {
  it.each(vectors.valid.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const i = importRawPrivateKey(v.curve, h(v.i));
    const r = importRawPrivateKey(v.curve, h(v.r));
    const gi = importRawPublicKey(v.curve, h(v.gi));
    const gr = importRawPublicKey(v.curve, h(v.gr));
    // The published public points are i·G and r·G.
    expect(exportRawPublicKey(createPublicKey(i)).toString('hex')).toBe(v.gi);
    expect(exportRawPublicKey(createPublicKey(r)).toString('hex')).toBe(v.gr);
    expect(ecka(i, gr).toString('hex')).toBe(v.gir);
    expect(ecka(r, gi).toString('hex')).toBe(v.gir);
    // The raw-point path (ePK as received in 7F49), without a KeyObject import.
    expect(ecka(i, h(v.gr)).toString('hex')).toBe(v.gir);
    expect(generateEckaKeyPair(v.curve).publicPoint.length).toBe(65);
  });

  it.each(vectors.negative.map((v) => [v.name, v] as const))('refuses: %s', (_name, v) => {
    expect(errorCode(() => importRawPublicKey(v.curve, h(v.point)))).toBe(v.expect);
    // The same point offered raw to ECKA is refused the same way (invalid-curve attacks).
    expect(errorCode(() => generateEckaKeyPair(v.curve).agree(h(v.point)))).toBe(v.expect);
  });

  it('refuses ECKA across curves', () => {
    const [p256, bp] = vectors.valid as [EcdhCase, EcdhCase];
    const d = importRawPrivateKey('P-256', h(p256.i));
    const q = importRawPublicKey('brainpoolP256r1', h(bp.gr));
    expect(errorCode(() => ecka(d, q))).toBe('ERR_CRYPTO_INVALID_KEY');
  });
});
