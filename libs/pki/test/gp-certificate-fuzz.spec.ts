import { describe, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseGpCertificate } from '../src/gp-certificate';

const kat = JSON.parse(readFileSync(new URL('./vectors/gp-certificate.json', import.meta.url), 'utf8')) as {
  vectors: { certificate: string }[];
};
const valid = Buffer.from((kat.vectors[0] as { certificate: string }).certificate, 'hex');

/** Parsing untrusted bytes may only fail with a PkiError (or TlvError), never TypeError/RangeError. */
function failsOnlyTyped(bytes: Uint8Array): boolean {
  try {
    parseGpCertificate(bytes);
    return true;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && (code.startsWith('ERR_PKI_') || code.startsWith('ERR_TLV_'));
  }
}

describe('parseGpCertificate on hostile input', () => {
  it('arbitrary bytes throw only typed errors', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), failsOnlyTyped), { numRuns: 2000 });
  });

  it('arbitrary bytes behind a 7F21 header throw only typed errors', () => {
    const framed = fc.uint8Array({ maxLength: 250 }).map((body) => Buffer.concat([Buffer.of(0x7f, 0x21, 0x81, body.length), body]));
    fc.assert(fc.property(framed, failsOnlyTyped), { numRuns: 2000 });
  });

  it('a valid certificate with random byte changes, truncations or insertions throws only typed errors', () => {
    const mutated = fc
      .tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 }), fc.nat(valid.length), fc.boolean())
      .map(([pos, xor, cut, insert]) => {
        const copy = Buffer.from(valid);
        copy[pos] = (copy[pos] as number) ^ xor;
        return insert ? Buffer.concat([copy.subarray(0, cut), Buffer.of(xor), copy.subarray(cut)]) : copy.subarray(0, cut);
      });
    fc.assert(fc.property(mutated, failsOnlyTyped), { numRuns: 3000 });
  });
});
