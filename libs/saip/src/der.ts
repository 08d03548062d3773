/**
 * DER building blocks for the SAIP module (ITU-T X.690 §8 / §10) on top of `@rsp/tlv`.
 *
 * The PE_Definitions module uses AUTOMATIC TAGS (X.680 §25.3): a SEQUENCE / CHOICE whose components carry
 * no tag of their own gets context tags [0], [1], … by position, implicit, so a primitive component n is
 * `80 + n` and a constructed one `A0 + n` (n ≤ 30; [31] and up use the two-byte form `BF 1F`, …).
 * A CHOICE component is tagged explicitly (X.680 §31.2.7), so it wraps the chosen alternative's own TLV.
 * A SEQUENCE where any component has an explicit tag (Fcp, KeyObject, ApplicationInstance) is not
 * automatically tagged: the written tags apply and untagged components keep their universal tag.
 */
import { isRspError } from '@rsp/errors';
import { decodeSingleTlv, decodeTlvs, encodeTlv, type Tlv } from '@rsp/tlv';
import { SaipError } from './errors';

/** Context-specific tag number n as the project's numeric BER tag (constructed or primitive). */
export function contextTag(n: number, constructed: boolean): number {
  const first = constructed ? 0xa0 : 0x80;
  if (n <= 30) return first + n;
  if (n < 128) return ((first | 0x1f) << 8) | n;
  throw new SaipError.Malformed(`context tag [${n}] is out of range`);
}

/** Universal tags used inside the module. */
export const UNIVERSAL = { NULL: 0x05, OCTET_STRING: 0x04, OID: 0x06, SEQUENCE: 0x30 } as const;

/** Decodes a list of TLVs, turning TlvError into SaipError.Malformed (status 5). */
export function parseTlvs(value: Uint8Array, what: string): Tlv[] {
  try {
    return decodeTlvs(value);
  } catch (e) {
    throw wrapTlvError(e, what);
  }
}

/** Decodes exactly one TLV spanning `value`, turning TlvError into SaipError.Malformed. */
export function parseSingleTlv(value: Uint8Array, what: string): Tlv {
  try {
    return decodeSingleTlv(value);
  } catch (e) {
    throw wrapTlvError(e, what);
  }
}

function wrapTlvError(e: unknown, what: string): unknown {
  if (isRspError(e) && e.code.startsWith('ERR_TLV_')) {
    return new SaipError.Malformed(`${what}: ${(e as Error).message}`, { cause: e });
  }
  return e;
}

/** Non-negative INTEGER, minimal two's-complement octets (X.690 §8.3). */
export function encodeUnsigned(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new SaipError.BadValue(`${value} is not a non-negative integer`);
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.unshift(rest % 256);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  if (((bytes[0] as number) & 0x80) !== 0) bytes.unshift(0);
  return Buffer.from(bytes);
}

/** INTEGER (0..max) — a negative or too large value is SaipError.BadValue, an empty one Malformed. */
export function decodeUnsigned(value: Buffer, max: number, what: string): number {
  if (value.length === 0 || value.length > 7) throw new SaipError.Malformed(`${what}: INTEGER of ${value.length} bytes`);
  if (((value[0] as number) & 0x80) !== 0) throw new SaipError.BadValue(`${what}: negative INTEGER`);
  let n = 0;
  for (const b of value) n = n * 256 + b;
  if (n > max) throw new SaipError.BadValue(`${what}: ${n} exceeds ${max}`);
  return n;
}

/** NULL must have an empty value (X.690 §8.8). */
export function checkNull(tlv: Tlv, what: string): void {
  if (tlv.value.length !== 0) throw new SaipError.Malformed(`${what}: NULL with ${tlv.value.length} content bytes`);
}

/** OBJECT IDENTIFIER contents (X.690 §8.19) from dotted form, e.g. `2.23.143.1.2.1` → 67 81 0F 01 02 01. */
export function encodeOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => (/^\d+$/.test(a) ? Number(a) : NaN));
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a))) throw new SaipError.BadValue(`bad OID "${dotted}"`);
  const [first, second, ...rest] = arcs as [number, number, ...number[]];
  if (first > 2 || (first < 2 && second > 39)) throw new SaipError.BadValue(`bad OID "${dotted}"`);
  const out: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(v % 128);
      v = Math.floor(v / 128);
    } while (v > 0);
    groups.forEach((g, i) => out.push(i < groups.length - 1 ? g | 0x80 : g));
  }
  return Buffer.from(out);
}

/** OBJECT IDENTIFIER contents to dotted form; refuses a non-minimal or unterminated arc. */
export function decodeOid(value: Buffer, what: string): string {
  if (value.length === 0) throw new SaipError.Malformed(`${what}: empty OID`);
  const arcs: number[] = [];
  let v = 0;
  let startOfArc = true;
  for (const b of value) {
    if (startOfArc && b === 0x80) throw new SaipError.Malformed(`${what}: non-minimal OID arc`);
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) throw new SaipError.Malformed(`${what}: OID arc too large`);
    startOfArc = (b & 0x80) === 0;
    if (startOfArc) {
      arcs.push(v);
      v = 0;
    }
  }
  if (!startOfArc) throw new SaipError.Malformed(`${what}: OID ends inside an arc`);
  const firstArc = arcs[0] as number;
  const head = firstArc < 80 ? [Math.floor(firstArc / 40), firstArc % 40] : [2, firstArc - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/** UTF8String contents; invalid UTF-8 is Malformed. */
export function decodeUtf8(value: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(value);
  } catch (e) {
    throw new SaipError.Malformed(`${what}: invalid UTF-8`, { cause: e });
  }
}

/** Primitive TLV helper. */
export function prim(tag: number, value: Uint8Array): Buffer {
  return encodeTlv(tag, value);
}

/** Constructed TLV from already-encoded children (undefined children are skipped). */
export function cons(tag: number, parts: readonly (Buffer | undefined)[]): Buffer {
  return encodeTlv(tag, Buffer.concat(parts.filter((p): p is Buffer => p !== undefined)));
}

/**
 * Walks the components of a SEQUENCE in order (DER keeps definition order). `take` consumes the next
 * component only when its tag matches, which handles OPTIONAL / DEFAULT components; whatever remains after
 * the known components is an extension (EXTENSIBILITY IMPLIED) and is kept as raw TLVs.
 */
export class SequenceReader {
  private position = 0;
  constructor(
    private readonly items: readonly Tlv[],
    private readonly what: string,
  ) {}

  static of(tlv: Tlv, what: string): SequenceReader {
    if (!tlv.constructed) throw new SaipError.Malformed(`${what}: expected a constructed TLV`);
    return new SequenceReader(parseTlvs(tlv.value, what), what);
  }

  take(tag: number): Tlv | undefined {
    const next = this.items[this.position];
    if (next === undefined || next.tag !== tag) return undefined;
    this.position += 1;
    return next;
  }

  need(tag: number, name: string): Tlv {
    const found = this.take(tag);
    if (found === undefined) {
      throw new SaipError.Malformed(`${this.what}: mandatory ${name} (tag ${tag.toString(16).toUpperCase()}) missing`);
    }
    return found;
  }

  /** Remaining TLVs as raw bytes, or undefined when there are none. */
  rest(): Buffer[] | undefined {
    const left = this.items.slice(this.position).map((t) => Buffer.from(t.raw));
    this.position = this.items.length;
    return left.length > 0 ? left : undefined;
  }

  /** Refuses leftovers, for structures that are closed (no extension marker inherited). */
  end(): void {
    const next = this.items[this.position];
    if (next !== undefined) {
      throw new SaipError.Malformed(`${this.what}: unexpected tag ${next.tag.toString(16).toUpperCase()}`);
    }
  }
}

/** Fixed-size OCTET STRING check (SIZE (n)) — a wrong size is BadValue (status 3). */
export function checkSize(value: Buffer, sizes: readonly number[], what: string): Buffer {
  if (!sizes.includes(value.length)) {
    throw new SaipError.BadValue(`${what} must be ${sizes.join(' or ')} bytes, got ${value.length}`);
  }
  return value;
}

/** A private copy of the bytes, so decoded objects never alias the caller's input buffer. */
export function copy(value: Uint8Array): Buffer {
  return Buffer.from(value);
}
