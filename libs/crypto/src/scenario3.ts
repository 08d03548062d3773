/**
 * GlobalPlatform Scenario#3 key establishment, ECKA-EG (GP Amd E; SGP.02 §3.1.2 / §4.1.3.3
 * ES8.EstablishISDPKeySet, §5.6 ES7.CreateAdditionalKeySet), both sides, P-256 and brainpoolP256r1:
 *
 * 1. ShS = ECKA(eSK.DP, PK.ECASD) = ECKA(SK.ECASD, ePK.DP)              (BSI TR-03111 §4.3.1)
 * 2. SharedInfo = KUQ ‖ key type ‖ key length ‖ [DR] ‖ [len‖HostID ‖ len‖SIN ‖ len‖SDIN]
 *                                                                         (GP Amd A Table 3-28)
 * 3. KeyData = X9.63-KDF-SHA256(ShS, SharedInfo, 16 + 16·n); receipt key = KeyData[0..15],
 *    then n = 1 key or n = 3 keys S-ENC ‖ S-MAC ‖ DEK                      (BSI TR-03111 §4.3.3)
 * 4. receipt = AES-CMAC(receipt key, A6 CRT ‖ [85 L DR]), the full 16 bytes, no extra padding
 *    (njiwa pads with 80 00…, a known bug); the card answers `[85 L DR] ‖ 86 10 receipt`.
 *
 * Open questions (no GP text was readable; sources are njiwa and a public SM-SR, see scenario3-crt.ts):
 * - SIN and SDIN enter SharedInfo only together (njiwa); we require the SIN whenever the CRT has SDIN.
 * - The DR length is not fixed by anything we could read; we generate 16 bytes and accept 1..127.
 */
import { randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { decodeTlvs, encodeLength, encodeTlv } from '@rsp/tlv';
import { aesCmac } from './cmac';
import {
  curveOf,
  ecka,
  eckaKeyPairOf,
  exportRawPublicKey,
  generateEckaKeyPair,
  type CurveName,
  type EcKeyPair,
  type EckaKeyPair,
} from './ec';
import type { EcPublicPoint } from './ec-point';
import { CryptoError } from './errors';
import { x963Kdf } from './kdf';
import {
  buildScenario3Crt,
  parseScenario3Crt,
  Scenario3Parameter,
  SCENARIO3_KEY_LENGTH,
  type Scenario3Crt,
  type Scenario3CrtParams,
} from './scenario3-crt';

const TAG_DR = 0x85;
const TAG_RECEIPT = 0x86;
const RECEIPT_LENGTH = 16;
/** Length of the DR the card side generates. */
export const SCENARIO3_DR_LENGTH = 16;
const MAX_DR_LENGTH = 127;

/** Receipt key plus the new key set, 16 bytes each. */
export interface Scenario3Keys {
  readonly receiptKey: Buffer;
  /** One key, or S-ENC, S-MAC, DEK in that order. */
  readonly keys: Buffer[];
}

function asCrt(crt: Scenario3Crt | Uint8Array): Scenario3Crt {
  return crt instanceof Uint8Array ? parseScenario3Crt(crt) : crt;
}

function includesDr(crt: Scenario3Crt): boolean {
  return (crt.scenarioParameter & Scenario3Parameter.INCLUDE_DR) !== 0;
}

function checkDr(crt: Scenario3Crt, dr: Uint8Array | undefined): void {
  if (includesDr(crt) !== (dr !== undefined)) {
    throw new CryptoError.InvalidParameter('DR must be present exactly when the CRT asks for it (parameter bit 0x02)');
  }
  if (dr !== undefined && (dr.length === 0 || dr.length > MAX_DR_LENGTH)) {
    throw new CryptoError.InvalidParameter(`DR must be 1..${MAX_DR_LENGTH} bytes, got ${dr.length}`);
  }
}

function lv(value: Uint8Array): Buffer {
  return Buffer.concat([encodeLength(value.length), value]);
}

/** SharedInfo of GP Amd A Table 3-28 for this CRT. `sin` is required when the CRT carries an SDIN. */
export function buildScenario3SharedInfo(crt: Scenario3Crt, dr?: Uint8Array, sin?: Uint8Array): Buffer {
  checkDr(crt, dr);
  const parts: Uint8Array[] = [Buffer.of(crt.keyUsageQualifier, crt.keyType, crt.keyLength)];
  if (dr !== undefined) parts.push(dr);
  if (crt.hostId !== undefined) {
    parts.push(lv(crt.hostId));
    if (crt.sdin !== undefined) {
      if (sin === undefined || sin.length === 0) throw new CryptoError.InvalidParameter('the CRT carries an SDIN, so the SIN is needed');
      parts.push(lv(sin), lv(crt.sdin));
    }
  }
  return Buffer.concat(parts);
}

/** KeyData from ShS (steps 2–3 above), split into the receipt key and the key set. */
export function deriveScenario3Keys(input: {
  sharedSecret: Uint8Array;
  crt: Scenario3Crt | Uint8Array;
  dr?: Uint8Array;
  sin?: Uint8Array;
}): Scenario3Keys {
  const crt = asCrt(input.crt);
  const sharedInfo = buildScenario3SharedInfo(crt, input.dr, input.sin);
  const keyData = x963Kdf(input.sharedSecret, sharedInfo, SCENARIO3_KEY_LENGTH * (1 + crt.keySetSize));
  const keys: Buffer[] = [];
  for (let i = 1; i <= crt.keySetSize; i += 1) keys.push(keyData.subarray(i * SCENARIO3_KEY_LENGTH, (i + 1) * SCENARIO3_KEY_LENGTH));
  return { receiptKey: keyData.subarray(0, SCENARIO3_KEY_LENGTH), keys };
}

/** `85 L DR`, the TLV the receipt covers. */
export function encodeDrTlv(dr: Uint8Array): Buffer {
  return encodeTlv(TAG_DR, dr);
}

/** receipt = AES-CMAC(receiptKey, CRT TLV ‖ [DR TLV]) (step 4). Pass the TLVs exactly as sent. */
export function computeReceipt(receiptKey: Uint8Array, crtTlv: Uint8Array, drTlv?: Uint8Array): Buffer {
  return aesCmac(receiptKey, drTlv === undefined ? crtTlv : Buffer.concat([crtTlv, drTlv]));
}

/** Checks a receipt in constant time; throws CryptoError.ReceiptMismatch. */
export function verifyReceipt(receiptKey: Uint8Array, crtTlv: Uint8Array, drTlv: Uint8Array | undefined, receipt: Uint8Array): void {
  const expected = computeReceipt(receiptKey, crtTlv, drTlv);
  if (receipt.length !== expected.length || !timingSafeEqual(expected, receipt)) {
    throw new CryptoError.ReceiptMismatch('Scenario#3 receipt does not match the derived keys');
  }
}

/** The card's answer: `[85 L DR] ‖ 86 10 receipt` (SGP.02 §4.1.3.3). */
export function encodeScenario3Response(dr: Uint8Array | undefined, receipt: Uint8Array): Buffer {
  const receiptTlv = encodeTlv(TAG_RECEIPT, receipt);
  return dr === undefined ? receiptTlv : Buffer.concat([encodeDrTlv(dr), receiptTlv]);
}

export interface Scenario3Response {
  readonly dr?: Buffer;
  /** The DR TLV exactly as received (what the receipt covers). */
  readonly drTlv?: Buffer;
  readonly receipt: Buffer;
}

/** Parses `[85 L DR] ‖ 86 10 receipt`; anything else is CryptoError.InvalidParameter. */
export function parseScenario3Response(bytes: Uint8Array): Scenario3Response {
  let tlvs;
  try {
    tlvs = decodeTlvs(bytes);
  } catch (cause) {
    throw new CryptoError.InvalidParameter('Scenario#3 response: malformed TLV', { cause });
  }
  const [first, second] = tlvs;
  const receiptTlv = tlvs.length === 1 ? first : tlvs.length === 2 && first?.tag === TAG_DR ? second : undefined;
  if (!receiptTlv || receiptTlv.tag !== TAG_RECEIPT || receiptTlv.value.length !== RECEIPT_LENGTH) {
    throw new CryptoError.InvalidParameter('Scenario#3 response must be [85 DR] 86 <16-byte receipt>');
  }
  const drTlv = tlvs.length === 2 ? first : undefined;
  return {
    dr: drTlv ? Buffer.from(drTlv.value) : undefined,
    drTlv: drTlv ? Buffer.from(drTlv.raw) : undefined,
    receipt: Buffer.from(receiptTlv.value),
  };
}

/** Off-card (SM-DP / SM-SR) state between sending the CRT and ePK and receiving the card's answer. */
export interface OffCardScenario3 {
  readonly curve: CurveName;
  /** The A6 CRT TLV to send. */
  readonly crt: Buffer;
  /** ePK.DP.ECKA as `04 ‖ X ‖ Y`, for tag 7F49 / B0. */
  readonly ePK: Buffer;
  /** Derives the keys from the card's `[85 DR] 86 receipt` and checks the receipt (ReceiptMismatch). */
  finish(response: Uint8Array): Scenario3Keys;
}

/**
 * Off-card side: builds the CRT, makes the ephemeral key pair (or uses `ephemeral`, for tests) on
 * the ECASD key's curve, and returns a `finish` that verifies the card's receipt.
 */
export function offCardEstablish(input: {
  /** PK.ECASD.ECKA: a KeyObject, or its curve and point as a 7F21 certificate carries them (no import). */
  ecasdPublicKey: KeyObject | EcPublicPoint;
  crtParams: Scenario3CrtParams;
  sin?: Uint8Array;
  ephemeral?: EcKeyPair | EckaKeyPair;
}): OffCardScenario3 {
  const ecasd = 'point' in input.ecasdPublicKey ? input.ecasdPublicKey : { curve: curveOf(input.ecasdPublicKey), point: exportRawPublicKey(input.ecasdPublicKey) };
  const curve = ecasd.curve;
  // eSK.DP.ECKA lives only inside this closure, as node ECDH state: it is never exported.
  const ephemeral = toEckaKeyPair(input.ephemeral, curve);
  const ecasdPoint = ecasd.point;
  const crtTlv = buildScenario3Crt(input.crtParams);
  const crt = parseScenario3Crt(crtTlv);
  return {
    curve,
    crt: crtTlv,
    ePK: Buffer.from(ephemeral.publicPoint),
    finish(response: Uint8Array): Scenario3Keys {
      const { dr, drTlv, receipt } = parseScenario3Response(response);
      const sharedSecret = ephemeral.agree(ecasdPoint);
      const derived = deriveScenario3Keys({ sharedSecret, crt, dr, sin: input.sin });
      verifyReceipt(derived.receiptKey, crtTlv, drTlv, receipt);
      return derived;
    },
  };
}

/** What the card side produces: the response bytes and the new key set. */
export interface CardScenario3Result {
  readonly dr?: Buffer;
  readonly receipt: Buffer;
  /** `[85 L DR] ‖ 86 10 receipt`, ready for the STORE DATA response. */
  readonly response: Buffer;
  readonly keys: Buffer[];
}

/**
 * Card (ECASD + ISD-P) side: validates the CRT, computes ShS with SK.ECASD.ECKA, draws DR when the
 * CRT asks for it (`randomDr` is injectable for deterministic tests), derives the keys and the receipt.
 */
export function cardEstablish(input: {
  /** SK.ECASD.ECKA: a KeyObject, or the ECKA pair a card reads from its stored PKCS#8 (eckaKeyPairFromPkcs8). */
  ecasdPrivateKey: KeyObject | EckaKeyPair;
  /** ePK.DP.ECKA as a KeyObject or as `04 ‖ X ‖ Y` on the ECASD curve. */
  ePK: KeyObject | Uint8Array;
  crt: Uint8Array;
  sin?: Uint8Array;
  randomDr?: (length: number) => Uint8Array;
}): CardScenario3Result {
  // A raw ePK is agreed on directly (ecka checks it is on the curve), with no KeyObject import.
  const ePK = input.ePK;
  const crt = parseScenario3Crt(input.crt);
  const dr = includesDr(crt) ? Buffer.from((input.randomDr ?? randomBytes)(SCENARIO3_DR_LENGTH)) : undefined;
  const key = input.ecasdPrivateKey;
  const sharedSecret = 'agree' in key ? key.agree(ePK instanceof Uint8Array ? ePK : exportRawPublicKey(ePK)) : ecka(key, ePK);
  const { receiptKey, keys } = deriveScenario3Keys({ sharedSecret, crt, dr, sin: input.sin });
  const receipt = computeReceipt(receiptKey, crt.tlv, dr === undefined ? undefined : encodeDrTlv(dr));
  return { dr, receipt, response: encodeScenario3Response(dr, receipt), keys };
}

function toEckaKeyPair(ephemeral: EcKeyPair | EckaKeyPair | undefined, curve: CurveName): EckaKeyPair {
  if (ephemeral === undefined) return generateEckaKeyPair(curve);
  const pair = 'agree' in ephemeral ? ephemeral : eckaKeyPairOf(ephemeral.privateKey);
  if (pair.curve !== curve) throw new CryptoError.InvalidKey('ephemeral key is not on the ECASD curve');
  return pair;
}
