/**
 * PEHeader and ProfileHeader (TCA eUICC Profile Package: Interoperable Format, PE_Definitions 3.3.1).
 */
import { ICCID_BYTES, iccidFromSwappedBcd, iccidToSwappedBcd, validateIccid } from '@rsp/pki';
import { SaipError } from './errors';
import {
  SequenceReader,
  UNIVERSAL,
  checkNull,
  cons,
  copy,
  decodeOid,
  decodeUnsigned,
  decodeUtf8,
  encodeOid,
  encodeUnsigned,
  parseTlvs,
  prim,
} from './der';
import type { Tlv } from '@rsp/tlv';

/*
 * PEHeader ::= SEQUENCE {
 *   mandated NULL OPTIONAL,      -- [0] 80
 *   identification UInt15        -- [1] 81
 * }
 */
export interface PeHeader {
  /** The eUICC must support this PE or refuse the profile. */
  mandated: boolean;
  /** Identification number of this PE (UInt15), echoed in PEStatus. */
  identification: number;
}

export const MAX_UINT15 = 32767;

export function encodePeHeader(header: PeHeader, tag = 0xa0): Buffer {
  return cons(tag, [header.mandated ? prim(0x80, Buffer.alloc(0)) : undefined, prim(0x81, encodeUnsigned(checkId(header)))]);
}

function checkId(header: PeHeader): number {
  if (!Number.isInteger(header.identification) || header.identification < 0 || header.identification > MAX_UINT15) {
    throw new SaipError.BadValue(`PE identification ${header.identification} is not a UInt15`);
  }
  return header.identification;
}

export function decodePeHeader(tlv: Tlv, what = 'PEHeader'): PeHeader {
  const reader = SequenceReader.of(tlv, what);
  const mandated = reader.take(0x80);
  if (mandated) checkNull(mandated, `${what}.mandated`);
  const id = decodeUnsigned(reader.need(0x81, 'identification').value, MAX_UINT15, `${what}.identification`);
  reader.end();
  return { mandated: mandated !== undefined, identification: id };
}

/*
 * ServicesList ::= SEQUENCE { contactless NULL OPTIONAL, usim NULL OPTIONAL, ... eaka NULL OPTIONAL }
 * Each service is a NULL tagged [position]: usim = 81, milenage = 84, usim-test-algorithm = 91, ...
 */
export const SERVICE_NAMES = [
  'contactless', 'usim', 'isim', 'csim', 'milenage', 'tuak128', 'cave', 'gba-usim', 'gba-isim', 'mbms', 'eap',
  'javacard', 'multos', 'multiple-usim', 'multiple-isim', 'multiple-csim', 'tuak256', 'usim-test-algorithm',
  'ber-tlv', 'dfLink', 'cat-tp', 'get-identity', 'profile-a-x25519', 'profile-b-p256', 'suciCalculatorApi',
  'dns-resolution', 'scp11ac', 'scp11c-authorization-mechanism', 's16mode', 'eaka',
] as const;

/** A ServicesList member name, or `service-<n>` for an extension this module does not name. */
export type MandatoryService = (typeof SERVICE_NAMES)[number] | `service-${number}`;

function serviceTag(name: MandatoryService): number {
  const known = (SERVICE_NAMES as readonly string[]).indexOf(name);
  const n = known >= 0 ? known : Number(/^service-(\d+)$/.exec(name)?.[1] ?? NaN);
  if (!Number.isInteger(n) || n > 127) throw new SaipError.BadValue(`unknown mandatory service "${name}"`);
  return n <= 30 ? 0x80 + n : 0x9f00 | n;
}

function serviceName(tag: number): MandatoryService {
  const n = tag <= 0x9e ? tag - 0x80 : tag & 0x7f;
  if (tag < 0x80 || (tag > 0x9e && (tag & 0xff00) !== 0x9f00)) {
    throw new SaipError.Malformed(`ServicesList: unexpected tag ${tag.toString(16).toUpperCase()}`);
  }
  return SERVICE_NAMES[n] ?? `service-${n}`;
}

/*
 * ProfileHeader ::= SEQUENCE {
 *   major-version UInt8,                           -- [0] 80
 *   minor-version UInt8,                           -- [1] 81
 *   profileType UTF8String (SIZE (1..100)) OPTIONAL, -- [2] 82
 *   iccid OCTET STRING (SIZE (10)),                -- [3] 83
 *   pol OCTET STRING OPTIONAL,                     -- [4] 84
 *   eUICC-Mandatory-services ServicesList,         -- [5] A5
 *   eUICC-Mandatory-GFSTEList SEQUENCE OF OBJECT IDENTIFIER, -- [6] A6
 *   connectivityParameters OCTET STRING OPTIONAL,  -- [7] 87
 *   eUICC-Mandatory-AIDs SEQUENCE OF SEQUENCE { aid ApplicationIdentifier, version OCTET STRING (SIZE(2)) } OPTIONAL, -- [8] A8
 *   iotOptions IotOptions OPTIONAL                 -- [9] A9
 * }
 */
export interface ProfileHeader {
  kind: 'header';
  majorVersion: number;
  minorVersion: number;
  profileType?: string;
  /**
   * ICCID digits (19 or 20, Luhn-valid). The header carries them as plain BCD, `F`-padded
   * (`iccid '89000123456789012341'H` in the TS.48 value notation; pySim `h2b(rpad(iccid, 20))`) —
   * unlike EF.ICCID, whose content is nibble-swapped.
   */
  iccid: string;
  pol?: Buffer;
  mandatoryServices: MandatoryService[];
  /** Template OIDs (dotted) the eUICC must support, e.g. `2.23.143.1.2.1` for the MF template. */
  mandatoryGfsteList: string[];
  connectivityParameters?: Buffer;
  mandatoryAids?: { aid: Buffer; version: Buffer }[];
  /** IotOptions value bytes, kept raw. */
  iotOptions?: Buffer;
  extensions?: Buffer[];
}

/** Major versions of the Interoperable Format this decoder understands (2.x and 3.x share the ASN.1). */
export const SUPPORTED_MAJOR_VERSIONS: readonly number[] = [2, 3];

export function encodeProfileHeader(h: ProfileHeader, tag = 0xa0): Buffer {
  if (h.profileType !== undefined && (h.profileType.length < 1 || Buffer.byteLength(h.profileType) > 400)) {
    throw new SaipError.BadValue('profileType must be 1..100 characters');
  }
  const services = [...new Set(h.mandatoryServices.map(serviceTag))].sort((a, b) => a - b);
  return cons(tag, [
    prim(0x80, encodeUnsigned(checkUInt8(h.majorVersion, 'major-version'))),
    prim(0x81, encodeUnsigned(checkUInt8(h.minorVersion, 'minor-version'))),
    h.profileType === undefined ? undefined : prim(0x82, Buffer.from(h.profileType, 'utf8')),
    prim(0x83, headerIccidBytes(h.iccid)),
    h.pol === undefined ? undefined : prim(0x84, h.pol),
    cons(0xa5, services.map((t) => prim(t, Buffer.alloc(0)))),
    cons(0xa6, h.mandatoryGfsteList.map((oid) => prim(UNIVERSAL.OID, encodeOid(oid)))),
    h.connectivityParameters === undefined ? undefined : prim(0x87, h.connectivityParameters),
    h.mandatoryAids === undefined
      ? undefined
      : cons(0xa8, h.mandatoryAids.map((a) => cons(UNIVERSAL.SEQUENCE, [prim(0x80, a.aid), prim(0x81, a.version)]))),
    h.iotOptions === undefined ? undefined : prim(0xa9, h.iotOptions),
    ...(h.extensions ?? []),
  ]);
}

export function decodeProfileHeader(tlv: Tlv): ProfileHeader {
  const what = 'ProfileHeader';
  const r = SequenceReader.of(tlv, what);
  const majorVersion = decodeUnsigned(r.need(0x80, 'major-version').value, 255, `${what}.major-version`);
  if (!SUPPORTED_MAJOR_VERSIONS.includes(majorVersion)) {
    throw new SaipError.UnsupportedVersion(`profile package major-version ${majorVersion} is not supported`);
  }
  const minorVersion = decodeUnsigned(r.need(0x81, 'minor-version').value, 255, `${what}.minor-version`);
  const profileTypeTlv = r.take(0x82);
  const header: ProfileHeader = { kind: 'header', majorVersion, minorVersion, iccid: '', mandatoryServices: [], mandatoryGfsteList: [] };
  if (profileTypeTlv) header.profileType = decodeUtf8(profileTypeTlv.value, `${what}.profileType`);
  header.iccid = headerIccidFromBytes(r.need(0x83, 'iccid').value);
  const pol = r.take(0x84);
  if (pol) header.pol = copy(pol.value);
  header.mandatoryServices = parseTlvs(r.need(0xa5, 'eUICC-Mandatory-services').value, what).map((t) => {
    checkNull(t, `${what}.eUICC-Mandatory-services`);
    return serviceName(t.tag);
  });
  header.mandatoryGfsteList = parseTlvs(r.need(0xa6, 'eUICC-Mandatory-GFSTEList').value, what).map((t) => {
    if (t.tag !== UNIVERSAL.OID) throw new SaipError.Malformed(`${what}: GFSTEList entry is not an OID`);
    return decodeOid(t.value, `${what}.eUICC-Mandatory-GFSTEList`);
  });
  const connectivity = r.take(0x87);
  if (connectivity) header.connectivityParameters = copy(connectivity.value);
  const aids = r.take(0xa8);
  if (aids) {
    header.mandatoryAids = parseTlvs(aids.value, what).map((entry) => {
      if (entry.tag !== UNIVERSAL.SEQUENCE) throw new SaipError.Malformed(`${what}: mandatory AID entry is not a SEQUENCE`);
      const e = SequenceReader.of(entry, `${what}.eUICC-Mandatory-AIDs`);
      const aid = copy(e.need(0x80, 'aid').value);
      const version = copy(e.need(0x81, 'version').value);
      e.rest();
      return { aid, version };
    });
  }
  const iot = r.take(0xa9);
  if (iot) header.iotOptions = copy(iot.value);
  const extensions = r.rest();
  if (extensions) header.extensions = extensions;
  return header;
}

function checkUInt8(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 255) throw new SaipError.BadValue(`${what} ${value} is not a UInt8`);
  return value;
}

/** ICCID → the ProfileHeader's 10-byte plain BCD (`F`-padded); an invalid ICCID is SaipError.BadValue. */
export function headerIccidBytes(iccid: string): Buffer {
  try {
    validateIccid(iccid);
  } catch (e) {
    throw new SaipError.BadValue(`ICCID: ${(e as Error).message}`, { cause: e });
  }
  return Buffer.from(iccid.padEnd(2 * ICCID_BYTES, 'f'), 'hex');
}

/** The ProfileHeader's 10-byte plain BCD ICCID → digits; wrong size, filler or check digit is BadValue. */
export function headerIccidFromBytes(bytes: Uint8Array): string {
  if (bytes.length !== ICCID_BYTES) throw new SaipError.BadValue(`ICCID must be ${ICCID_BYTES} bytes, got ${bytes.length}`);
  const nibbles = Buffer.from(bytes).toString('hex');
  const iccid = nibbles.endsWith('f') ? nibbles.slice(0, -1) : nibbles;
  if (!/^\d+$/.test(iccid)) throw new SaipError.BadValue('ICCID: header holds a non-decimal nibble');
  headerIccidBytes(iccid);
  return iccid;
}

/** ICCID → 10-byte swapped BCD (EF.ICCID); an invalid ICCID (length, Luhn) is SaipError.BadValue. */
export function iccidBytes(iccid: string): Buffer {
  try {
    return iccidToSwappedBcd(iccid);
  } catch (e) {
    throw new SaipError.BadValue(`ICCID: ${(e as Error).message}`, { cause: e });
  }
}

/** 10-byte swapped BCD → ICCID digits; a wrong size or check digit is SaipError.BadValue. */
export function iccidFromBytes(bytes: Uint8Array): string {
  try {
    return iccidFromSwappedBcd(bytes);
  } catch (e) {
    throw new SaipError.BadValue(`ICCID: ${(e as Error).message}`, { cause: e });
  }
}
