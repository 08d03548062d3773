import { describe, expect, it } from '@jest/globals';
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
});
