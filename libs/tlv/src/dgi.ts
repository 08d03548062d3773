/**
 * Data Grouping Identifier (DGI) format, GlobalPlatform Card Spec v2.3 §11.11.2.2 (STORE DATA):
 * a 2-byte DGI, then a length of 1 byte (0..254) or FF followed by 2 bytes (255..65535).
 * Note the difference from BER-TLV lengths (81/82 prefixes); SGP.02 STORE DATA P1 b5-b4 = 01 selects DGI.
 */
import { TlvError } from './errors';

export interface Dgi {
  readonly dgi: number;
  readonly value: Buffer;
  readonly raw: Buffer;
}

export function encodeDgi(dgi: number, value: Uint8Array): Buffer {
  if (!Number.isInteger(dgi) || dgi < 0 || dgi > 0xffff) throw new TlvError.BadTag(`invalid DGI ${dgi}`);
  if (value.length > 0xffff) throw new TlvError.BadLength(`DGI value of ${value.length} bytes exceeds 65535`);
  const length = value.length < 0xff ? Buffer.of(value.length) : Buffer.of(0xff, value.length >> 8, value.length & 0xff);
  return Buffer.concat([Buffer.of(dgi >> 8, dgi & 0xff), length, value]);
}

/** Decodes the DGI starting at `offset`; `next` is the offset just after it (DGIs may be followed by BER-TLVs). */
export function decodeDgi(input: Uint8Array, offset = 0): Dgi & { next: number } {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (offset + 3 > buf.length) throw new TlvError.Truncated('input ends inside a DGI header');
  const dgi = buf.readUInt16BE(offset);
  let length = buf[offset + 2] as number;
  let valueStart = offset + 3;
  if (length === 0xff) {
    if (offset + 5 > buf.length) throw new TlvError.Truncated('input ends inside a DGI length');
    length = buf.readUInt16BE(offset + 3);
    valueStart = offset + 5;
  }
  const end = valueStart + length;
  if (end > buf.length) throw new TlvError.Truncated(`DGI ${dgi.toString(16)} announces ${length} bytes`);
  return { dgi, value: buf.subarray(valueStart, end), raw: buf.subarray(offset, end), next: end };
}

export function decodeDgis(input: Uint8Array): Dgi[] {
  const out: Dgi[] = [];
  for (let offset = 0; offset < input.length; ) {
    const { next, ...dgi } = decodeDgi(input, offset);
    out.push(dgi);
    offset = next;
  }
  return out;
}
