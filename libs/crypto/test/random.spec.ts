import { describe, expect, it } from '@jest/globals';
import { randomBytesPooled } from '../src/random';

describe('randomBytesPooled (host and card challenges)', () => {
  it('returns fresh, distinct values of the asked length, across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i += 1) {
      const value = randomBytesPooled(8); // 16 000 bytes: the 4 KB pool is refilled several times
      expect(value).toHaveLength(8);
      seen.add(value.toString('hex'));
    }
    expect(seen.size).toBe(2000);
  });

  it('hands out copies: changing one value changes no other', () => {
    const a = randomBytesPooled(16);
    const b = randomBytesPooled(16);
    const before = b.toString('hex');
    a.fill(0);
    expect(b.toString('hex')).toBe(before);
    expect(a.buffer === b.buffer && a.byteOffset + 16 > b.byteOffset && b.byteOffset + 16 > a.byteOffset).toBe(false);
  });

  it('serves long requests straight from the CSPRNG', () => {
    expect(randomBytesPooled(1000)).toHaveLength(1000);
    expect(randomBytesPooled(0)).toHaveLength(0);
  });
});
