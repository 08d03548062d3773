import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  SW,
  decodeCommandApdu,
  decodeDgis,
  decodeResponseApdu,
  encodeCommandApdu,
  encodeDgi,
  encodeResponseApdu,
  formatSw,
  fromHex,
  hex,
  isSuccessSw,
  type CommandApdu,
} from '@rsp/tlv';
import { isRspErrorOf } from './support';

const header = { cla: 0x80, ins: 0xe2, p1: 0x88, p2: 0x00 };

describe('C-APDU codec (ISO/IEC 7816-4 §5.1)', () => {
  it.each([
    ['case 1', { ...header, data: Buffer.alloc(0) }, '80E28800'],
    ['case 2S', { ...header, data: Buffer.alloc(0), le: 256 }, '80E2880000'],
    ['case 3S', { ...header, data: fromHex('3A03054F03A00000') }, '80E28800083A03054F03A00000'],
    ['case 4S', { ...header, data: fromHex('5C027F21'), le: 256 }, '80E28800045C027F2100'],
    ['case 2E', { ...header, data: Buffer.alloc(0), le: 1000 }, '80E288000003E8'],
  ] as [string, CommandApdu, string][])('%s encodes and decodes', (_name, apdu, expected) => {
    expect(hex(encodeCommandApdu(apdu))).toBe(expected);
    expect(decodeCommandApdu(fromHex(expected))).toEqual(apdu);
  });

  it('uses extended length for data over 255 bytes (case 3E/4E)', () => {
    const apdu = { ...header, data: Buffer.alloc(300, 1), le: 65536 };
    const encoded = encodeCommandApdu(apdu);
    expect(hex(encoded.subarray(4, 7))).toBe('00012C');
    expect(hex(encoded.subarray(-2))).toBe('0000');
    expect(decodeCommandApdu(encoded)).toEqual(apdu);
  });

  it.each([
    ['shorter than a header', '80E288'],
    ['Lc larger than the body', '80E288000501'],
    ['extended Lc of zero', '80E28800000000AA'],
  ])('refuses %s', (_name, bytes) => {
    expect(() => decodeCommandApdu(fromHex(bytes))).toThrow(expect.objectContaining({ code: 'ERR_TLV_BAD_APDU' }));
  });

  it('refuses fields that are not bytes', () => {
    expect(() => encodeCommandApdu({ ...header, p1: 0x100, data: Buffer.alloc(0) })).toThrow(/P1/);
  });

  it('round-trips any well-formed APDU (fast-check)', () => {
    const apdu = fc.record({
      cla: fc.integer({ min: 0, max: 255 }),
      ins: fc.integer({ min: 0, max: 255 }),
      p1: fc.integer({ min: 0, max: 255 }),
      p2: fc.integer({ min: 0, max: 255 }),
      data: fc.uint8Array({ maxLength: 700 }).map((a) => Buffer.from(a)),
      le: fc.option(fc.integer({ min: 1, max: 65536 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(apdu, (a) => {
        const { le, ...rest } = a;
        const input: CommandApdu = le === undefined ? rest : { ...rest, le };
        const decoded = decodeCommandApdu(encodeCommandApdu(input));
        // A short-form Ne of 256 and an extended one of 65536 are both "maximum": compare through encoding.
        return encodeCommandApdu(decoded).equals(encodeCommandApdu(input)) && decoded.data.equals(input.data);
      }),
    );
  });

  it('never throws anything but a TlvError on arbitrary bytes (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          decodeCommandApdu(bytes);
          decodeDgis(bytes);
          decodeResponseApdu(bytes);
        } catch (e) {
          return isRspErrorOf(e, 'ERR_TLV_');
        }
        return true;
      }),
      { numRuns: 5000 },
    );
  });
});

describe('R-APDU and status words', () => {
  it('splits data and SW', () => {
    expect(decodeResponseApdu(fromHex('85019A9000'))).toEqual({ data: fromHex('85019A'), sw: SW.OK });
    expect(hex(encodeResponseApdu({ data: Buffer.alloc(0), sw: SW.POLICY_RULE_VIOLATION }))).toBe('69E1');
    expect(formatSw(SW.REFERENCED_DATA_NOT_FOUND)).toBe('6A88');
  });

  it('treats 9000, 61xx and 9Fxx as success and 6Axx as failure', () => {
    expect([0x9000, 0x6110, 0x9f20].every(isSuccessSw)).toBe(true);
    expect([0x6a80, 0x6982, 0x69e1].some(isSuccessSw)).toBe(false);
  });

  it('refuses an R-APDU without a status word', () => {
    expect(() => decodeResponseApdu(fromHex('90'))).toThrow(expect.objectContaining({ code: 'ERR_TLV_BAD_APDU' }));
  });
});

describe('DGI format (GP CS §11.11.2.2)', () => {
  it('uses one length byte up to 254 and FF xx xx above', () => {
    expect(hex(encodeDgi(0x8010, Buffer.alloc(254)).subarray(0, 3))).toBe('8010FE');
    expect(hex(encodeDgi(0x8010, Buffer.alloc(255)).subarray(0, 5))).toBe('8010FF00FF');
  });

  it('round-trips several DGIs and refuses truncation', () => {
    const encoded = Buffer.concat([encodeDgi(0x0070, fromHex('0102')), encodeDgi(0x8010, Buffer.alloc(300, 9))]);
    const [a, b] = decodeDgis(encoded);
    expect(a?.dgi).toBe(0x0070);
    expect(b?.value.length).toBe(300);
    expect(() => decodeDgis(encoded.subarray(0, encoded.length - 1))).toThrow(
      expect.objectContaining({ code: 'ERR_TLV_TRUNCATED' }),
    );
  });
});

describe('hex helpers', () => {
  it('refuses odd or non-hex input instead of truncating silently', () => {
    expect(() => fromHex('ABC')).toThrow(expect.objectContaining({ code: 'ERR_TLV_BAD_HEX' }));
    expect(() => fromHex('ZZ')).toThrow(expect.objectContaining({ code: 'ERR_TLV_BAD_HEX' }));
    expect(hex(fromHex('80 e2 88 00'))).toBe('80E28800');
  });
});
