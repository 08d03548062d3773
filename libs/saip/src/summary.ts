/**
 * The facts an eUICC keeps about an installed profile, read from a decoded package.
 */
import { SaipError } from './errors';
import { decodeEfAdMncLength, decodeEfIccid, decodeEfImsi } from './ef-content';
import { decodeProfilePackage, encodeProfilePackage, type ProfilePackage } from './package';
import type { AlgorithmName } from './pe-aka';
import { decodeCodeValue, KEY_REFERENCE } from './pe-codes';
import { findFile, readFileContent, type UsimElement } from './pe-filesystem';
import type { MandatoryService } from './header';

export interface ProfileSummary {
  /** ICCID of the ProfileHeader (EF.ICCID holds the same value in a consistent package). */
  iccid: string;
  /** IMSI from EF.IMSI of the PE-USIM. */
  imsi: string;
  profileType?: string;
  majorVersion: number;
  minorVersion: number;
  algorithm: AlgorithmName;
  /** Subscriber key K / Ki, upper-case hex. @secret — use {@link redactProfileSummary} before logging. */
  ki: string;
  /** OPc (TOPc for TUAK), upper-case hex. @secret */
  opc: string;
  /** Global PIN of application 1 (key reference 01). @secret */
  pin1?: string;
  /** PUK with key reference 01. @secret */
  puk1?: string;
  /** ADM1 (key reference 0A), digits or hex. @secret */
  adm1?: string;
  /** MNC length from EF.AD when present. */
  mncLength?: number;
  /** AID of ADF.USIM (upper-case hex) when the package gives its dfName. */
  usimAid?: string;
  /** ICCID held in EF.ICCID when the package fills it. */
  efIccid?: string;
  /**
   * POL1 of the profile, from ProfileHeader `pol` (one byte: b1 disable not allowed, b2 delete not allowed,
   * b3 delete when disabled [U coding]); absent when the header carries none. The card checks the bits.
   */
  pol1?: number;
  mandatoryServices: MandatoryService[];
  elementCount: number;
  /** ProfileElements preserved raw (telecom, ISIM, RFM, …). */
  unknownElementCount: number;
  /** Size of the DER package in bytes. */
  sizeBytes: number;
}

/** Secret fields of a {@link ProfileSummary}. */
export const SECRET_SUMMARY_FIELDS = ['ki', 'opc', 'pin1', 'puk1', 'adm1'] as const;

/**
 * Summarises a package (decoded, or DER which is decoded and validated first). A package without a
 * PE-USIM holding EF.IMSI or without AKA parameters is refused: the card could not authenticate with it.
 */
export function summariseProfile(input: ProfilePackage | Uint8Array): ProfileSummary {
  const pkg = input instanceof Uint8Array ? decodeProfilePackage(input) : input;
  const sizeBytes = input instanceof Uint8Array ? input.length : encodeProfilePackage(pkg, { validate: false }).length;
  const elements = pkg.elements;
  const header = elements[0];
  if (header?.kind !== 'header') throw new SaipError.PeOrder('the first ProfileElement must be the ProfileHeader', { peIndex: 0 });

  const usimIndex = elements.findIndex((pe) => pe.kind === 'usim');
  const usim = elements[usimIndex] as UsimElement | undefined;
  const imsiContent = usim === undefined ? undefined : readFileContent(usim, 'ef-imsi');
  if (imsiContent === undefined) throw new SaipError.PeOrder('no PE-USIM with EF.IMSI content', usimIndex >= 0 ? { peIndex: usimIndex } : {});

  const akaIndex = elements.findIndex((pe) => pe.kind === 'akaParameter' && pe.algoParameter !== undefined);
  const aka = elements[akaIndex];
  if (aka?.kind !== 'akaParameter' || aka.algoParameter === undefined) {
    throw new SaipError.PeOrder('no PE-AKAParameter with algoParameter');
  }

  const summary: ProfileSummary = {
    iccid: header.iccid,
    imsi: decodeEfImsi(imsiContent),
    majorVersion: header.majorVersion,
    minorVersion: header.minorVersion,
    algorithm: aka.algoParameter.algorithm,
    ki: aka.algoParameter.key.toString('hex').toUpperCase(),
    opc: aka.algoParameter.opc.toString('hex').toUpperCase(),
    mandatoryServices: [...header.mandatoryServices],
    elementCount: elements.length,
    unknownElementCount: elements.filter((pe) => pe.kind === 'unknown').length,
    sizeBytes,
  };
  if (header.profileType !== undefined) summary.profileType = header.profileType;
  if (header.pol !== undefined) {
    if (header.pol.length !== 1) throw new SaipError.BadValue(`ProfileHeader pol (POL1) must be one byte, got ${header.pol.length}`, { peIndex: 0 });
    summary.pol1 = header.pol[0] as number;
  }

  for (const pe of elements) {
    if (pe.kind === 'pinCodes') {
      for (const pin of pe.pins ?? []) {
        if (pin.keyReference === KEY_REFERENCE.pinAppl1 && summary.pin1 === undefined) summary.pin1 = decodeCodeValue(pin.pinValue);
        if (pin.keyReference === KEY_REFERENCE.adm1 && summary.adm1 === undefined) summary.adm1 = decodeCodeValue(pin.pinValue);
      }
    }
    if (pe.kind === 'pukCodes') {
      const puk1 = pe.puks.find((p) => p.keyReference === KEY_REFERENCE.pukAppl1);
      if (puk1 && summary.puk1 === undefined) summary.puk1 = decodeCodeValue(puk1.pukValue);
    }
    if (pe.kind === 'mf') {
      const efIccid = readFileContent(pe, 'ef-iccid');
      if (efIccid !== undefined) summary.efIccid = decodeEfIccid(efIccid);
    }
  }
  if (usim !== undefined) {
    const ad = readFileContent(usim, 'ef-ad');
    const mnc = ad === undefined ? undefined : decodeEfAdMncLength(ad);
    if (mnc !== undefined) summary.mncLength = mnc;
    const adf = findFile(usim, 'adf-usim');
    const dfName = adf?.elements.find((e) => e.type === 'fcp' && e.fcp.dfName !== undefined);
    if (dfName?.type === 'fcp' && dfName.fcp.dfName) summary.usimAid = dfName.fcp.dfName.toString('hex').toUpperCase();
  }
  return summary;
}

/** A copy of `summary` safe for logs: Ki, OPc, PIN1, PUK1 and ADM1 replaced by `'<redacted>'`. */
export function redactProfileSummary(summary: ProfileSummary): ProfileSummary {
  const redacted: ProfileSummary = { ...summary, mandatoryServices: [...summary.mandatoryServices] };
  for (const field of SECRET_SUMMARY_FIELDS) {
    if (redacted[field] !== undefined) redacted[field] = '<redacted>';
  }
  return redacted;
}
