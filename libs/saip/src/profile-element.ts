/**
 * ProfileElement CHOICE (PE_Definitions 3.3.1). The alternatives are AUTOMATIC-tagged by position:
 *
 * | pos | alternative           | tag | pos | alternative | tag  |
 * |-----|-----------------------|-----|-----|-------------|------|
 * | 0   | header                | A0  | 16  | mf          | B0   |
 * | 1   | genericFileManagement | A1  | 17  | cd          | B1   |
 * | 2   | pinCodes              | A2  | 18  | telecom     | B2   |
 * | 3   | pukCodes              | A3  | 19  | usim        | B3   |
 * | 4   | akaParameter          | A4  | 20  | opt-usim    | B4   |
 * | 5   | cdmaParameter         | A5  | 21  | isim        | B5   |
 * | 6   | securityDomain        | A6  | …   | …           | …    |
 * | 7   | rfm                   | A7  | 31  | df-5gprose  | BF1F |
 * | 8   | application           | A8  | 32  | iot         | BF20 |
 * | 9   | nonStandard           | A9  | 33  | opt-iot     | BF21 |
 * | 10  | end                   | AA  |     |             |      |
 *
 * Alternatives this module does not model decode to `{ kind: 'unknown', tag, raw }` and re-encode byte
 * for byte, so a complete real-world package still decodes.
 */
import type { Tlv } from '@rsp/tlv';
import { cons, contextTag, SequenceReader } from './der';
import { SaipError } from './errors';
import { decodePeHeader, decodeProfileHeader, encodePeHeader, encodeProfileHeader, type PeHeader, type ProfileHeader } from './header';
import { decodeAkaParameter, encodeAkaParameter, type AkaParameterElement } from './pe-aka';
import { decodePinCodes, decodePukCodes, encodePinCodes, encodePukCodes, type PinCodesElement, type PukCodesElement } from './pe-codes';
import { decodeFileSystemElement, encodeFileSystemElement, type MfElement, type UsimElement } from './pe-filesystem';
import { decodeSecurityDomain, encodeSecurityDomain, type SecurityDomainElement } from './pe-security-domain';

/** ProfileElement alternatives by position (ASN.1 names). */
export const PE_NAMES = [
  'header', 'genericFileManagement', 'pinCodes', 'pukCodes', 'akaParameter', 'cdmaParameter', 'securityDomain',
  'rfm', 'application', 'nonStandard', 'end', 'rfu1', 'rfu2', 'rfu3', 'rfu4', 'rfu5', 'mf', 'cd', 'telecom', 'usim',
  'opt-usim', 'isim', 'opt-isim', 'phonebook', 'gsm-access', 'csim', 'opt-csim', 'eap', 'df-5gs', 'df-saip',
  'df-snpn', 'df-5gprose', 'iot', 'opt-iot',
] as const;
export type PeName = (typeof PE_NAMES)[number];

/** The ProfileElement tag of alternative `name`, e.g. `peTag('usim')` = 0xB3. */
export function peTag(name: PeName): number {
  return contextTag(PE_NAMES.indexOf(name), true);
}

/** The alternative name for a ProfileElement tag, or undefined for a tag outside the 3.3.1 CHOICE. */
export function peNameOfTag(tag: number): PeName | undefined {
  let position: number;
  if (tag >= 0xa0 && tag <= 0xbe) position = tag - 0xa0;
  else if (tag >= 0xbf1f && tag <= 0xbf7f) position = tag & 0x7f;
  else return undefined;
  return PE_NAMES[position];
}

/* PE-End ::= SEQUENCE { end-header PEHeader } */
export interface EndElement {
  kind: 'end';
  header: PeHeader;
  extensions?: Buffer[];
}

/** A ProfileElement this module does not model, kept exactly as received. */
export interface UnknownElement {
  kind: 'unknown';
  /** Its ProfileElement tag, e.g. 0xB2 (telecom). */
  tag: number;
  /** ASN.1 alternative name when the tag is one of the 3.3.1 CHOICE. */
  name?: PeName;
  /** Its PEHeader when the first component could be read as one (for PEStatus reporting). */
  header?: PeHeader;
  /** The whole ProfileElement TLV. */
  raw: Buffer;
}

export type ProfileElement =
  | ProfileHeader
  | MfElement
  | UsimElement
  | PinCodesElement
  | PukCodesElement
  | AkaParameterElement
  | SecurityDomainElement
  | EndElement
  | UnknownElement;

export type ProfileElementKind = ProfileElement['kind'];

/** DER of one ProfileElement (its CHOICE tag plus contents). */
export function encodeProfileElement(pe: ProfileElement): Buffer {
  switch (pe.kind) {
    case 'header':
      return encodeProfileHeader(pe, peTag('header'));
    case 'mf':
      return encodeFileSystemElement(pe, peTag('mf'));
    case 'usim':
      return encodeFileSystemElement(pe, peTag('usim'));
    case 'pinCodes':
      return encodePinCodes(pe, peTag('pinCodes'));
    case 'pukCodes':
      return encodePukCodes(pe, peTag('pukCodes'));
    case 'akaParameter':
      return encodeAkaParameter(pe, peTag('akaParameter'));
    case 'securityDomain':
      return encodeSecurityDomain(pe, peTag('securityDomain'));
    case 'end':
      return cons(peTag('end'), [encodePeHeader(pe.header), ...(pe.extensions ?? [])]);
    case 'unknown':
      return Buffer.from(pe.raw);
  }
}

/** Decodes one ProfileElement TLV. Unknown alternatives are preserved as {@link UnknownElement}. */
export function decodeProfileElement(tlv: Tlv): ProfileElement {
  const name = peNameOfTag(tlv.tag);
  if (!tlv.constructed) throw new SaipError.Malformed(`ProfileElement tag ${tlv.tag.toString(16).toUpperCase()} is not constructed`);
  switch (name) {
    case 'header':
      return decodeProfileHeader(tlv);
    case 'mf':
      return decodeFileSystemElement(tlv, 'mf');
    case 'usim':
      return decodeFileSystemElement(tlv, 'usim');
    case 'pinCodes':
      return decodePinCodes(tlv);
    case 'pukCodes':
      return decodePukCodes(tlv);
    case 'akaParameter':
      return decodeAkaParameter(tlv);
    case 'securityDomain':
      return decodeSecurityDomain(tlv);
    case 'end': {
      const r = SequenceReader.of(tlv, 'PE-End');
      const end: EndElement = { kind: 'end', header: decodePeHeader(r.need(0xa0, 'end-header'), 'PE-End.end-header') };
      const extensions = r.rest();
      if (extensions) end.extensions = extensions;
      return end;
    }
    default:
      return decodeUnknown(tlv, name);
  }
}

function decodeUnknown(tlv: Tlv, name: PeName | undefined): UnknownElement {
  const unknown: UnknownElement = { kind: 'unknown', tag: tlv.tag, raw: Buffer.from(tlv.raw) };
  if (name !== undefined) unknown.name = name;
  try {
    // Every PE but the header starts with its PEHeader as component [0] (PE-RFM: rfm-header [0]).
    const first = SequenceReader.of(tlv, 'ProfileElement').take(0xa0);
    if (first) unknown.header = decodePeHeader(first);
  } catch {
    // Best effort only: an unreadable header leaves `header` undefined; the raw bytes are still kept.
  }
  return unknown;
}

/** The PEHeader of any element (undefined for the ProfileHeader and unreadable unknown PEs). */
export function peHeaderOf(pe: ProfileElement): PeHeader | undefined {
  return pe.kind === 'header' ? undefined : pe.header;
}
