/**
 * `File` and `Fcp` of the Interoperable Format (PE_Definitions 3.3.1): how a file-system PE creates
 * and fills one file. Coding of the FCP values follows ETSI TS 102 222 / TS 102 221 §11.1.1.
 */
import type { Tlv } from '@rsp/tlv';
import { SaipError } from './errors';
import { SequenceReader, checkNull, cons, copy, decodeUnsigned, encodeUnsigned, parseTlvs, prim } from './der';

/*
 * Fcp ::= SEQUENCE {          -- explicit tags, so no automatic tagging here
 *   fileDescriptor [2] OCTET STRING (SIZE(2..4)) OPTIONAL,            -- 82
 *   fileID [3] OCTET STRING (SIZE(2)) OPTIONAL,                      -- 83
 *   dfName [4] ApplicationIdentifier OPTIONAL,                       -- 84
 *   lcsi [10] OCTET STRING (SIZE (1)) DEFAULT '05'H,                 -- 8A
 *   securityAttributesReferenced [11] OCTET STRING (SIZE (1..3)) OPTIONAL, -- 8B
 *   efFileSize [0] OCTET STRING OPTIONAL,                            -- 80
 *   pinStatusTemplateDO [PRIVATE 6] OCTET STRING OPTIONAL,           -- C6
 *   shortEFID [8] OCTET STRING (SIZE (0..1)) OPTIONAL,               -- 88
 *   proprietaryEFInfo [5] ProprietaryInfo OPTIONAL,                  -- A5 (kept raw)
 *   linkPath [PRIVATE 7] OCTET STRING (SIZE (0..8)) OPTIONAL         -- C7
 * }
 */
export interface Fcp {
  fileDescriptor?: Buffer;
  fileId?: Buffer;
  dfName?: Buffer;
  /** Absent means the DEFAULT '05' (operational, activated). */
  lcsi?: Buffer;
  securityAttributesReferenced?: Buffer;
  efFileSize?: Buffer;
  pinStatusTemplateDO?: Buffer;
  shortEfid?: Buffer;
  /** ProprietaryInfo contents (C0 special file info, C1 fill / C2 repeat pattern, …), kept raw. */
  proprietaryEfInfo?: Buffer;
  linkPath?: Buffer;
  extensions?: Buffer[];
}

const FCP_FIELDS: readonly [keyof Omit<Fcp, 'extensions'>, number][] = [
  ['fileDescriptor', 0x82],
  ['fileId', 0x83],
  ['dfName', 0x84],
  ['lcsi', 0x8a],
  ['securityAttributesReferenced', 0x8b],
  ['efFileSize', 0x80],
  ['pinStatusTemplateDO', 0xc6],
  ['shortEfid', 0x88],
  ['proprietaryEfInfo', 0xa5],
  ['linkPath', 0xc7],
];

export function encodeFcp(fcp: Fcp, tag: number): Buffer {
  return cons(tag, [
    ...FCP_FIELDS.map(([key, t]) => {
      const v = fcp[key];
      // DER omits a component equal to its DEFAULT (X.690 §11.5).
      if (v === undefined || (key === 'lcsi' && v.length === 1 && v[0] === 0x05)) return undefined;
      return prim(t, v);
    }),
    ...(fcp.extensions ?? []),
  ]);
}

export function decodeFcp(tlv: Tlv, what: string): Fcp {
  const r = SequenceReader.of(tlv, what);
  const fcp: Fcp = {};
  for (const [key, t] of FCP_FIELDS) {
    const found = r.take(t);
    if (found) fcp[key] = copy(found.value);
  }
  const extensions = r.rest();
  if (extensions) fcp.extensions = extensions;
  return fcp;
}

/*
 * File ::= SEQUENCE OF CHOICE {
 *   doNotCreate NULL,            -- [0] 80
 *   fileDescriptor Fcp,          -- [1] A1
 *   fillFileOffset UInt16,       -- [2] 82
 *   fillFileContent OCTET STRING -- [3] 83
 * }
 */
export type FileElement =
  | { type: 'doNotCreate' }
  | { type: 'fcp'; fcp: Fcp }
  | { type: 'fillFileOffset'; offset: number }
  | { type: 'fillFileContent'; content: Buffer };

export function encodeFileElements(elements: readonly FileElement[], tag: number): Buffer {
  return cons(
    tag,
    elements.map((e) => {
      switch (e.type) {
        case 'doNotCreate':
          return prim(0x80, Buffer.alloc(0));
        case 'fcp':
          return encodeFcp(e.fcp, 0xa1);
        case 'fillFileOffset':
          if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset > 0xffff) {
            throw new SaipError.BadValue(`fillFileOffset ${e.offset} is not a UInt16`);
          }
          return prim(0x82, encodeUnsigned(e.offset));
        case 'fillFileContent':
          return prim(0x83, e.content);
      }
    }),
  );
}

export function decodeFileElements(tlv: Tlv, what: string): FileElement[] {
  if (!tlv.constructed) throw new SaipError.Malformed(`${what}: File must be constructed`);
  return parseTlvs(tlv.value, what).map((t): FileElement => {
    switch (t.tag) {
      case 0x80:
        checkNull(t, `${what}.doNotCreate`);
        return { type: 'doNotCreate' };
      case 0xa1:
        return { type: 'fcp', fcp: decodeFcp(t, `${what}.fileDescriptor`) };
      case 0x82:
        return { type: 'fillFileOffset', offset: decodeUnsigned(t.value, 0xffff, `${what}.fillFileOffset`) };
      case 0x83:
        return { type: 'fillFileContent', content: copy(t.value) };
      default:
        throw new SaipError.Malformed(`${what}: unexpected File element tag ${t.tag.toString(16).toUpperCase()}`);
    }
  });
}

/**
 * The bytes a File's fill elements write, from offset 0: `fillFileOffset` skips bytes relative to the
 * current position (left as `FF`, the erased state), `fillFileContent` writes at it. Undefined when the
 * File carries no content (the template's default content applies).
 */
export function fileContent(elements: readonly FileElement[]): Buffer | undefined {
  const chunks: { at: number; content: Buffer }[] = [];
  let position = 0;
  for (const e of elements) {
    if (e.type === 'fillFileOffset') position += e.offset;
    if (e.type === 'fillFileContent') {
      chunks.push({ at: position, content: e.content });
      position += e.content.length;
    }
  }
  if (chunks.length === 0) return undefined;
  const out = Buffer.alloc(position, 0xff);
  for (const c of chunks) c.content.copy(out, c.at);
  return out;
}

/** Replaces a File's fill elements by one `fillFileContent`, keeping its FCP / doNotCreate elements. */
export function withFileContent(elements: readonly FileElement[], content: Buffer): FileElement[] {
  const kept = elements.filter((e) => e.type === 'fcp');
  return [...kept, { type: 'fillFileContent', content: Buffer.from(content) }];
}
