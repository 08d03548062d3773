/**
 * PE-PINCodes and PE-PUKCodes (PE_Definitions 3.3.1). PIN / PUK values are secrets: never log them.
 */
import type { Tlv } from '@rsp/tlv';
import { SaipError } from './errors';
import { SequenceReader, UNIVERSAL, checkSize, cons, copy, decodeUnsigned, encodeUnsigned, parseTlvs, prim } from './der';
import { decodePeHeader, encodePeHeader, type PeHeader } from './header';

/** PINKeyReferenceValue / PUKKeyReferenceValue named values used by the personaliser. */
export const KEY_REFERENCE = { pinAppl1: 1, adm1: 10, secondPinAppl1: 129, pukAppl1: 1, secondPukAppl1: 129 } as const;

/*
 * PINConfiguration ::= SEQUENCE {
 *   keyReference PINKeyReferenceValue,                   -- [0] 80
 *   pinValue OCTET STRING (SIZE (8)),                    -- [1] 81
 *   unblockingPINReference PUKKeyReferenceValue OPTIONAL, -- [2] 82
 *   pinAttributes UInt8 DEFAULT 7,                       -- [3] 83
 *   maxNumOfAttemps-retryNumLeft UInt8 DEFAULT 51        -- [4] 84 (high nibble max, low nibble left)
 * }
 */
export interface PinConfiguration {
  keyReference: number;
  /** 8 bytes: ASCII digits padded with FF (TS 102 221 §9.5.1). @secret */
  pinValue: Buffer;
  unblockingPinReference?: number;
  /** Absent means DEFAULT 7. */
  pinAttributes?: number;
  /** Absent means DEFAULT 51 (0x33: 3 attempts, 3 left). */
  maxAttemptsRetryLeft?: number;
}

/*
 * PE-PINCodes ::= SEQUENCE {
 *   pin-Header PEHeader,                                  -- [0] A0
 *   pinCodes CHOICE {                                     -- [1] A1 (explicit: CHOICE)
 *     pinconfig SEQUENCE (SIZE (1..26)) OF PINConfiguration, -- [0] A0 { 30 … }
 *     filePath OCTET STRING (SIZE (0..8))                 -- [1] 81
 *   }
 * }
 */
export interface PinCodesElement {
  kind: 'pinCodes';
  header: PeHeader;
  /** The PINs defined here, or undefined when `filePath` shares the PINs of another DF/ADF. */
  pins?: PinConfiguration[];
  filePath?: Buffer;
  extensions?: Buffer[];
}

/*
 * PUKConfiguration ::= SEQUENCE {
 *   keyReference PUKKeyReferenceValue,             -- [0] 80
 *   pukValue OCTET STRING (SIZE (8)),              -- [1] 81
 *   maxNumOfAttemps-retryNumLeft UInt8 DEFAULT 170 -- [2] 82
 * }
 * PE-PUKCodes ::= SEQUENCE { puk-Header PEHeader, pukCodes SEQUENCE (SIZE (1..16)) OF PUKConfiguration }
 */
export interface PukConfiguration {
  keyReference: number;
  /** 8 bytes, ASCII digits. @secret */
  pukValue: Buffer;
  /** Absent means DEFAULT 170 (0xAA: 10 attempts, 10 left). */
  maxAttemptsRetryLeft?: number;
}

export interface PukCodesElement {
  kind: 'pukCodes';
  header: PeHeader;
  puks: PukConfiguration[];
  extensions?: Buffer[];
}

const PIN_ATTRIBUTES_DEFAULT = 7;
const PIN_ATTEMPTS_DEFAULT = 51;
const PUK_ATTEMPTS_DEFAULT = 170;

function optionalUInt8(value: number | undefined, defaultValue: number, tag: number, what: string): Buffer | undefined {
  if (value === undefined || value === defaultValue) return undefined; // DER omits DEFAULT values
  if (!Number.isInteger(value) || value < 0 || value > 255) throw new SaipError.BadValue(`${what} ${value} is not a UInt8`);
  return prim(tag, encodeUnsigned(value));
}

function keyReference(value: number, what: string): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 255) throw new SaipError.BadValue(`${what} ${value} out of range`);
  return prim(0x80, encodeUnsigned(value));
}

export function encodePinCodes(pe: PinCodesElement, tag: number): Buffer {
  if ((pe.pins === undefined) === (pe.filePath === undefined)) {
    throw new SaipError.BadValue('PE-PINCodes: exactly one of pins / filePath');
  }
  const choice =
    pe.pins !== undefined
      ? cons(0xa0, pe.pins.map((pin) => cons(UNIVERSAL.SEQUENCE, [
          keyReference(pin.keyReference, 'PIN keyReference'),
          prim(0x81, checkSize(pin.pinValue, [8], 'pinValue')),
          pin.unblockingPinReference === undefined ? undefined : prim(0x82, encodeUnsigned(pin.unblockingPinReference)),
          optionalUInt8(pin.pinAttributes, PIN_ATTRIBUTES_DEFAULT, 0x83, 'pinAttributes'),
          optionalUInt8(pin.maxAttemptsRetryLeft, PIN_ATTEMPTS_DEFAULT, 0x84, 'maxNumOfAttemps-retryNumLeft'),
        ])))
      : prim(0x81, pe.filePath as Buffer);
  return cons(tag, [encodePeHeader(pe.header), cons(0xa1, [choice]), ...(pe.extensions ?? [])]);
}

export function decodePinCodes(tlv: Tlv): PinCodesElement {
  const what = 'PE-PINCodes';
  const r = SequenceReader.of(tlv, what);
  const header = decodePeHeader(r.need(0xa0, 'pin-Header'), `${what}.pin-Header`);
  const choice = parseTlvs(r.need(0xa1, 'pinCodes').value, what);
  const chosen = choice[0];
  if (chosen === undefined || choice.length !== 1) throw new SaipError.Malformed(`${what}: pinCodes must hold one alternative`);
  const pe: PinCodesElement = { kind: 'pinCodes', header };
  if (chosen.tag === 0x81) {
    pe.filePath = checkSize(copy(chosen.value), [0, 2, 4, 6, 8], `${what}.filePath`);
  } else if (chosen.tag === 0xa0) {
    pe.pins = parseTlvs(chosen.value, what).map((entry) => decodePin(entry, `${what}.pinconfig`));
    if (pe.pins.length < 1 || pe.pins.length > 26) throw new SaipError.BadValue(`${what}: 1..26 PINs allowed`);
  } else {
    throw new SaipError.Malformed(`${what}: unknown pinCodes alternative ${chosen.tag.toString(16)}`);
  }
  const extensions = r.rest();
  if (extensions) pe.extensions = extensions;
  return pe;
}

function decodePin(entry: Tlv, what: string): PinConfiguration {
  if (entry.tag !== UNIVERSAL.SEQUENCE) throw new SaipError.Malformed(`${what}: entry is not a SEQUENCE`);
  const r = SequenceReader.of(entry, what);
  const pin: PinConfiguration = {
    keyReference: decodeUnsigned(r.need(0x80, 'keyReference').value, 255, `${what}.keyReference`),
    pinValue: checkSize(copy(r.need(0x81, 'pinValue').value), [8], `${what}.pinValue`),
  };
  const unblock = r.take(0x82);
  if (unblock) pin.unblockingPinReference = decodeUnsigned(unblock.value, 255, `${what}.unblockingPINReference`);
  const attributes = r.take(0x83);
  if (attributes) pin.pinAttributes = decodeUnsigned(attributes.value, 255, `${what}.pinAttributes`);
  const attempts = r.take(0x84);
  if (attempts) pin.maxAttemptsRetryLeft = decodeUnsigned(attempts.value, 255, `${what}.maxNumOfAttemps-retryNumLeft`);
  r.rest();
  return pin;
}

export function encodePukCodes(pe: PukCodesElement, tag: number): Buffer {
  if (pe.puks.length < 1 || pe.puks.length > 16) throw new SaipError.BadValue('PE-PUKCodes: 1..16 PUKs allowed');
  const list = pe.puks.map((puk) => cons(UNIVERSAL.SEQUENCE, [
    keyReference(puk.keyReference, 'PUK keyReference'),
    prim(0x81, checkSize(puk.pukValue, [8], 'pukValue')),
    optionalUInt8(puk.maxAttemptsRetryLeft, PUK_ATTEMPTS_DEFAULT, 0x82, 'maxNumOfAttemps-retryNumLeft'),
  ]));
  return cons(tag, [encodePeHeader(pe.header), cons(0xa1, list), ...(pe.extensions ?? [])]);
}

export function decodePukCodes(tlv: Tlv): PukCodesElement {
  const what = 'PE-PUKCodes';
  const r = SequenceReader.of(tlv, what);
  const header = decodePeHeader(r.need(0xa0, 'puk-Header'), `${what}.puk-Header`);
  const puks = parseTlvs(r.need(0xa1, 'pukCodes').value, what).map((entry): PukConfiguration => {
    if (entry.tag !== UNIVERSAL.SEQUENCE) throw new SaipError.Malformed(`${what}: entry is not a SEQUENCE`);
    const e = SequenceReader.of(entry, `${what}.pukCodes`);
    const puk: PukConfiguration = {
      keyReference: decodeUnsigned(e.need(0x80, 'keyReference').value, 255, `${what}.keyReference`),
      pukValue: checkSize(copy(e.need(0x81, 'pukValue').value), [8], `${what}.pukValue`),
    };
    const attempts = e.take(0x82);
    if (attempts) puk.maxAttemptsRetryLeft = decodeUnsigned(attempts.value, 255, `${what}.maxNumOfAttemps-retryNumLeft`);
    e.rest();
    return puk;
  });
  if (puks.length < 1 || puks.length > 16) throw new SaipError.BadValue(`${what}: 1..16 PUKs allowed`);
  const pe: PukCodesElement = { kind: 'pukCodes', header, puks };
  const extensions = r.rest();
  if (extensions) pe.extensions = extensions;
  return pe;
}

/** PIN digits → 8-byte pinValue: ASCII, padded with FF (TS 102 221 §9.5.1). PINs are 4..8 digits. */
export function encodePinValue(pin: string): Buffer {
  if (typeof pin !== 'string' || !/^\d{4,8}$/.test(pin)) throw new SaipError.BadValue('PIN must be 4..8 digits');
  return Buffer.concat([Buffer.from(pin, 'ascii'), Buffer.alloc(8 - pin.length, 0xff)]);
}

/** PUK digits → 8-byte value (exactly 8 ASCII digits; ADM keys may use the same coding). */
export function encodePukValue(puk: string): Buffer {
  if (typeof puk !== 'string' || !/^\d{8}$/.test(puk)) throw new SaipError.BadValue('PUK must be 8 digits');
  return Buffer.from(puk, 'ascii');
}

/** The digits of an ASCII/FF-padded PIN or PUK value, or its hex when it is not digits (e.g. a binary ADM). */
export function decodeCodeValue(value: Buffer): string {
  const text = value.toString('latin1').replace(/\xff+$/, '');
  return /^\d+$/.test(text) ? text : value.toString('hex').toUpperCase();
}
