import { describe, expect, it } from '@jest/globals';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { aesCbc, aesEcbEncrypt, TABLE_AES_MAX_BLOCKS } from '../src/aes-block';
import { aesDecryptBlockInto, expandAesKey } from '../src/aes-core';
import { h, loadVectors } from './kat-support';

interface BlockCase { name: string; key: string; plain: string; cipher: string }
interface CbcCase extends BlockCase { iv: string }
const vectors = loadVectors<{ block: BlockCase[]; cbc: CbcCase[] }>('aes-fips197-sp800-38a.json');

describe('table AES (FIPS 197) and its ECB / CBC modes (SP 800-38A)', () => {
  it.each(vectors.block.map((v) => [v.name, v] as const))('%s: cipher and inverse cipher', (_name, v) => {
    expect(aesEcbEncrypt(h(v.key), h(v.plain)).toString('hex')).toBe(v.cipher);
    const out = Buffer.alloc(16);
    aesDecryptBlockInto(expandAesKey(h(v.key)), h(v.cipher), 0, out, 0);
    expect(out.toString('hex')).toBe(v.plain);
  });

  it.each(vectors.cbc.map((v) => [v.name, v] as const))('%s: encrypt and decrypt', (_name, v) => {
    expect(aesCbc('encrypt', h(v.key), h(v.iv), h(v.plain)).toString('hex')).toBe(v.cipher);
    expect(aesCbc('decrypt', h(v.key), h(v.iv), h(v.cipher)).toString('hex')).toBe(v.plain);
  });

  // Either side of the switch to node:crypto, every key length: both implementations must agree byte for byte.
  it.each([16, 24, 32])('agrees with node:crypto for %i-byte keys at every length up to past the switch', (keyLength) => {
    for (let blocks = 1; blocks <= TABLE_AES_MAX_BLOCKS + 3; blocks += 1) {
      const key = randomBytes(keyLength);
      const iv = randomBytes(16);
      const data = randomBytes(16 * blocks);
      const node = (decipher: boolean) => {
        const c = decipher ? createDecipheriv(`aes-${keyLength * 8}-cbc`, key, iv) : createCipheriv(`aes-${keyLength * 8}-cbc`, key, iv);
        c.setAutoPadding(false);
        return Buffer.concat([c.update(data), c.final()]).toString('hex');
      };
      expect(aesCbc('encrypt', key, iv, data).toString('hex')).toBe(node(false));
      expect(aesCbc('decrypt', key, iv, data).toString('hex')).toBe(node(true));
      const ecb = createCipheriv(`aes-${keyLength * 8}-ecb`, key, null).setAutoPadding(false);
      expect(aesEcbEncrypt(key, data).toString('hex')).toBe(ecb.update(data).toString('hex'));
    }
  });

  it('follows a key whose bytes change in place (the cached schedule is keyed by content, not only by object)', () => {
    const key = Buffer.from(vectors.block[0]!.key, 'hex');
    const plain = h(vectors.block[0]!.plain);
    expect(aesEcbEncrypt(key, plain).toString('hex')).toBe(vectors.block[0]!.cipher);
    key.fill(0);
    expect(aesEcbEncrypt(key, plain).toString('hex')).toBe(createCipheriv('aes-128-ecb', key, null).update(plain).toString('hex'));
  });

  it('refuses partial blocks, bad IVs and bad key lengths', () => {
    expect(() => aesEcbEncrypt(Buffer.alloc(16), Buffer.alloc(15))).toThrow(RangeError);
    expect(() => aesCbc('encrypt', Buffer.alloc(16), Buffer.alloc(8), Buffer.alloc(16))).toThrow(RangeError);
    expect(() => aesEcbEncrypt(Buffer.alloc(20), Buffer.alloc(16))).toThrow(RangeError);
  });

  it('does not modify its inputs, even when decrypting in CBC', () => {
    const v = vectors.cbc[0]!;
    const cipher = h(v.cipher);
    const iv = h(v.iv);
    aesCbc('decrypt', h(v.key), iv, cipher);
    expect(cipher.toString('hex')).toBe(v.cipher);
    expect(iv.toString('hex')).toBe(v.iv);
  });
});
