/**
 * BER-TLV as used by GlobalPlatform and ETSI TS 102 221 / 102 226 (ISO/IEC 8825-1 §8.1 encoding rules,
 * definite lengths only):
 *  - tag: first byte b5..b1 = 11111 means more tag bytes follow, each with b8 = 1 except the last;
 *    tags are handled as unsigned numbers of their bytes, e.g. 0x7F21, 0x5F37, 0xBF30;
 *  - length: < 0x80 in one byte, else 0x81..0x84 followed by 1..4 length bytes.
 * Decoding keeps the exact received bytes (`raw`) so signatures are verified over what was received.
 */
import { TlvError } from './errors';

/** One decoded TLV. `value` and `raw` are views on the input buffer, not copies. */
export interface Tlv {
  /** Tag as the unsigned number of its bytes (0x7F21 for tag 7F 21). */
  readonly tag: number;
  /** b6 of the first tag byte: the value is itself a sequence of TLVs. */
  readonly constructed: boolean;
  readonly value: Buffer;
  /** The whole TLV (tag ‖ length ‖ value) exactly as received. */
  readonly raw: Buffer;
}

const MAX_TAG_BYTES = 4;
const MAX_LENGTH_BYTES = 4;

/** Encodes a tag number to its BER bytes; the number must already be a well-formed BER tag. */
export function encodeTag(tag: number): Buffer {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffffff) throw new TlvError.BadTag(`invalid tag ${tag}`);
  const bytes: number[] = [];
  let rest = tag;
  do {
    bytes.unshift(rest & 0xff);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  const encoded = Buffer.from(bytes);
  const { tag: reparsed, next } = readTag(encoded, 0);
  if (reparsed !== tag || next !== encoded.length) throw new TlvError.BadTag(`0x${tag.toString(16)} is not a BER tag`);
  return encoded;
}

/** Definite-length BER encoding of `length` (ISO/IEC 8825-1 §8.1.3). */
export function encodeLength(length: number): Buffer {
  const octets = lengthOctets(length);
  const out = Buffer.allocUnsafe(octets);
  writeLength(out, 0, length, octets);
  return out;
}

/** How many octets the definite-length encoding of `length` takes (1 short form, else 1 + 1..4). */
function lengthOctets(length: number): number {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) {
    throw new TlvError.BadLength(`invalid length ${length}`);
  }
  return length < 0x80 ? 1 : length <= 0xff ? 2 : length <= 0xffff ? 3 : length <= 0xffffff ? 4 : 5;
}

/** Writes the `octets`-byte encoding of `length` (from lengthOctets) at `at`; returns the offset after it. */
function writeLength(out: Buffer, at: number, length: number, octets: number): number {
  if (octets === 1) {
    out[at] = length;
  } else {
    out[at] = 0x80 | (octets - 1);
    for (let i = octets - 1, rest = length; i >= 1; i -= 1, rest = Math.floor(rest / 256)) out[at + i] = rest & 0xff;
  }
  return at + octets;
}

/**
 * Encodes one TLV; several value parts are concatenated (handy for constructed TLVs). Written into one
 * buffer: TLV encoding runs for every APDU and script on both ends, and the version that concatenated a
 * tag, a length and the value buffers was among the largest allocators of a provisioning (bench heap
 * sampling). Tags are validated once and their encodings kept (a few dozen distinct tags in practice).
 */
export function encodeTlv(tag: number, ...values: Uint8Array[]): Buffer {
  const tagBytes = validatedTag(tag);
  let length = 0;
  for (const value of values) length += value.length;
  const octets = lengthOctets(length);
  const out = Buffer.allocUnsafe(tagBytes.length + octets + length);
  out.set(tagBytes, 0);
  let at = writeLength(out, tagBytes.length, length, octets);
  for (const value of values) {
    out.set(value, at);
    at += value.length;
  }
  return out;
}

const tagEncodings = new Map<number, Buffer>();
const MAX_CACHED_TAGS = 1024;

function validatedTag(tag: number): Buffer {
  const known = tagEncodings.get(tag);
  if (known) return known;
  const encoded = encodeTag(tag);
  if (tagEncodings.size < MAX_CACHED_TAGS) tagEncodings.set(tag, encoded);
  return encoded;
}

/** Decodes the TLV starting at `offset`; `next` is the offset just after it. */
export function decodeTlv(input: Uint8Array, offset = 0): { tlv: Tlv; next: number } {
  const buf = asBuffer(input);
  const { tag, next: afterTag } = readTag(buf, offset);
  const { length, next: valueStart } = readLength(buf, afterTag);
  const end = valueStart + length;
  if (end > buf.length) {
    throw new TlvError.Truncated(`TLV ${tag.toString(16)} announces ${length} bytes, ${buf.length - valueStart} left`);
  }
  const firstTagByte = buf[offset] as number;
  return {
    tlv: {
      tag,
      constructed: (firstTagByte & 0x20) !== 0,
      value: buf.subarray(valueStart, end),
      raw: buf.subarray(offset, end),
    },
    next: end,
  };
}

/**
 * Where the TLV starting at `offset` ends, from its tag and length alone, whether or not its value has
 * arrived yet; undefined while the tag or the length itself is cut short. For a receiver that collects
 * a TLV stream piece by piece: it decodes a TLV only once its bytes are all there, without the cost of a
 * `Truncated` error per piece. A bad tag or length still throws, as in {@link decodeTlv}.
 */
export function tlvEnd(input: Uint8Array, offset = 0): number | undefined {
  const buf = asBuffer(input);
  try {
    const { next: afterTag } = readTag(buf, offset);
    const { length, next: valueStart } = readLength(buf, afterTag);
    return valueStart + length;
  } catch (error) {
    if (error instanceof TlvError.Truncated) return undefined;
    throw error;
  }
}

/** Decodes every TLV at one level; the input must be consumed exactly. */
export function decodeTlvs(input: Uint8Array): Tlv[] {
  const buf = asBuffer(input);
  const list: Tlv[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const { tlv, next } = decodeTlv(buf, offset);
    list.push(tlv);
    offset = next;
  }
  return list;
}

/** Decodes exactly one TLV that spans the whole input. */
export function decodeSingleTlv(input: Uint8Array): Tlv {
  const { tlv, next } = decodeTlv(input, 0);
  if (next !== input.length) throw new TlvError.TrailingData(`${input.length - next} bytes after the TLV`);
  return tlv;
}

/** The TLVs inside a constructed TLV's value. */
export function children(tlv: Tlv): Tlv[] {
  return decodeTlvs(tlv.value);
}

export function findTlv(list: readonly Tlv[], tag: number): Tlv | undefined {
  return list.find((t) => t.tag === tag);
}

/** Like findTlv, but a missing tag is a TlvError.Missing naming the tag and the context. */
export function requireTlv(list: readonly Tlv[], tag: number, context = 'TLV list'): Tlv {
  const found = findTlv(list, tag);
  if (!found) throw new TlvError.Missing(`mandatory tag ${tag.toString(16).toUpperCase()} missing in ${context}`);
  return found;
}

function readTag(buf: Buffer, offset: number): { tag: number; next: number } {
  if (offset >= buf.length) throw new TlvError.Truncated('input ends before a tag');
  const first = buf[offset] as number;
  // 00 is never a tag (ISO/IEC 7816-4 §5.2.2.2 filler). FF may be a filler too, but GP uses it as the
  // first byte of real tags (FF21 extended card resources, GP CS §H.4), so it is read as a tag.
  if (first === 0x00) throw new TlvError.BadTag('tag byte 00 is padding, not a tag');
  let tag = first;
  let pos = offset + 1;
  if ((first & 0x1f) === 0x1f) {
    // Subsequent tag bytes: b8 = 1 means another follows (ISO/IEC 8825-1 §8.1.2.4.2).
    for (;;) {
      if (pos >= buf.length) throw new TlvError.Truncated('input ends inside a multi-byte tag');
      if (pos - offset >= MAX_TAG_BYTES) throw new TlvError.BadTag('tag longer than 4 bytes');
      const b = buf[pos] as number;
      tag = tag * 256 + b;
      pos += 1;
      if ((b & 0x80) === 0) break;
    }
  }
  return { tag, next: pos };
}

function readLength(buf: Buffer, offset: number): { length: number; next: number } {
  if (offset >= buf.length) throw new TlvError.Truncated('input ends before a length');
  const first = buf[offset] as number;
  if (first < 0x80) return { length: first, next: offset + 1 };
  const count = first & 0x7f;
  if (count === 0) throw new TlvError.BadLength('indefinite length is not allowed');
  if (count > MAX_LENGTH_BYTES) throw new TlvError.BadLength(`length of ${count} bytes is too long`);
  if (offset + 1 + count > buf.length) throw new TlvError.Truncated('input ends inside a length');
  let length = 0;
  for (let i = 0; i < count; i += 1) length = length * 256 + (buf[offset + 1 + i] as number);
  // Non-minimal forms (81 05) are accepted: ISO/IEC 7816-4 §5.2.2.2 allows them, and `raw` keeps the
  // received bytes, so signatures still cover exactly what was sent.
  return { length, next: offset + 1 + count };
}

function asBuffer(input: Uint8Array): Buffer {
  return Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}
