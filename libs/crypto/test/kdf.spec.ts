import { describe, expect, it } from '@jest/globals';
import { x963Kdf } from '../src/kdf';
import { errorCode, h, loadVectors } from './kat-support';

interface KdfCase { name: string; z: string; sharedInfo: string; keyData: string }
interface KdfNegative { name: string; z: string; sharedInfo: string; outputLength: number; expect: string }
const vectors = loadVectors<{ valid: KdfCase[]; negative: KdfNegative[] }>('x963-kdf-sha256.json');

describe('ANSI X9.63 KDF, SHA-256 (NIST CAVP ansx963_2001)', () => {
  it.each(vectors.valid.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    expect(x963Kdf(h(v.z), h(v.sharedInfo), v.keyData.length / 2).toString('hex')).toBe(v.keyData);
  });

  it('truncation is a prefix of the longer output (counter starts at 1)', () => {
    const v = vectors.valid[3]!;
    expect(x963Kdf(h(v.z), h(v.sharedInfo), 40).toString('hex')).toBe(v.keyData.slice(0, 80));
  });

  it.each(vectors.negative.map((v) => [v.name, v] as const))('refuses: %s', (_name, v) => {
    expect(errorCode(() => x963Kdf(h(v.z), h(v.sharedInfo), v.outputLength))).toBe(v.expect);
  });
});
