/**
 * The SM-DP's side of ES8 as pure APDU builders and response parsers (SGP.02 §3.1.2–§3.1.3, §4.1.3):
 * EstablishISDPKeySet (GP Amd E Scenario#3 with certificate verification) and DownloadAndInstallation
 * (SCP03t). They produce plain C-APDUs for the ISD-R; the SM-SR wraps them in its ES5 session. The byte
 * layout is shared with the card handlers through `es8-layout.ts`.
 */
import type { KeyObject } from 'node:crypto';
import {
  ecdsaSignPlain,
  GP_CURVE_REFERENCE,
  offCardEstablish,
  Scenario3Parameter,
  Scp03tSender,
  type EcKeyPair,
  type EcPublicPoint,
  type Scenario3CrtParams,
  CryptoError,
  type Scp03StaticKeys,
} from '@rsp/crypto';
import { parseGpCertificate } from '@rsp/pki';
import { decodeEuiccResponse, type EuiccResponse } from '@rsp/saip';
import { decodeSingleTlv, encodeDgi, encodeTlv, type CommandApdu } from '@rsp/tlv';
import { ES8_HEADER, ES8_TAG } from './es8-layout';

function command(header: { cla: number; ins: number; p1: number; p2: number }, data: Uint8Array): CommandApdu {
  return { ...header, data: Buffer.from(data) };
}

/** INSTALL [for personalization] of `isdpAid`: `80 E6 20 00 Lc 00 00 LV(AID) 00 00 00` (GP CS §11.5.2.3). */
export function buildInstallForPersonalization(isdpAid: string): CommandApdu {
  const aid = Buffer.from(isdpAid, 'hex');
  if (aid.length < 5 || aid.length > 16 || aid.toString('hex') !== isdpAid.toLowerCase()) {
    throw new CryptoError.InvalidParameter(`not an AID: ${isdpAid}`);
  }
  return command(ES8_HEADER.INSTALL_FOR_PERSONALIZATION, Buffer.concat([Buffer.of(0x00, 0x00, aid.length), aid, Buffer.of(0x00, 0x00, 0x00)]));
}

/**
 * EstablishISDPKeySet step 1 (one ES5 script): INSTALL [for personalization], then STORE DATA
 * `80 E2 09 00 { 3A01 L 7F21… }` with CERT.DP.ECDSA as issued (the card verifies the bytes it receives).
 * Without `isdpAid` the STORE DATA goes to the ISD-R itself: ES5 EstablishISDRKeySet with CERT.SR.ECDSA
 * in `smdpCertificate` (SGP.02 §3.8 [U numbering]).
 */
export function buildEstablishKeySetStep1(input: { isdpAid?: string; smdpCertificate: Uint8Array }): CommandApdu[] {
  const certificate = command(ES8_HEADER.STORE_DATA_CERTIFICATE, encodeDgi(ES8_TAG.DGI_CERTIFICATE, input.smdpCertificate));
  return input.isdpAid === undefined ? [certificate] : [buildInstallForPersonalization(input.isdpAid), certificate];
}

/** The random challenge from the response to 3A01 (`85 L RC`). */
export function parseEstablishKeySetStep1Response(data: Uint8Array): Buffer {
  const tlv = decodeSingleTlv(data);
  if (tlv.tag !== ES8_TAG.CHALLENGE || tlv.value.length === 0) throw new CryptoError.InvalidParameter('expected 85 L <challenge>');
  return Buffer.from(tlv.value);
}

/** CRT used unless the caller gives one: DR included, certificate verified first, S-ENC/S-MAC/DEK [U: KVN/KID choice]. */
export const DEFAULT_ISDP_CRT: Scenario3CrtParams = {
  scenarioParameter: Scenario3Parameter.INCLUDE_DR | Scenario3Parameter.CERTIFICATE_VERIFICATION_PRECEDES,
  keySetSize: 3,
  keyId: 0x01,
  keyVersion: 0x30,
  initialCounter: Buffer.alloc(0),
};

/** The ISD-P key set the SM-DP keeps after a verified receipt. @secret */
export interface IsdpKeySet {
  kvn: number;
  keyId: number;
  keys: Scp03StaticKeys;
}

export interface EstablishKeySetStep2 {
  /** STORE DATA `80 E2 89 01`: `3A02 { A6 } ‖ 7F49 { B0, F0 } ‖ 5F37 sig`. */
  apdu: CommandApdu;
  /**
   * The script to send: `apdu`, preceded by INSTALL [for personalization] when `isdpAid` was given (needed
   * when the ISD-R was re-selected since step 1: SELECT clears the personalization target).
   */
  commands: CommandApdu[];
  /** Checks the card's `85 DR ‖ 86 receipt` (CryptoError.ReceiptMismatch) and returns the key set. */
  finish(responseData: Uint8Array): IsdpKeySet;
}

/**
 * EstablishISDPKeySet step 2: a fresh ePK.DP.ECKA on the ECASD's curve, the CRT, and the signature by
 * SK.DP.ECDSA over `3A02 TLV ‖ 7F49 TLV ‖ 85 L RC` (see `isdp-key-establishment.ts` for the [U] points).
 * The ECASD key comes from `ecasdPublicKey` or from CERT.ECASD.ECKA (`ecasdCertificate`, 7F21), which the
 * caller has validated against the EUM / CI beforehand.
 */
export function buildEstablishKeySetStep2(input: {
  challenge: Uint8Array;
  smdpPrivateKey: KeyObject;
  /** Re-targets the ISD-P first (see {@link EstablishKeySetStep2.commands}). */
  isdpAid?: string;
  ecasdPublicKey?: KeyObject;
  ecasdCertificate?: Uint8Array;
  crtParams?: Scenario3CrtParams;
  /** Fixed ephemeral key pair, for tests only. */
  ephemeral?: EcKeyPair;
}): EstablishKeySetStep2 {
  // From the certificate, its checked point: the ECDH takes it raw, and a KeyObject import would cost more
  // than the ECDH itself (ec-point.ts).
  const ecasdPublicKey = input.ecasdPublicKey ?? (input.ecasdCertificate ? ecasdPublicPoint(input.ecasdCertificate) : undefined);
  if (!ecasdPublicKey) throw new CryptoError.InvalidParameter('ecasdPublicKey or ecasdCertificate is required');
  const crtParams = input.crtParams ?? DEFAULT_ISDP_CRT;
  const offCard = offCardEstablish({ ecasdPublicKey, crtParams, ...(input.ephemeral ? { ephemeral: input.ephemeral } : {}) });
  const curve = offCard.curve;
  const keyEstablishment = encodeDgi(ES8_TAG.DGI_KEY_ESTABLISHMENT, offCard.crt);
  const publicKey = encodeTlv(
    ES8_TAG.PUBLIC_KEY,
    encodeTlv(ES8_TAG.POINT, offCard.ePK),
    encodeTlv(ES8_TAG.CURVE_REFERENCE, Buffer.of(GP_CURVE_REFERENCE[curve])),
  );
  const signed = Buffer.concat([keyEstablishment, publicKey, encodeTlv(ES8_TAG.CHALLENGE, input.challenge)]);
  const signature = encodeTlv(ES8_TAG.SIGNATURE, ecdsaSignPlain(input.smdpPrivateKey, signed));
  const apdu = command(ES8_HEADER.STORE_DATA_KEY_ESTABLISHMENT, Buffer.concat([keyEstablishment, publicKey, signature]));
  return {
    apdu,
    commands: input.isdpAid === undefined ? [apdu] : [buildInstallForPersonalization(input.isdpAid), apdu],
    finish(responseData) {
      const { keys } = offCard.finish(responseData);
      const [enc, mac = enc, dek = enc] = keys as [Buffer, Buffer?, Buffer?];
      return { kvn: crtParams.keyVersion, keyId: crtParams.keyId, keys: { enc, mac, dek } };
    },
  };
}

/** The ECASD public key as `04 ‖ X ‖ Y` (handy for logs and EIS checks). */
export function ecasdPoint(ecasdCertificate: Uint8Array): Buffer {
  return Buffer.from(parseGpCertificate(ecasdCertificate).publicPoint);
}

function ecasdPublicPoint(ecasdCertificate: Uint8Array): EcPublicPoint {
  const { curve, publicPoint } = parseGpCertificate(ecasdCertificate);
  return { curve, point: publicPoint };
}

/** STORE DATA `80 E2 91 00` carrying one SCP03t TLV (see `ES8_HEADER.STORE_DATA_SCP03T`, [U]). */
export function storeDataForScp03t(tlv: Uint8Array): CommandApdu {
  return command(ES8_HEADER.STORE_DATA_SCP03T, tlv);
}

export interface DownloadOptions {
  /** When given, the first script starts with INSTALL [for personalization] of this ISD-P. */
  isdpAid?: string;
  /** The ISD-P key set from EstablishISDPKeySet. @secret */
  keys: Scp03StaticKeys;
  kvn: number;
  keyId?: number;
  /** The personalised SAIP profile package (DER). */
  package: Uint8Array;
  /** Largest SCP03t TLV (default 1020, SGP.22 §2.5.3 [U for SGP.02]). */
  maxSegmentBytes?: number;
  /** Security level of the SCP03t session (default 0x33). */
  securityLevel?: number;
  hostChallenge?: Uint8Array;
}

/**
 * DownloadAndInstallation as one ES5 script in scripting mode ({@link Es8Download.script}, then
 * {@link Es8Download.scriptResult}), or as three, each needing the previous answer (the interactive
 * handshake): `initializeUpdate()` → `externalAuthenticate(84 response)` → `segments(85 response)`, then
 * {@link Es8Download.result} over the responses of the segments script. With `isdpAid`, every script
 * starts with INSTALL [for personalization] (a new ES5 session re-selects the ISD-R, which clears the
 * target; SGP.02 targets every SCP81 POST at the ISD-P).
 */
export class Es8Download {
  private readonly sender: Scp03tSender;
  private readonly target: CommandApdu[];
  private segmentCount = 0;

  constructor(private readonly options: DownloadOptions) {
    if (options.package.length === 0) throw new CryptoError.InvalidLength('empty profile package');
    this.sender = new Scp03tSender({
      keys: options.keys,
      kvn: options.kvn,
      keyId: options.keyId ?? 0x01,
      ...(options.securityLevel === undefined ? {} : { securityLevel: options.securityLevel }),
      ...(options.maxSegmentBytes === undefined ? {} : { maxSegmentBytes: options.maxSegmentBytes }),
      ...(options.hostChallenge === undefined ? {} : { hostChallenge: options.hostChallenge }),
    });
    this.target = options.isdpAid === undefined ? [] : [buildInstallForPersonalization(options.isdpAid)];
  }

  /** Script 1: [INSTALL for personalization] ‖ STORE DATA { 84 KVN‖KID‖host challenge }. */
  initializeUpdate(): CommandApdu[] {
    return [...this.target, storeDataForScp03t(this.sender.initializeUpdateCommand())];
  }

  /** Script 2: checks the card cryptogram in the '84' response; [INSTALL] ‖ STORE DATA { 85 … C-MAC }. */
  externalAuthenticate(initializeUpdateResponse: Uint8Array): CommandApdu[] {
    this.sender.processInitializeUpdateResponse(initializeUpdateResponse);
    return [...this.target, storeDataForScp03t(this.sender.externalAuthenticateCommand())];
  }

  /** Script 3: checks '85 00'; [INSTALL] ‖ one STORE DATA per '86' segment of the package. */
  segments(externalAuthenticateResponse: Uint8Array): CommandApdu[] {
    this.sender.processExternalAuthenticateResponse(externalAuthenticateResponse);
    const segments = this.sender.wrapSegments(this.options.package).map(storeDataForScp03t);
    this.segmentCount = segments.length;
    return [...this.target, ...segments];
  }

  /**
   * The whole download as ONE script, in scripting mode ({@link Scp03tSender.predictInitializeUpdate}):
   * [INSTALL] ‖ STORE DATA { 84 } ‖ STORE DATA { 85 } ‖ one STORE DATA per '86' segment, for an ISD-P whose
   * SCP03t sequence counter the SM-DP knows: a key set fresh from EstablishISDPKeySet has used none
   * (`lastSequenceCounter` 0, the ISD-P's first session uses 1). {@link scriptResult} reads the answers.
   * On CryptoError.CounterMismatch (a card that counts otherwise, or answers random challenges) the caller
   * runs the three interactive scripts on a new Es8Download: the card refused the '85' and the segments.
   */
  script(lastSequenceCounter = 0): CommandApdu[] {
    if (this.options.isdpAid === undefined) throw new CryptoError.InvalidParameter('scripting mode needs the ISD-P AID');
    this.sender.predictInitializeUpdate(lastSequenceCounter + 1, Buffer.from(this.options.isdpAid, 'hex'));
    const initialize = storeDataForScp03t(this.sender.initializeUpdateCommand());
    const authenticate = storeDataForScp03t(this.sender.externalAuthenticateCommand());
    const segments = this.sender.wrapSegments(this.options.package).map(storeDataForScp03t);
    this.segmentCount = segments.length;
    return [...this.target, initialize, authenticate, ...segments];
  }

  /**
   * The answers to {@link script}, in order: the card cryptogram and counter in the '84' answer
   * (CryptoError.CounterMismatch on a wrong prediction), '85 00', then {@link result} over the segments.
   */
  scriptResult(responses: readonly Uint8Array[]): EuiccResponse | undefined {
    const at = this.target.length;
    const [initialize, authenticate] = [responses[at], responses[at + 1]];
    if (!initialize || !authenticate) throw new CryptoError.InvalidLength(`no answer to the SCP03t handshake (${responses.length} responses)`);
    this.sender.confirmPredictedInitializeUpdate(initialize);
    this.sender.processExternalAuthenticateResponse(authenticate);
    return this.result(responses.slice(at + 2));
  }

  /**
   * Checks every '86' response in order (R-MAC, R-ENC; an error TLV throws a CryptoError) and returns the
   * EUICCResponse carried by the last one, or undefined when the card has not answered one yet. Takes the
   * responses of the whole segments script (the INSTALL's empty one first) or of the segments alone.
   */
  result(responses: readonly Uint8Array[]): EuiccResponse | undefined {
    const skip = responses.length === this.segmentCount + this.target.length ? this.target.length : 0;
    let result: EuiccResponse | undefined;
    for (const response of responses.slice(skip)) {
      const data = this.sender.unwrapResponse(response);
      if (data.length > 0) result = decodeEuiccResponse(data);
    }
    return result;
  }
}

/** Starts a DownloadAndInstallation (see {@link Es8Download}). */
export function buildDownloadCommands(options: DownloadOptions): Es8Download {
  return new Es8Download(options);
}

/** The EUICCResponse of a finished download (see {@link Es8Download.result}). */
export function parseDownloadResult(download: Es8Download, segmentResponses: readonly Uint8Array[]): EuiccResponse | undefined {
  return download.result(segmentResponses);
}
