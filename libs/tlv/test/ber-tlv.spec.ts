import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  decodeSingleTlv,
  decodeTlv,
  decodeTlvs,
  encodeLength,
  encodeTag,
  encodeTlv,
  fromHex,
  hex,
  isRspErrorOf,
  requireTlv,
  children,
  tlvEnd,
} from './support';

interface ValidCase {
  name: string;
  hex: string;
  tag: string;
  constructed: boolean;
  value?: string;
  valueLength?: number;
}
interface InvalidCase {
  name: string;
  hex: string;
  code: string;
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/ber-tlv.json', import.meta.url), 'utf8')) as {
  valid: ValidCase[];
  invalid: InvalidCase[];
};

/** Arbitrary valid BER tags: 1-byte (not x1F form), 2- and 3-byte long-form tags. */
const berTag = fc.oneof(
  fc.integer({ min: 0x01, max: 0xfe }).filter((b) => (b & 0x1f) !== 0x1f),
  fc
    .tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0x00, max: 0x7f }))
    .map(([cls, b2]) => ((cls << 5) | 0x1f) * 256 + b2)
    .filter((t) => t >> 8 !== 0xff),
  fc
    .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0x80, max: 0xff }), fc.integer({ min: 0, max: 0x7f }))
    .map(([cls, b2, b3]) => (((cls << 5) | 0x1f) * 256 + b2) * 256 + b3),
);

describe('BER-TLV vectors', () => {
  it.each(vectors.valid)('decodes: $name', (v) => {
    const body = v.valueLength !== undefined ? Buffer.alloc(v.valueLength, 0xab) : Buffer.alloc(0);
    const input = Buffer.concat([fromHex(v.hex), body]);
    const tlv = decodeSingleTlv(input);
    expect(hex(encodeTag(tlv.tag))).toBe(v.tag);
    expect(tlv.constructed).toBe(v.constructed);
    if (v.value !== undefined) expect(hex(tlv.value)).toBe(v.value);
    if (v.valueLength !== undefined) expect(tlv.value.length).toBe(v.valueLength);
    expect(tlv.raw.equals(input)).toBe(true);
  });

  it.each(vectors.invalid)('refuses: $name', (v) => {
    expect(() => decodeSingleTlv(fromHex(v.hex))).toThrow(expect.objectContaining({ code: v.code }));
  });

  it('encodes lengths in the shortest definite form', () => {
    expect(hex(encodeLength(0x7f))).toBe('7F');
    expect(hex(encodeLength(0x80))).toBe('8180');
    expect(hex(encodeLength(0xff))).toBe('81FF');
    expect(hex(encodeLength(0x100))).toBe('820100');
    expect(hex(encodeLength(0x10000))).toBe('83010000');
  });

  it('refuses a number that is not a BER tag', () => {
    expect(() => encodeTag(0x1f)).toThrow(expect.objectContaining({ code: 'ERR_TLV_TRUNCATED' }));
    expect(() => encodeTag(0x5f80)).toThrow(expect.objectContaining({ code: 'ERR_TLV_TRUNCATED' }));
    expect(() => encodeTag(0x5a01)).toThrow(expect.objectContaining({ code: 'ERR_TLV_BAD_TAG' }));
  });

  it('reports which mandatory tag is missing', () => {
    const list = decodeTlvs(fromHex('5A0100'));
    expect(() => requireTlv(list, 0x4f, 'ISD-P')).toThrow(/4F missing in ISD-P/);
  });

  it('walks nested constructed TLVs and keeps raw views', () => {
    const inner = encodeTlv(0x93, Buffer.of(1));
    const outer = encodeTlv(0x7f21, inner, encodeTlv(0x5f37, Buffer.alloc(64, 7)));
    const [first, second] = children(decodeSingleTlv(outer));
    expect(first?.raw.equals(inner)).toBe(true);
    expect(second?.tag).toBe(0x5f37);
  });
});

describe('BER-TLV properties (fast-check)', () => {
  it('decode(encode(tag, value)) == (tag, value)', () => {
    fc.assert(
      fc.property(berTag, fc.uint8Array({ maxLength: 600 }), (tag, value) => {
        const encoded = encodeTlv(tag, value);
        const { tlv, next } = decodeTlv(encoded);
        return tlv.tag === tag && Buffer.from(value).equals(tlv.value) && next === encoded.length;
      }),
    );
  });

  it('a sequence of TLVs round-trips', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(berTag, fc.uint8Array({ maxLength: 300 })), { maxLength: 8 }), (items) => {
        const encoded = Buffer.concat(items.map(([t, v]) => encodeTlv(t, v)));
        const decoded = decodeTlvs(encoded);
        return decoded.length === items.length && decoded.every((d, i) => d.tag === items[i]?.[0]);
      }),
    );
  });

  it('tlvEnd: every prefix of an encoded TLV gives its end once the tag and length are in, and never throws for a short prefix', () => {
    fc.assert(
      fc.property(berTag, fc.uint8Array({ maxLength: 300 }), (tag, value) => {
        const encoded = encodeTlv(tag, value);
        const headerLength = encoded.length - value.length;
        for (let cut = 0; cut <= encoded.length; cut += 1) {
          const end = tlvEnd(encoded.subarray(0, cut));
          if (end !== (cut < headerLength ? undefined : encoded.length)) return false;
        }
        return tlvEnd(Buffer.concat([Buffer.of(0x01, 0x00), encoded]), 2) === encoded.length + 2; // from an offset
      }),
    );
    expect(() => tlvEnd(Buffer.of(0x00, 0x01))).toThrow(/padding/); // a bad tag is still an error
  });

  it('arbitrary bytes never throw anything but a TlvError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeTlvs(bytes);
        } catch (e) {
          return isRspErrorOf(e, 'ERR_TLV_');
        }
        return true;
      }),
      { numRuns: 5000 },
    );
  });
});

describe('encodeTlv writes tag, length and value parts into one buffer', () => {
  it('equals tag ‖ length ‖ concatenated parts at every length boundary, for one- to three-byte tags', () => {
    for (const tag of [0x80, 0x9f70, 0xbf3a, 0x7f21, 0x5f37]) {
      for (const length of [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x101, 0xffff, 0x10000, 0x10001]) {
        const value = Buffer.alloc(length, 0xa5);
        const parts = length > 2 ? [value.subarray(0, 1), value.subarray(1, length - 1), value.subarray(length - 1)] : [value];
        const expected = Buffer.concat([encodeTag(tag), encodeLength(length), value]);
        expect(encodeTlv(tag, value).equals(expected)).toBe(true);
        expect(encodeTlv(tag, ...parts).equals(expected)).toBe(true);
      }
    }
  });

  it('hands out fresh buffers (a caller changing one changes no later encoding) and still refuses bad tags', () => {
    const first = encodeTlv(0x80, Buffer.of(1));
    first.fill(0);
    expect(encodeTlv(0x80, Buffer.of(1)).toString('hex')).toBe('800101');
    expect(() => encodeTlv(0x1f, Buffer.of(1))).toThrow();
    expect(() => encodeTlv(-1)).toThrow();
  });
});
