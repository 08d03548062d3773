import { describe, expect, it } from '@jest/globals';
import { PersistenceError, SecretBox } from '@rsp/persistence';

const key1 = Buffer.alloc(32, 1);
const key2 = Buffer.alloc(32, 2);

describe('SecretBox (AES-256-GCM)', () => {
  const box = new SecretBox({ currentKeyId: 'k1', keys: { k1: key1 } });

  it('round-trips bytes and strings, with a fresh IV each time', () => {
    const secret = Buffer.from('404142434445464748494a4b4c4d4e4f', 'hex');
    const a = box.seal(secret);
    const b = box.seal(secret);
    expect(a).not.toBe(b);
    expect(a.startsWith('sb1.k1.')).toBe(true);
    expect(box.open(a)).toEqual(secret);
    expect(box.openString(box.seal('PIN 1234', 'row-7'), 'row-7')).toBe('PIN 1234');
  });

  it('refuses a tampered ciphertext, tag or IV', () => {
    const sealed = box.seal('top secret');
    const parts = sealed.split('.');
    for (const index of [2, 3, 4]) {
      const bytes = Buffer.from(parts[index]!, 'base64url');
      bytes[0]! ^= 0x01;
      const tampered = [...parts];
      tampered[index] = bytes.toString('base64url');
      expect(() => box.open(tampered.join('.'))).toThrow(PersistenceError.SecretOpen);
    }
    expect(() => box.open('garbage')).toThrow(PersistenceError.SecretOpen);
  });

  it('refuses a wrong key, a wrong key id and different associated data', () => {
    const sealed = box.seal('top secret', 'row-1');
    const other = new SecretBox({ currentKeyId: 'k1', keys: { k1: key2 } });
    expect(() => other.open(sealed, 'row-1')).toThrow(PersistenceError.SecretOpen);
    expect(() => box.open(sealed, 'row-2')).toThrow(PersistenceError.SecretOpen);
    expect(() => box.open(sealed.replace('sb1.k1.', 'sb1.k9.'), 'row-1')).toThrow(PersistenceError.SecretOpen);
  });

  it('rotates: a new current key seals, the old key id still opens old values', () => {
    const old = box.seal('v');
    const rotated = SecretBox.fromConfig(`k2:${key2.toString('base64')},k1:${key1.toString('base64')}`);
    expect(rotated.currentKeyId).toBe('k2');
    expect(rotated.openString(old)).toBe('v');
    expect(rotated.seal('w').startsWith('sb1.k2.')).toBe(true);
  });

  it('rejects bad key configuration with typed errors that never echo key material', () => {
    expect(() => SecretBox.fromConfig(undefined)).toThrow(/RSP_SECRET_BOX_KEYS is not set/);
    const short = Buffer.alloc(16, 7).toString('base64');
    try {
      SecretBox.fromConfig(`k1:${short}`);
      throw new Error('accepted a 128-bit key');
    } catch (error) {
      expect(error).toBeInstanceOf(PersistenceError.SecretKey);
      expect((error as Error).message).not.toContain(short);
    }
    expect(() => new SecretBox({ currentKeyId: 'nope', keys: { k1: key1 } })).toThrow(PersistenceError.SecretKey);
  });
});
