/**
 * Personalisation: the SM-DP turns a template package into one subscriber's package by replacing the
 * identity and secrets, the same fields pySim `saip/personalization.py` sets (Iccid, Imsi, K, Opc, Pin1, Puk1).
 */
import { SaipError } from './errors';
import { encodeEfAcc, encodeEfIccid, encodeEfImsi, validateImsi } from './ef-content';
import { iccidBytes } from './header';
import { decodeProfilePackage, encodeProfilePackage, type ProfilePackage } from './package';
import { checkAlgoParameter, type AlgoParameter } from './pe-aka';
import { encodePinValue, encodePukValue, KEY_REFERENCE } from './pe-codes';
import { findFile, withReplacedFile } from './pe-filesystem';
import type { ProfileElement } from './profile-element';

export interface PersonalisationValues {
  iccid: string;
  imsi: string;
  /** Subscriber key Ki, 16 bytes. @secret */
  ki: Buffer;
  /** OPc, 16 bytes. @secret */
  opc: Buffer;
  /** New PIN1 (4..8 digits); the template's PIN1 stays when omitted. @secret */
  pin1?: string;
  /** New PUK1 (8 digits). @secret */
  puk1?: string;
  profileType?: string;
}

/**
 * Returns a new DER package: header ICCID (and profileType), EF.ICCID, EF.IMSI (and EF.ACC, set to the
 * access class of the IMSI's last digit as pySim does), the first AKA parameters set to Milenage with
 * Ki / OPc, and PIN1 / PUK1 when given. The template is not modified. Any invalid value, or a template
 * lacking a PE the values need, is a SaipError.
 */
export function personaliseProfile(template: ProfilePackage | Uint8Array, values: PersonalisationValues): Buffer {
  const pkg = template instanceof Uint8Array ? decodedTemplate(template) : template;
  checkValues(values);
  const state = { mf: false, usim: false, aka: false, pin1: values.pin1 === undefined, puk1: values.puk1 === undefined };
  const elements = pkg.elements.map((pe): ProfileElement => {
    switch (pe.kind) {
      case 'header':
        return { ...pe, iccid: values.iccid, ...(values.profileType === undefined ? {} : { profileType: values.profileType }) };
      case 'mf':
        state.mf = true;
        return withReplacedFile(pe, 'ef-iccid', encodeEfIccid(values.iccid));
      case 'usim': {
        if (state.usim) return pe;
        state.usim = true;
        const withImsi = withReplacedFile(pe, 'ef-imsi', encodeEfImsi(values.imsi));
        return findFile(pe, 'ef-acc') ? withReplacedFile(withImsi, 'ef-acc', encodeEfAcc(Number(values.imsi.slice(-1)))) : withImsi;
      }
      case 'akaParameter': {
        if (state.aka || pe.algoParameter === undefined) return pe;
        state.aka = true;
        const keepOptions = pe.algoParameter.algorithm === 'milenage';
        const algoParameter: AlgoParameter = {
          ...pe.algoParameter,
          algorithm: 'milenage',
          algorithmOptions: keepOptions ? pe.algoParameter.algorithmOptions : Buffer.of(0),
          key: Buffer.from(values.ki),
          opc: Buffer.from(values.opc),
        };
        return { ...pe, algoParameter };
      }
      case 'pinCodes': {
        if (state.pin1 || pe.pins === undefined || !pe.pins.some((p) => p.keyReference === KEY_REFERENCE.pinAppl1)) return pe;
        state.pin1 = true;
        const pinValue = encodePinValue(values.pin1 as string);
        return { ...pe, pins: pe.pins.map((p) => (p.keyReference === KEY_REFERENCE.pinAppl1 ? { ...p, pinValue } : p)) };
      }
      case 'pukCodes': {
        if (state.puk1 || !pe.puks.some((p) => p.keyReference === KEY_REFERENCE.pukAppl1)) return pe;
        state.puk1 = true;
        const pukValue = encodePukValue(values.puk1 as string);
        return { ...pe, puks: pe.puks.map((p) => (p.keyReference === KEY_REFERENCE.pukAppl1 ? { ...p, pukValue } : p)) };
      }
      default:
        return pe;
    }
  });
  const missing = Object.entries(state).filter(([, done]) => !done).map(([name]) => name);
  if (missing.length > 0) throw new SaipError.TemplateMismatch(`template has no element for: ${missing.join(', ')}`);
  return encodeProfilePackage({ elements }, { knownEncoding: (pe) => templateEncodings.get(pe) });
}

/**
 * A template given as bytes is decoded once per template object (an SM-DP keeps its profile types' templates
 * in memory), and the encodings of the elements personalisation leaves as they are are kept with it: only
 * the header, MF, USIM, AKA and PIN / PUK elements are encoded per profile. The decoded template never
 * leaves this module, and an entry is used only while the template's bytes are unchanged.
 */
const decodedTemplates = new WeakMap<Uint8Array, { bytes: Buffer; pkg: ProfilePackage }>();
const templateEncodings = new WeakMap<ProfileElement, Buffer>();

function decodedTemplate(template: Uint8Array): ProfilePackage {
  const cached = decodedTemplates.get(template);
  if (cached && cached.bytes.equals(template)) return cached.pkg;
  const pkg = decodeProfilePackage(template);
  for (const pe of pkg.elements) templateEncodings.set(pe, encodeProfilePackage({ elements: [pe] }, { validate: false }));
  decodedTemplates.set(template, { bytes: Buffer.from(template), pkg });
  return pkg;
}

function checkValues(values: PersonalisationValues): void {
  if (values === null || typeof values !== 'object') throw new SaipError.BadValue('personalisation values missing');
  iccidBytes(values.iccid);
  validateImsi(values.imsi);
  if (!(values.ki instanceof Uint8Array) || !(values.opc instanceof Uint8Array)) {
    throw new SaipError.BadValue('Ki and OPc must be bytes');
  }
  checkAlgoParameter({ algorithm: 'milenage', algorithmOptions: Buffer.of(0), key: Buffer.from(values.ki), opc: Buffer.from(values.opc) });
  if (values.pin1 !== undefined) encodePinValue(values.pin1);
  if (values.puk1 !== undefined) encodePukValue(values.puk1);
  if (values.profileType !== undefined && (values.profileType.length < 1 || values.profileType.length > 100)) {
    throw new SaipError.BadValue('profileType must be 1..100 characters');
  }
}
