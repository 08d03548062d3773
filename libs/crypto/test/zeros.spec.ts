/**
 * zeros() (zeros.ts): the bytes Buffer.alloc gives, from Node's pool. A pool slice may hold an earlier
 * buffer's bytes, so the fill is what makes it safe: checked with the pool's next slices dirtied first.
 */
import { expect, it } from '@jest/globals';
import { zeros } from '../src/zeros';

it('is zero-filled whatever the pool held before, at every length the crypto code asks for', () => {
  for (const length of [0, 3, 4, 16, 17, 48, 64, 65, 4096, 5000]) {
    Buffer.allocUnsafe(8192).fill(0xff); // leaves dirtied pool memory behind for the next slices
    for (let i = 0; i < 40; i += 1) Buffer.allocUnsafe(16).fill(0xa5);
    const buffer = zeros(length);
    expect(Buffer.isBuffer(buffer)).toBe(true);
    expect(buffer.length).toBe(length);
    expect(buffer.equals(Buffer.alloc(length))).toBe(true);
  }
});

it('a small one lives off V8\'s heap (a slice of the pool), so slicing it makes no copy of its own', () => {
  const buffer = zeros(16);
  // Buffer.alloc(16) is a typed array on V8's heap with a 16-byte ArrayBuffer of its own once `.buffer` is read.
  expect(buffer.buffer.byteLength).toBeGreaterThan(16);
  expect(Buffer.alloc(16).buffer.byteLength).toBe(16);
});
