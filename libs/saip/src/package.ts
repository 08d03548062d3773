/**
 * The profile package: the concatenation of DER ProfileElement TLVs (TCA Interoperable Format §2.3),
 * with the sequence rules an eUICC checks before installing it.
 */
import { isRspError } from '@rsp/errors';
import { decodeTlv } from '@rsp/tlv';
import { SaipError, SaipFailure } from './errors';
import { decodeEfIccid, decodeEfImsi } from './ef-content';
import { headerIccidBytes } from './header';
import { checkAlgoParameter } from './pe-aka';
import { readFileContent } from './pe-filesystem';
import { decodeProfileElement, encodeProfileElement, peHeaderOf, type ProfileElement } from './profile-element';

export interface ProfilePackage {
  elements: ProfileElement[];
}

export interface DecodeProfileOptions {
  /** Apply {@link validateProfilePackage} after decoding (default true). */
  validate?: boolean;
}

/**
 * Decodes a DER profile package. Every failure is a {@link SaipError} carrying the index of the failing
 * PE and the EUICCResponse status to report; unknown PEs are preserved raw.
 */
export function decodeProfilePackage(der: Uint8Array, options: DecodeProfileOptions = {}): ProfilePackage {
  if (!(der instanceof Uint8Array)) throw new SaipError.Malformed('profile package must be bytes');
  const input = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  if (input.length === 0) throw new SaipError.Malformed('empty profile package');
  const elements: ProfileElement[] = [];
  let offset = 0;
  while (offset < input.length) {
    const index = elements.length;
    const element = atElement(index, undefined, () => {
      const { tlv, next } = decodeTlv(input, offset);
      offset = next;
      return decodeProfileElement(tlv);
    });
    elements.push(element);
  }
  const pkg: ProfilePackage = { elements };
  if (options.validate !== false) validateProfilePackage(pkg);
  return pkg;
}

/** DER of the package: the ProfileElements in order. Validates first unless `validate` is false. */
export function encodeProfilePackage(
  pkg: ProfilePackage,
  options: { validate?: boolean; /** An element's encoding known already (personalise.ts's template cache). */ knownEncoding?: (pe: ProfileElement) => Buffer | undefined } = {},
): Buffer {
  if (options.validate !== false) validateProfilePackage(pkg);
  const known = options.knownEncoding;
  return Buffer.concat(pkg.elements.map((pe, index) => known?.(pe) ?? atElement(index, pe, () => encodeProfileElement(pe))));
}

/**
 * Sequence and value rules an eUICC applies before installing (TCA Interoperable Format; same checks as
 * pySim `saip/validation.py` CheckBasicStructure):
 *  - the ProfileHeader is first and unique, PE-End is last and unique;
 *  - at most one PE-MF and one PE-USIM; PE identification values are unique;
 *  - a mandatory `usim` service needs a PE-USIM;
 *  - ICCID (header and EF.ICCID) Luhn-valid, EF.IMSI a 6..15-digit IMSI, AKA key / OPc sizes.
 */
export function validateProfilePackage(pkg: ProfilePackage): void {
  const elements = pkg?.elements;
  if (!Array.isArray(elements) || elements.length === 0) throw new SaipError.PeOrder('profile package has no elements');
  const header = elements[0];
  if (header?.kind !== 'header') throw new SaipError.PeOrder('the first ProfileElement must be the ProfileHeader', { peIndex: 0 });
  const lastIndex = elements.length - 1;
  if (elements[lastIndex]?.kind !== 'end') {
    throw new SaipError.PeOrder('the last ProfileElement must be PE-End', { peIndex: lastIndex, ...idOf(elements[lastIndex]) });
  }
  const seen = new Map<string, number>();
  const identifications = new Set<number>();
  elements.forEach((pe, index) => {
    const kind = pe.kind === 'unknown' ? `unknown-${pe.tag}` : pe.kind;
    const once = ['header', 'end', 'mf', 'usim'].includes(kind);
    if (once && seen.has(kind)) throw new SaipError.PeOrder(`more than one ${kind} ProfileElement`, { peIndex: index, ...idOf(pe) });
    seen.set(kind, index);
    const peHeader = peHeaderOf(pe);
    if (peHeader !== undefined) {
      if (identifications.has(peHeader.identification)) {
        throw new SaipError.BadValue(`PE identification ${peHeader.identification} is not unique`, { peIndex: index, ...idOf(pe) });
      }
      identifications.add(peHeader.identification);
    }
    atElement(index, pe, () => checkValues(pe));
  });
  if (header.mandatoryServices.includes('usim') && !seen.has('usim')) {
    throw new SaipError.PeOrder('mandatory service usim but no PE-USIM', { peIndex: 0 });
  }
}

function checkValues(pe: ProfileElement): void {
  if (pe.kind === 'header') headerIccidBytes(pe.iccid);
  if (pe.kind === 'mf') {
    const iccid = readFileContent(pe, 'ef-iccid');
    if (iccid !== undefined) decodeEfIccid(iccid);
  }
  if (pe.kind === 'usim') {
    const imsi = readFileContent(pe, 'ef-imsi');
    if (imsi !== undefined) decodeEfImsi(imsi);
  }
  if (pe.kind === 'akaParameter' && pe.algoParameter) checkAlgoParameter(pe.algoParameter);
}

function idOf(pe: ProfileElement | undefined): { identification?: number } {
  const header = pe === undefined ? undefined : peHeaderOf(pe);
  return header === undefined ? {} : { identification: header.identification };
}

/** Runs `step` for element `index`, giving any failure that PE's index and identification. */
function atElement<T>(index: number, pe: ProfileElement | undefined, step: () => T): T {
  try {
    return step();
  } catch (e) {
    throw annotate(e, index, idOf(pe).identification);
  }
}

function annotate(e: unknown, index: number, identification: number | undefined): unknown {
  let failure: unknown = e;
  if (!(e instanceof SaipFailure) && isRspError(e) && e.code.startsWith('ERR_TLV_')) {
    failure = new SaipError.Malformed(`ProfileElement ${index}: ${e.message}`, { cause: e });
  } else if (!(e instanceof SaipFailure) && isRspError(e) && e.code.startsWith('ERR_PKI_')) {
    failure = new SaipError.BadValue(`ProfileElement ${index}: ${e.message}`, { cause: e });
  }
  if (failure instanceof SaipFailure) {
    failure.peIndex ??= index;
    failure.identification ??= identification;
  }
  return failure;
}
