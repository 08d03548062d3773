import { describe, expect, it } from '@jest/globals';
import { createCipheriv, randomBytes } from 'node:crypto';
import { aesCmac, aesCmacVerify } from '../src/cmac';
import { errorCode, h, loadVectors } from './kat-support';

interface MacCase { name: string; key: string; message: string; mac: string; macLength?: number }
interface NegativeCase { name: string; key: string; message: string; mac?: string; expect: string }
const vectors = loadVectors<{ valid: MacCase[]; truncated: MacCase[]; negative: NegativeCase[] }>('cmac-rfc4493.json');

describe('AES-CMAC (RFC 4493, SP 800-38B)', () => {
  it.each(vectors.valid.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    expect(aesCmac(h(v.key), h(v.message)).toString('hex')).toBe(v.mac);
    expect(aesCmacVerify(h(v.key), h(v.message), h(v.mac))).toBe(true);
  });

  it.each(vectors.truncated.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    expect(aesCmacVerify(h(v.key), h(v.message), h(v.mac), v.macLength)).toBe(true);
  });

  it.each(vectors.negative.map((v) => [v.name, v] as const))('refuses: %s', (_name, v) => {
    if (v.expect === 'mismatch') {
      expect(aesCmacVerify(h(v.key), h(v.message), h(v.mac ?? ''))).toBe(false);
    } else {
      expect(errorCode(() => aesCmac(h(v.key), h(v.message)))).toBe(v.expect);
      expect(errorCode(() => aesCmacVerify(h(v.key), h(v.message), Buffer.alloc(16)))).toBe(v.expect);
    }
  });

  it('rejects a MAC length outside 1..16 with a typed error', () => {
    const key = h(vectors.valid[0]!.key);
    expect(errorCode(() => aesCmacVerify(key, Buffer.alloc(0), Buffer.alloc(0), 0))).toBe('ERR_CRYPTO_INVALID_LENGTH');
    expect(errorCode(() => aesCmacVerify(key, Buffer.alloc(0), Buffer.alloc(17), 17))).toBe('ERR_CRYPTO_INVALID_LENGTH');
  });

  it('does not modify its inputs', () => {
    const v = vectors.valid[2]!;
    const message = h(v.message);
    const copy = Buffer.from(message);
    aesCmac(h(v.key), message);
    expect(message.equals(copy)).toBe(true);
  });

  // aesCmac reuses one key schedule per key object (short messages block by block, K1 cached): check it
  // against a from-scratch RFC 4493 on both paths, and that changing the key bytes in place is noticed.
  it('matches a from-scratch CMAC for every length up to 40 blocks, and notices a key changed in place', () => {
    const reference = (key: Buffer, message: Buffer): string => {
      const e = (block: Buffer) => createCipheriv(`aes-${key.length * 8}-ecb`, key, null).setAutoPadding(false).update(block);
      const dbl = (b: Buffer) => {
        const out = Buffer.alloc(16);
        for (let i = 0; i < 16; i++) out[i] = ((b[i]! << 1) & 0xff) | (i < 15 ? b[i + 1]! >>> 7 : 0);
        if (b[0]! & 0x80) out[15] = out[15]! ^ 0x87;
        return out;
      };
      const k1 = dbl(e(Buffer.alloc(16)));
      const n = Math.max(1, Math.ceil(message.length / 16));
      const last = Buffer.alloc(16);
      message.copy(last, 0, (n - 1) * 16);
      const complete = message.length > 0 && message.length % 16 === 0;
      if (!complete) last[message.length - (n - 1) * 16] = 0x80;
      const subkey = complete ? k1 : dbl(k1);
      let x = Buffer.alloc(16);
      for (let i = 0; i < n; i++) {
        const block = i === n - 1 ? Buffer.from(last.map((b, j) => b ^ subkey[j]!)) : message.subarray(i * 16, i * 16 + 16);
        x = e(Buffer.from(x.map((b, j) => b ^ block[j]!)));
      }
      return x.toString('hex');
    };
    for (const keyLength of [16, 24, 32]) {
      const key = randomBytes(keyLength);
      for (let length = 0; length <= 40 * 16; length += 7) {
        const message = randomBytes(length);
        expect(aesCmac(key, message).toString('hex')).toBe(reference(key, message));
      }
      const message = randomBytes(50);
      aesCmac(key, message);
      key[0] = key[0]! ^ 1; // same object, new bytes: no stale schedule
      expect(aesCmac(key, message).toString('hex')).toBe(reference(key, message));
    }
  });
});

describe('AES-CMAC subkey cache', () => {
  it('follows a key whose bytes change in place (K1 is kept with the key schedule, which is keyed by content)', () => {
    const key = Buffer.alloc(16, 1);
    const message = Buffer.from('6bc1bee22e409f96e93d7e117393172a', 'hex');
    aesCmac(key, message);
    key.fill(2);
    expect(aesCmac(key, message).equals(aesCmac(Buffer.alloc(16, 2), message))).toBe(true);
  });
});
